/// What to do after an attempt to deliver a day: done, try again later, or give up. Pure, so
/// the schedule is tested with values; the sender only carries the decision out.
///
/// At least once, never silently twice: a delivery is done only when the receiver accepted it
/// (a 2xx). A server error, a timeout, a refused connection or a 408/429 is retried with
/// exponential backoff (``base``, doubling, at most ``maximumDelay``) until ``maximumAttempts``;
/// another 4xx, or a mail server's permanent refusal (a login refused, a recipient unknown),
/// means the receiver refuses this request (a wrong URL, a rejected signature) and is retried
/// only ``clientErrorAttempts`` times, in case it was a passing misconfiguration.
/// A delivery given up stays visible as `failed` with its last error, and the destination's
/// later days go on.
public struct DeliveryPolicy: Sendable, Equatable {
    public var base: Duration = .seconds(30)
    public var maximumDelay: Duration = .seconds(3600)
    public var maximumAttempts = 12
    public var clientErrorAttempts = 3

    public init() {}

    /// How one attempt ended.
    public enum Attempt: Sendable, Equatable {
        /// The receiver answered with this HTTP status.
        case answered(status: Int)
        /// No answer: unreachable, refused, TLS failed, timed out, or the request could not be
        /// made (a secret file that cannot be read).
        case noAnswer
        /// A permanent refusal that is not an HTTP status: an SMTP server refused the login or
        /// the recipients (5xx).
        case refused
    }

    /// What happens to the delivery.
    public enum Decision: Sendable, Equatable {
        case delivered
        /// Try again after this long.
        case retry(after: Duration)
        /// Give up: the delivery is `failed`.
        case giveUp
    }

    /// The decision after attempt number `attempt` (1 for the first) ended as `outcome`.
    public func decide(after outcome: Attempt, attempt: Int) -> Decision {
        switch outcome {
        case .answered(let status) where (200..<300).contains(status):
            return .delivered
        case .answered(let status) where (400..<500).contains(status) && status != 408 && status != 429:
            return attempt >= clientErrorAttempts ? .giveUp : .retry(after: delay(before: attempt + 1))
        case .refused:
            return attempt >= clientErrorAttempts ? .giveUp : .retry(after: delay(before: attempt + 1))
        default:
            return attempt >= maximumAttempts ? .giveUp : .retry(after: delay(before: attempt + 1))
        }
    }

    /// The wait before attempt number `attempt` (2 for the first retry): base, doubling.
    public func delay(before attempt: Int) -> Duration {
        let doublings = max(0, min(attempt - 2, 30))
        let seconds = base.components.seconds * (1 << doublings)
        let milliseconds = base.components.attoseconds / 1_000_000_000_000_000 * (1 << doublings)
        let delay = Duration.seconds(seconds) + .milliseconds(milliseconds)
        return min(delay, maximumDelay)
    }
}
