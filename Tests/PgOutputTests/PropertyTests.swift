import PgOutput
import PgOutputTestSupport
import Testing
import WAL

/// Random valid pgoutput streams from a seeded generator, encoded by ``PgOutputTestEncoder``,
/// must decode back to the same values: every message case, random field values, strings
/// empty, ASCII and not, tuple columns of every kind with arbitrary bytes, and counts from zero
/// to hundreds. Deterministic, so a failure names an iteration that fails again.
struct PropertyTests {
    static let iterations = 2_000

    @Test func randomStreamsSurviveEncodeThenDecode() {
        var random = SeededGenerator(seed: 0x5EED_DA7B_00C0)
        var kinds: Set<String> = []
        var columnKinds: Set<String> = []
        var stringShapes: Set<String> = []
        var messageCount = 0
        var failures: [String] = []
        for iteration in 0..<Self.iterations {
            for message in random.stream() {
                messageCount += 1
                kinds.insert(message.kind)
                columnKinds.formUnion(Self.columnKinds(message))
                stringShapes.formUnion(Self.names(message).map(Self.shape))
                if let failure = Self.roundTripFailure(message) {
                    failures.append("iteration \(iteration), \(message.kind): \(failure)")
                }
            }
        }
        #expect(failures.count == 0, "first: \(failures.prefix(2).map { String($0.prefix(400)) })")
        #expect(kinds.count == 14, "cases covered: \(kinds.sorted())")
        #expect(columnKinds == ["n", "u", "t", "b"])
        #expect(stringShapes == ["empty", "ascii", "non-ascii"])
        #expect(messageCount > 5 * Self.iterations)
    }

    /// Why `message` does not survive a round trip, or nil when it does: the decoded value must
    /// equal it, re-encoding must give the same bytes, and no strict prefix may decode.
    private static func roundTripFailure(_ message: PgOutputMessage) -> String? {
        let bytes = PgOutputTestEncoder.encode(message)
        do {
            let decoded = try PgOutputDecoder.decode(bytes)
            guard decoded == message else { return "decoded as \(decoded)" }
            guard PgOutputTestEncoder.encode(decoded) == bytes else { return "re-encoded to other bytes" }
        } catch {
            return "\(error)"
        }
        let cut = bytes.count - 1 - (bytes.count - 1) / 3
        if (try? PgOutputDecoder.decode(Array(bytes.prefix(cut)))) != nil {
            return "its first \(cut) of \(bytes.count) bytes decode too"
        }
        return nil
    }

    private static func columnKinds(_ message: PgOutputMessage) -> [String] {
        let tuples: [TupleData] =
            switch message {
            case .insert(let insert): [insert.new]
            case .update(let update): [update.old, update.new].compactMap { $0 }
            case .delete(let delete): [delete.old]
            default: []
            }
        return tuples.flatMap(\.columns).map { column in
            switch column {
            case .null: "n"
            case .unchangedToast: "u"
            case .text: "t"
            case .binary: "b"
            }
        }
    }

    private static func names(_ message: PgOutputMessage) -> [String] {
        switch message {
        case .origin(let origin): [origin.name]
        case .relation(let relation): [relation.namespace, relation.name] + relation.columns.map(\.name)
        case .type(let type): [type.namespace, type.name]
        case .message(let logical): [logical.prefix]
        default: []
        }
    }

    private static func shape(_ string: String) -> String {
        string.isEmpty ? "empty" : string.utf8.allSatisfy { $0 < 0x80 } ? "ascii" : "non-ascii"
    }
}

/// Random values for every field of every pgoutput message, valid as PostgreSQL 15 sends them.
extension SeededGenerator {
    /// Scalars that names are made of: ASCII (controls too, since quoted identifiers allow
    /// them), Latin-1, combining marks, CJK and emoji; never NUL, which would end the string.
    private static let scalarRanges: [ClosedRange<UInt32>] = [
        0x01...0x7F, 0x20...0x7E, 0xA0...0xFF, 0x300...0x36F, 0x4E00...0x9FFF, 0x1F300...0x1FAFF,
    ]

    mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { next(below: denominator) < numerator }

    /// A count, mostly small, sometimes in the hundreds (the two-byte counts' high byte set).
    mutating func count(upTo small: Int) -> Int {
        chance(1, in: 60) ? 256 + next(below: 300) : next(below: small + 1)
    }

    /// A random 64-bit value, one time in eight an edge value instead.
    mutating func uint64() -> UInt64 {
        chance(1, in: 8) ? [0, 1, UInt64(Int64.max), UInt64(Int64.max) + 1, .max][next(below: 5)] : next()
    }

    mutating func int64() -> Int64 { Int64(bitPattern: uint64()) }
    mutating func uint32() -> UInt32 { UInt32(truncatingIfNeeded: uint64() >> 32) }
    mutating func lsn() -> LSN { LSN(uint64()) }

    mutating func string() -> String {
        guard !chance(1, in: 6) else { return "" }
        let asciiOnly = chance(1, in: 2)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<(1 + next(below: 12)) {
            let range = Self.scalarRanges[asciiOnly ? next(below: 2) : next(below: Self.scalarRanges.count)]
            let value = range.lowerBound + UInt32(next(below: Int(range.upperBound - range.lowerBound + 1)))
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }

    mutating func bytes(upTo limit: Int) -> [UInt8] {
        (0..<next(below: limit + 1)).map { _ in byte() }
    }

    mutating func column() -> TupleColumn {
        let length = chance(1, in: 20) ? 300 : 40
        switch next(below: 4) {
        case 0: return .null
        case 1: return .unchangedToast
        case 2: return .text(ArraySlice(bytes(upTo: length)))
        default: return .binary(ArraySlice(bytes(upTo: length)))
        }
    }

    mutating func tuple(columns: Int) -> TupleData {
        TupleData(columns: (0..<columns).map { _ in column() })
    }

    mutating func oldKind() -> OldTupleKind { chance(1, in: 2) ? .key : .full }

    mutating func relation() -> Relation {
        let identities: [ReplicaIdentity] = [.default, .nothing, .full, .index]
        return Relation(
            oid: uint32(),
            namespace: string(),
            name: string(),
            replicaIdentity: identities[next(below: 4)],
            columns: (0..<count(upTo: 8)).map { _ in
                Relation.Column(
                    flags: UInt8(next(below: 2)),
                    name: string(),
                    typeOID: uint32(),
                    typeModifier: chance(1, in: 2) ? -1 : Int32(truncatingIfNeeded: int64())
                )
            }
        )
    }

    mutating func logicalMessage(transactional: Bool) -> PgOutputMessage {
        .message(
            LogicalMessage(
                transactional: transactional,
                lsn: lsn(),
                prefix: string(),
                content: ArraySlice(bytes(upTo: 64))
            )
        )
    }

    /// One change to `relation`: an insert, an update with or without an old row, a delete, a
    /// truncate of some relations, or a transactional logical message.
    mutating func change(to relation: Relation) -> PgOutputMessage {
        let width = relation.columns.count
        switch next(below: 6) {
        case 0:
            return .insert(Insert(relationOID: relation.oid, new: tuple(columns: width)))
        case 1:
            let kind: OldTupleKind? = chance(1, in: 3) ? nil : oldKind()
            return .update(
                Update(
                    relationOID: relation.oid,
                    oldKind: kind,
                    old: kind.map { _ in tuple(columns: width) },
                    new: tuple(columns: width)
                )
            )
        case 2:
            return .delete(Delete(relationOID: relation.oid, oldKind: oldKind(), old: tuple(columns: width)))
        case 3:
            let others = (0..<count(upTo: 4)).map { _ in uint32() }
            return .truncate(Truncate(options: UInt8(next(below: 4)), relationOIDs: [relation.oid] + others))
        default:
            return logicalMessage(transactional: true)
        }
    }

    /// A stream as a walsender sends it: maybe a non-transactional message, then one
    /// transaction with its origin, types and relations before its changes.
    mutating func stream() -> [PgOutputMessage] {
        var messages: [PgOutputMessage] = []
        if chance(1, in: 4) { messages.append(logicalMessage(transactional: false)) }
        let finalLSN = lsn()
        let commitTime = int64()
        messages.append(.begin(Begin(finalLSN: finalLSN, commitTime: commitTime, xid: uint32())))
        if chance(1, in: 5) { messages.append(.origin(Origin(commitLSN: lsn(), name: string()))) }
        let relations = (0...next(below: 3)).map { _ in relation() }
        for relation in relations {
            if chance(1, in: 3) { messages.append(.type(TypeInfo(oid: uint32(), namespace: string(), name: string()))) }
            messages.append(.relation(relation))
        }
        for _ in 0...next(below: 8) {
            messages.append(change(to: relations[next(below: relations.count)]))
        }
        messages.append(.commit(Commit(flags: 0, commitLSN: finalLSN, endLSN: lsn(), commitTime: commitTime)))
        return messages
    }
}
