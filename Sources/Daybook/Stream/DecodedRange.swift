import DaybookCore
import Foundation
import WAL

#if canImport(Glibc)
import Glibc
#endif

/// The pgoutput messages of one backlog range, decoded by the server ahead of time and held by
/// Daybook until it is their turn: what the decoding thread hands to the thread that processes.
///
/// Why Daybook holds them at all: the SQL decoding function materialises a range's whole result
/// before it sends the first row, and the server cannot start decoding the next range until the
/// client has taken every row of this one. To overlap the server's decoding with Daybook's
/// processing, the client must take a range as fast as the server sends it, whatever its size.
/// Memory stays bounded: past ``memoryLimit`` bytes the messages go to an unlinked temporary
/// file (in `TMPDIR`; the page cache keeps it as cheap as memory while there is room), which
/// the system removes when the range is released or the process dies.
///
/// Each message is stored as its WAL position (8 bytes), its length (4 bytes) and its bytes.
final class DecodedRange: @unchecked Sendable {
    // @unchecked Sendable, and safe: built on one thread, then handed over whole (through
    // BlockingWorker's lock) to the one thread that reads it; never shared while written.

    /// Bytes kept in memory before the rest goes to a file.
    static let memoryLimit = 1 << 20

    /// The end of the WAL range these messages were read up to.
    let end: LSN
    private(set) var messages = 0
    /// Where the decoding slot may restart after this range: at or before `end`, and before
    /// it whenever no running-transactions record lies in the range.
    var restart: LSN = 0

    private var memory: [UInt8] = []
    private var file: Int32 = -1
    private var fileBytes = 0

    init(end: LSN) {
        self.end = end
        memory.reserveCapacity(1 << 20)
    }

    deinit { if file >= 0 { close(file) } }

    /// The bytes this range holds, in memory and in its file.
    var byteCount: Int { memory.count + fileBytes }

    /// Appends one message.
    ///
    /// - Throws: ``DaybookError`` when the temporary file cannot be created or written (a
    ///   full disk): the run stops like any other I/O failure and the next reads the range again.
    func append(lsn: LSN, payload: UnsafeRawBufferPointer) throws(DaybookError) {
        messages += 1
        var header = (lsn.rawValue.bigEndian, UInt32(payload.count).bigEndian)
        withUnsafeBytes(of: &header.0) { memory.append(contentsOf: $0) }
        withUnsafeBytes(of: &header.1) { memory.append(contentsOf: $0) }
        memory.append(contentsOf: payload)
        if memory.count >= Self.memoryLimit { try spill() }
    }

    /// Writes what is in memory to the file (created on first use), so memory holds one block.
    private func spill() throws(DaybookError) {
        if file < 0 {
            let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((directory + "/daybook-backlog-XXXXXX").utf8CString)
            file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard file >= 0 else { throw Self.fileError("create a temporary file in \(directory)") }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        var written = 0
        while written < memory.count {
            let result = memory.withUnsafeBytes { write(file, $0.baseAddress! + written, $0.count - written) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { throw Self.fileError("write a temporary file") }
            written += result
        }
        fileBytes += memory.count
        memory.removeAll(keepingCapacity: true)
    }

    private static func fileError(_ what: String) -> DaybookError {
        let reason = String(cString: strerror(errno))
        return DaybookError(
            .localFile,
            "could not \(what) for a range of the backlog (\(reason)); free space there or set TMPDIR"
        )
    }

    /// Hands every message to `body`, in order, with its WAL position; the bytes are valid
    /// only during the call.
    func forEachMessage(_ body: (LSN, UnsafeRawBufferPointer) throws -> Void) throws {
        if file >= 0 {
            var block = [UInt8](repeating: 0, count: 1 << 20)
            var filled = 0
            var offset = 0
            while offset < fileBytes || filled > 0 {
                if offset < fileBytes, filled < block.count {
                    let wanted = min(block.count - filled, fileBytes - offset)
                    let result = block.withUnsafeMutableBytes {
                        pread(file, $0.baseAddress! + filled, wanted, off_t(offset))
                    }
                    if result < 0, errno == EINTR { continue }
                    guard result > 0 else { throw Self.fileError("read back a temporary file") }
                    filled += result
                    offset += result
                }
                let used = try block.withUnsafeBytes {
                    try Self.readMessages(UnsafeRawBufferPointer(rebasing: $0[..<filled]), body)
                }
                if used == 0 {
                    // One message larger than the block: make room for it whole.
                    guard offset < fileBytes else { throw Self.truncated() }
                    block.append(contentsOf: repeatElement(0, count: block.count))
                    continue
                }
                block.withUnsafeMutableBytes { bytes in
                    bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + used, byteCount: filled - used)
                }
                filled -= used
            }
        }
        let used = try memory.withUnsafeBytes { try Self.readMessages($0, body) }
        guard used == memory.count else { throw Self.truncated() }
    }

    /// Reads the whole messages at the start of `bytes`, returning how many bytes they took.
    private static func readMessages(
        _ bytes: UnsafeRawBufferPointer,
        _ body: (LSN, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var offset = 0
        while bytes.count - offset >= 12 {
            let lsn = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).bigEndian
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self).bigEndian)
            guard bytes.count - offset - 12 >= length else { break }
            try body(LSN(lsn), UnsafeRawBufferPointer(rebasing: bytes[(offset + 12)..<(offset + 12 + length)]))
            offset += 12 + length
        }
        return offset
    }

    private static func truncated() -> DaybookError {
        DaybookError(.localFile, "a range of the backlog held in a temporary file was cut short")
    }
}
