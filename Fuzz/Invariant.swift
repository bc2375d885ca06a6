/// Stops the fuzzer with a message when an invariant does not hold.
///
/// A trap is what libFuzzer treats as a crash: it saves the input and exits non-zero. The
/// message names the check and shows the input's first bytes in hex, so that the log alone
/// says what went wrong.
func violated(_ what: String, _ bytes: some Collection<UInt8>) -> Never {
    let hex = bytes.prefix(64).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    fatalError("invariant violated: \(what); input (\(bytes.count) bytes) starts \(hex)")
}

/// Checks `condition` and traps with ``violated(_:_:)`` when it is false.
func invariant(_ condition: Bool, _ what: @autoclosure () -> String, _ bytes: some Collection<UInt8>) {
    if !condition { violated(what(), bytes) }
}
