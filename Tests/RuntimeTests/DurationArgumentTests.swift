import Testing
@testable import Runtime

@Suite struct DurationArgumentTests {
    @Test func durationArguments() {
        #expect(DurationArgument(argument: "24h")?.duration == .seconds(86_400))
        #expect(DurationArgument(argument: "90m")?.duration == .seconds(5_400))
        #expect(DurationArgument(argument: "30s")?.duration == .seconds(30))
        #expect(DurationArgument(argument: "1500ms")?.duration == .milliseconds(1500))
        #expect(DurationArgument(argument: "2d")?.duration == .seconds(172_800))
        #expect(DurationArgument(argument: "45")?.duration == .seconds(45))
        for bad in ["", "h", "-1s", "0", "1.5h", "10x"] {
            #expect(DurationArgument(argument: bad) == nil, "\(bad)")
        }
    }

    @Test func retentionIsADurationOrOff() {
        #expect(RetentionArgument(argument: "30d")?.duration == .seconds(30 * 86_400))
        #expect(RetentionArgument(argument: "12h")?.duration == .seconds(43_200))
        #expect(RetentionArgument(argument: "0") == RetentionArgument(nil, text: "0"))
        #expect(RetentionArgument(argument: "off")?.duration == nil)
        #expect(RetentionArgument(argument: "off") != nil)
        for bad in ["", "-1d", "1.5d", "never", "00"] {
            #expect(RetentionArgument(argument: bad) == nil, "\(bad)")
        }
    }
}
