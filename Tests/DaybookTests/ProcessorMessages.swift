import Daybook
import DaybookCore
import Foundation
import PgOutput
import WAL
import Windowing

/// Message values the processor tests share: times, rows and whole transactions.

/// `app.accounts (id int PRIMARY KEY, balance int)`, OID 10, `REPLICA IDENTITY DEFAULT`: the
/// table most processor tests change.
let accountsRelation = Relation(
    oid: 10,
    namespace: "app",
    name: "accounts",
    replicaIdentity: .default,
    columns: [
        .init(flags: 1, name: "id", typeOID: 23, typeModifier: -1),
        .init(flags: 0, name: "balance", typeOID: 23, typeModifier: -1),
    ]
)

/// A windowing engine of one-day windows in UTC with a minute of grace, nothing open yet.
func dayWindowsEngine() -> WindowingEngine {
    WindowingEngine(
        calendar: WindowCalendar(length: .days(1), timeZone: TimeZone(identifier: "UTC")!),
        grace: .seconds(60)
    )
}

/// Seconds since the Unix epoch as pgoutput's microseconds since 2000.
func pgTime(_ seconds: Int64) -> Int64 { seconds * 1_000_000 - postgresEpochOffsetMicroseconds }

/// A text column value.
func text(_ value: String) -> TupleColumn { .text(ArraySlice(value.utf8)) }

/// A row of text values (nil for NULL).
func row(_ values: String?...) -> TupleData { TupleData(columns: values.map { $0.map(text) ?? .null }) }

/// Feeds one committed transaction (Begin, the changes, Commit) with commit LSN `lsn`.
func transaction(
    _ processor: inout ChangeProcessor,
    lsn: UInt64,
    at seconds: Int64,
    _ changes: [PgOutputMessage]
) throws {
    try processor.process(.begin(Begin(finalLSN: LSN(lsn), commitTime: pgTime(seconds), xid: UInt32(lsn))))
    for change in changes { try processor.process(change) }
    try processor.process(
        .commit(Commit(flags: 0, commitLSN: LSN(lsn), endLSN: LSN(lsn + 8), commitTime: pgTime(seconds)))
    )
}
