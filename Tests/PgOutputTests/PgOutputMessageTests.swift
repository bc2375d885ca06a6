import PgOutput
import Testing

/// The convenience properties on decoded values.
struct PgOutputMessageTests {
    @Test func qualifiedNameShowsPgCatalogForTheEmptyNamespace() {
        #expect(
            Relation(oid: 1, namespace: "", name: "pg_class", replicaIdentity: .nothing, columns: []).qualifiedName
                == "pg_catalog.pg_class"
        )
        #expect(
            Relation(oid: 2, namespace: "sales", name: "orders", replicaIdentity: .default, columns: []).qualifiedName
                == "sales.orders"
        )
    }

    @Test func columnIsKeyReadsBitZero() {
        #expect(Relation.Column(flags: 1, name: "id", typeOID: 23, typeModifier: -1).isKey)
        #expect(!Relation.Column(flags: 0, name: "v", typeOID: 23, typeModifier: -1).isKey)
        #expect(!Relation.Column(flags: 2, name: "v", typeOID: 23, typeModifier: -1).isKey)
    }

    @Test func replicaIdentityDescriptions() {
        #expect(ReplicaIdentity.default.description == "default")
        #expect(ReplicaIdentity.nothing.description == "nothing")
        #expect(ReplicaIdentity.full.description == "full")
        #expect(ReplicaIdentity.index.description == "index")
        #expect(ReplicaIdentity(rawValue: UInt8(ascii: "?")).description == "unknown(63)")
    }

    @Test func tupleColumnTextIsOnlyForTextValues() {
        #expect(TupleColumn.utf8("größe").text == "größe")
        #expect(TupleColumn.utf8("").text == "")
        #expect(TupleColumn.binary([0x61]).text == nil)
        #expect(TupleColumn.null.text == nil)
        #expect(TupleColumn.unchangedToast.text == nil)
    }

    @Test func postgresEpochIsTwoThousandUTC() {
        // 2000-01-01T00:00:00Z as Unix seconds.
        #expect(postgresEpochOffsetMicroseconds == 946_684_800 * 1_000_000)
    }
}
