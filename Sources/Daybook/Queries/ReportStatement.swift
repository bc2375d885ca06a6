import PostgresReplication

/// One statement of the query layer that `report`, the API and the dashboard share, with what
/// it reads, so that its plan cannot depend on whether the sink's partitions have statistics.
///
/// A window's partitions are filled by COPY and made final long before autovacuum analyses
/// them, and a sink restored from a dump has no statistics at all. Without them the planner
/// takes the range's windows for one row, every join over them for one row too, and puts a
/// whole day's aggregation on the inner side of a nested loop: a `report --events` of 14,000
/// keys ran for minutes instead of half a second. So every statement says what it reads:
///
/// - ``Reads/wholeRange``: every row of the asked-for windows (a day's events, all its keys,
///   its tables, the windows). Such a statement runs with nested loops disabled: joins are by
///   hash or merge, each side read once. Reading every row anyway, a hash join is never far
///   from the best plan, while a nested loop chosen on a wrong estimate is quadratic. The
///   statement's own shape keeps it from needing one (no `LATERAL`, ranges filtered on each
///   partitioned table, not only through a join).
/// - ``Reads/indexBounded``: a page of keys, the top keys of each table (a top-N heap over the
///   table's rows) or one key's events, found through the indexes the finisher makes when a
///   window closes (migration 007). Such a statement runs with sequential scans and sorts
///   (incremental ones too) disabled: without statistics the planner took a day's partition
///   for a small one and sorted all of it for a page of 100 (1.8 s instead of 16 ms for a
///   million keys). Nested loops stay allowed: their inner sides are index lookups bounded by
///   the page or the table, never a partition's scan per row. Where no index exists (an open
///   window, a window still being finished) the disabled paths are still taken, as the only ones.
///
/// Before PostgreSQL 18 a disabled node adds 10^10 to the plan's cost, which passes every JIT
/// threshold (a 16-row report spent a second compiling): JIT is off for both.
///
/// The statements' plans are checked against a sink without statistics and an analysed one
/// (`ReportPlanTests`).
struct ReportStatement {
    enum Reads {
        case wholeRange
        case indexBounded
    }

    let sql: String
    let parameters: [String?]
    let reads: Reads

    /// Runs the statement; `observe` (tests) sees it first, on the same connection and with the
    /// same settings, inside the statement's transaction.
    func run(on connection: PostgresConnection, observe: ReportStatementObserver?) throws -> QueryResult {
        try connection.withTransaction {
            try connection.query(settings)
            try observe?(self, connection)
            return try connection.query(sql, parameters)
        }
    }

    /// The planner settings of ``reads``, for the statement's transaction only, in one round trip.
    private var settings: String {
        switch reads {
        case .indexBounded:
            """
            SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true),
                   set_config('enable_incremental_sort', 'off', true), set_config('jit', 'off', true)
            """
        case .wholeRange:
            // A day of a million keys sorts and hashes in memory rather than on disk.
            """
            SELECT set_config('enable_nestloop', 'off', true), set_config('work_mem', '64MB', true),
                   set_config('jit', 'off', true)
            """
        }
    }
}

/// Sees each ``ReportStatement`` before it runs (tests `EXPLAIN` it there).
typealias ReportStatementObserver = (ReportStatement, PostgresConnection) throws -> Void
