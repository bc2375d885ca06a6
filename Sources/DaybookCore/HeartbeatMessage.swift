/// The logical message a heartbeat of the `message` method writes
/// (`pg_logical_emit_message(true, 'daybook.heartbeat', …)`).
///
/// Here, beside the processor that recognises it, rather than with the heartbeat's SQL: the
/// prefix is part of what the stream means, and the processor must not reach into source I/O
/// to learn it.
public enum HeartbeatMessage {
    /// Prefix of heartbeat messages; the stream ignores other prefixes.
    public static let prefix = "daybook.heartbeat"
}
