import Testing
@testable import Curl

/// Each test starts its own server and client, so tests run in parallel without sharing anything.
@Suite struct CurlClientTests {
    @Test func statusCodesAreResponsesNotErrors() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        for status in [200, 204, 404, 429, 503] {
            let response = try await client.perform(CurlRequest(url: server.url("/status/\(status)")))
            #expect(response.status == status)
        }
    }

    @Test func responseHeadersAreLookedUpCaseInsensitively() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        let response = try await client.perform(CurlRequest(url: server.url("/status/201")))
        #expect(response.header("X-Custom-Header") == "Custom Value")
        #expect(response.header("x-custom-header") == "Custom Value")
        #expect(response.header("CONTENT-LENGTH") == "\(response.body.count)")
        #expect(response.header("X-Missing") == nil)
        #expect(response.body == Array("status 201".utf8))
    }

    @Test func onlyTheFinalResponsesHeadersAreKept() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        let response = try await client.perform(CurlRequest(url: server.url("/interim")))
        #expect(response.status == 200)
        #expect(response.header("X-Final") == "yes")
        #expect(response.header("X-Interim") == nil)
        #expect(response.body == Array("final".utf8))
    }

    @Test func binaryBodyRoundTrips() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        // NULs, CR/LF and every other byte value, big enough to arrive in many write callbacks.
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(body.contains(0))
        let response = try await client.perform(CurlRequest(method: "POST", url: server.url("/echo"), body: body))
        #expect(response.status == 200)
        #expect(response.header("X-Method") == "POST")
        #expect(response.body == body)
    }

    @Test func postBodyAndMethodsArrive() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        let json = Array(#"{"documentUrl":"https://example.com/a.pdf"}"#.utf8)
        let post = try await client.perform(
            CurlRequest(method: "POST", url: server.url("/echo"), headers: [CurlHeader(name: "Content-Type", value: "application/json")], body: json)
        )
        #expect(post.header("X-Method") == "POST")
        #expect(post.header("X-Body-Length") == "\(json.count)")
        #expect(post.body == json)

        let put = try await client.perform(CurlRequest(method: "PUT", url: server.url("/echo"), body: [1, 0, 2]))
        #expect(put.header("X-Method") == "PUT")
        #expect(put.body == [1, 0, 2])

        let emptyPost = try await client.perform(CurlRequest(method: "POST", url: server.url("/echo")))
        #expect(emptyPost.header("X-Method") == "POST")
        #expect(emptyPost.header("X-Body-Length") == "0")

        let delete = try await client.perform(CurlRequest(method: "DELETE", url: server.url("/echo")))
        #expect(delete.header("X-Method") == "DELETE")

        let get = try await client.perform(CurlRequest(url: server.url("/echo")))
        #expect(get.header("X-Method") == "GET")
        #expect(get.body.isEmpty)
    }

    @Test func requestHeadersArriveAndExpectIsNotSent() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        let headers = [
            CurlHeader(name: "Idempotency-Key", value: "docket-review-42"),
            CurlHeader(name: "X-Callback-Url", value: "http://127.0.0.1:1/webhooks"),
            CurlHeader(name: "X-Empty", value: ""),
        ]
        // Large enough that libcurl would otherwise send "Expect: 100-continue" and wait for it.
        let body = [UInt8](repeating: 7, count: 2 << 20)
        let response = try await client.perform(CurlRequest(method: "POST", url: server.url("/head"), headers: headers, body: body))
        let head = String(decoding: response.body, as: UTF8.self).lowercased()
        let lines = Set(head.split(separator: "\r\n").map(String.init))
        #expect(lines.contains("idempotency-key: docket-review-42"))
        #expect(lines.contains("x-callback-url: http://127.0.0.1:1/webhooks"))
        #expect(lines.contains("x-empty:"))
        #expect(lines.contains("content-length: \(body.count)"))
        #expect(!head.contains("expect"))
    }

    @Test func timeoutFiresWithinBound() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        let clock = ContinuousClock()
        for path in ["/hang", "/delay/3000"] {
            let started = clock.now
            let error = await #expect(throws: CurlError.self) {
                try await client.perform(CurlRequest(url: server.url(path), timeout: .milliseconds(300)))
            }
            let elapsed = clock.now - started
            #expect(error?.code == .timeout)
            #expect(error?.curlCode == 28)
            #expect(elapsed >= .milliseconds(250))
            #expect(elapsed < .seconds(2))
        }
    }

    @Test func connectionRefusedIsConnectError() async throws {
        let port = LocalHTTPServer.refusedPort()
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlError.self) {
            try await client.perform(CurlRequest(url: "http://127.0.0.1:\(port)/", connectTimeout: .seconds(2)))
        }
        #expect(error?.code == .connect)
        #expect(error?.curlCode == 7)
        #expect(error?.message.isEmpty == false)
    }

    @Test func hundredRequestsInFlightComplete() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient(maxConnections: 100)
        defer { client.shutdown() }
        let clock = ContinuousClock()
        let started = clock.now
        // Each answer takes 300 ms: one after another would take 30 s, concurrently well under 5 s.
        let statuses = try await withThrowingTaskGroup(of: (Int, Int, [UInt8]).self) { group in
            for index in 0..<100 {
                group.addTask {
                    let body = Array("request \(index)".utf8)
                    let delayed = try await client.perform(CurlRequest(url: server.url("/delay/300")))
                    let echoed = try await client.perform(CurlRequest(method: "POST", url: server.url("/echo"), body: body))
                    #expect(echoed.body == body)
                    return (index, delayed.status, echoed.body)
                }
            }
            var results: [Int: Int] = [:]
            for try await (index, status, _) in group { results[index] = status }
            return results
        }
        #expect(statuses.count == 100)
        #expect(statuses.values.allSatisfy { $0 == 200 })
        #expect(clock.now - started < .seconds(5))
    }

    @Test func moreRequestsThanConnectionsWaitTheirTurn() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient(maxConnections: 4)
        defer { client.shutdown() }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask { try await client.perform(CurlRequest(url: server.url("/delay/50"))).status }
            }
            for try await status in group { #expect(status == 200) }
        }
    }

    @Test func shutdownFailsPendingRequests() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient(maxConnections: 2)
        let clock = ContinuousClock()
        // Two in flight on the wire, three still waiting for a connection inside libcurl.
        let pending = (0..<5).map { _ in
            Task { () async -> Result<CurlResponse, CurlError> in
                do throws(CurlError) {
                    return .success(try await client.perform(CurlRequest(url: server.url("/hang"), timeout: .seconds(30))))
                } catch {
                    return .failure(error)
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = clock.now
        client.shutdown()
        for task in pending {
            let result = await task.value
            guard case .failure(let error) = result else {
                Issue.record("a pending request succeeded after shutdown")
                continue
            }
            #expect(error.code == .other)
            #expect(error.curlCode == -1)
        }
        #expect(clock.now - started < .seconds(2))

        let late = await #expect(throws: CurlError.self) {
            try await client.perform(CurlRequest(url: server.url("/echo")))
        }
        #expect(late?.code == .other)
        client.shutdown()  // a second shutdown is harmless
    }

    @Test func cancellingTheTaskAbandonsTheRequest() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.shutdown() }
        let clock = ContinuousClock()
        let hanging = Task { () async -> CurlError? in
            do throws(CurlError) {
                _ = try await client.perform(CurlRequest(url: server.url("/hang"), timeout: .seconds(30)))
                return nil
            } catch {
                return error
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let started = clock.now
        hanging.cancel()
        let error = await hanging.value
        #expect(error?.code == .other)
        #expect(error?.message.contains("cancelled") == true)
        #expect(clock.now - started < .seconds(1))

        // Already cancelled before submitting: fails without sending.
        let early = Task { () async -> CurlError? in
            withUnsafeCurrentTask { $0?.cancel() }
            do throws(CurlError) {
                _ = try await client.perform(CurlRequest(url: server.url("/echo")))
                return nil
            } catch {
                return error
            }
        }
        #expect(await early.value?.message.contains("cancelled") == true)

        // The client carries on serving other requests.
        let response = try await client.perform(CurlRequest(url: server.url("/status/200")))
        #expect(response.status == 200)
    }

    @Test func invalidRequestsAreRejectedBeforeSending() async throws {
        let client = CurlClient()
        defer { client.shutdown() }
        let injected = await #expect(throws: CurlError.self) {
            try await client.perform(
                CurlRequest(url: "http://127.0.0.1:1/", headers: [CurlHeader(name: "X-A", value: "a\r\nX-Injected: b")])
            )
        }
        #expect(injected?.curlCode == -1)
        let badMethod = await #expect(throws: CurlError.self) {
            try await client.perform(CurlRequest(method: "GET /x", url: "http://127.0.0.1:1/"))
        }
        #expect(badMethod?.curlCode == -1)
        let fileURL = await #expect(throws: CurlError.self) {
            try await client.perform(CurlRequest(url: "file:///etc/passwd"))
        }
        #expect(fileURL?.code == .other)
    }

    @Test func curlCodesMapToErrorCodes() {
        #expect(CurlError(curlCode: 28, message: "").code == .timeout)
        #expect(CurlError(curlCode: 7, message: "").code == .connect)
        #expect(CurlError(curlCode: 6, message: "").code == .resolve)
        #expect(CurlError(curlCode: 35, message: "").code == .other)
        #expect(CurlError(curlCode: 28, message: "Timeout was reached").description == "curl error 28 (timeout): Timeout was reached")
    }

    @Test func durationsBecomeAtLeastOneMillisecond() {
        #expect(CurlTransfer.milliseconds(.seconds(5)) == 5000)
        #expect(CurlTransfer.milliseconds(.milliseconds(1500)) == 1500)
        #expect(CurlTransfer.milliseconds(.microseconds(10)) == 1)
        #expect(CurlTransfer.milliseconds(.zero) == 1)
        #expect(CurlTransfer.milliseconds(.seconds(Int64.max)) == Int.max)
    }
}
