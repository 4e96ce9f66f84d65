import Runtime
import Testing
@testable import Worker

@Suite struct ConsumerStateMachineTests {
    func makeMachine(now: Int = 0) -> ConsumerStateMachine {
        ConsumerStateMachine(
            reclaimIntervalMilliseconds: 1_000, backoff: Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0),
            now: now)
    }

    @Test func startsWithOwnPendingThenReadsNew() {
        var machine = makeMachine()
        #expect(machine.nextAction(now: 0) == .readOwnPending)
        machine.readSucceeded(.ownPending, count: 5)
        machine.batchSettled()
        // Pending entries keep coming until a read returns none.
        #expect(machine.nextAction(now: 10) == .readOwnPending)
        machine.readSucceeded(.ownPending, count: 0)
        #expect(machine.nextAction(now: 20) == .readNew)
        machine.readSucceeded(.new, count: 0)
        #expect(machine.nextAction(now: 30) == .readNew)
    }

    @Test func reclaimsWhenDue() {
        var machine = makeMachine()
        machine.readSucceeded(.ownPending, count: 0)
        #expect(machine.nextAction(now: 999) == .readNew)
        #expect(machine.nextAction(now: 1_000) == .reclaim)
        machine.reclaimFinished(now: 1_050)
        #expect(machine.nextAction(now: 1_100) == .readNew)
        #expect(machine.nextAction(now: 2_050) == .reclaim)
    }

    @Test func infrastructureFailureBacksOffThenReReadsOwnPending() {
        var machine = makeMachine()
        machine.readSucceeded(.ownPending, count: 0)
        #expect(machine.nextAction(now: 0) == .readNew)
        machine.infrastructureFailed(holdingBatch: false)
        #expect(machine.isFailing)
        #expect(machine.nextAction(now: 0) == .backOff(.milliseconds(100)))
        #expect(machine.nextAction(now: 0) == .readOwnPending)
    }

    @Test func backoffGrowsIsCappedAndResetsAfterASettledBatch() {
        var machine = makeMachine()
        var delays: [Duration] = []
        for _ in 0..<6 {
            machine.infrastructureFailed(holdingBatch: false)
            if case .backOff(let delay) = machine.nextAction(now: 0) { delays.append(delay) }
            // The pending read succeeds but the batch fails again: the backoff must keep growing.
            #expect(machine.nextAction(now: 0) == .readOwnPending)
            machine.readSucceeded(.ownPending, count: 3)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        machine.batchSettled()
        #expect(!machine.isFailing)
        machine.infrastructureFailed(holdingBatch: false)
        #expect(machine.nextAction(now: 0) == .backOff(.milliseconds(100)))
    }

    @Test func aBatchThatFailedToSettleIsRetriedInHandNotReadAgain() {
        var machine = makeMachine()
        machine.readSucceeded(.ownPending, count: 0)
        #expect(machine.nextAction(now: 0) == .readNew)
        machine.readSucceeded(.new, count: 10)
        machine.infrastructureFailed(holdingBatch: true)
        #expect(machine.holdsBatch)
        // However long the outage, the batch is retried as it is: never re-read (that would raise delivery counts).
        var delays: [Duration] = []
        for _ in 0..<4 {
            if case .backOff(let delay) = machine.nextAction(now: 5_000) { delays.append(delay) }
            #expect(machine.nextAction(now: 5_000) == .retryHeldBatch)
            machine.infrastructureFailed(holdingBatch: true)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
        _ = machine.nextAction(now: 5_000)
        #expect(machine.nextAction(now: 5_000) == .retryHeldBatch)
        machine.heldBatchSettled()
        #expect(!machine.holdsBatch)
        #expect(!machine.isFailing)
        // Then the own pending entries (anything else delivered to this consumer), then new ones, and reclaim when due.
        #expect(machine.nextAction(now: 5_000) == .readOwnPending)
        machine.readSucceeded(.ownPending, count: 0)
        #expect(machine.nextAction(now: 5_000) == .reclaim)
        // The next failure without a batch in hand goes back to reading.
        machine.infrastructureFailed(holdingBatch: false)
        _ = machine.nextAction(now: 5_000)
        #expect(machine.nextAction(now: 5_000) == .readOwnPending)
    }

    @Test func shutdownStopsAtTheNextDecision() {
        var machine = makeMachine()
        machine.infrastructureFailed(holdingBatch: false)
        machine.shutdownRequested()
        #expect(machine.nextAction(now: 0) == .stop)
    }
}
