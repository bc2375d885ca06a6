/// PostgreSQL's wire formats (the protocol, pgoutput, binary COPY) write every integer
/// big-endian. These are the one place such integers are read and written, for every module.

extension UnsafeRawBufferPointer {
    /// The big-endian integer of `T`'s width at `offset`.
    ///
    /// Unchecked, as a buffer's subscript is: the caller has made sure the bytes are there.
    /// Every reader checks a length before it reads, which is what keeps the decoder from
    /// trapping on any input.
    @inlinable public func bigEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` big-endian, in `T`'s width.
    ///
    /// Byte by byte: an `append(contentsOf:)` of 2, 4 or 8 bytes costs twice as much per call
    /// (measured in the binary COPY encoder, where every field of every row starts with a
    /// length); specialized, the loop unrolls to one append per byte.
    @inlinable public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}
