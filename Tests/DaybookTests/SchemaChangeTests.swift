import DaybookCore
import PgOutput
import Testing

/// Schema changes as two Relation messages of one table show them.
struct SchemaChangeTests {
    private static func column(
        _ name: String,
        _ type: UInt32 = 23,
        key: Bool = false,
        modifier: Int32 = -1
    )
        -> Relation.Column
    {
        Relation.Column(flags: key ? 1 : 0, name: name, typeOID: type, typeModifier: modifier)
    }

    private static func items(_ columns: [Relation.Column], identity: ReplicaIdentity = .default) -> Relation {
        Relation(oid: 42, namespace: "app", name: "items", replicaIdentity: identity, columns: columns)
    }

    private let before = items([column("id", key: true), column("qty"), column("note", 25)])

    @Test func aTableSeenForTheFirstTime() {
        #expect(SchemaChange.changes(from: nil, to: before) == [.tableSeen(columns: before.columns)])
    }

    @Test func theSameShapeIsNoChange() {
        #expect(SchemaChange.changes(from: before, to: before).isEmpty)
    }

    @Test func anAddedColumn() {
        let after = Self.items(before.columns + [Self.column("price", 1700)])
        #expect(SchemaChange.changes(from: before, to: after) == [.columnAdded(Self.column("price", 1700))])
    }

    @Test func aDroppedColumnShiftsTheOthersAndIsNoRename() {
        let after = Self.items([Self.column("id", key: true), Self.column("note", 25)])
        #expect(SchemaChange.changes(from: before, to: after) == [.columnDropped(Self.column("qty"))])
    }

    @Test func aRenamedColumnKeepsItsPositionAndType() {
        let after = Self.items([Self.column("id", key: true), Self.column("quantity"), Self.column("note", 25)])
        #expect(SchemaChange.changes(from: before, to: after) == [.columnRenamed(from: "qty", to: "quantity")])
    }

    @Test func aNewNameOfAnotherTypeIsADropAndAnAdd() {
        let after = Self.items([Self.column("id", key: true), Self.column("quantity", 1700), Self.column("note", 25)])
        #expect(
            SchemaChange.changes(from: before, to: after) == [
                .columnAdded(Self.column("quantity", 1700)), .columnDropped(Self.column("qty")),
            ]
        )
    }

    @Test func aRetypedColumn() {
        let after = Self.items([
            Self.column("id", 20, key: true), Self.column("qty"), Self.column("note", 1043, modifier: 24),
        ])
        #expect(
            SchemaChange.changes(from: before, to: after) == [
                .columnRetyped(name: "id", from: .init(oid: 23, modifier: -1), to: .init(oid: 20, modifier: -1)),
                .columnRetyped(name: "note", from: .init(oid: 25, modifier: -1), to: .init(oid: 1043, modifier: 24)),
            ]
        )
    }

    @Test func theIdentityAndTheKey() {
        // FULL flags every column as identity: that is the identity change, not a key change.
        let full = Self.items(before.columns.map { Self.column($0.name, $0.typeOID, key: true) }, identity: .full)
        #expect(SchemaChange.changes(from: before, to: full) == [.identityChanged(from: .default, to: .full)])
        #expect(SchemaChange.changes(from: full, to: before) == [.identityChanged(from: .full, to: .default)])
        // Another index as identity: both.
        let byIndex = Self.items(
            [Self.column("id"), Self.column("qty", key: true), Self.column("note", 25)],
            identity: .index
        )
        #expect(
            SchemaChange.changes(from: before, to: byIndex) == [
                .identityChanged(from: .default, to: .index), .keyChanged(from: ["id"], to: ["qty"]),
            ]
        )
    }

    @Test func aRenamedKeyColumnIsNoKeyChange() {
        let after = Self.items([Self.column("item_id", key: true), Self.column("qty"), Self.column("note", 25)])
        #expect(SchemaChange.changes(from: before, to: after) == [.columnRenamed(from: "id", to: "item_id")])
    }

    @Test func aMovedTable() {
        var after = before
        after.namespace = "archive"
        #expect(
            SchemaChange.changes(from: before, to: after) == [.tableRenamed(from: "app.items", to: "archive.items")]
        )
    }
}
