import Testing

@testable import Daybook

/// What `/healthz` and `/readyz` answer as the pipeline moves through its phases.
struct ServiceHealthTests {
    @Test func readyOnlyWhileStreamingWithTheSinkWriting() {
        let health = ServiceHealth(stuckAfter: .seconds(60))
        #expect(!health.readiness().isReady)
        #expect(health.readiness().checks["source"] == "connecting")
        health.setPhase(.streaming)
        #expect(health.readiness().isReady)
        health.sinkFailed("cannot connect to the sink")
        #expect(!health.readiness().isReady)
        #expect(health.readiness().checks["sink"] == "failed: cannot connect to the sink")
        health.sinkCommitted()
        #expect(health.readiness().isReady)
        health.setPhase(.reconnecting(attempt: 2, reason: "the source went away"))
        #expect(health.readiness().checks["source"] == "reconnecting (attempt 2): the source went away")
        #expect(health.isAlive(), "waiting out a reconnect is alive")
        health.sinkFailed("lost")
        health.setPhase(.streaming)
        #expect(health.readiness().isReady, "streaming again means the sink was reached")
    }

    @Test func aLoopWithoutProgressIsNeitherReadyNorAlive() {
        let health = ServiceHealth(stuckAfter: .seconds(60))
        health.setPhase(.streaming)
        let later = ContinuousClock.now + .seconds(61)
        #expect(!health.isAlive(now: later))
        #expect(!health.readiness(now: later).isReady)
        #expect(health.readiness(now: later).checks["loop"]?.hasPrefix("no progress for") == true)
        health.setPhase(.stopped)
        #expect(health.isAlive(now: later), "a pipeline that ended on purpose is not stuck")
    }
}
