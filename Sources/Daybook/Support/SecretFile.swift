import DaybookCore
import Foundation

/// Secrets Daybook reads from files, never from the command line, the environment or the sink
/// (a webhook's signing secret, an SMTP password, a hash key): read at each use, so that
/// replacing the file rotates the secret, and refused with one line that says what to do.
public enum SecretFile {
    /// The file's bytes without trailing newlines; a ``DaybookError`` (`.configuration`) for a
    /// file that is missing, unreadable, or shorter than `minimum` bytes.
    /// - Parameters:
    ///   - what: the file's role in messages ("secret file", "key file").
    ///   - hint: how to make one (`openssl rand -hex 32 > FILE`).
    public static func read(_ file: String, what: String, minimum: Int, hint: String) throws(DaybookError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: file) else {
            throw DaybookError(.configuration, "the \(what) \(file) does not exist: \(hint)")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DaybookError(
                .configuration,
                "cannot read the \(what) \(file): make it readable by the user daybook runs as"
            )
        }
        var bytes = Array(data)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= max(minimum, 1) else {
            throw DaybookError(
                .configuration,
                bytes.isEmpty
                    ? "the \(what) \(file) is empty: \(hint)"
                    : "the \(what) \(file) holds \(bytes.count) bytes: use at least \(minimum) (\(hint))"
            )
        }
        return bytes
    }

    /// The hash key in `file` (``ValueKey``), checked to be the one with `expectedID` when given.
    public static func valueKey(_ file: String, expectedID: String? = nil) throws(DaybookError) -> ValueKey {
        let hint = "openssl rand -hex 32 > \(file)"
        let bytes = try read(file, what: "key file", minimum: ValueKey.minimumBytes, hint: hint)
        guard let key = ValueKey(bytes) else {
            throw DaybookError(.configuration, "the key file \(file) is too short: \(hint)")
        }
        if let expectedID, key.id != expectedID {
            throw DaybookError(
                .configuration,
                "the key file \(file) holds another key (id \(key.id)) than the rule was set with (id \(expectedID)): "
                    + "put that key back, or set the rule again with the new key (daybook capture TABLE values "
                    + "--hash … --key-file \(file)), which applies from then on"
            )
        }
        return key
    }
}
