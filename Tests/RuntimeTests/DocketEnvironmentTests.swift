import ArgumentParser
import Testing
@testable import Runtime

@Suite struct DocketEnvironmentTests {
    @Test func unsetOrEmptyVariablesFallBackToTheDefault() throws {
        #expect(try DocketEnvironment.checkedInt("DOCKET_BATCH_SIZE", default: 128, value: nil) == 128)
        #expect(try DocketEnvironment.checkedInt("DOCKET_BATCH_SIZE", default: 128, value: "") == 128)
        #expect(try DocketEnvironment.checkedInt("DOCKET_BATCH_SIZE", default: 128, value: " 64 ") == 64)
        #expect(try DocketEnvironment.checkedValue("DOCKET_LOG_FORMAT", default: LogFormat.text, value: "json") == .json)
        #expect(DocketEnvironment.string("DOCKET_TEST_SURELY_UNSET_VARIABLE", default: "fallback") == "fallback")
        #expect(DocketEnvironment.optionalString("DOCKET_TEST_SURELY_UNSET_VARIABLE") == nil)
    }

    @Test func switchesReadTheUsualSpellings() throws {
        for text in ["1", "true", "YES", " on "] {
            #expect(try DocketEnvironment.checkedFlag("DOCKET_REDIS_CLUSTER", default: false, value: text))
        }
        for text in ["0", "False", "no", "off"] {
            #expect(try !DocketEnvironment.checkedFlag("DOCKET_REDIS_CLUSTER", default: true, value: text))
        }
        #expect(try DocketEnvironment.checkedFlag("DOCKET_REDIS_CLUSTER", default: true, value: nil))
        let error = #expect(throws: ValidationError.self) {
            try DocketEnvironment.checkedFlag("DOCKET_REDIS_CLUSTER", default: false, value: "cluster")
        }
        #expect(error?.message == "DOCKET_REDIS_CLUSTER must be 1 or 0 (true/false, yes/no, on/off), got \"cluster\"")
    }

    @Test func invalidIntegerNamesTheVariable() {
        let error = #expect(throws: ValidationError.self) {
            try DocketEnvironment.checkedInt("DOCKET_METRICS_PORT", default: 9101, value: "ninety")
        }
        #expect(error?.message == "DOCKET_METRICS_PORT must be an integer, got \"ninety\"")
    }

    @Test func invalidChoiceNamesTheVariableAndTheChoices() {
        let error = #expect(throws: ValidationError.self) {
            try DocketEnvironment.checkedValue("DOCKET_LOG_LEVEL", default: LogLevel.info, value: "loud")
        }
        #expect(error?.message.hasPrefix("DOCKET_LOG_LEVEL must be one of trace, debug, info") == true)
        #expect(error?.message.hasSuffix("got \"loud\"") == true)
    }
}
