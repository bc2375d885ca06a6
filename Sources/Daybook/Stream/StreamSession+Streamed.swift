import DaybookCore
import Logging
import PgOutput
import PostgresReplication
import WAL

/// Streamed transactions (pgoutput protocol 2): their chunks are held in memory and, past
/// ``RunConfiguration/streamHoldBytes``, in the sink; a rollback forgets them; a commit
/// replays them through the processor as one ordinary transaction with the commit's LSN and
/// time. Nothing of a streamed transaction counts before its commit is checkpointed, and a
/// new session deletes whatever is held (the server streams it again from its start).
extension StreamSession {
    /// Stream Start.
    mutating func startChunk(_ start: StreamStart) throws {
        let discard: UInt32?
        do { discard = try streams.start(start) } catch { throw Self.unexpectedOrder(error) }
        if let discard { try submitStreamed(.discardStreamed(xid: discard)) }
    }

    /// A message inside a chunk: held, and written to the sink once enough is held; one too
    /// large to hold goes to the sink at once, straight from libpq's buffer.
    mutating func hold(_ payload: UnsafeRawBufferPointer, near lsn: LSN) throws {
        let decoded: (xid: UInt32?, message: InPlaceMessage)
        do { decoded = try PgOutputDecoder.decodeStreamedInPlace(payload) } catch {
            throw Self.undecodable(error, near: lsn)
        }
        do {
            switch decoded.message {
            case .streamStop:
                try streams.stop()
            case .origin:
                break  // where the transaction came from: nothing Daybook counts
            case .relation, .type, .insert, .update, .delete, .truncate, .message:
                if payload.count >= configuration.streamHoldBytes {
                    try writeDirect(payload, subxid: decoded.xid)
                } else {
                    try streams.append(payload, subxid: decoded.xid)
                }
            case .begin, .commit, .streamStart, .streamCommit, .streamAbort:
                throw ChangeProcessor.ProtocolError(
                    description: "\(decoded.message) inside a chunk of a streamed transaction"
                )
            }
        } catch let error as ChangeProcessor.ProtocolError {
            throw Self.unexpectedOrder(error)
        }
        if streams.bufferedBytes >= configuration.streamHoldBytes {
            let chunks = streams.takeStage()
            if !chunks.isEmpty { try submitStreamed(.stage(try sealed(chunks))) }
        }
    }

    private mutating func writeDirect(_ payload: UnsafeRawBufferPointer, subxid: UInt32?) throws {
        let (xid, seq, heldBefore) = try streams.numberDirect(payload, subxid: subxid)
        if let heldBefore { try submitStreamed(.stage(try sealed([heldBefore]))) }
        let store = try openChunkStore()
        try DaybookError.mapping(role: .sink) {
            try store.writeDirect(
                xid: xid,
                seq: seq,
                prefix: StreamedTransactions.directChunkPrefix(payload, subxid: subxid),
                body: StreamedTransactions.body(of: payload, subxid: subxid)
            )
        }
    }

    /// Chunks as they wait in the sink: sealed (``ChunkSeal``), never the rows in clear.
    private func sealed(_ chunks: [StreamedTransactions.Chunk]) throws -> [StreamedTransactions.Chunk] {
        try chunks.map { chunk in
            var sealed = chunk
            sealed.bytes = try chunkSeal.seal(chunk.bytes)
            return sealed
        }
    }

    /// Stream Abort: the transaction, or a subtransaction of it, rolled back.
    mutating func abortStreamed(_ abort: StreamAbort) throws {
        if let xid = streams.abort(abort) { try submitStreamed(.discardStreamed(xid: xid)) }
        logger.debug(
            abort.isWholeTransaction ? "streamed transaction rolled back" : "streamed subtransaction rolled back",
            metadata: ["daybook.xid": "\(abort.xid)", "daybook.subxid": "\(abort.subxid)"]
        )
    }

    /// Stream Commit: the transaction's messages go through the processor now, the chunks
    /// held in the sink first, in their order, then those still in memory.
    mutating func replayStreamed(_ stream: StreamCommit) throws {
        let committed: StreamedTransactions.Committed
        do { committed = try streams.commit(stream.xid) } catch { throw Self.unexpectedOrder(error) }
        let commit = stream.commit
        let lsn = commit.commitLSN
        let started = ContinuousClock.now
        var replayed = 0
        try apply(
            .begin(Begin(finalLSN: commit.commitLSN, commitTime: commit.commitTime, xid: stream.xid)),
            in: Self.noBytes
        )
        if committed.staged {
            // Everything written so far must be in the sink before it is read back.
            try writer.drain { try sendStatusWhileSinkIsBehind() }
            let store = try openChunkStore()
            do {
                try store.replay(xid: stream.xid) { firstSeq, messages in
                    replayed += try replay(messages, firstSeq: firstSeq, skipping: committed.rolledBack, near: lsn)
                }
            } catch {
                chunkStore = nil  // a COPY abandoned mid-way leaves its connection unusable
                throw Self.sinkError(error)
            }
        }
        replayed += try committed.held.bytes.withUnsafeBytes { bytes in
            try replay(bytes, firstSeq: committed.held.firstSeq, skipping: committed.rolledBack, near: lsn)
        }
        try apply(.commit(commit), in: Self.noBytes)
        // Once per large transaction: worth a line at the default level.
        logger.info(
            "streamed transaction committed",
            metadata: [
                "daybook.xid": "\(stream.xid)", LogKey.lsn: "\(commit.endLSN)",
                "daybook.messages": "\(replayed)", "daybook.held_in_sink": "\(committed.staged)",
                "daybook.replay_ms": "\(Int(((ContinuousClock.now - started) / .milliseconds(1)).rounded()))",
            ]
        )
    }

    /// A chunk's messages, in protocol 1 form, through the processor; meanwhile the server
    /// hears from Daybook as usual, however long the transaction.
    /// - Returns: how many messages went through.
    private mutating func replay(
        _ chunk: UnsafeRawBufferPointer,
        firstSeq: Int64,
        skipping rolledBack: [Range<Int64>],
        near lsn: LSN
    ) throws -> Int {
        var count = 0
        try StreamedTransactions.forEachMessage(in: chunk, firstSeq: firstSeq, skipping: rolledBack) { bytes in
            count += 1
            let message: InPlaceMessage
            do throws(PgOutputDecodingError) { message = try PgOutputDecoder.decodeInPlace(bytes) } catch {
                throw Self.undecodable(error, near: lsn)
            }
            try apply(message, in: bytes)
            try spillIfDue()
            try sendStatusIfDue()
        }
        return count
    }

    private static func sinkError(_ error: any Error) -> any Error {
        if let error = error as? PostgresError { return DaybookError.from(error, role: .sink) }
        return error
    }

    /// Begin and Commit hold no row images.
    private static var noBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    private mutating func openChunkStore() throws -> StreamChunkStore {
        if let chunkStore { return chunkStore }
        let store = StreamChunkStore(
            connection: try PostgresConnection.open(configuration.sink, role: .sink),
            slot: configuration.slot,
            seal: chunkSeal
        )
        chunkStore = store
        return store
    }
}
