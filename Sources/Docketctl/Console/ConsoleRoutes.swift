import Foundation
import Hummingbird
import Logging
import Model
import Queue
import Store

/// The request context: who is asking, once `ConsoleGate` has let the request in.
struct ConsoleContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var session: ConsoleSession?

    init(source: Source) {
        coreContext = .init(source: source)
        session = nil
    }

    /// Form bodies are small; a larger one is refused before it is read.
    var maxUploadSize: Int { 1 << 20 }
}

/// Lets in requests that carry the token (`Authorization: Bearer`) or a valid session cookie; everything else except the
/// login page and the two static files gets 401 and no data. A wrong bearer token is answered after a delay.
struct ConsoleGate: RouterMiddleware {
    let auth: ConsoleAuth
    let wrongTokenDelay: Duration

    static let openPaths: Set<String> = ["/login", "/console.css", "/console.js"]

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            let prefix = "Bearer "
            guard authorization.hasPrefix(prefix), auth.tokenMatches(String(authorization.dropFirst(prefix.count))) else {
                try? await Task.sleep(for: wrongTokenDelay)
                return ConsoleResponses.unauthorized(request, message: "wrong token")
            }
            context.session = .bearer
        } else if let cookie = request.cookies[ConsoleAuth.cookieName]?.value,
                  let session = auth.session(fromCookie: cookie, now: ConsoleResponses.now()) {
            context.session = session
        }
        if context.session == nil, !Self.openPaths.contains(request.uri.path) {
            return ConsoleResponses.unauthorized(request, message: nil)
        }
        return try await next(request, context)
    }
}

/// The console's routes (docs/reference.md §13).
struct ConsoleRoutes: Sendable {
    let auth: ConsoleAuth
    let queue: PartitionedQueue
    let store: StoreClient
    let history: ThroughputHistory
    let logger: Logger
    let wrongTokenDelay: Duration

    static let pageSize = 50
    static let maxPageSize = 500

    func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: ConsoleGate(auth: auth, wrongTokenDelay: wrongTokenDelay))
        router.get("/console.css") { _, _ in ConsoleResponses.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("/console.js") { _, _ in ConsoleResponses.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/login") { request, context in
            if context.session != nil, FormData(query: request).first("token") == nil { return ConsoleResponses.redirect("/") }
            guard let token = FormData(query: request).first("token") else {
                return ConsoleResponses.html(ConsolePages.loginForm(message: nil))
            }
            return await logIn(token: token)
        }
        router.post("/login") { request, context in
            let form = try await FormData(request, context: context)
            return await logIn(token: form.first("token") ?? "")
        }
        router.post("/logout") { request, context in
            let (session, form) = try await checkedForm(request, context)
            guard let form else { return ConsoleResponses.forbidden(frame(session)) }
            _ = form
            auth.logOut(session, now: ConsoleResponses.now())
            logger.info("console logout", metadata: ["session": "\(session.label)"])
            var response = ConsoleResponses.redirect("/login")
            response.setCookie(Cookie(name: ConsoleAuth.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        router.get("/") { request, context in
            let overview = await readOverview()
            if FormData(query: request).first("fragment") == "1" {
                return ConsoleResponses.html(ConsolePages.overviewFragment(overview), fragment: true)
            }
            return ConsoleResponses.html(ConsolePages.overview(overview, frame(context.session, .overview)))
        }
        router.get("/api/overview") { _, _ in await apiOverview() }
        router.get("/dead") { request, context in await deadList(request, frame(context.session, .dead)) }
        router.get("/dead/:id") { _, context in
            let frame = frame(context.session, .dead)
            guard let id = context.parameters.get("id"), DeadLetterID.isValid(id) else {
                return ConsoleResponses.html(ConsolePages.problem("Not found", "That is not a dead letter id.", frame), status: .notFound)
            }
            do {
                guard let letter = try await queue.deadLetter(id: id) else {
                    return ConsoleResponses.html(ConsolePages.problem("Not found", "No dead letter with id \(id): replayed or purged already?", frame), status: .notFound)
                }
                return ConsoleResponses.html(ConsolePages.deadDetail(letter.shown, frame))
            } catch let error as AmbiguousDeadLetterId {
                return ConsoleResponses.html(ConsolePages.problem("Which one?", error.description, frame), status: .notFound)
            } catch {
                return ConsoleResponses.unavailable("Redis", error, frame)
            }
        }
        router.post("/dead/replay") { request, context in try await act(.replay, request, context) }
        router.post("/dead/purge") { request, context in try await act(.purge, request, context) }
        router.get("/reviews") { request, context in await reviewList(request, frame(context.session, .reviews)) }
        router.get("/reviews/:id") { _, context in
            let frame = frame(context.session, .reviews)
            guard let id = context.parameters.get("id").flatMap({ Int($0) }), id > 0 else {
                return ConsoleResponses.html(ConsolePages.problem("Not found", "That is not a review id.", frame), status: .notFound)
            }
            do {
                guard let review = try await store.review(id: id) else {
                    return ConsoleResponses.html(ConsolePages.problem("Not found", "No review with id \(id).", frame), status: .notFound)
                }
                return ConsoleResponses.html(ConsolePages.reviewDetail(review, frame))
            } catch {
                return ConsoleResponses.unavailable("Postgres", error, frame)
            }
        }
        return router
    }

    private func frame(_ session: ConsoleSession?, _ section: ConsolePages.Section? = nil) -> ConsolePages.Frame {
        ConsolePages.Frame(csrf: session.map { auth.csrfToken(for: $0) }, section: section)
    }

    // MARK: - Login

    private func logIn(token: String) async -> Response {
        guard auth.tokenMatches(token) else {
            try? await Task.sleep(for: wrongTokenDelay)
            logger.warning("console login refused: wrong token")
            return ConsoleResponses.html(ConsolePages.loginForm(message: "Wrong token."), status: .unauthorized)
        }
        let session = auth.newSession(now: ConsoleResponses.now())
        logger.info("console login", metadata: ["session": "\(session.label)"])
        var response = ConsoleResponses.redirect("/")
        response.setCookie(Cookie(
            name: ConsoleAuth.cookieName, value: auth.cookieValue(for: session), maxAge: ConsoleAuth.sessionLifetime,
            path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    /// The session and the posted form when its CSRF token is right (always for bearer requests, which no browser sends
    /// by itself); a nil form when it is not.
    private func checkedForm(_ request: Request, _ context: ConsoleContext) async throws -> (ConsoleSession, FormData?) {
        // ConsoleGate lets no form route through without a session; should one ever be opened, it refuses, not passes.
        guard let session = context.session else { return (ConsoleSession(id: "none", expires: 0), nil) }
        let form = try await FormData(request, context: context)
        guard session.isBearer || auth.csrfMatches(form.first("csrf"), for: session) else {
            logger.warning("console request refused: CSRF token missing or wrong", metadata: [
                "session": "\(session.label)", "path": "\(request.uri.path)"])
            return (session, nil)
        }
        return (session, form)
    }

    // MARK: - Overview

    private func readOverview() async -> ConsolePages.Overview {
        async let queueStats = Self.capture { try await queue.stats() }
        async let lag = try? await queue.groupLag()
        async let storeOverview = Self.capture { try await store.overview() }
        let now = Date().timeIntervalSince1970
        return ConsolePages.Overview(
            queue: await queueStats, lag: (await lag) ?? nil, store: await storeOverview, series: history.series(now: now), now: now)
    }

    static func capture<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    private func apiOverview() async -> Response {
        let overview = await readOverview()
        let queueStats: QueueStats
        let storeOverview: StoreOverview
        switch (overview.queue, overview.store) {
        case (.success(let q), .success(let s)):
            (queueStats, storeOverview) = (q, s)
        case (.failure(let error), _):
            return ConsoleResponses.json(["error": "Redis unavailable: \(ConsolePages.describe(error))"], status: .serviceUnavailable)
        case (_, .failure(let error)):
            return ConsoleResponses.json(["error": "Postgres unavailable: \(ConsolePages.describe(error))"], status: .serviceUnavailable)
        }
        let latest = Dictionary(uniqueKeysWithValues: overview.series.map { ($0.name, $0.latest) })
        var report = StatsReport(queue: queueStats, store: storeOverview, rates: StatsReport.Rates(
            eventsAdded: latest["events added"] ?? nil, verdictsApplied: latest["verdicts applied"] ?? nil,
            deadLettered: latest["dead-lettered"] ?? nil))
        report.lag = .some(overview.lag)
        return ConsoleResponses.json(report)
    }

    // MARK: - Dead letters

    /// The list's filter from the query (`reason`, `document`, `since`) or a posted form (`since_ms`, exact).
    static func deadFilter(reason: String?, document: String?, since: String?, sinceMilliseconds: String?, now: Date) throws(ConsoleInputError) -> DeadLetterFilter {
        var failedSince: Int?
        if let sinceMilliseconds, !sinceMilliseconds.isEmpty {
            guard let value = Int(sinceMilliseconds), value >= 0 else { throw ConsoleInputError("since_ms must be Unix milliseconds") }
            failedSince = value
        } else if let since, !since.isEmpty {
            guard let date = SinceArgument.parse(since, now: now),
                  let milliseconds = Int(exactly: (date.timeIntervalSince1970 * 1000).rounded(.down)) else {
                throw ConsoleInputError("\"Failed since\" must be a time such as 2026-11-30T08:00Z or 2026-11-30, or an age such as 90m, 2h or 3d")
            }
            failedSince = milliseconds
        }
        return DeadLetterFilter(reason: reason, documentId: document, failedSinceMilliseconds: failedSince)
    }

    private func deadList(_ request: Request, _ frame: ConsolePages.Frame) async -> Response {
        let parameters = FormData(query: request)
        let since = parameters.first("since")
        let cursor = parameters.first("cursor").flatMap { $0.isEmpty ? nil : $0 }
        var listing = ConsolePages.DeadListing(
            filter: DeadLetterFilter(reason: parameters.first("reason"), documentId: parameters.first("document")),
            since: since, page: nil, cursor: cursor, limit: Self.pageSize, formError: nil, now: Date().timeIntervalSince1970)
        do throws(ConsoleInputError) {
            listing.filter = try Self.deadFilter(
                reason: parameters.first("reason"), document: parameters.first("document"), since: since, sinceMilliseconds: nil, now: Date())
            listing.limit = try Self.limit(parameters.first("limit"))
            if let cursor, queue.parseId(cursor) == nil { throw ConsoleInputError("cursor must be a dead letter id of this queue") }
        } catch {
            listing.formError = error.message
            return ConsoleResponses.html(ConsolePages.deadList(listing, frame), status: .badRequest)
        }
        do {
            let page = try await queue.deadLetterPage(filter: listing.filter, after: cursor, limit: listing.limit)
            listing.page = .success(DeadLetterPage(letters: page.letters.map(\.shown), nextCursor: page.next))
            return ConsoleResponses.html(ConsolePages.deadList(listing, frame))
        } catch {
            listing.page = .failure(error)
            return ConsoleResponses.html(ConsolePages.deadList(listing, frame), status: .serviceUnavailable)
        }
    }

    static func limit(_ text: String?) throws(ConsoleInputError) -> Int {
        guard let text, !text.isEmpty else { return pageSize }
        guard let value = Int(text), (1...maxPageSize).contains(value) else {
            throw ConsoleInputError("limit must be a number from 1 to \(maxPageSize)")
        }
        return value
    }

    /// Replay or purge: without `confirm=yes` a confirmation page (how many, which); with it, the action, entry by
    /// entry through the same Queue calls `docketctl dead` makes.
    private func act(_ action: ConsolePages.Action, _ request: Request, _ context: ConsoleContext) async throws -> Response {
        let (session, checked) = try await checkedForm(request, context)
        let frame = frame(session, .dead)
        guard let form = checked else { return ConsoleResponses.forbidden(frame) }
        var confirmation = ConsolePages.Confirmation(action: action, letters: [], missing: [])
        // What the action applies to, each with its partition; `confirmation` shows them.
        var targets: [PartitionedQueue.Located] = []
        do {
            if form.first("all") == "1" {
                let filter: DeadLetterFilter
                do throws(ConsoleInputError) {
                    filter = try Self.deadFilter(
                        reason: form.first("reason"), document: form.first("document"), since: form.first("since"),
                        sinceMilliseconds: form.first("since_ms"), now: Date())
                    if let upTo = form.first("upto"), !upTo.isEmpty, !DeadLetterID.isValid(upTo) {
                        throw ConsoleInputError("upto must be a dead letter id")
                    }
                } catch {
                    return ConsoleResponses.html(ConsolePages.problem("Bad request", error.message, frame), status: .badRequest)
                }
                targets = try await queue.deadLetters(matching: filter)
                // Confirmed: only what existed when the operator looked, never what died since.
                if let upTo = form.first("upto"), !upTo.isEmpty {
                    targets = targets.filter { queue.isAtOrBefore($0, upTo) }
                }
                confirmation.filter = filter
                confirmation.upTo = targets.last?.id
            } else {
                let ids = form.all("ids")
                guard !ids.isEmpty else {
                    return ConsoleResponses.html(ConsolePages.problem("Nothing selected", "Select at least one dead letter.", frame), status: .badRequest)
                }
                if let bad = ids.first(where: { !DeadLetterID.isValid($0) }) {
                    return ConsoleResponses.html(ConsolePages.problem("Bad request", "\(bad) is not a dead letter id (expected a stream id such as 1700000000000-0, or 3-1700000000000-0 with several partitions).", frame), status: .badRequest)
                }
                var seen = Set<String>()
                for id in ids where seen.insert(id).inserted {
                    if let letter = try await queue.deadLetter(id: id) { targets.append(letter) } else { confirmation.missing.append(id) }
                }
            }
            confirmation.letters = targets.map(\.shown)
        } catch let error as AmbiguousDeadLetterId {
            return ConsoleResponses.html(ConsolePages.problem("Which one?", error.description, frame), status: .badRequest)
        } catch {
            return ConsoleResponses.unavailable("Redis", error, frame)
        }
        guard form.first("confirm") == "yes" else {
            return ConsoleResponses.html(ConsolePages.confirm(confirmation, frame))
        }
        var done: [String] = []
        var gone = confirmation.missing
        var failure: String?
        for letter in targets {
            do {
                let succeeded: Bool
                switch action {
                case .replay: succeeded = try await queue.replay(letter) != nil
                case .purge: succeeded = try await queue.purge(letter)
                }
                if succeeded { done.append(letter.id) } else { gone.append(letter.id) }
            } catch {
                failure = "Redis unavailable: \(ConsolePages.describe(error)) (\(done.count) \(action.past) before it failed)"
                break
            }
        }
        logger.notice("console \(action.past) dead letters", metadata: [
            "session": "\(session.label)", "count": "\(done.count)", "entry_ids": "\(Self.listed(done))",
            "gone": "\(gone.count)", "filter": "\(confirmation.filter.map(Self.described) ?? "ids")",
        ])
        return ConsoleResponses.html(
            ConsolePages.done(action: action, done: done.count, gone: gone, failure: failure, frame),
            status: failure == nil ? .ok : .serviceUnavailable)
    }

    /// Ids for a log line: all of a small batch, the first 50 of a large one.
    static func listed(_ ids: [String]) -> String {
        ids.count <= 50 ? ids.joined(separator: ",") : ids.prefix(50).joined(separator: ",") + ",…(\(ids.count) in all)"
    }

    static func described(_ filter: DeadLetterFilter) -> String {
        var parts: [String] = []
        if let reason = filter.reason { parts.append("reason~\(reason)") }
        if let document = filter.documentId { parts.append("document=\(document)") }
        if let since = filter.failedSinceMilliseconds { parts.append("since_ms=\(since)") }
        return parts.isEmpty ? "all" : parts.joined(separator: " ")
    }

    // MARK: - Reviews

    private func reviewList(_ request: Request, _ frame: ConsolePages.Frame) async -> Response {
        let parameters = FormData(query: request)
        var listing = ConsolePages.ReviewListing(
            query: ReviewQuery(documentId: parameters.first("document"), urlContains: parameters.first("url")),
            reviews: .success([]), before: nil, limit: Self.pageSize, formError: nil)
        do throws(ConsoleInputError) {
            if let status = parameters.first("status"), !status.isEmpty {
                guard let known = ReviewStatus(rawValue: status) else {
                    throw ConsoleInputError("status must be one of \(ReviewStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                listing.query.status = known
            }
            if let before = parameters.first("before"), !before.isEmpty {
                guard let id = Int(before), id > 0 else { throw ConsoleInputError("before must be a review id") }
                listing.before = id
            }
            listing.limit = try Self.limit(parameters.first("limit"))
        } catch {
            listing.formError = error.message
            return ConsoleResponses.html(ConsolePages.reviewList(listing, frame), status: .badRequest)
        }
        do {
            // One more than shown tells whether there is an older page.
            listing.reviews = .success(try await store.reviews(matching: listing.query, beforeId: listing.before, limit: listing.limit + 1))
            return ConsoleResponses.html(ConsolePages.reviewList(listing, frame))
        } catch {
            listing.reviews = .failure(error)
            return ConsoleResponses.html(ConsolePages.reviewList(listing, frame), status: .serviceUnavailable)
        }
    }
}

/// A query or form value the console cannot use; the message names it.
struct ConsoleInputError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
