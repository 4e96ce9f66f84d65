import Durations
import Testing

@Suite struct DurationUnitsTests {
    @Test func seconds() {
        #expect(Duration.milliseconds(1_500).seconds == 1.5)
        #expect(Duration.zero.seconds == 0)
        #expect(Duration.seconds(30 * 86_400).seconds == 2_592_000)
    }

    @Test func millisecondsRoundAsAsked() {
        #expect(Duration.milliseconds(5).milliseconds() == 5)
        #expect(Duration.microseconds(5_001).milliseconds() == 5)
        #expect(Duration.microseconds(5_001).milliseconds(rounded: .up) == 6)
        #expect(Duration.microseconds(999).milliseconds(rounded: .up) == 1)
        #expect(Duration.seconds(2).milliseconds(rounded: .up) == 2_000)
        #expect(Duration.seconds(Int64.max).milliseconds() == Int.max)
        #expect(Duration.seconds(Int64.min).milliseconds() == Int.min)
        // Exact past the range where a Double quotient is: every whole millisecond round-trips.
        for value in [295_149, 295_151, 86_400_123, 9_007_199_254_741] {
            #expect(Duration.milliseconds(value).milliseconds() == value)
            #expect(Duration.milliseconds(value).milliseconds(rounded: .up) == value)
        }
        #expect(Duration.milliseconds(-1_500).milliseconds() == -1_500)
        #expect((Duration.milliseconds(-1) - .microseconds(1)).milliseconds() == -2)
        #expect((Duration.milliseconds(-1) - .microseconds(1)).milliseconds(rounded: .up) == -1)
    }

    @Test func microsecondsAndNanoseconds() {
        #expect(Duration.milliseconds(1_500).microseconds == 1_500_000)
        #expect(Duration.nanoseconds(1_999).microseconds == 1)
        #expect(Duration.milliseconds(3).nanoseconds == 3_000_000)
        #expect(Duration.seconds(100).nanoseconds == 100_000_000_000)
        #expect(Duration.seconds(Int64.max).nanoseconds == Int64.max)
        #expect(Duration.seconds(Int64.max).microseconds == Int.max)
        // Near the top, seconds and fraction together saturate instead of wrapping.
        #expect((Duration.seconds(9_223_372_036_854) + .milliseconds(900)).microseconds == Int.max)
    }
}
