import PgOutput

/// The invariants of ``PgOutputDecoder/decode(_:)`` on arbitrary bytes.
///
/// A message that decodes must survive the test encoder (`Tests/PgOutputTestSupport/PgOutputTestEncoder.swift`,
/// compiled into the fuzzer unchanged) and decode to an equal value; its encoding must be a
/// fixed point and, unless decoding repaired a string, the input itself; and since every
/// pgoutput message is self-delimiting, no strict prefix of it may decode and one byte more must
/// be reported as trailing. A message that does not decode must fail with an error that names
/// its type and an offset inside the input.
enum MessageChecks {
    private static let knownTypes = Set("BCORYIUDTMSEcA".utf8)

    static func check(_ bytes: [UInt8]) {
        let message: PgOutputMessage
        do {
            message = try PgOutputDecoder.decode(bytes)
        } catch {
            checkError(error, bytes)
            return
        }
        invariant(knownTypes.contains(bytes[0]), "decoded a message of unknown type", bytes)
        checkShape(message, bytes)
        checkRoundTrip(message, bytes)
        checkSelfDelimiting(bytes)
    }

    /// The same bytes as a message inside a streamed block: types that carry an xid there read
    /// it first and are otherwise the message without it; the others decode as outside.
    static func checkStreamed(_ bytes: [UInt8]) {
        let streamed: (xid: UInt32?, message: PgOutputMessage)
        do {
            streamed = try PgOutputDecoder.decodeStreamed(bytes)
        } catch {
            checkError(error, bytes)
            return
        }
        let carries = PgOutputDecoder.carriesStreamedXID(bytes[0])
        invariant((streamed.xid != nil) == carries, "xid \(String(describing: streamed.xid)) for type \(bytes[0])", bytes)
        let plain = carries ? [bytes[0]] + bytes[5...] : bytes
        guard let again = try? PgOutputDecoder.decode(plain) else {
            violated("a streamed message without its xid does not decode", bytes)
        }
        invariant(again == streamed.message, "a streamed message differs from its plain form", bytes)
    }

    private static func checkError(_ error: PgOutputDecodingError, _ bytes: [UInt8]) {
        invariant((error.code == .empty) == bytes.isEmpty, "code \(error.code) for \(bytes.count) bytes", bytes)
        invariant(error.messageType == bytes.first, "error names type \(String(describing: error.messageType))", bytes)
        invariant((0...bytes.count).contains(error.offset), "error offset \(error.offset) outside the input", bytes)
        invariant(!error.field.isEmpty && !error.description.isEmpty, "error without field or description", bytes)
        if let type = bytes.first {
            invariant(
                (error.code == .unknownMessageType) == !knownTypes.contains(type),
                "code \(error.code) for type byte \(type)", bytes)
        }
        if error.code == .trailingBytes {
            invariant(error.offset < bytes.count, "trailing bytes reported at the end", bytes)
        }
    }

    /// Structural facts the decoded value must show, whatever the bytes were.
    private static func checkShape(_ message: PgOutputMessage, _ bytes: [UInt8]) {
        switch message {
        case .relation(let relation):
            invariant(relation.columns.count <= Int(Int16.max), "more columns than an Int16 counts", bytes)
            invariant(relation.qualifiedName.hasSuffix("." + relation.name), "qualifiedName without the name", bytes)
            _ = relation.replicaIdentity.description
        case .insert(let insert):
            checkTuple(insert.new, bytes)
        case .update(let update):
            invariant((update.oldKind == nil) == (update.old == nil), "old kind and old tuple disagree", bytes)
            update.old.map { checkTuple($0, bytes) }
            checkTuple(update.new, bytes)
        case .delete(let delete):
            checkTuple(delete.old, bytes)
        case .truncate(let truncate):
            let size = 6 + 4 * truncate.relationOIDs.count
            invariant(bytes.count == size, "a truncate of \(bytes.count) bytes, not \(size)", bytes)
        case .message(let logical):
            checkShares(logical.content, bytes)
        case .streamAbort(let abort):
            invariant(bytes.count == 9 || bytes.count == 25, "a stream abort of \(bytes.count) bytes", bytes)
            invariant((abort.abortLSN == nil) == (bytes.count == 9), "abort LSN present in \(bytes.count) bytes", bytes)
        case .begin, .commit, .origin, .type, .streamStart, .streamStop, .streamCommit:
            break
        }
    }

    private static func checkTuple(_ tuple: TupleData, _ bytes: [UInt8]) {
        invariant(tuple.columns.count <= Int(Int16.max), "more tuple columns than an Int16 counts", bytes)
        for column in tuple.columns {
            switch column {
            case .text(let value):
                checkShares(value, bytes)
                invariant(column.text != nil, "text column without text", bytes)
            case .binary(let value):
                checkShares(value, bytes)
            case .null, .unchangedToast:
                invariant(column.text == nil, "text for a NULL or unchanged column", bytes)
            }
        }
    }

    /// Values are documented to share the message's storage: their indices must lie inside the
    /// input and hold exactly the value's bytes.
    private static func checkShares(_ value: ArraySlice<UInt8>, _ bytes: [UInt8]) {
        invariant(
            value.startIndex >= 1 && value.endIndex <= bytes.count && bytes[value.indices].elementsEqual(value),
            "value at \(value.startIndex)..<\(value.endIndex) is not the input's bytes there", bytes)
    }

    private static func checkRoundTrip(_ message: PgOutputMessage, _ bytes: [UInt8]) {
        let encoded = PgOutputTestEncoder.encode(message)
        let again: PgOutputMessage
        do {
            again = try PgOutputDecoder.decode(encoded)
        } catch {
            violated("the re-encoded message does not decode: \(error)", bytes)
        }
        invariant(again == message, "decode(encode(m)) differs from m", bytes)
        invariant(again.hashValue == message.hashValue, "equal messages hash differently", bytes)
        invariant(PgOutputTestEncoder.encode(again) == encoded, "encoding is not a fixed point", bytes)
        invariant(encoded == bytes || isLossy(message, bytes), "re-encoding changed canonical bytes", bytes)
    }

    /// Whether decoding `bytes` legitimately lost information, so that re-encoding may differ:
    /// a name with invalid UTF-8 (repaired to U+FFFD), a logical message's unused flag bits, or
    /// a Stream Start's first-segment byte other than 0 or 1.
    /// Any other input must come back byte for byte, which catches a field read as the wrong
    /// kind even when the mistake survives a round trip.
    private static func isLossy(_ message: PgOutputMessage, _ bytes: [UInt8]) -> Bool {
        let names: [String] =
            switch message {
            case .origin(let origin): [origin.name]
            case .relation(let relation): [relation.namespace, relation.name] + relation.columns.map(\.name)
            case .type(let type): [type.namespace, type.name]
            case .message(let logical): [logical.prefix]
            default: []
            }
        let flagsDropped =
            switch message {
            case .message: bytes[1] > 1  // only the transactional bit is kept
            case .streamStart: bytes[5] > 1  // first_segment is read as "is 1"
            default: false
            }
        return flagsDropped || names.contains { $0.unicodeScalars.contains("\u{FFFD}") }
    }

    /// A strict prefix must fail as too short, and one extra byte must be reported as trailing.
    private static func checkSelfDelimiting(_ bytes: [UInt8]) {
        // Stream Abort has a short form (protocol 2) and a long one (protocol 4, parallel
        // streaming): the short one is the long one's first nine bytes.
        let isAbort = bytes.first == UInt8(ascii: "A")
        for length in Set([0, 1, bytes.count / 2, bytes.count - 1]) where length < bytes.count {
            let prefix = Array(bytes.prefix(length))
            do {
                _ = try PgOutputDecoder.decode(prefix)
                invariant(isAbort && length == 9, "the first \(length) bytes of a message decode too", bytes)
            } catch {
                invariant(
                    [.empty, .truncated, .unterminatedString, .invalidLength].contains(error.code),
                    "a \(length)-byte prefix fails with \(error.code)", bytes)
            }
        }
        do {
            _ = try PgOutputDecoder.decode(bytes + [0])
            violated("a message with one more byte decodes", bytes)
        } catch {
            if isAbort && bytes.count == 9 {
                invariant(error.code == .truncated, "a short abort with one more byte gives \(error)", bytes)
                return
            }
            invariant(
                error.code == .trailingBytes && error.offset == bytes.count,
                "one more byte gives \(error) instead of trailing bytes at \(bytes.count)", bytes)
        }
    }
}
