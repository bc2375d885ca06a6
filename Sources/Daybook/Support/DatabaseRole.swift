/// Which database an error or a message is about: the words an operator reads ("cannot reach
/// the sink database"), and a type rather than a string, so that a call site can name only a
/// role Daybook has.
public enum DatabaseRole: String, Sendable, CustomStringConvertible {
    /// The database whose changes Daybook reads (the slot, the publication, heartbeats).
    case source
    /// The database Daybook writes its results to.
    case sink
    /// The primary a standby source follows (where `daybook setup` makes the slot's twin).
    case primary

    public var description: String { rawValue }
}
