import Testing
@testable import Runtime

@Suite struct ShutdownFlagTests {
    @Test func startsUnsetAndLatches() {
        let flag = ShutdownFlag()
        #expect(!flag.isShuttingDown)
        flag.begin()
        flag.begin()
        #expect(flag.isShuttingDown)
    }
}
