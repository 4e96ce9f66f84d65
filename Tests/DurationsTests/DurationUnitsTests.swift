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
    }

    @Test func microsecondsAndNanoseconds() {
        #expect(Duration.milliseconds(1_500).microseconds == 1_500_000)
        #expect(Duration.nanoseconds(1_999).microseconds == 1)
        #expect(Duration.milliseconds(3).nanoseconds == 3_000_000)
        #expect(Duration.seconds(100).nanoseconds == 100_000_000_000)
        #expect(Duration.seconds(Int64.max).nanoseconds == Int64.max)
        #expect(Duration.seconds(Int64.max).microseconds == Int.max)
    }
}
