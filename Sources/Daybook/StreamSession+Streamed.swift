import Logging
import PgOutput
import PostgresReplication

/// Streamed transactions (pgoutput protocol 2): their chunks are held in memory and, past
/// ``RunConfiguration/streamHoldBytes``, in the sink; a rollback forgets them; a commit
/// replays them through the processor as one ordinary transaction with the commit's LSN and
/// time. Nothing of a streamed transaction counts before its commit is checkpointed, and a
/// new session deletes whatever is held (the server streams it again from its start).
extension StreamSession {
    /// Stream Start.
    mutating func startChunk(_ start: StreamStart) throws {
        let discard: StreamedTransactions.Discard?
        do { discard = try streams.start(start) } catch { throw Self.unexpectedOrder(error) }
        if let discard { try submit(.discard(discard)) }
    }

    /// A message inside a chunk: held, and written to the sink once enough is held.
    mutating func hold(_ payload: UnsafeRawBufferPointer, near lsn: UInt64) throws {
        let decoded: (xid: UInt32?, message: InPlaceMessage)
        do { decoded = try PgOutputDecoder.decodeStreamedInPlace(payload) } catch {
            throw Self.undecodable(error, near: lsn)
        }
        do {
            switch decoded.message {
            case .streamStop:
                try streams.stop()
                return
            case .origin:
                return  // where the transaction came from: nothing Daybook counts
            case .relation, .type, .insert, .update, .delete, .truncate, .message:
                try streams.append(payload, subxid: decoded.xid)
            case .begin, .commit, .streamStart, .streamCommit, .streamAbort:
                throw ChangeProcessor.ProtocolError(description: "\(decoded.message) inside a chunk of a streamed transaction")
            }
        } catch let error as ChangeProcessor.ProtocolError {
            throw Self.unexpectedOrder(error)
        }
        if streams.bufferedBytes >= configuration.streamHoldBytes, let stage = streams.takeStage() {
            try submit(.stage(stage))
        }
    }

    /// Stream Abort: the transaction, or a subtransaction of it, rolled back.
    mutating func abortStreamed(_ abort: StreamAbort) throws {
        if let discard = streams.abort(abort) { try submit(.discard(discard)) }
        logger.debug(
            abort.isWholeTransaction ? "streamed transaction rolled back" : "streamed subtransaction rolled back",
            metadata: ["daybook.xid": "\(abort.xid)", "daybook.subxid": "\(abort.subxid)"])
    }

    /// Stream Commit: the transaction's messages go through the processor now, the ones held
    /// in the sink first, in their order, then those still in memory.
    mutating func replayStreamed(_ stream: StreamCommit) throws {
        let committed: StreamedTransactions.Committed
        do { committed = try streams.commit(stream.xid) } catch { throw Self.unexpectedOrder(error) }
        let commit = stream.commit
        try apply(.begin(Begin(finalLSN: commit.commitLSN, commitTime: commit.commitTime, xid: stream.xid)), in: Self.noBytes)
        var replayed = 0
        if committed.staged {
            // Everything written so far must be in the sink before it is read back.
            try writer.drain { try sendStatus() }
            let reader = try openStreamReader()
            do {
                replayed += try reader.replay(xid: stream.xid) { bytes in try replay(bytes, near: commit.commitLSN.rawValue) }
            } catch {
                streamReader = nil  // a COPY abandoned mid-way leaves its connection unusable
                throw error
            }
        }
        try committed.bytes.withUnsafeBytes { bytes in
            for entry in committed.entries {
                try replay(UnsafeRawBufferPointer(rebasing: bytes[entry.range]), near: commit.commitLSN.rawValue)
            }
        }
        replayed += committed.entries.count
        try apply(.commit(commit), in: Self.noBytes)
        logger.debug(
            "streamed transaction committed",
            metadata: [
                "daybook.xid": "\(stream.xid)", LogKey.lsn: "\(formatLSN(commit.endLSN.rawValue))",
                "daybook.messages": "\(replayed)", "daybook.held_in_sink": "\(committed.staged)",
            ])
    }

    /// One held message, in protocol 1 form, through the processor; meanwhile the server
    /// hears from Daybook as usual, however long the transaction.
    private mutating func replay(_ bytes: UnsafeRawBufferPointer, near lsn: UInt64) throws {
        let message: InPlaceMessage
        do { message = try PgOutputDecoder.decodeInPlace(bytes) } catch { throw Self.undecodable(error, near: lsn) }
        try apply(message, in: bytes)
        try spillIfDue()
        if ContinuousClock.now >= nextStatusAt { try sendStatus() }
    }

    /// Begin and Commit hold no row images.
    private static var noBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    private mutating func openStreamReader() throws -> StreamMessageReader {
        if let streamReader { return streamReader }
        let reader = StreamMessageReader(
            connection: try PostgresConnection.open(configuration.sink, role: "sink"), slot: configuration.slot)
        streamReader = reader
        return reader
    }

    private mutating func submit(_ write: CheckpointWriter.Write) throws {
        try writer.submit(write) { try sendStatus() }
        submittedWrites += 1
    }
}
