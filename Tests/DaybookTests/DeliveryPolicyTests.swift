import Testing

@testable import DaybookCore

/// The delivery schedule and the webhook's signed form, with values.
struct DeliveryPolicyTests {
    private let policy = DeliveryPolicy()

    @Test func aTwoHundredIsDelivered() {
        #expect(policy.decide(after: .answered(status: 200), attempt: 1) == .delivered)
        #expect(policy.decide(after: .answered(status: 204), attempt: 9) == .delivered)
    }

    @Test func serverErrorsAndSilenceAreRetriedWithBackoffUpToTheLimit() {
        #expect(policy.decide(after: .answered(status: 500), attempt: 1) == .retry(after: .seconds(30)))
        #expect(policy.decide(after: .noAnswer, attempt: 2) == .retry(after: .seconds(60)))
        #expect(policy.decide(after: .answered(status: 503), attempt: 3) == .retry(after: .seconds(120)))
        // Doubling stops at an hour.
        #expect(policy.decide(after: .noAnswer, attempt: 10) == .retry(after: .seconds(3600)))
        #expect(policy.decide(after: .noAnswer, attempt: 12) == .giveUp)
        // Too many requests and a request timeout are worth waiting for, as a 5xx is.
        #expect(policy.decide(after: .answered(status: 429), attempt: 5) == .retry(after: .seconds(480)))
        #expect(policy.decide(after: .answered(status: 408), attempt: 5) == .retry(after: .seconds(480)))
    }

    @Test func aRefusalIsTriedOnlyAFewTimes() {
        #expect(policy.decide(after: .answered(status: 401), attempt: 1) == .retry(after: .seconds(30)))
        #expect(policy.decide(after: .answered(status: 404), attempt: 2) == .retry(after: .seconds(60)))
        #expect(policy.decide(after: .answered(status: 400), attempt: 3) == .giveUp)
        // A mail server's permanent refusal (a login, a recipient) is a refusal too.
        #expect(policy.decide(after: .refused, attempt: 2) == .retry(after: .seconds(60)))
        #expect(policy.decide(after: .refused, attempt: 3) == .giveUp)
    }

    @Test func subSecondBasesDoubleToo() {
        var quick = DeliveryPolicy()
        quick.base = .milliseconds(50)
        #expect(quick.delay(before: 2) == .milliseconds(50))
        #expect(quick.delay(before: 4) == .milliseconds(200))
    }

    @Test func theSignatureHeaderIsTheTimestampAndTheHexMAC() {
        #expect(
            WebhookPayload.signature(timestamp: 1_765_000_000, mac: [0x00, 0x0f, 0xa0, 0xff])
                == "t=1765000000,v1=000fa0ff"
        )
        #expect(WebhookPayload.signedContent(timestamp: 12, body: "{}") == Array("12.{}".utf8))
    }
}
