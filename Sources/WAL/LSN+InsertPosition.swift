extension LSN {
    /// Whether a stream received up to this position (the end of the last record the server
    /// decoded) has everything before the insert position `target`, as
    /// `pg_current_wal_insert_lsn()` reported it.
    ///
    /// Not simply `self >= target`: when the last record ends exactly at a WAL page boundary
    /// (8 kB), the insert position lies just past the next page's header (24 or 40 bytes),
    /// where no record will ever end, so a run waiting for it would wait forever.
    @inlinable public func covers(insertPosition target: LSN) -> Bool {
        self >= target || (rawValue > 0 && rawValue % 8192 == 0 && target.bytes(since: self) <= 40)
    }
}
