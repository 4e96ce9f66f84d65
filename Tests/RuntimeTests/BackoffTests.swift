import Testing
@testable import Runtime

@Suite struct BackoffTests {
    @Test func growsExponentiallyUpToTheCap() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.5)
        let ceilings: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)]
        for ceiling in ceilings {
            // random 0 is the top of the jitter range, 1 the bottom.
            var top = backoff
            #expect(top.next(random: 0) == ceiling)
            #expect(backoff.next(random: 1) == ceiling / 2)
        }
        #expect(backoff.attempt == ceilings.count)
    }

    @Test func randomDelaysStayWithinBoundsEvenAfterManyAttempts() {
        var backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(5), jitter: 0.5)
        for attempt in 0..<200 {
            let delay = backoff.next()
            #expect(delay >= .milliseconds(25), "attempt \(attempt)")
            #expect(delay <= .seconds(5), "attempt \(attempt)")
        }
    }

    @Test func resetStartsOver() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), jitter: 0)
        _ = backoff.next()
        _ = backoff.next()
        #expect(backoff.next() == .milliseconds(400))
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.next() == .milliseconds(100))
    }
}
