import Testing
import Model

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(base: .seconds(1), cap: .seconds(600), maxAttempts: 10)

    @Test func fullRandomGivesTheCeiling() {
        #expect(policy.delay(afterAttempt: 0, random: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 1, random: 1) == .seconds(2))
        #expect(policy.delay(afterAttempt: 5, random: 1) == .seconds(32))
        #expect(policy.delay(afterAttempt: 9, random: 1) == .seconds(512))
        #expect(policy.delay(afterAttempt: 10, random: 1) == .seconds(600))
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == .seconds(4))
    }

    @Test func neverAboveCapNeverZero() {
        var rng = SystemRandomNumberGenerator()
        for attempt in [-5, 0, 1, 2, 10, 30, 62, 63, 64, 100, 1_000, 5_000, Int.max] {
            for random in [Double.leastNonzeroMagnitude, 1e-12, 0.001, 0.5, 1, 0, -1, 2, .nan, .infinity]
                + (0..<50).map({ _ in Double.random(in: Double.leastNonzeroMagnitude...1, using: &rng) })
            {
                let delay = policy.delay(afterAttempt: attempt, random: random)
                #expect(delay <= .seconds(600), "attempt \(attempt) random \(random)")
                #expect(delay > .zero, "attempt \(attempt) random \(random)")
                #expect(delay >= RetryPolicy.minimumDelay)
            }
        }
        #expect(policy.delay(afterAttempt: Int.max, random: 1) == .seconds(600))
    }

    @Test func ceilingGrowsWithAttempt() {
        var previous = Duration.zero
        for attempt in 0...12 {
            let delay = policy.delay(afterAttempt: attempt, random: 1)
            #expect(delay >= previous)
            previous = delay
        }
        #expect(policy.delay(afterAttempt: 4, random: 0.3) > policy.delay(afterAttempt: 2, random: 0.3))
    }

    @Test func subSecondAndOddDurationsStayBelowCap() {
        let fine = RetryPolicy(base: .milliseconds(100), cap: .milliseconds(300), maxAttempts: 3)
        #expect(fine.delay(afterAttempt: 0, random: 1) == .milliseconds(100))
        #expect(fine.delay(afterAttempt: 1, random: 1) == .milliseconds(200))
        #expect(fine.delay(afterAttempt: 2, random: 1) == .milliseconds(300))
        let tiny = RetryPolicy(base: .microseconds(10), cap: .microseconds(50), maxAttempts: 3)
        #expect(tiny.delay(afterAttempt: 9, random: 0.001) == .microseconds(50))
        let huge = RetryPolicy(base: .seconds(Int64.max / 2), cap: .seconds(Int64.max), maxAttempts: 3)
        #expect(huge.delay(afterAttempt: 80, random: 1) <= .seconds(Int64.max))
    }

    @Test func exhaustion() {
        #expect(!policy.isExhausted(attempt: 0))
        #expect(!policy.isExhausted(attempt: 9))
        #expect(policy.isExhausted(attempt: 10))
        #expect(policy.isExhausted(attempt: 11))
    }
}
