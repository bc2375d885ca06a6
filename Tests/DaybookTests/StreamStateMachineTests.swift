import DaybookCore
import Foundation
import PgOutput
import PgOutputTestSupport
import Testing
import WAL
import Windowing

/// The stream session's decisions as straight lines of events and expected actions: no
/// server, no clock (every `now` is a value the test chooses).
struct StreamStateMachineTests {
    private let accounts = accountsRelation
    /// The instant every test starts at.
    private let start = ContinuousClock.now

    private func at(milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    /// Checkpoints at most 250 ms after their first change or at 1,000 changes, a status every
    /// 10 s, 1-day windows: the service's defaults but for the batch size.
    private func makeMachine(
        maxBatchChanges: Int = 1_000,
        idleWatermark: Bool = false,
        runEnd: LSN? = nil,
        streaming: Bool = true
    ) -> StreamStateMachine {
        let engine = dayWindowsEngine()
        var processor = ChangeProcessor(engine: engine, committedLSN: 0)
        processor.register(accounts, primaryKey: ["id"])
        var machine = StreamStateMachine(
            processor: processor,
            settings: .init(
                checkpointInterval: .milliseconds(250),
                statusInterval: .seconds(10),
                maxBatchChanges: maxBatchChanges,
                maxBatchBytes: 64 << 20,
                idleWatermark: idleWatermark,
                runEnd: runEnd
            )
        )
        if streaming { machine.streamingStarted() }
        return machine
    }

    /// Feeds one message through the in-place path the service uses.
    private func feed(_ message: PgOutputMessage, to machine: inout StreamStateMachine) throws {
        let bytes = PgOutputTestEncoder.encode(message)
        try bytes.withUnsafeBytes { buffer in
            try machine.process(try PgOutputDecoder.decodeInPlace(buffer), in: buffer)
        }
    }

    private func begin(_ lsn: LSN, to machine: inout StreamStateMachine) throws {
        try feed(.begin(Begin(finalLSN: lsn, commitTime: 0, xid: UInt32(lsn.rawValue))), to: &machine)
    }

    private func insert(_ id: Int, to machine: inout StreamStateMachine) throws {
        let row = TupleData(columns: [.text(ArraySlice("\(id)".utf8)), .text(ArraySlice("5".utf8))])
        try feed(.insert(Insert(relationOID: 10, new: row)), to: &machine)
    }

    private func commit(_ lsn: LSN, to machine: inout StreamStateMachine) throws {
        try feed(.commit(Commit(flags: 0, commitLSN: lsn, endLSN: lsn.advanced(by: 8), commitTime: 0)), to: &machine)
    }

    /// One committed transaction of `rows` inserts, committing at `lsn` (ending at `lsn + 8`).
    private func transaction(_ lsn: LSN, rows: Int = 1, to machine: inout StreamStateMachine) throws {
        try begin(lsn, to: &machine)
        for id in 0..<rows { try insert(id, to: &machine) }
        try commit(lsn, to: &machine)
    }

    /// The actions of one turn of the loop, up to and including its read or finish, in words.
    private func turn(
        _ machine: inout StreamStateMachine,
        at now: ContinuousClock.Instant,
        stop: Bool = false
    ) -> [String] {
        var actions: [String] = []
        while actions.count < 10 {
            let action = machine.nextAction(now: now, stopRequested: stop)
            actions.append(Self.describe(action))
            switch action {
            case .read, .finish: return actions
            default: continue
            }
        }
        Issue.record("a turn that never reads: \(actions)")
        return actions
    }

    private static func describe(_ action: StreamStateMachine.Action) -> String {
        switch action {
        case .write(.checkpoint(let checkpoint)): "checkpoint \(checkpoint.lsn)"
        case .write(.spill(let spill)): "spill \(spill.keys.operationCount)"
        case .write(.advance(let lsn)): "advance \(lsn)"
        case .write(.stage), .write(.discardStreamed): "streamed write"
        case .sendStatus(let status):
            "status write \(status.write) flush \(status.flush)\(status.replyRequested ? " reply" : "")"
        case .probeIdleWatermark: "probe"
        case .read(let timeout):
            "read \(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000) ms"
        case .finish(.stopped): "finish stopped"
        case .finish(.reachedEnd): "finish at end"
        }
    }

    @Test func aCheckpointIsDueOnceItsFirstChangeWaitedTheInterval() throws {
        var machine = makeMachine()
        #expect(turn(&machine, at: at(milliseconds: 0)) == ["status write 0/0 flush 0/0", "read 500 ms"])
        try transaction(0x100, to: &machine)
        // Pending since this turn: the read waits no longer than the checkpoint may.
        #expect(turn(&machine, at: at(milliseconds: 10)) == ["read 250 ms"])
        #expect(turn(&machine, at: at(milliseconds: 200)) == ["read 60 ms"])
        #expect(turn(&machine, at: at(milliseconds: 260)) == ["checkpoint 0/108", "read 2 ms"])
    }

    @Test func aCheckpointIsDueAtOnceWhenTheBatchIsFull() throws {
        var machine = makeMachine(maxBatchChanges: 3)
        _ = turn(&machine, at: at(milliseconds: 0))
        try transaction(0x100, rows: 2, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 1)) == ["read 250 ms"])
        try transaction(0x200, rows: 1, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 2)) == ["checkpoint 0/208", "read 2 ms"])
    }

    @Test func theSlotIsConfirmedOnlyAfterTheSinkCommitted() throws {
        var machine = makeMachine()
        _ = turn(&machine, at: at(milliseconds: 0))
        try transaction(0x100, to: &machine)
        machine.dataArrived(at: 0x108)
        #expect(turn(&machine, at: at(milliseconds: 1)) == ["read 250 ms"])
        #expect(turn(&machine, at: at(milliseconds: 300)) == ["checkpoint 0/108", "read 2 ms"])
        // Written but not committed: a status now (the writer is busy) still confirms nothing.
        #expect(machine.sinkIsBehind(now: at(milliseconds: 301))?.flush == 0)
        #expect(turn(&machine, at: at(milliseconds: 302)) == ["read 2 ms"])
        machine.writeFinished(checkpointAt: 0x108)
        #expect(turn(&machine, at: at(milliseconds: 303)) == ["status write 0/108 flush 0/108", "read 500 ms"])
        #expect(machine.confirmedLSN == 0x108)
    }

    @Test func aKeepaliveAskingForAReplyIsAnsweredAndMovesAnIdleCheckpoint() throws {
        var machine = makeMachine()
        _ = turn(&machine, at: at(milliseconds: 0))
        // Nothing pending: the sink's checkpoint moves to the server's WAL end first, and the
        // slot is confirmed there only once that write committed.
        machine.keepaliveArrived(walEnd: 0x500, sendTime: 0, replyRequested: true)
        #expect(
            turn(&machine, at: at(milliseconds: 5)) == ["advance 0/500", "status write 0/500 flush 0/0", "read 2 ms"]
        )
        machine.writeFinished(checkpointAt: 0x500)
        #expect(turn(&machine, at: at(milliseconds: 6)) == ["status write 0/500 flush 0/500", "read 500 ms"])
        // Asked again at the same position: answered, with nothing more to write.
        machine.keepaliveArrived(walEnd: 0x500, sendTime: 0, replyRequested: true)
        #expect(turn(&machine, at: at(milliseconds: 7)) == ["status write 0/500 flush 0/500", "read 500 ms"])
        // A keepalive that asks nothing is not answered before the status interval.
        machine.keepaliveArrived(walEnd: 0x600, sendTime: 0, replyRequested: false)
        #expect(turn(&machine, at: at(milliseconds: 8)) == ["read 500 ms"])
    }

    @Test func aRunWithAnEndStopsExactlyAtIt() throws {
        var machine = makeMachine(runEnd: 0x208)
        #expect(turn(&machine, at: at(milliseconds: 0)) == ["status write 0/0 flush 0/0 reply", "read 200 ms"])
        try transaction(0x100, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 1)) == ["read 199 ms"])
        // The end is inside this transaction: nothing finishes before its commit.
        try begin(0x200, to: &machine)
        try insert(1, to: &machine)
        machine.keepaliveArrived(walEnd: 0x208, sendTime: 0, replyRequested: false)
        #expect(turn(&machine, at: at(milliseconds: 2)) == ["read 198 ms"])
        try commit(0x200, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 3)) == ["checkpoint 0/208", "finish at end"])
    }

    @Test func aRunWithAnEndDoesNotFinishBeforeIt() throws {
        var machine = makeMachine(runEnd: 0x300)
        _ = turn(&machine, at: at(milliseconds: 0))
        try transaction(0x200, to: &machine)
        machine.keepaliveArrived(walEnd: 0x2FF, sendTime: 0, replyRequested: false)
        #expect(turn(&machine, at: at(milliseconds: 1)) == ["read 199 ms"])
        machine.keepaliveArrived(walEnd: 0x300, sendTime: 0, replyRequested: false)
        #expect(turn(&machine, at: at(milliseconds: 2)) == ["checkpoint 0/208", "finish at end"])
    }

    @Test func aSinkFallingBehindHoldsConfirmsAndIdleAdvancesBack() throws {
        var machine = makeMachine(maxBatchChanges: 1)
        _ = turn(&machine, at: at(milliseconds: 0))
        try transaction(0x100, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 1)) == ["checkpoint 0/108", "read 2 ms"])
        try transaction(0x200, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 2)) == ["checkpoint 0/208", "read 2 ms"])
        #expect(machine.hasWritesInFlight)
        // The writer's queue is full: the session keeps the server's connection alive, and
        // confirms nothing yet; an idle stretch is not written over writes still out.
        #expect(machine.sinkIsBehind(now: at(milliseconds: 1_000)) == .init(write: 0, flush: 0, replyRequested: false))
        machine.keepaliveArrived(walEnd: 0x900, sendTime: 0, replyRequested: true)
        #expect(turn(&machine, at: at(milliseconds: 1_001)) == ["status write 0/900 flush 0/0", "read 2 ms"])
        machine.writeFinished(checkpointAt: 0x108)
        #expect(turn(&machine, at: at(milliseconds: 1_002)) == ["status write 0/900 flush 0/108", "read 2 ms"])
        machine.writeFinished(checkpointAt: 0x208)
        #expect(turn(&machine, at: at(milliseconds: 1_003)) == ["status write 0/900 flush 0/208", "read 500 ms"])
        #expect(!machine.hasWritesInFlight)
    }

    @Test func aStopMidTransactionWritesNothingOfIt() throws {
        var machine = makeMachine()
        _ = turn(&machine, at: at(milliseconds: 0))
        try transaction(0x100, to: &machine)
        try begin(0x200, to: &machine)
        try insert(7, to: &machine)
        // The committed transaction is pending but cannot be written inside the open one.
        #expect(turn(&machine, at: at(milliseconds: 1), stop: true) == ["finish stopped"])
        #expect(machine.processor.inTransaction)
        #expect(machine.statusUpdate(now: at(milliseconds: 2))?.flush == 0)
    }

    @Test func aStopBetweenTransactionsWritesWhatIsPendingFirst() throws {
        var machine = makeMachine()
        _ = turn(&machine, at: at(milliseconds: 0))
        try transaction(0x100, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 1), stop: true) == ["checkpoint 0/108", "finish stopped"])
    }

    @Test func aLargeTransactionIsSpilledAheadOfItsCommit() throws {
        var machine = makeMachine(maxBatchChanges: 2)
        _ = turn(&machine, at: at(milliseconds: 0))
        try begin(0x100, to: &machine)
        try insert(1, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 1)) == ["read 500 ms"])
        try insert(2, to: &machine)
        #expect(turn(&machine, at: at(milliseconds: 2)) == ["spill 2", "read 2 ms"])
    }

    @Test func theIdleWatermarkProbesTheServerAndMovesStreamTimeOnceReceived() throws {
        var machine = makeMachine(idleWatermark: true)
        #expect(
            turn(&machine, at: at(milliseconds: 0)) == ["probe", "status write 0/0 flush 0/0 reply", "read 200 ms"]
        )
        let serverTime = Timestamp(secondsSinceEpoch: 1_700_000_000)
        machine.idleProbed(serverTime: serverTime, insertPosition: 0x700)
        machine.keepaliveArrived(walEnd: 0x6FF, sendTime: 0, replyRequested: false)
        #expect(machine.processor.engine.streamTime == nil)
        machine.keepaliveArrived(walEnd: 0x700, sendTime: 0, replyRequested: false)
        #expect(machine.processor.engine.streamTime == serverTime)
    }

    @Test func beforeStreamingNoStatusGoesOut() throws {
        var machine = makeMachine(streaming: false)
        #expect(turn(&machine, at: at(milliseconds: 0)) == ["read 1 ms"])
        #expect(machine.statusUpdate(now: at(milliseconds: 1)) == nil)
    }

    @Test func aKeepaliveWithAnImpossibleClockDoesNotTrap() {
        var machine = makeMachine()
        machine.keepaliveArrived(walEnd: 1, sendTime: .max, replyRequested: false)
        machine.keepaliveArrived(walEnd: 2, sendTime: .min, replyRequested: false)
        #expect(machine.serverWALEnd == 2)
    }
}
