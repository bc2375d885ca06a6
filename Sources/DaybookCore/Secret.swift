/// A value that must never reach a log, an error message or a debugger's printout: a bearer
/// token today, webhook secrets and hash keys later.
///
/// Logging libraries and `ServiceGroup` print whole values at debug level (`"\(service)"`),
/// which for a struct means every stored property, however deep; a token kept as `[UInt8]`
/// was logged byte by byte. Wrapped in `Secret`, it prints as `<redacted>` by every route
/// (`description`, `debugDescription`, `dump`, `Mirror`); only ``withBytes(_:)`` reads it.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(_ text: String) { self.bytes = Array(text.utf8) }

    public var count: Int { bytes.count }

    /// The secret's bytes, for the one place that needs them (a comparison, a signature).
    public func withBytes<Result>(_ body: ([UInt8]) throws -> Result) rethrows -> Result { try body(bytes) }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
