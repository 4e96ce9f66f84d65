import Foundation
import Model
import Queue
import Store

/// The console's pages, rendered on the server. Every value from Redis or Postgres passes through `HTML`'s escaping
/// interpolation; the only script is `/console.js` (live refresh of the overview), and every page works without it.
enum ConsolePages {
    enum Section: String { case overview, dead, reviews }

    /// What every signed-in page carries: the session's form token, and which section is open.
    struct Frame {
        var csrf: String?
        var section: Section?
    }

    static func page(_ title: String, _ frame: Frame, _ body: HTML) -> HTML {
        func link(_ section: Section, _ label: String, _ path: String) -> HTML {
            frame.section == section ? "<a href=\"\(path)\" aria-current=\"page\">\(label)</a>" : "<a href=\"\(path)\">\(label)</a>"
        }
        let navigation: HTML = frame.csrf.map { csrf in
            """
            <nav>\(link(.overview, "Overview", "/"))\(link(.dead, "Dead letters", "/dead"))\(link(.reviews, "Reviews", "/reviews"))\
            <form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="\(csrf)">\
            <button type="submit">Log out</button></form></nav>
            """
        } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Docket console</title><link rel="stylesheet" href="/console.css"></head>
            <body><header><strong>Docket</strong> console</header>\(navigation)<main>\(body)</main>
            <script src="/console.js" defer></script></body></html>
            """
    }

    static func loginForm(message: String?) -> HTML {
        let notice: HTML = message.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        return page("Log in", Frame(), """
            <h1>Log in</h1>\(notice)
            <p>This console shows webhook payloads and can replay and purge dead letters, so it needs its token: the \
            value of <code>DOCKET_CONSOLE_TOKEN</code>, or the one <code>docketctl console</code> printed at start.</p>
            <form method="post" action="/login"><label>Token <input type="password" name="token" autocomplete="current-password" \
            required autofocus></label> <button type="submit">Log in</button></form>
            """)
    }

    static func problem(_ title: String, _ message: String, _ frame: Frame) -> HTML {
        page(title, frame, "<h1>\(title)</h1><p class=\"error\" role=\"alert\">\(message)</p>")
    }

    // MARK: - Overview

    /// What the overview shows; a part that could not be read carries the reason instead.
    struct Overview {
        var queue: Result<QueueStats, any Error>
        var lag: Int?
        var store: Result<StoreOverview, any Error>
        var series: [ThroughputHistory.Series]
        var now: Double
    }

    static func overview(_ overview: Overview, _ frame: Frame) -> HTML {
        page("Overview", frame, "<h1>Overview</h1><div id=\"live\" data-refresh=\"5\">\(overviewFragment(overview))</div>")
    }

    /// The live part of the overview, also served alone (`?fragment=1`) for the refresh script.
    static func overviewFragment(_ overview: Overview) -> HTML {
        let nowMilliseconds = Int(overview.now * 1000)
        let queuePart: HTML
        switch overview.queue {
        case .failure(let error):
            queuePart = "<section><h2>Events</h2><p class=\"error\" role=\"alert\">Redis unavailable: \(describe(error))</p></section>"
        case .success(let stats):
            let nextDue: HTML = stats.nextRetryDueMilliseconds.map {
                " <small>next due in \(duration(Double(max(0, $0 - nowMilliseconds)) / 1000))</small>"
            } ?? ""
            let lag: HTML = overview.lag.map { "\($0)" } ?? "unknown"
            var consumers: [HTML] = []
            for consumer in stats.consumers.sorted(by: { $0.name < $1.name }) {
                // A consumer holding entries that has not read for a minute is probably stuck (or dead and awaiting reclaim).
                let stuck = consumer.pending > 0 && consumer.idleMilliseconds > 60_000
                consumers.append("""
                    <tr\(stuck ? HTML(trusted: " class=\"stuck\"") : "")><td>\(consumer.name)</td><td class="number">\(consumer.pending)</td>\
                    <td class="number">\(duration(Double(consumer.idleMilliseconds) / 1000))\(stuck ? HTML(trusted: " ⚠ stuck?") : "")</td></tr>
                    """)
            }
            let consumerTable: HTML = consumers.isEmpty
                ? "<p>No consumers yet.</p>"
                : "<table><thead><tr><th>Consumer</th><th>Pending</th><th>Idle</th></tr></thead><tbody>\(consumers)</tbody></table>"
            queuePart = """
                <section><h2>Events</h2><dl class="figures">\
                <div><dt>Backlog</dt><dd id="backlog">\(stats.backlog)</dd></div>\
                <div><dt>Group lag</dt><dd id="lag">\(lag)</dd></div>\
                <div><dt>Pending</dt><dd id="pending">\(stats.pending)</dd></div>\
                <div><dt>Retrying</dt><dd id="retrying">\(stats.retrying)\(nextDue)</dd></div>\
                <div><dt>Dead letters</dt><dd id="dead"><a href="/dead">\(stats.dead)</a></dd></div></dl>\
                <h3>Consumers</h3>\(consumerTable)</section>
                """
        }
        let storePart: HTML
        switch overview.store {
        case .failure(let error):
            storePart = "<section><h2>Reviews</h2><p class=\"error\" role=\"alert\">Postgres unavailable: \(describe(error))</p></section>"
        case .success(let store):
            var rows: [HTML] = []
            for status in ReviewStatus.allCases {
                let count = store.reviews[status] ?? 0
                rows.append("""
                    <tr><td><a href="/reviews\(HTML.query([("status", status.rawValue)]))">\(status.rawValue)</a></td>\
                    <td class="number" id="reviews-\(status.rawValue)">\(count)</td></tr>
                    """)
            }
            let oldest: HTML = store.oldestPendingReviewSeconds.map { "\(duration($0))" } ?? "none pending"
            storePart = """
                <section><h2>Reviews</h2><table><thead><tr><th>Status</th><th>Reviews</th></tr></thead><tbody>\(rows)</tbody></table>\
                <p>Oldest pending review: <strong id="oldest-pending">\(oldest)</strong></p></section>
                """
        }
        let graphs = overview.series.map { Sparkline.svg($0, now: overview.now, window: ThroughputHistory.window) }
        return """
            <div class="columns">\(queuePart)\(storePart)</div>\
            <section><h2>Throughput, last 15 minutes</h2><div class="graphs">\(graphs)</div>\
            <p><small>Events added include retries and replays; verdicts applied are counted from the audit trail \
            (none while DOCKET_AUDIT_RETENTION is off). Sampled every few seconds while the console runs.</small></p></section>\
            <p><small>Updated \(timestamp(overview.now))</small></p>
            """
    }

    // MARK: - Dead letters

    struct DeadListing {
        var filter: DeadLetterFilter
        /// The filter as typed, for the form.
        var since: String?
        var page: Result<DeadLetterPage, any Error>?
        var cursor: String?
        var limit: Int
        var formError: String?
        var now: Double
    }

    static func deadList(_ listing: DeadListing, _ frame: Frame) -> HTML {
        let filter = listing.filter
        let csrf = frame.csrf ?? ""
        let form: HTML = """
            <form method="get" action="/dead" class="filter"><label>Reason contains <input name="reason" value="\(filter.reason)"></label>\
            <label>Document id <input name="document" value="\(filter.documentId)"></label>\
            <label>Failed since <input name="since" value="\(listing.since)" placeholder="2026-11-30T08:00Z or 2h"></label>\
            <button type="submit">Filter</button> <a href="/dead">Clear</a></form>
            """
        let filterFields = hiddenFilter(filter)
        var body: HTML = "<h1>Dead letters</h1>\(form)"
        if let formError = listing.formError {
            body = "\(body)<p class=\"error\" role=\"alert\">\(formError)</p>"
            return page("Dead letters", frame, body)
        }
        switch listing.page {
        case .none:
            break
        case .failure(let error)?:
            body = "\(body)<p class=\"error\" role=\"alert\">Redis unavailable: \(describe(error))</p>"
        case .success(let result)?:
            var rows: [HTML] = []
            for letter in result.letters {
                rows.append("""
                    <tr><td><input type="checkbox" name="ids" value="\(letter.id)" form="selected" aria-label="select \(letter.id)"></td>\
                    <td><a class="id" href="/dead/\(HTML.urlComponent(letter.id))">\(letter.id)</a></td>\
                    <td class="id">\(letter.webhookId)</td><td class="id">\(letter.documentId)</td>\
                    <td title="\(letter.error)">\(shortened(letter.error, 120))</td><td class="number">\(letter.attempts)</td>\
                    <td>\(letter.consumer)</td><td>\(timestamp(Double(letter.failedAtMilliseconds) / 1000))</td></tr>
                    """)
            }
            if rows.isEmpty {
                body = "\(body)<p id=\"empty\">No dead letters\(filter.isEmpty ? "" : " match this filter").</p>"
            } else {
                let older: HTML = result.nextCursor.map { cursor in
                    let query = HTML.query([("reason", filter.reason), ("document", filter.documentId), ("since", listing.since),
                                            ("cursor", cursor), ("limit", String(listing.limit))])
                    return "<a rel=\"next\" href=\"/dead\(query)\">Older →</a>"
                } ?? ""
                let newest: HTML = listing.cursor == nil ? "" : "<a href=\"/dead\(HTML.query([("reason", filter.reason), ("document", filter.documentId), ("since", listing.since)]))\">← Newest</a> "
                body = """
                    \(body)<form id="selected" method="post" action="/dead/replay"><input type="hidden" name="csrf" value="\(csrf)">\
                    <button type="submit">Replay selected</button> <button type="submit" formaction="/dead/purge" class="danger">Purge selected</button></form>\
                    <table class="dead"><thead><tr><th></th><th>Entry id</th><th>Webhook id</th><th>Document id</th><th>Reason</th>\
                    <th>Attempts</th><th>Consumer</th><th>Failed at</th></tr></thead><tbody>\(rows)</tbody></table>\
                    <p class="pages">\(newest)\(older)</p>
                    """
            }
            body = """
                \(body)<form method="post" action="/dead/replay" class="bulk"><input type="hidden" name="csrf" value="\(csrf)">\
                <input type="hidden" name="all" value="1">\(filterFields)\
                <button type="submit">Replay everything matching\(filter.isEmpty ? "" : " this filter")…</button> \
                <button type="submit" formaction="/dead/purge" class="danger">Purge everything matching\(filter.isEmpty ? "" : " this filter")…</button></form>
                """
        }
        return page("Dead letters", frame, body)
    }

    static func deadDetail(_ letter: DeadLetter, _ frame: Frame) -> HTML {
        let csrf = frame.csrf ?? ""
        var fields: [HTML] = []
        for field in letter.entry.fields {
            fields.append("<tr><th>\(field.name)</th><td><code>\(text(field.value))</code></td></tr>")
        }
        return page("Dead letter \(letter.id)", frame, """
            <h1>Dead letter <span class="id">\(letter.id)</span></h1>\
            <p class="error" id="reason">\(letter.error)</p>\
            <dl class="facts"><div><dt>Webhook id</dt><dd class="id">\(letter.webhookId)</dd></div>\
            <div><dt>Document id</dt><dd class="id">\(letter.documentId)</dd></div>\
            <div><dt>Attempts</dt><dd>\(letter.attempts)</dd></div><div><dt>Consumer</dt><dd>\(letter.consumer)</dd></div>\
            <div><dt>Failed at</dt><dd>\(timestamp(Double(letter.failedAtMilliseconds) / 1000))</dd></div></dl>\
            <form method="post" action="/dead/replay" class="actions"><input type="hidden" name="csrf" value="\(csrf)">\
            <input type="hidden" name="ids" value="\(letter.id)"><button type="submit">Replay…</button> \
            <button type="submit" formaction="/dead/purge" class="danger">Purge…</button></form>\
            <h2>Body</h2><pre id="body">\(prettyBody(letter.body))</pre>\
            <h2>Every stream field</h2><table class="fields">\(fields)</table>
            """)
    }

    enum Action: String {
        case replay, purge

        var verb: String { self == .replay ? "Replay" : "Purge" }
        var past: String { self == .replay ? "replayed" : "purged" }
    }

    /// The confirmation before an action: how many, and which.
    struct Confirmation {
        var action: Action
        var letters: [DeadLetter]
        /// Ids asked for that no longer exist.
        var missing: [String]
        /// For "everything matching": the filter and the newest id it covers, re-sent with the confirmation.
        var filter: DeadLetterFilter?
        var since: String?
        var upTo: String?
    }

    static let confirmationRows = 200

    static func confirm(_ confirmation: Confirmation, _ frame: Frame) -> HTML {
        let action = confirmation.action
        let count = confirmation.letters.count
        var rows: [HTML] = []
        for letter in confirmation.letters.prefix(confirmationRows) {
            rows.append("""
                <tr><td class="id">\(letter.id)</td><td class="id">\(letter.documentId)</td><td>\(shortened(letter.error, 120))</td></tr>
                """)
        }
        let more: HTML = count > confirmationRows ? "<p>…and \(count - confirmationRows) more.</p>" : ""
        let missing: HTML = confirmation.missing.isEmpty ? "" : "<p class=\"error\">Already gone: \(confirmation.missing.joined(separator: ", "))</p>"
        let target: HTML
        if let filter = confirmation.filter {
            target = "<input type=\"hidden\" name=\"all\" value=\"1\">\(hiddenFilter(filter, since: confirmation.since))<input type=\"hidden\" name=\"upto\" value=\"\(confirmation.upTo)\">"
        } else {
            target = HTML(trusted: confirmation.letters.map { "<input type=\"hidden\" name=\"ids\" value=\"\(HTML.escape($0.id))\">" }.joined())
        }
        let consequence: HTML = action == .replay
            ? "Each goes back onto the events stream with its attempts reset, and a worker applies it."
            : "They are deleted for good."
        let button: HTML = count == 0 ? "" : """
            <form method="post" action="/dead/\(action.rawValue)"><input type="hidden" name="csrf" value="\(frame.csrf ?? "")">\
            <input type="hidden" name="confirm" value="yes">\(target)\
            <button type="submit" id="confirm"\(action == .purge ? HTML(trusted: " class=\"danger\"") : "")>\(action.verb) \(count) dead letter\(count == 1 ? "" : "s")</button> \
            <a href="/dead">Cancel</a></form>
            """
        let table: HTML = rows.isEmpty
            ? "<p>Nothing to do.</p>"
            : "<table><thead><tr><th>Entry id</th><th>Document id</th><th>Reason</th></tr></thead><tbody>\(rows)</tbody></table>"
        return page("\(action.verb) dead letters", frame, """
            <h1>\(action.verb) \(count) dead letter\(count == 1 ? "" : "s")?</h1><p>\(consequence)</p>\(missing)\
            \(table)\
            \(more)\(button)
            """)
    }

    static func done(action: Action, done: Int, gone: [String], failure: String?, _ frame: Frame) -> HTML {
        let goneNote: HTML = gone.isEmpty ? "" : "<p>\(gone.count) had already been replayed or purged by someone else.</p>"
        let failureNote: HTML = failure.map { "<p class=\"error\" role=\"alert\">Stopped: \($0)</p>" } ?? ""
        return page("Dead letters \(action.past)", frame, """
            <h1 id="result">\(action.past.capitalized) \(done) dead letter\(done == 1 ? "" : "s")</h1>\(goneNote)\(failureNote)\
            <p><a href="/dead">Back to dead letters</a> · <a href="/">Overview</a></p>
            """)
    }

    // MARK: - Reviews

    struct ReviewListing {
        var query: ReviewQuery
        var reviews: Result<[ReviewRecord], any Error>
        var before: Int?
        var limit: Int
        var formError: String?
    }

    static func reviewList(_ listing: ReviewListing, _ frame: Frame) -> HTML {
        let query = listing.query
        var options: [HTML] = ["<option value=\"\">any</option>"]
        for status in ReviewStatus.allCases {
            options.append("<option\(query.status == status ? HTML(trusted: " selected") : "")>\(status.rawValue)</option>")
        }
        var body: HTML = """
            <h1>Reviews</h1><form method="get" action="/reviews" class="filter">\
            <label>Document id <input name="document" value="\(query.documentId)"></label>\
            <label>URL contains <input name="url" value="\(query.urlContains)"></label>\
            <label>Status <select name="status">\(options)</select></label><button type="submit">Search</button> <a href="/reviews">Clear</a></form>
            """
        if let formError = listing.formError {
            return page("Reviews", frame, "\(body)<p class=\"error\" role=\"alert\">\(formError)</p>")
        }
        switch listing.reviews {
        case .failure(let error):
            body = "\(body)<p class=\"error\" role=\"alert\">Postgres unavailable: \(describe(error))</p>"
        case .success(let reviews) where reviews.isEmpty:
            body = "\(body)<p id=\"empty\">No reviews match.</p>"
        case .success(let reviews):
            var rows: [HTML] = []
            for review in reviews.prefix(listing.limit) {
                rows.append("""
                    <tr><td><a href="/reviews/\(review.id)">\(review.id)</a></td><td class="url">\(shortened(review.documentURL, 80))</td>\
                    <td>\(review.status?.rawValue ?? "?")</td><td class="id">\(review.documentId)</td><td class="number">\(review.requestAttempts)</td>\
                    <td>\(review.updatedAt.map { timestamp($0.timeIntervalSince1970) })</td></tr>
                    """)
            }
            let older: HTML = reviews.count > listing.limit ? {
                let cursor = reviews[listing.limit - 1].id
                let next = HTML.query([("document", query.documentId), ("url", query.urlContains), ("status", query.status?.rawValue),
                                       ("before", String(cursor)), ("limit", String(listing.limit))])
                return "<p class=\"pages\"><a rel=\"next\" href=\"/reviews\(next)\">Older →</a></p>"
            }() : ""
            body = """
                \(body)<table><thead><tr><th>Id</th><th>Document URL</th><th>Status</th><th>Document id</th><th>Requests</th>\
                <th>Updated</th></tr></thead><tbody>\(rows)</tbody></table>\(older)
                """
        }
        return page("Reviews", frame, body)
    }

    static func reviewDetail(_ review: ReviewRecord, _ frame: Frame) -> HTML {
        func date(_ value: Date?) -> HTML { value.map { "\(timestamp($0.timeIntervalSince1970))" } ?? "—" }
        func value(_ text: String?) -> HTML { text.map { "\($0)" } ?? "—" }
        let eventTime: HTML = review.lastEventTimestamp.map { "\(timestamp(Double($0)))" } ?? "—"
        return page("Review \(review.id)", frame, """
            <h1>Review \(review.id)</h1><dl class="facts">\
            <div><dt>Document URL</dt><dd class="url">\(review.documentURL)</dd></div>\
            <div><dt>Status</dt><dd id="status">\(review.status?.rawValue ?? "?")</dd></div>\
            <div><dt>Requested</dt><dd>\(date(review.createdAt))</dd></div>\
            <div><dt>Request attempts</dt><dd>\(review.requestAttempts)</dd></div>\
            <div><dt>Next request</dt><dd>\(date(review.nextRequestAt))</dd></div>\
            <div><dt>Last error</dt><dd>\(value(review.lastError))</dd></div>\
            <div><dt>Agent</dt><dd class="id">\(value(review.agentId))</dd></div>\
            <div><dt>Document id</dt><dd class="id">\(value(review.documentId))</dd></div>\
            <div><dt>Verdict</dt><dd id="verdict">\(review.status == .accepted || review.status == .declined ? review.status?.rawValue ?? "" : "—")</dd></div>\
            <div><dt>Reviewed</dt><dd>\(date(review.reviewedAt))</dd></div>\
            <div><dt>Last event (webhook time)</dt><dd>\(eventTime)</dd></div>\
            <div><dt>Last event applied</dt><dd>\(date(review.lastEventAt))</dd></div>\
            <div><dt>Last webhook id</dt><dd class="id">\(value(review.lastWebhookId))</dd></div>\
            <div><dt>Updated</dt><dd>\(date(review.updatedAt))</dd></div></dl>\
            <p><a href="/reviews">All reviews</a></p>
            """)
    }

    // MARK: - Helpers

    static func hiddenFilter(_ filter: DeadLetterFilter, since: String? = nil) -> HTML {
        var fields: [HTML] = []
        if let reason = filter.reason { fields.append("<input type=\"hidden\" name=\"reason\" value=\"\(reason)\">") }
        if let document = filter.documentId { fields.append("<input type=\"hidden\" name=\"document\" value=\"\(document)\">") }
        if let since = filter.failedSinceMilliseconds { fields.append("<input type=\"hidden\" name=\"since_ms\" value=\"\(since)\">") }
        _ = since
        return "\(fields)"
    }

    /// An error's one-line description (our errors describe themselves; nothing else is shown).
    static func describe(_ error: any Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "unknown error"
    }

    static func shortened(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    /// A stream field's bytes as text (invalid UTF-8 replaced, never interpreted).
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The body pretty-printed when it is JSON, verbatim otherwise.
    static func prettyBody(_ body: [UInt8]?) -> String {
        guard let body else { return "(no body field)" }
        if let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            return String(decoding: pretty, as: UTF8.self)
        }
        return text(body)
    }

    /// UTC, to the second, ISO 8601.
    static func timestamp(_ unixSeconds: Double) -> String {
        Date(timeIntervalSince1970: unixSeconds).formatted(.iso8601)
    }

    /// "42s", "7m 3s", "2h 5m", "3d 4h".
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        switch total {
        case ..<60: return "\(max(0, total))s"
        case ..<3_600: return "\(total / 60)m \(total % 60)s"
        case ..<86_400: return "\(total / 3_600)h \(total % 3_600 / 60)m"
        default: return "\(total / 86_400)d \(total % 86_400 / 3_600)h"
        }
    }
}
