/// The metrics `daybook run` reports: one name per case, by Prometheus' conventions (base
/// units, `_total` on counters, `_seconds` timestamps since the Unix epoch), and the help text
/// an exposition shows for it.
///
/// The names are a contract for dashboards and alerts, so they live in one place; the README's
/// metrics table lists the same. Labels stay bounded: `table` (the published tables),
/// `operation` (insert, update, delete, truncate), `closed_by` (data, heartbeat, startup, idle),
/// `kind` (``AttributionProblem``), `destination` (the destinations of `daybook notify`),
/// `outcome` (delivered, retry, failed, skipped).
public enum DaybookMetric: String, CaseIterable, Sendable {
    case changes = "daybook_changes_total"
    case transactions = "daybook_transactions_total"
    case lateChanges = "daybook_late_changes_total"
    case checkpoints = "daybook_checkpoints_total"
    case checkpointDuration = "daybook_checkpoint_duration_seconds"
    case checkpointLSN = "daybook_checkpoint_lsn"
    case slotLagBytes = "daybook_slot_lag_bytes"
    case slotLagSeconds = "daybook_slot_lag_seconds"
    case streamTime = "daybook_stream_time_seconds"
    case serverTime = "daybook_server_time_seconds"
    case lastHeartbeat = "daybook_last_heartbeat_seconds"
    case openWindows = "daybook_windows_open"
    case oldestOpenWindowClosesAt = "daybook_oldest_open_window_closes_at_seconds"
    case closingWindows = "daybook_windows_closing"
    case closedWindows = "daybook_windows_closed_total"
    case reconnects = "daybook_reconnects_total"
    case sinkErrors = "daybook_sink_errors_total"
    case streaming = "daybook_streaming"
    case backlogMode = "daybook_backlog_mode"
    case gaps = "daybook_gaps_total"
    case attributionProblems = "daybook_attribution_problems_total"
    case deliveries = "daybook_deliveries_total"
    case deliveriesPending = "daybook_deliveries_pending"
    case oldestPendingDelivery = "daybook_delivery_oldest_pending_age_seconds"
    case truncatedValueEvents = "daybook_value_events_truncated_total"

    public var help: String {
        switch self {
        case .changes: "Row changes committed to the sink, by table and operation."
        case .transactions: "Source transactions committed to the sink."
        case .lateChanges:
            "Changes that arrived for a window already closed (recorded as late, never merged), by table."
        case .checkpoints: "Checkpoints committed to the sink."
        case .checkpointDuration: "Time to write and commit one checkpoint to the sink."
        case .checkpointLSN: "WAL position of the last committed checkpoint (the slot is confirmed up to it)."
        case .slotLagBytes: "WAL bytes between the server's WAL end and what Daybook has confirmed."
        case .slotLagSeconds: "Server clock minus stream time while changes wait; 0 when fully caught up."
        case .streamTime: "Stream time: the latest commit time seen, heartbeats included (Unix seconds)."
        case .serverTime: "The source server's clock as of its last message on the stream (Unix seconds)."
        case .lastHeartbeat: "Commit time of the last heartbeat seen in the stream (Unix seconds)."
        case .openWindows: "Windows open (not yet past their end plus grace)."
        case .oldestOpenWindowClosesAt:
            "The stream time at which the oldest open window closes (end plus grace, Unix seconds); 0 with none open."
        case .closingWindows: "Windows closed whose results are being made final beside the stream."
        case .closedWindows: "Windows closed, by what moved stream time past them."
        case .reconnects: "Reconnections after a lost source or sink connection."
        case .sinkErrors: "Failed writes to the sink (each is retried from the last checkpoint)."
        case .streaming: "1 while the replication stream is running, else 0."
        case .backlogMode:
            "1 while a backlog is read through SQL decoding (backlog mode) instead of the stream, else 0."
        case .gaps:
            "Gaps recorded in the sink: commits the sink lost after the slot had confirmed them (run --accept-gap)."
        case .attributionProblems:
            "daybook.actor messages refused (their changes count as unattributed), by kind."
        case .deliveries:
            "Delivery attempts of closed days, by destination and outcome (delivered, retry, failed: given up; skipped: nothing unusual)."
        case .deliveriesPending: "Closed days waiting to be delivered, by destination."
        case .oldestPendingDelivery:
            "Age of the oldest closed day waiting to be delivered, by destination (0 when none waits)."
        case .truncatedValueEvents:
            "Events of a values table left out at close (over --max-events-per-key; counted in the key's row), by table."
        }
    }
}
