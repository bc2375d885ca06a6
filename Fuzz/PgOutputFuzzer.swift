import PgOutput
import PostgresReplication

/// libFuzzer's entry point: feeds one input to the pgoutput decoder and to the CopyData frame
/// parser, and to the decoder again with the payload of any XLogData frame it parses.
///
/// Every check that fails calls ``violated(_:_:)``, which traps, so libFuzzer records the input
/// as a crash just as it would a trap inside the code under test. Built and run by
/// `scripts/fuzz`, never by SwiftPM.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
    // The frame parser reads libFuzzer's own buffer, exactly as the service reads libpq's, so
    // AddressSanitizer sees any read past its end.
    if let payload = FrameChecks.check(raw) {
        MessageChecks.check(payload)
        MessageChecks.checkStreamed(payload)
    }
    MessageChecks.check(Array(raw))
    MessageChecks.checkStreamed(Array(raw))
    LSNChecks.check(raw)
    return 0
}
