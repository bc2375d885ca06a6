import WAL

/// When Daybook reads a backlog through SQL decoding instead of the replication stream, how
/// far each read goes, and when it hands over to the stream. Pure: positions in, decisions out.
///
/// A walsender sends each decoded message on its own, which costs more than decoding it; the
/// SQL decoding functions send a whole range of WAL's messages through one COPY, at the
/// server's decoding speed. That pays off for a backlog (a restart after downtime, the nightly
/// `--until-caught-up` run), not for the live tail, where the stream's latency is what counts.
public struct BacklogPlan: Sendable, Equatable {
    /// Whether backlog mode may be used at all (`--no-backlog-mode` turns it off).
    public var isEnabled = true
    /// A run that starts at least this many WAL bytes behind reads the backlog through SQL
    /// first; a run that stops at an end (`--until-caught-up`, `--until-lsn`) always does.
    public var thresholdBytes: UInt64 = 64 << 20
    /// The most WAL one read covers. Each read decodes from the slot's restart position, which
    /// moves only at the server's running-transactions records (every 15 s of writes, and at
    /// checkpoints), so a read that covers less than that decodes the same WAL again; and the
    /// server materialises one read's result in temporary files, so it also bounds those.
    /// A gibibyte keeps a bulk-written backlog of ten million changes near one pass of
    /// decoding (1.28 of it, against 1.73 with 256 MiB: BENCHMARKS.md).
    public var chunkBytes: UInt64 = 1024 << 20

    /// The first read when reading ahead on a copy of the slot: small, so that Daybook has
    /// work while the server decodes the next, larger one.
    public var firstAheadBytes: UInt64 = 16 << 20

    /// The smallest read worth making; a `temp_file_limit` that allows less ends backlog mode.
    public static let smallestChunk: UInt64 = 1 << 20

    public init() {}

    /// What to do next.
    public enum Step: Sendable, Equatable {
        /// Read the transactions that commit up to this WAL position through SQL.
        case read(upTo: LSN)
        /// The run's end is not decodable yet (written, not yet flushed): look again shortly.
        case wait
        /// Hand over to the replication stream from here.
        case stream
        /// Everything up to the run's end is read (`--until-caught-up`, `--until-lsn`).
        case finished
    }

    /// The next step from `position` (where the slot and the sink stand), given how far the
    /// server's WAL can be decoded now (`decodable`: flushed on a primary, replayed on a
    /// standby) and the run's end, if it has one.
    ///
    /// A run with an end reads all of it through SQL, however little is left, waiting for the
    /// last bytes to be flushed (commits made with `synchronous_commit = off` just before the
    /// run); an open-ended run reads while at least ``thresholdBytes`` are behind and then
    /// streams the rest, so the live tail never waits for a read to fill.
    ///
    /// `decodedAgain` is how much WAL before `position` the next read would decode again, when
    /// reads go ahead on a copy of the slot (see ``rangeBytes(decodedAgain:)``); without it
    /// every read is a chunk.
    public func next(position: LSN, decodable: LSN, end: LSN?, decodedAgain: UInt64? = nil) -> Step {
        let size = decodedAgain.map { rangeBytes(decodedAgain: $0) } ?? chunkBytes
        /// One read toward `limit`, at most `size` long.
        func read(toward limit: LSN) -> Step {
            .read(upTo: limit.bytes(since: position) > size ? position.advanced(by: size) : limit)
        }
        if let end {
            if position.covers(insertPosition: end) { return .finished }
            let limit = min(end, decodable)
            return limit > position ? read(toward: limit) : .wait
        }
        guard decodable > position, decodable.bytes(since: position) >= thresholdBytes else { return .stream }
        return read(toward: decodable)
    }

    /// How much WAL the next read ahead covers when it would decode `decodedAgain` bytes of
    /// WAL before its start again.
    ///
    /// Every read decodes from its slot's restart position, which moves only at the server's
    /// running-transactions records (every 15 s of writes, and at checkpoints): WAL between it
    /// and the read's start is decoded again, at about a third of the cost of the first time.
    /// Where the restart position follows the reads (a backlog written over hours), ranges stay
    /// near ``firstAheadBytes`` and little is decoded twice; where it stays behind (a bulk load
    /// written in seconds), each range is at least twice what it decodes again, so that stays
    /// under half the backlog. Never more than ``chunkBytes``, which bounds the server's
    /// temporary files.
    public func rangeBytes(decodedAgain: UInt64) -> UInt64 {
        min(chunkBytes, max(firstAheadBytes, decodedAgain.multipliedReportingOverflow(by: 2).partialValue))
    }

    /// The name of the temporary copy of `slot` that reads ahead: unique per read (`nonce`),
    /// a valid slot name (lower case, digits and underscores, at most 63 characters), and
    /// recognisably Daybook's in `pg_replication_slots` while it exists.
    public static func temporaryCopyName(slot: String, nonce: UInt32) -> String {
        let hex = String(nonce, radix: 16)
        let suffix = "_ahead_" + String(repeating: "0", count: 8 - hex.count) + hex
        return String(slot.prefix(63 - suffix.count)) + suffix
    }

    /// Whether a run that starts at `position` reads its backlog through SQL at all: one with
    /// an end does whenever it has something to read, also when that is not flushed yet (the
    /// last commits before a nightly run, made with `synchronous_commit = off`).
    public func startsInBacklogMode(position: LSN, decodable: LSN, end: LSN?) -> Bool {
        guard isEnabled else { return false }
        switch next(position: position, decodable: decodable, end: end) {
        case .read, .wait: return true
        case .stream, .finished: return false
        }
    }

    /// The read size under the server's `temp_file_limit` (kB, -1 for none): a read's result
    /// takes about as many bytes as the WAL it covers, usually fewer, so a read covers at most
    /// half the limit. Nil when the limit leaves less than ``smallestChunk``.
    public func chunkBytes(underTempFileLimit kilobytes: Int64) -> UInt64? {
        guard kilobytes >= 0 else { return chunkBytes }
        let allowed = UInt64(kilobytes) * 1024 / 2
        guard allowed >= Self.smallestChunk else { return nil }
        return min(chunkBytes, allowed)
    }

    /// The application name of backlog reads in `pg_stat_activity`, by which `daybook status`
    /// and the preflight tell that a slot is being read through SQL (slot names are ASCII, at
    /// most 63 bytes, and the server keeps the first 63 bytes of the name). Here, with the
    /// plan, because the stream sets it and the source checks and the status read it.
    public static func applicationName(slot: String) -> String {
        String(("daybook-backlog " + slot).prefix(63))
    }

    /// Why a failed read or check means "stream instead" rather than a fault: a role without
    /// the right, a server without the functions, a read past the server's temporary-space
    /// limit. Nil for anything else, which is handled like any other source error. Given the
    /// error's SQLSTATE and message, not the error, so that the plan needs no libpq.
    public static func fallbackReason(sqlState: String?, message: String) -> String? {
        switch sqlState {
        case "42501":
            "the role may not call pg_logical_slot_peek_binary_changes or pg_replication_slot_advance (\(message)); "
                + "GRANT EXECUTE on both to it for fast catch-up"
        case "42883", "0A000":
            "the server has no usable SQL decoding functions (\(message))"
        case "53400":
            "a read of the backlog exceeded the server's temp_file_limit (\(message)); lower --backlog-chunk or raise "
                + "temp_file_limit (a single transaction larger than the limit always does)"
        case "53100":
            "the server ran out of disk space for a read of the backlog (\(message)); lower --backlog-chunk"
        default:
            nil
        }
    }
}
