import DaybookCore

/// How one attempt ended, with what the sink records of it.
struct DeliveryResult: Sendable {
    var attempt: DeliveryPolicy.Attempt
    /// The HTTP status, for a webhook that answered.
    var statusCode: Int?
    /// For the sink's `last_error`: what the receiver said, or why there was no answer. Never a
    /// webhook's URL (a chat webhook's path is its secret), a secret or a password.
    var error: String?
}
