/// Whether a window's deletes removed a large share of a table: the digest lists such deletes
/// first, beside every TRUNCATE.
///
/// The measure is the source's own row estimate (`pg_class.reltuples`, what `ANALYZE` and
/// autovacuum keep), read when the window closes, so after the window's changes: the table had
/// about `estimate − inserts + deletes` rows before them, and the deletes' share is of that.
/// The estimate describes the table at that moment, so it is read only for a window that ended
/// less than six hours before by the source's clock (a catch-up of an old backlog reads none).
/// It is an estimate, as the planner's is: a table that was never analysed has none (then no
/// share is given and deletes are judged by ``VolumeRule`` alone), and right after a mass
/// delete autovacuum may not have caught up, which makes the share look smaller.
public struct MassDeleteRule: Sendable, Equatable {
    /// Deletes of at least this share of the table are a mass delete…
    public var share = 0.2
    /// …when they are at least this many rows (10 of 30 rows is not news).
    public var minimum = 100

    public init() {}

    /// The deleted rows' share of the table before the window, if the estimate is known.
    public func share(deletes: Int, inserts: Int, rowsAfter: Int?) -> Double? {
        guard let rowsAfter, rowsAfter >= 0, deletes > 0 else { return nil }
        let before = max(rowsAfter - inserts + deletes, deletes)
        return Double(deletes) / Double(before)
    }

    /// Whether the deletes are a mass delete.
    public func isMassDelete(deletes: Int, inserts: Int, rowsAfter: Int?) -> Bool {
        guard deletes >= minimum, let share = share(deletes: deletes, inserts: inserts, rowsAfter: rowsAfter) else {
            return false
        }
        return share >= self.share
    }
}
