internal import CCurl
import Durations

/// One request in flight: its easy handle, the C memory libcurl reads from, and what has arrived so far.
/// Only the thread driving the multi handle touches a transfer, so it needs no lock.
final class CurlTransfer {
    /// The id `CurlMulti` knows the request by, for cancellation.
    let id: UInt64
    let easy: UnsafeMutableRawPointer
    private let continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>
    private let errorBuffer: UnsafeMutablePointer<CChar>
    // libcurl keeps these pointers (CURLOPT_HTTPHEADER, CURLOPT_POSTFIELDS) without copying: they live as long as the handle.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var requestBody: UnsafeMutableRawBufferPointer?
    private var responseBody: [UInt8] = []
    private var responseHeaders: [CurlHeader] = []
    private var isCompleted = false

    /// Nil when libcurl cannot allocate a handle.
    init?(id: UInt64, continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>) {
        guard let easy = curl_easy_init() else { return nil }
        self.id = id
        self.easy = easy
        self.continuation = continuation
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        // A transfer is never dropped silently: whoever forgot to complete it, its caller still gets an answer.
        if !isCompleted {
            continuation.resume(returning: .failure(.client("request was abandoned by the curl client")))
        }
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        requestBody?.deallocate()
        errorBuffer.deallocate()
    }

    /// Applies every option of the request to the easy handle; nothing is sent yet.
    func configure(_ request: CurlRequest) throws(CurlError) {
        try Self.validate(request)
        try setString(CURLOPT_URL, request.url)
        // Webhook targets are HTTP endpoints; refusing file://, gopher:// etc. keeps a bad URL from reading local files.
        try setString(CURLOPT_PROTOCOLS_STR, "http,https")
        // Signals would hit arbitrary threads of the process (timeouts via SIGALRM): never let libcurl use them.
        try setLong(CURLOPT_NOSIGNAL, 1)
        try setLong(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
        try setLong(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        try check(docket_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        try configureMethod(request)
        try configureHeaders(request.headers)
        try configureCallbacks()
    }

    /// Answers the caller with the transfer's outcome once libcurl reports it done.
    func finish(_ code: CURLcode) {
        guard code == CURLE_OK else {
            let summary = String(cString: curl_easy_strerror(code))
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? summary : "\(summary): \(detail)"
            complete(.failure(CurlError(curlCode: Int(code.rawValue), message: message)))
            return
        }
        var status = 0
        let rc = docket_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        guard rc == CURLE_OK else {
            complete(.failure(CurlError(curlCode: Int(rc.rawValue), message: "no response code: \(String(cString: curl_easy_strerror(rc)))")))
            return
        }
        complete(.success(CurlResponse(status: status, headers: responseHeaders, body: responseBody)))
    }

    /// Resumes the caller exactly once; later calls are ignored.
    func complete(_ result: Result<CurlResponse, CurlError>) {
        guard !isCompleted else { return }
        isCompleted = true
        continuation.resume(returning: result)
    }

    // MARK: - Options

    private func configureMethod(_ request: CurlRequest) throws(CurlError) {
        var body = request.body
        // POST/PUT/PATCH without a body still send Content-Length: 0, which some servers insist on.
        if body == nil, ["POST", "PUT", "PATCH"].contains(request.method) {
            body = []
        }
        guard let body else {
            switch request.method {
            case "GET": try setLong(CURLOPT_HTTPGET, 1)
            case "HEAD": try setLong(CURLOPT_NOBODY, 1)
            default: try setString(CURLOPT_CUSTOMREQUEST, request.method)
            }
            return
        }
        // Copied once into C memory (at least one byte so the pointer is never NULL, which libcurl reads as "no body").
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, body.count), alignment: 1)
        requestBody = buffer
        buffer.copyBytes(from: body)
        try check(
            docket_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)),
            "CURLOPT_POSTFIELDSIZE_LARGE"
        )
        try check(docket_curl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, buffer.baseAddress), "CURLOPT_POSTFIELDS")
        if request.method != "POST" {
            try setString(CURLOPT_CUSTOMREQUEST, request.method)
        }
    }

    private func configureHeaders(_ headers: [CurlHeader]) throws(CurlError) {
        var lines = headers.map { header in
            // "Name:" would tell libcurl to remove the header; "Name;" is its syntax for an empty value.
            header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
        }
        // libcurl waits up to a second for "100 Continue" on larger bodies; receivers answer directly, so skip the wait.
        if !headers.contains(where: { $0.name.lowercased() == "expect" }) {
            lines.append("Expect:")
        }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw .client("out of memory building request headers")
            }
            headerList = appended
        }
        try check(docket_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")
    }

    private func configureCallbacks() throws(CurlError) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(
            docket_curl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
                guard let userdata else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                let length = size * count
                if let data, length > 0 {
                    transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
                }
                return length
            },
            "CURLOPT_WRITEFUNCTION"
        )
        try check(docket_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(
            docket_curl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
                guard let userdata else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                let length = size * count
                if let data, length > 0 {
                    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
                }
                return length
            },
            "CURLOPT_HEADERFUNCTION"
        )
        try check(docket_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
    }

    /// libcurl hands over one raw header line at a time, status lines of every response included.
    private func receiveHeaderLine(_ raw: UnsafeRawBufferPointer) {
        var line = raw[...]
        while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") {
            line = line.dropLast()
        }
        guard let first = line.first else { return }
        if line.starts(with: "HTTP/".utf8) {
            // A new status line: whatever came before belonged to an interim (1xx) response.
            responseHeaders.removeAll()
            return
        }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            // Obsolete line folding: the line continues the previous header's value.
            if let previous = responseHeaders.popLast() {
                let more = String(decoding: Self.trimmed(line), as: UTF8.self)
                responseHeaders.append(CurlHeader(name: previous.name, value: previous.value + " " + more))
            }
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = String(decoding: Self.trimmed(line[..<colon]), as: UTF8.self)
        let value = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
        responseHeaders.append(CurlHeader(name: name, value: value))
    }

    // MARK: - Helpers

    private func setLong(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(docket_curl_easy_setopt_long(easy, option, value), "option \(option.rawValue)")
    }

    private func setString(_ option: CURLoption, _ value: String) throws(CurlError) {
        // libcurl copies string options, so the temporary C string may go away after the call.
        try check(docket_curl_easy_setopt_string(easy, option, value), "option \(option.rawValue)")
    }

    private func check(_ code: CURLcode, _ what: String) throws(CurlError) {
        guard code == CURLE_OK else {
            throw CurlError(curlCode: Int(code.rawValue), message: "\(what): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    /// Rejects what would corrupt the request on the wire: CR, LF or NUL would let a value inject headers.
    private static func validate(_ request: CurlRequest) throws(CurlError) {
        func isClean(_ text: String) -> Bool {
            !text.utf8.contains { $0 == 0 || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
        }
        guard !request.url.isEmpty, isClean(request.url) else {
            throw .client("invalid URL: it is empty or contains CR, LF or NUL")
        }
        guard !request.method.isEmpty,
            request.method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") })
        else {
            throw .client("invalid HTTP method \"\(request.method)\"")
        }
        for header in request.headers {
            guard !header.name.isEmpty,
                header.name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }),
                isClean(header.value)
            else {
                throw .client("invalid request header \"\(header.name)\": bad name, or CR, LF or NUL in the value")
            }
        }
    }

    /// libcurl reads 0 as "no timeout", so anything shorter than a millisecond becomes one millisecond.
    static func milliseconds(_ duration: Duration) -> Int {
        max(1, duration.milliseconds())
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var bytes = bytes
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        return bytes
    }
}
