import PgOutput
import WAL

/// The invariants of ``LSN``'s text form: what it prints, it parses back, and what it parses
/// from any short input, it prints in a form that parses to the same value.
enum LSNChecks {
    static func check(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count >= 8 {
            let lsn = LSN(readBigEndian(bytes, at: 0))
            invariant(LSN(lsn.description) == lsn, "\(lsn.rawValue) prints as \(lsn.description)", bytes)
        }
        guard bytes.count <= 40 else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        if let lsn = LSN(text) {
            invariant(LSN(lsn.description) == lsn, "\(text) parses to \(lsn), which does not parse back", bytes)
            invariant(text.count <= 17 && text.contains("/"), "\(text) parses as an LSN", bytes)
        }
    }
}
