import CLibPQ
import Foundation

/// One libpq connection, used synchronously from one thread at a time (not Sendable: `PostgresClient` owns one per thread).
public final class PostgresConnection {
    /// The PGconn; nil once closed.
    var handle: OpaquePointer?
    /// Names of the statements prepared on this connection (`queryPrepared`), by SQL text.
    private var prepared: [String: String] = [:]

    /// Opens a connection from a URI such as `postgresql://docket@127.0.0.1:5432/docket` (or a key=value string).
    public init(url: String) throws(PostgresError) {
        // Defaults come first so that the URL, expanded from dbname, can override them.
        let keywords = ["connect_timeout", "client_encoding", "fallback_application_name", "dbname"]
        let values = ["10", "UTF8", "docket", url]
        let connection = Self.withCStringArray(keywords) { keywordPointers in
            Self.withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(code: .connection, message: "libpq could not allocate a connection")
        }
        // Notices (e.g. "relation already exists, skipping") would otherwise be printed on stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.trimmed(String(cString: PQerrorMessage(connection)))
            // A failed connect still holds memory and possibly a socket.
            PQfinish(connection)
            throw PostgresError(code: .connection, message: "could not connect to \(PostgresError.redactingSecrets(url)): \(reason)")
        }
        handle = connection
        // Row decoding relies on the ISO date output.
        try execute("SET DateStyle TO ISO")
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// True while the connection is open and libpq considers it healthy.
    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server process id serving this connection (for pg_terminate_backend, NOTIFY senders); 0 when closed.
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// Closes the connection; later calls throw a connection error.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared = [:]
    }

    /// Runs one parameterised statement (`$1`, `$2`, ...) with the extended protocol.
    @discardableResult
    public func query(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) -> PostgresResult {
        let connection = try openHandle()
        let result = try Self.withEncodedParameters(params) { count, types, values in
            PQexecParams(connection, sql, count, types, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs `sql` like `query`, as a named prepared statement of this connection: prepared (parsed, analysed) on first use
    /// with the parameter types of that call, then only executed. For statements a connection runs again and again.
    @discardableResult
    public func queryPrepared(_ sql: String, _ params: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        let connection = try openHandle()
        let name: String
        if let existing = prepared[sql] {
            name = existing
        } else {
            name = "docket_\(prepared.count + 1)"
            let types = params.map { Oid($0.typeOID) }
            try consume(PQprepare(connection, name, sql, Int32(types.count), types))
            prepared[sql] = name
        }
        let result = try Self.withEncodedParameters(params) { count, _, values in
            PQexecPrepared(connection, name, count, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs one or more statements separated by semicolons with the simple protocol (no parameters), e.g. a migration.
    public func execute(_ sql: String) throws(PostgresError) {
        let connection = try openHandle()
        try consume(PQexec(connection, sql))
    }

    /// Runs `body` inside BEGIN ... COMMIT; on a throw it rolls back and rethrows, so nothing of the body remains.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            // The original error matters more than a failed rollback; a broken connection drops the transaction anyway.
            try? execute("ROLLBACK")
            throw error
        }
        // A failed COMMIT has already ended the transaction on the server.
        try execute("COMMIT")
        return value
    }

    // MARK: - libpq plumbing shared by the extensions

    func openHandle() throws(PostgresError) -> OpaquePointer {
        guard let handle else {
            throw PostgresError(code: .connection, message: "the connection is closed")
        }
        return handle
    }

    /// Turns a PGresult into a value or an error, and frees it.
    @discardableResult
    func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresResult {
        guard let result else {
            throw connectionFailure()
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return Self.makeResult(result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            throw error(from: result)
        case PGRES_PIPELINE_ABORTED:
            throw PostgresError(code: .server, message: "statement skipped because an earlier statement in the pipeline failed")
        default:
            let status = String(cString: PQresStatus(PQresultStatus(result)))
            throw PostgresError(code: .protocol, message: "unexpected result status \(status)")
        }
    }

    /// The error a failed PGresult describes; a broken connection makes it a connection error whatever the SQLSTATE.
    func error(from result: OpaquePointer) -> PostgresError {
        let sqlState = Self.field(result, "C")
        let message = Self.field(result, "M") ?? Self.trimmed(String(cString: PQresultErrorMessage(result)))
        let detail = Self.field(result, "D")
        let table = Self.field(result, "t")
        let code: PostgresError.Code
        if !isConnected {
            code = .connection
        } else if sqlState == nil {
            code = .protocol
        } else {
            code = .server
        }
        return PostgresError(
            code: code, sqlState: sqlState, message: message.isEmpty ? connectionMessage() : message, detail: detail, table: table)
    }

    /// The error for a call that produced no result at all (out of memory, or the connection failed).
    func connectionFailure() -> PostgresError {
        PostgresError(code: isConnected ? .protocol : .connection, message: connectionMessage())
    }

    func connectionMessage() -> String {
        guard let handle else { return "the connection is closed" }
        let message = Self.trimmed(String(cString: PQerrorMessage(handle)))
        return message.isEmpty ? "unknown libpq error" : message
    }

    private static func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        guard let pointer = PQresultErrorField(result, Int32(UInt8(ascii: code))) else { return nil }
        return String(cString: pointer)
    }

    static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }

    static func makeResult(_ result: OpaquePointer) -> PostgresResult {
        let fieldCount = PQnfields(result)
        let rowCount = PQntuples(result)
        var columns: [String] = []
        columns.reserveCapacity(Int(fieldCount))
        var columnIndex: [String: Int] = [:]
        for field in 0..<fieldCount {
            let name = String(cString: PQfname(result, field))
            columns.append(name)
            // With duplicate names the first column wins, as in most drivers.
            if columnIndex[name] == nil { columnIndex[name] = Int(field) }
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(fieldCount))
            for field in 0..<fieldCount {
                // PQgetvalue returns "" for NULL: only PQgetisnull tells them apart.
                if PQgetisnull(result, row, field) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, field)))
                }
            }
            rows.append(PostgresRow(columnIndex: columnIndex, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected)
    }

    /// Encodes parameters as NUL-terminated text with their type OIDs and hands libpq the pointers for the call's duration.
    static func withEncodedParameters<R>(
        _ params: [PostgresValue],
        _ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) throws(PostgresError) -> R {
        var texts: [UnsafeMutablePointer<CChar>?] = []
        texts.reserveCapacity(params.count)
        defer { for text in texts { free(text) } }
        for param in params {
            texts.append(try param.encoded().map { strdup($0) })
        }
        let types = params.map { Oid($0.typeOID) }
        let values = texts.map { $0.map { UnsafePointer($0) } }
        return types.withUnsafeBufferPointer { typeBuffer in
            values.withUnsafeBufferPointer { valueBuffer in
                body(Int32(params.count), typeBuffer.baseAddress, valueBuffer.baseAddress)
            }
        }
    }

    private static func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        // libpq reads keyword/value arrays up to a NULL terminator.
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
        return pointers.withUnsafeBufferPointer { buffer in body(buffer.baseAddress) }
    }
}
