import Daybook
import Testing

/// What `daybook run` tells systemd as its pipeline moves between phases.
struct SystemdNotificationsTests {
    @Test func readyOnceWhenChangesFirstFlowAndAStatusPerNewPhase() {
        var notifications = SystemdNotifications(slot: "main")
        #expect(notifications.messages(for: .starting) == ["STATUS=starting: checking slot main and the sink"])
        #expect(notifications.messages(for: .starting) == [], "nothing new, nothing said")
        #expect(
            notifications.messages(for: .readingBacklog)
                == ["READY=1\nSTATUS=reading slot main's backlog through SQL decoding"]
        )
        #expect(notifications.messages(for: .streaming) == ["STATUS=streaming from slot main"], "ready once")
        #expect(
            notifications.messages(for: .reconnecting(attempt: 2, reason: "the database does not answer"))
                == ["STATUS=reconnecting (attempt 2): the database does not answer"]
        )
        #expect(notifications.messages(for: .streaming) == ["STATUS=streaming from slot main"])
        #expect(notifications.messages(for: .stopped) == ["STATUS=stopped"])
    }

    @Test func aServiceThatNeverStreamsIsNeverReady() {
        var notifications = SystemdNotifications(slot: "main")
        let said = [ServiceHealth.Phase.starting, .reconnecting(attempt: 1, reason: "down"), .stopped]
            .flatMap { notifications.messages(for: $0) }
        #expect(said.count == 3)
        #expect(said.allSatisfy { !$0.contains("READY=1") })
    }
}
