import Testing

@testable import RedisNIO

/// The link's lifecycle without sockets: connect, fail, back off (doubling, capped, reset once setup is answered),
/// and close from every state.
@Suite struct RedisLinkStateMachineTests {
    typealias Machine = RedisLinkStateMachine

    @Test func connectsOnStartAndSetsUpOnSuccess() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        #expect(machine.start() == .connect)
        #expect(!machine.acceptsCommands)
        #expect(machine.connectSucceeded() == .sendSetup)
        #expect(machine.acceptsCommands)
        #expect(machine.start() == .none)
    }

    @Test func failedConnectsBackOffDoublingUpToTheCap() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        _ = machine.start()
        var delays: [Duration] = []
        for _ in 0..<5 {
            guard case .scheduleReconnect(let delay) = machine.connectFailed() else {
                Issue.record("expected a reconnect")
                return
            }
            delays.append(delay)
            #expect(!machine.acceptsCommands)
            #expect(machine.reconnectDue() == .connect)
        }
        #expect(delays == [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(300), .milliseconds(300)])
    }

    @Test func aLinkThatAnsweredItsSetupStartsTheBackoffAgain() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        _ = machine.start()
        _ = machine.connectFailed()
        _ = machine.reconnectDue()
        _ = machine.connectFailed()
        _ = machine.reconnectDue()
        #expect(machine.connectSucceeded() == .sendSetup)
        // Dropped before setup was answered: the failures keep counting.
        #expect(machine.linkFailed() == .dropLink(reconnectIn: .milliseconds(200)))
        _ = machine.reconnectDue()
        _ = machine.connectSucceeded()
        machine.setupSucceeded()
        #expect(machine.linkFailed() == .dropLink(reconnectIn: .milliseconds(50)))
    }

    @Test func linkFailureIsReportedOncePerLink() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        _ = machine.start()
        _ = machine.connectSucceeded()
        #expect(machine.linkFailed() == .dropLink(reconnectIn: .milliseconds(50)))
        // The socket's own close notification after the drop changes nothing.
        #expect(machine.linkFailed() == .none)
        #expect(machine.state == .backingOff)
    }

    @Test func closeWhileConnectedClosesTheLinkAndNothingReconnects() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        _ = machine.start()
        _ = machine.connectSucceeded()
        #expect(machine.close() == .closeLink)
        #expect(!machine.acceptsCommands)
        #expect(machine.linkFailed() == .none)
        #expect(machine.reconnectDue() == .none)
        #expect(machine.close() == .none)
    }

    @Test func closeWhileConnectingClosesTheSocketWhenItArrives() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        _ = machine.start()
        #expect(machine.close() == .none)
        #expect(machine.connectSucceeded() == .closeNewChannel)
        #expect(machine.connectFailed() == .none)
    }

    @Test func closeWhileBackingOffCancelsTheReconnect() {
        var machine = Machine(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        _ = machine.start()
        _ = machine.connectFailed()
        #expect(machine.close() == .none)
        #expect(machine.reconnectDue() == .none)
        #expect(machine.state == .closed)
    }
}
