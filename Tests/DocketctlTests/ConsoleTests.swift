import Foundation
import Hummingbird
import Model
import Queue
import Redis
import Store
import TestSupport
import Testing

@testable import Docketctl

/// `docketctl console` over HTTP against the real Redis and Postgres (docs/reference.md §13): the lock, every page,
/// the numbers against `docketctl stats --json`, filters and pages, replay and purge, CSRF, hostile payloads, outages.
@Suite struct ConsoleTests {
    // MARK: - The lock

    @Test func withoutATokenNothingButTheLoginFormIsServed() async throws {
        let harness = try await ConsoleHarness("console-lock")
        try await harness.makeDeadLetters([("doc-secret", "document unknown")])
        try await harness.withClient { client in
            for path in ["/", "/dead", "/reviews", "/reviews/1", "/no/such/page", "/dead/1-0", "/?fragment=1"] {
                let page = try await client.get(path)
                #expect(page.status == .unauthorized, "\(path)")
                #expect(page.text.contains("<form method=\"post\" action=\"/login\""), "\(path)")
                #expect(!page.text.contains("doc-secret") && !page.text.contains("Backlog"), "\(path)")
            }
            let api = try await client.get("/api/overview")
            #expect(api.status == .unauthorized)
            #expect(api.headers[.wwwAuthenticate] == "Bearer")
            #expect(!api.text.contains("backlog"))
            let posted = try await client.post("/dead/purge", [("all", "1"), ("confirm", "yes")])
            #expect(posted.status == .unauthorized)
            // A forged cookie is no session.
            let forged = try await client.get("/", cookie: "\(ConsoleAuth.cookieName)=abc.9999999999.def")
            #expect(forged.status == .unauthorized)
        }
        #expect(try await harness.deadCount() == 1)
    }

    @Test func aWrongTokenIsRefusedAfterADelay() async throws {
        let harness = try await ConsoleHarness("console-wrong")
        try await harness.withClient { client in
            let clock = ContinuousClock()
            var started = clock.now
            let login = try await client.get("/login?token=wrong-token-0123456789")
            #expect(clock.now - started >= ConsoleHarness.wrongTokenDelay)
            #expect(login.status == .unauthorized)
            #expect(login.sessionCookie == nil)
            #expect(login.text.contains("Wrong token."))

            started = clock.now
            let api = try await client.get("/api/overview", bearer: "wrong-token-0123456789")
            #expect(clock.now - started >= ConsoleHarness.wrongTokenDelay)
            #expect(api.status == .unauthorized)
            #expect(!api.text.contains("backlog"))

            let form = try await client.post("/login", [("token", "also-wrong")])
            #expect(form.status == .unauthorized)
            #expect(form.sessionCookie == nil)
        }
    }

    @Test func loginSetsAStrictHttpOnlySessionAndLogoutEndsIt() async throws {
        let harness = try await ConsoleHarness("console-login")
        try await harness.withClient { client in
            let login = try await client.get("/login?token=\(ConsoleHarness.token)")
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/")
            let setCookie = try #require(login.headers[values: .setCookie].first)
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Strict"))
            let cookie = try #require(login.sessionCookie)

            let overview = try await client.get("/", cookie: cookie)
            #expect(overview.status == .ok)
            #expect(overview.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let csrf = try #require(overview.csrf)

            // The login form posts too.
            let posted = try await client.post("/login", [("token", ConsoleHarness.token)])
            #expect(posted.status == .seeOther)
            #expect(posted.sessionCookie != nil)

            let refused = try await client.post("/logout", [("csrf", "not-the-token")], cookie: cookie)
            #expect(refused.status == .forbidden)
            #expect(try await client.get("/", cookie: cookie).status == .ok)

            let logout = try await client.post("/logout", [("csrf", csrf)], cookie: cookie)
            #expect(logout.status == .seeOther)
            #expect(logout.headers[.location] == "/login")
            #expect(try await client.get("/", cookie: cookie).status == .unauthorized)
        }
    }

    // MARK: - Pages and numbers

    @Test func overviewShowsTheNumbersDocketctlStatsPrints() async throws {
        let harness = try await ConsoleHarness("console-stats")
        try await harness.makeDeadLetters([("doc-1", "a"), ("doc-2", "b")])
        try await harness.enqueue(webhookId: "backlog-1")
        let ids = try await harness.store.submitAtomically { try $0.submit(["https://example.com/1", "https://example.com/2", "https://example.com/3"]) }
        _ = try harness.sql("UPDATE document_reviews SET document_status = 'REQUEST_FAILED', last_error = 'HTTP 400' WHERE id = $1", [.int(ids[0])])
        _ = try harness.sql("UPDATE document_reviews SET document_status = 'PENDING_REVIEW', document_id = 'doc-9', updated_at = now() - interval '90 seconds' WHERE id = $1", [.int(ids[1])])

        let stats = try ChildProcess.run(product: "docketctl", arguments: ["stats", "--json"], environment: [
            "DOCKET_REDIS_URL": TestEnvironment.redisURL, "DOCKET_REDIS_PREFIX": harness.prefix, "DOCKET_DATABASE_URL": harness.databaseURL,
        ])
        #expect(stats.status == 0, "\(stats.stderr)")
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        let expectedCounts = printed.compactMapValues { $0 as? Int }
        let expectedReviews = try #require(printed["reviews"] as? [String: Int])
        let expectedKeys = Set(printed.keys)

        try await harness.withClient { client in
            let api = try await client.get("/api/overview", bearer: ConsoleHarness.token)
            #expect(api.status == .ok)
            let figures = try #require(try JSONSerialization.jsonObject(with: Data(api.text.utf8)) as? [String: Any])
            for key in ["backlog", "pending", "retrying", "dead"] {
                #expect(figures[key] as? Int == expectedCounts[key], "\(key)")
            }
            #expect(figures["backlog"] as? Int == 1)
            #expect(figures["dead"] as? Int == 2)
            #expect(figures["reviews"] as? [String: Int] == expectedReviews)
            #expect((figures["reviews"] as? [String: Int])?["REQUEST_FAILED"] == 1)
            let oldest = try #require(figures["oldestPendingReviewSeconds"] as? Double)
            #expect(oldest >= 90 && oldest < 200)
            #expect(Set(figures.keys).isSuperset(of: expectedKeys))
            #expect(figures["consumers"] is [[String: Any]])
            #expect(figures.keys.contains("lag") && figures.keys.contains("rates") && figures.keys.contains("nextRetryDueMilliseconds"))

            let cookie = try await client.logIn()
            let page = try await client.get("/", cookie: cookie)
            #expect(page.status == .ok)
            #expect(page.element("backlog") == "1")
            #expect(page.element("dead") == "2")
            #expect(page.element("reviews-REQUEST_FAILED") == "1")
            #expect(page.element("reviews-QUEUED") == "1")
            #expect(page.element("oldest-pending")?.hasPrefix("1m ") == true)
            #expect(page.text.contains("console-test"))  // the consumer that read the entries
            #expect(page.text.contains("<svg"))
            let fragment = try await client.get("/?fragment=1", cookie: cookie)
            #expect(fragment.status == .ok)
            #expect(!fragment.text.contains("<html"))
            #expect(fragment.element("dead") == "2")
        }
    }

    @Test func deadLettersPageAndFilter() async throws {
        let harness = try await ConsoleHarness("console-pages")
        let letters = (0..<7).map { i in (document: "doc-\(i % 2 == 0 ? "even" : "odd")-\(i)", reason: i < 4 ? "document unknown" : "permanent: wrong state") }
        let ids = try await harness.makeDeadLetters(letters)
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            // Newest first, three a page, full ids, each linked.
            let first = try await client.get("/dead?limit=3", cookie: cookie)
            #expect(first.status == .ok)
            for id in ids[4...6] { #expect(first.text.contains("href=\"/dead/\(id)\"")) }
            for id in ids[0...3] { #expect(!first.text.contains(">\(id)<")) }
            #expect(first.text.contains("cursor=\(ids[4])"))
            let second = try await client.get("/dead?cursor=\(ids[4])&limit=3", cookie: cookie)
            for id in ids[1...3] { #expect(second.text.contains("href=\"/dead/\(id)\"")) }
            let last = try await client.get("/dead?cursor=\(ids[1])&limit=3", cookie: cookie)
            #expect(last.text.contains("href=\"/dead/\(ids[0])\""))
            #expect(!last.text.contains("rel=\"next\""))

            let byReason = try await client.get("/dead?reason=wrong+state", cookie: cookie)
            for id in ids[4...6] { #expect(byReason.text.contains("href=\"/dead/\(id)\"")) }
            for id in ids[0...3] { #expect(!byReason.text.contains("href=\"/dead/\(id)\"")) }
            let byDocument = try await client.get("/dead?document=doc-odd-3", cookie: cookie)
            #expect(byDocument.text.contains("href=\"/dead/\(ids[3])\""))
            #expect(byDocument.text.components(separatedBy: "href=\"/dead/1").count == 2)
            let recent = try await client.get("/dead?since=1h", cookie: cookie)
            #expect(recent.text.contains("href=\"/dead/\(ids[0])\""))
            let future = try await client.get("/dead?since=2999-01-01", cookie: cookie)
            #expect(future.text.contains("No dead letters match this filter."))
            // Ages that do not fit (infinite, beyond a century) are refused like any other bad value, not a crash.
            for since in ["infd", "nanh", "200000000000d", "-5m"] {
                #expect(try await client.get("/dead?since=\(since)", cookie: cookie).status == .badRequest, "\(since)")
            }
            let bad = try await client.get("/dead?since=yesterday", cookie: cookie)
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("Failed since"))
            #expect(try await client.get("/dead?limit=0", cookie: cookie).status == .badRequest)
            #expect(try await client.get("/dead?cursor=nonsense", cookie: cookie).status == .badRequest)

            let detail = try await client.get("/dead/\(ids[2])", cookie: cookie)
            #expect(detail.status == .ok)
            #expect(detail.text.contains("&quot;documentId&quot; : &quot;doc-even-2&quot;"))  // pretty-printed body
            #expect(detail.text.contains("<th>failed_at</th>") && detail.text.contains("<th>consumer</th>"))
            #expect(try await client.get("/dead/1-0", cookie: cookie).status == .notFound)
            #expect(try await client.get("/dead/not-an-id", cookie: cookie).status == .notFound)
        }
    }

    // MARK: - Actions

    @Test func replayAsksFirstThenMovesTheSelectedEntriesBack() async throws {
        let harness = try await ConsoleHarness("console-replay")
        let ids = try await harness.makeDeadLetters([("doc-a", "x"), ("doc-b", "x"), ("doc-c", "x")])
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            let csrf = try #require(try await client.get("/dead", cookie: cookie).csrf)
            let ask = try await client.post("/dead/replay", [("csrf", csrf), ("ids", ids[0]), ("ids", ids[2])], cookie: cookie)
            #expect(ask.status == .ok)
            #expect(ask.text.contains("Replay 2 dead letters?"))
            #expect(ask.text.contains(ids[0]) && ask.text.contains(ids[2]) && !ask.text.contains(ids[1]))
            #expect(try await harness.deadCount() == 3)  // nothing yet

            let done = try await client.post(
                "/dead/replay", [("csrf", csrf), ("confirm", "yes"), ("ids", ids[0]), ("ids", ids[2])], cookie: cookie)
            #expect(done.status == .ok)
            #expect(done.element("result") == "Replayed 2 dead letters")
            #expect(try await harness.deadCount() == 1)
            #expect(try await harness.eventCount() == 2)
            #expect(try await harness.deadIds() == [ids[1]])

            // The same again: already gone, said so, nothing else touched.
            let again = try await client.post("/dead/replay", [("csrf", csrf), ("confirm", "yes"), ("ids", ids[0])], cookie: cookie)
            #expect(again.text.contains("Already gone") || again.text.contains("had already been"))
            #expect(try await harness.deadCount() == 1)
        }
    }

    @Test func everythingMatchingCoversOnlyWhatTheOperatorSaw() async throws {
        let harness = try await ConsoleHarness("console-all")
        let ids = try await harness.makeDeadLetters([("doc-1", "document unknown"), ("doc-2", "other"), ("doc-3", "document unknown")])
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            let csrf = try #require(try await client.get("/dead", cookie: cookie).csrf)
            let ask = try await client.post("/dead/purge", [("csrf", csrf), ("all", "1"), ("reason", "unknown")], cookie: cookie)
            #expect(ask.text.contains("Purge 2 dead letters?"))
            let upTo = try #require(ask.text.range(of: #"name="upto" value=""#).map { String(ask.text[$0.upperBound...].prefix { $0 != "\"" }) })
            #expect(upTo == ids[2])
            // One more dies after the operator looked: the confirmation does not cover it.
            let later = try await harness.makeDeadLetters([("doc-4", "document unknown")])
            let done = try await client.post(
                "/dead/purge", [("csrf", csrf), ("confirm", "yes"), ("all", "1"), ("reason", "unknown"), ("upto", upTo)], cookie: cookie)
            #expect(done.element("result") == "Purged 2 dead letters")
            #expect(Set(try await harness.deadIds()) == [ids[1], later[0]])
            #expect(try await harness.eventCount() == 0)
        }
    }

    @Test func aPostWithoutTheSessionsCSRFTokenChangesNothing() async throws {
        let harness = try await ConsoleHarness("console-csrf")
        let ids = try await harness.makeDeadLetters([("doc-1", "x")])
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            let otherCookie = try await client.logIn()
            let otherCSRF = try #require(try await client.get("/", cookie: otherCookie).csrf)
            for fields in [[("confirm", "yes"), ("ids", ids[0])], [("csrf", "0000"), ("confirm", "yes"), ("ids", ids[0])],
                           [("csrf", otherCSRF), ("confirm", "yes"), ("ids", ids[0])]] {
                for path in ["/dead/replay", "/dead/purge"] {
                    let page = try await client.post(path, fields, cookie: cookie)
                    #expect(page.status == .forbidden, "\(path) \(fields)")
                    #expect(page.text.contains("CSRF"))
                }
            }
            #expect(try await harness.deadCount() == 1)
            #expect(try await harness.eventCount() == 0)
            // Scripts with the bearer token need no form token: no browser sends that header on its own.
            let scripted = try await client.post("/dead/purge", [("confirm", "yes"), ("ids", ids[0])], bearer: ConsoleHarness.token)
            #expect(scripted.element("result") == "Purged 1 dead letter")
            #expect(try await harness.deadCount() == 0)
        }
    }

    @Test func hostilePayloadsRenderAsText() async throws {
        let harness = try await ConsoleHarness("console-xss")
        let script = "<script>alert(1)</script>"
        let image = "\"><img src=x onerror=alert(2)>"
        let ids = try await harness.makeDeadLetters([(script, "document unknown \(image)")]) { document in
            #"{"agentId":"\"><img src=x onerror=alert(3)>","documentId":"\#(document)","documentStatus":"ACCEPTED"}"#
        }
        let reviewIds = try await harness.store.submitAtomically { try $0.submit(["https://example.com/?q=<script>x</script>"]) }
        _ = try harness.sql("UPDATE document_reviews SET last_error = $1, document_id = $2 WHERE id = $3",
                            [.text(image), .text(script), .int(reviewIds[0])])
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            let pages = [
                try await client.get("/dead", cookie: cookie),
                try await client.get("/dead/\(ids[0])", cookie: cookie),
                try await client.get("/dead?reason=\(HTML.urlComponent(image))", cookie: cookie),
                try await client.post("/dead/replay", [("csrf", try #require(try await client.get("/", cookie: cookie).csrf)), ("ids", ids[0])], cookie: cookie),
                try await client.get("/reviews", cookie: cookie),
                try await client.get("/reviews/\(reviewIds[0])", cookie: cookie),
                try await client.get("/reviews?url=\(HTML.urlComponent("<script>"))", cookie: cookie),
            ]
            for (index, page) in pages.enumerated() {
                #expect(page.status == .ok, "page \(index)")
                #expect(!page.text.contains("<script>alert") && !page.text.contains("<img") && !page.text.contains("<script>x"))
                #expect(page.text.contains("&lt;script&gt;") || page.text.contains("&lt;img"), "page \(index): \(page.text)")
            }
        }
    }

    @Test func reviewsSearchAndDetail() async throws {
        let harness = try await ConsoleHarness("console-reviews")
        let ids = try await harness.store.submitAtomically { submission in
            try submission.submit((0..<5).map { "https://docs.example.com/\($0 % 2 == 0 ? "even" : "odd")/\($0)" })
        }
        _ = try harness.sql("""
            UPDATE document_reviews SET document_status = 'ACCEPTED', document_id = 'doc-x', agent_id = 'agent-7',
                request_attempts = 2, last_event_ts = 1700000000, last_event_at = now(), reviewed_at = now(), last_webhook_id = 'msg_7'
            WHERE id = $1
            """, [.int(ids[3])])
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            let byDocument = try await client.get("/reviews?document=doc-x", cookie: cookie)
            #expect(byDocument.text.contains("href=\"/reviews/\(ids[3])\""))
            #expect(byDocument.text.components(separatedBy: "href=\"/reviews/").count == 2)
            let byURL = try await client.get("/reviews?url=%2Feven%2F", cookie: cookie)
            #expect(byURL.text.components(separatedBy: "href=\"/reviews/").count == 4)
            let byStatus = try await client.get("/reviews?status=QUEUED&limit=2", cookie: cookie)
            #expect(byStatus.text.components(separatedBy: "href=\"/reviews/").count == 3)
            #expect(byStatus.text.contains("before=\(ids[2])"))
            let older = try await client.get("/reviews?status=QUEUED&limit=2&before=\(ids[2])", cookie: cookie)
            #expect(older.text.contains("href=\"/reviews/\(ids[1])\"") && older.text.contains("href=\"/reviews/\(ids[0])\""))
            #expect(try await client.get("/reviews?status=LOST", cookie: cookie).status == .badRequest)

            let detail = try await client.get("/reviews/\(ids[3])", cookie: cookie)
            #expect(detail.element("status") == "ACCEPTED")
            #expect(detail.element("verdict") == "ACCEPTED")
            #expect(detail.text.contains("agent-7") && detail.text.contains("msg_7") && detail.text.contains("2023-11-14T22:13:20Z"))
            #expect(try await client.get("/reviews/999999", cookie: cookie).status == .notFound)
        }
    }

    // MARK: - Partitions

    @Test func severalPartitionsAreListedPagedAndReplayedEachInItsOwn() async throws {
        let harness = try await ConsoleHarness("console-partitions", partitions: 3)
        var expected: [String] = []
        for partition in [2, 0, 1, 2, 0] {
            let ids = try await harness.makeDeadLetters([("doc-p\(partition)-\(expected.count)", "document unknown")], partition: partition)
            expected.append("\(partition)-\(ids[0])")
        }
        let shownIds = expected
        try await harness.withClient { client in
            let cookie = try await client.logIn()
            // Newest first across partitions, two a page, every id qualified by its partition.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.get("/dead?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), cookie: cookie)
                #expect(page.status == .ok)
                let ids = page.text.components(separatedBy: "class=\"id\" href=\"/dead/").dropFirst().map { String($0.prefix { $0 != "\"" }) }
                seen += ids
                cursor = page.text.range(of: "cursor=").map { range in String(page.text[range.upperBound...].prefix { $0 != "&" && $0 != "\"" }) }
            } while cursor != nil && seen.count < 10
            // The documented order: entry id descending, ties (same millisecond and sequence in two partitions) by the
            // higher partition first.
            let newestFirst = shownIds.sorted { a, b in
                let (x, y) = (a.split(separator: "-").compactMap { UInt64($0) }, b.split(separator: "-").compactMap { UInt64($0) })
                return (x[1], x[2], x[0]) > (y[1], y[2], y[0])
            }
            #expect(seen == newestFirst, "\(seen)")
            #expect(Set(seen).count == shownIds.count, "every dead letter exactly once across pages")

            // Edge cursors: the largest id pages from the top without overflowing; a partition that does not exist is refused.
            let top = try await client.get("/dead?cursor=2-18446744073709551615-18446744073709551615", cookie: cookie)
            #expect(top.status == .ok)
            #expect(top.text.contains("href=\"/dead/\(shownIds[4])\""))
            #expect(try await client.get("/dead?cursor=7-1-0", cookie: cookie).status == .badRequest)

            let detail = try await client.get("/dead/\(shownIds[3])", cookie: cookie)
            #expect(detail.status == .ok)
            #expect(detail.text.contains("doc-p2-3"))

            let csrf = try #require(detail.csrf)
            let done = try await client.post("/dead/replay", [("csrf", csrf), ("confirm", "yes"), ("ids", shownIds[3])], cookie: cookie)
            #expect(done.element("result") == "Replayed 1 dead letter")
            let events = try await harness.redis.send("XLEN", RedisArgument(harness.partitioning.keys(2).events)).int
            #expect(events == 1, "back into partition 2's stream")
            let overview = try await client.get("/api/overview", bearer: ConsoleHarness.token)
            let figures = try #require(try JSONSerialization.jsonObject(with: Data(overview.text.utf8)) as? [String: Any])
            #expect(figures["dead"] as? Int == 4)
            #expect(figures["backlog"] as? Int == 1)
        }
    }

    // MARK: - Outages

    @Test func anUnreachableServiceIsNamedWithItsErrorAndTheRestStillShows() async throws {
        let harness = try await ConsoleHarness("console-down")
        let deadPort = freePort()
        let unreachableQueue = try PartitionedQueue(url: "redis://127.0.0.1:\(deadPort)/0", partitioning: Partitioning(prefix: harness.prefix, count: 1))
        let unreachableStore = StoreClient(url: "postgresql://postgres@127.0.0.1:\(deadPort)/nothing")
        defer { unreachableQueue.shutdown(); unreachableStore.shutdown() }
        try await harness.withClient(queue: unreachableQueue) { client in
            let cookie = try await client.logIn()
            let overview = try await client.get("/", cookie: cookie)
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Redis unavailable: cannot reach Redis at redis://127.0.0.1:\(deadPort)/0"))
            #expect(overview.element("reviews-QUEUED") == "0")  // Postgres still answered
            let dead = try await client.get("/dead", cookie: cookie)
            #expect(dead.status == .serviceUnavailable)
            #expect(dead.text.contains("Redis unavailable"))
            let api = try await client.get("/api/overview", bearer: ConsoleHarness.token)
            #expect(api.status == .serviceUnavailable)
            #expect(api.text.contains("Redis unavailable"))
        }
        try await harness.withClient(store: unreachableStore) { client in
            let cookie = try await client.logIn()
            let overview = try await client.get("/", cookie: cookie)
            #expect(overview.text.contains("Postgres unavailable"))
            #expect(overview.element("backlog") == "0")
            let reviews = try await client.get("/reviews", cookie: cookie)
            #expect(reviews.status == .serviceUnavailable)
            #expect(reviews.text.contains("Postgres unavailable"))
            #expect(!reviews.text.contains("Stack") && !reviews.text.contains("Fatal"))
        }
    }
}
