import Daybook
import DaybookCore
import Foundation
import PgOutput
import PgOutputTestSupport
import Testing
import WAL
import Windowing

/// The service reads row images in place from the received bytes; tests mostly feed plain
/// values. Both paths must produce the same checkpoint for the same stream.
struct InPlaceProcessingTests {
    private let accounts = Relation(
        oid: 10,
        namespace: "app",
        name: "accounts",
        replicaIdentity: .full,
        columns: [
            .init(flags: 1, name: "region", typeOID: 25, typeModifier: -1),
            .init(flags: 1, name: "id", typeOID: 23, typeModifier: -1),
            .init(flags: 1, name: "note", typeOID: 25, typeModifier: -1),
        ]
    )

    private func makeProcessor() -> ChangeProcessor {
        let engine = WindowingEngine(
            calendar: WindowCalendar(length: try! WindowLength(seconds: 10), timeZone: TimeZone(identifier: "UTC")!),
            grace: .seconds(2)
        )
        var processor = ChangeProcessor(engine: engine, committedLSN: 0)
        processor.register(accounts, primaryKey: ["id", "region"])
        return processor
    }

    private func value(_ text: String?) -> TupleColumn { text.map { .text(ArraySlice($0.utf8)) } ?? .null }
    private func row(_ values: String?...) -> TupleData { TupleData(columns: values.map(value)) }

    private var stream: [PgOutputMessage] {
        let time = pgTime(1_000_001)
        let unchanged = TupleData(columns: [.text(ArraySlice("eu".utf8)), .text(ArraySlice("1".utf8)), .unchangedToast])
        return [
            .begin(Begin(finalLSN: LSN(100), commitTime: time, xid: 7)),
            .insert(Insert(relationOID: 10, new: row("eu", "1", "a \"quoted\"\nnote"))),
            .insert(Insert(relationOID: 10, new: row("us", "2", nil))),
            .update(Update(relationOID: 10, oldKind: .full, old: row("eu", "1", "x"), new: unchanged)),
            .update(Update(relationOID: 10, oldKind: .full, old: row("us", "2", nil), new: row("us", "3", nil))),
            .insert(Insert(relationOID: 10, new: row("ü", "4", "é"))),
            .delete(Delete(relationOID: 10, oldKind: .full, old: row("eu", "1", nil))),
            .commit(Commit(flags: 0, commitLSN: LSN(100), endLSN: LSN(120), commitTime: time)),
        ]
    }

    @Test func inPlaceAndValuePathsAgree() throws {
        var byValue = makeProcessor()
        var inPlace = makeProcessor()
        for message in stream {
            try byValue.process(message)
            let bytes = PgOutputTestEncoder.encode(message)
            try bytes.withUnsafeBytes { buffer in
                try inPlace.process(try PgOutputDecoder.decodeInPlace(buffer), in: buffer)
            }
        }
        let expectedTaken = byValue.takeCheckpoint()
        let expected = try #require(expectedTaken)
        let actualTaken = inPlace.takeCheckpoint()
        let actual = try #require(actualTaken)
        #expect(actual.batch.keys == expected.batch.keys)
        #expect(actual.batch.tables == expected.batch.tables)
        #expect(actual.lsn == expected.lsn)
        // Keys in the table's column order, whatever the primary key's own order.
        let ops = Dictionary(
            uniqueKeysWithValues: actual.batch.keys.map { ($0.key.key, String($0.value.ops.map(\.letter))) }
        )
        #expect(
            ops == [
                #"{"region":"eu","id":"1"}"#: "IUD", #"{"region":"us","id":"2"}"#: "ID",
                #"{"region":"us","id":"3"}"#: "I",
                #"{"region":"ü","id":"4"}"#: "I",
            ]
        )
    }
}
