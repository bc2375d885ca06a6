import PgOutput
import Testing

/// Feeds the recorded stream through ``RelationCache`` the way the service does.
struct RelationCacheTests {
    @Test func newestRelationReplacesTheCachedOne() throws {
        let messages = try RecordedFixture.decodedMessages()
        var cache = RelationCache()
        var textPKColumnCounts: [Int] = []
        for relation in messages.compactMap(\.relation) {
            cache.update(relation)
            if relation.name == "text_pk" { textPKColumnCounts.append(cache[relation.oid]?.columns.count ?? 0) }
        }
        #expect(textPKColumnCounts == [2, 3], "ALTER TABLE ADD COLUMN re-sends the Relation with one more column")
        #expect(cache.count == 6)

        let textPK = try #require(messages.lazy.compactMap(\.relation).last { $0.name == "text_pk" })
        #expect(cache[textPK.oid] == textPK)
        #expect(textPK.columns.last == Relation.Column(flags: 0, name: "added_on", typeOID: 1082, typeModifier: -1))
        let lastInsert = try #require(messages.lazy.compactMap(\.insert).last)
        #expect(lastInsert.relationOID == textPK.oid)
        #expect(lastInsert.new == .texts("k-6", "six", "2024-03-02"))
    }

    /// Every row image has exactly one value per column of the Relation cached at that point
    /// in the stream, and key-only old rows are NULL outside the key.
    @Test func everyChangeMatchesTheRelationCachedBeforeIt() throws {
        var cache = RelationCache()
        var checkedRows = 0
        for message in try RecordedFixture.decodedMessages() {
            var rows: [(relationOID: UInt32, tuple: TupleData, keyOnly: Bool)] = []
            switch message {
            case .relation(let relation):
                cache.update(relation)
            case .insert(let insert):
                rows = [(insert.relationOID, insert.new, false)]
            case .update(let update):
                rows = [(update.relationOID, update.new, false)]
                if let old = update.old { rows.append((update.relationOID, old, update.oldKind == .key)) }
            case .delete(let delete):
                rows = [(delete.relationOID, delete.old, delete.oldKind == .key)]
            case .truncate(let truncate):
                #expect(truncate.relationOIDs.allSatisfy { cache[$0] != nil })
            default:
                break
            }
            for row in rows {
                let relation = try #require(cache[row.relationOID], "change before its Relation")
                #expect(row.tuple.columns.count == relation.columns.count)
                if row.keyOnly {
                    for (column, value) in zip(relation.columns, row.tuple.columns) where !column.isKey {
                        #expect(value == .null, "\(relation.name).\(column.name) outside the key")
                    }
                }
                checkedRows += 1
            }
        }
        #expect(checkedRows > 20)
    }

    @Test func emptyCacheKnowsNothing() {
        let cache = RelationCache()
        #expect(cache.count == 0)
        #expect(cache[42] == nil)
    }
}
