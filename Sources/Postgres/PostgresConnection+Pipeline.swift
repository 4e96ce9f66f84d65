import CLibPQ

extension PostgresConnection {
    /// Sends all statements in one libpq pipeline and one sync, then reads every result: one round trip for the batch.
    /// Statements between the syncs form one implicit transaction (unless the caller opened one): if any fails, the
    /// rest are skipped, the batch is rolled back, and the first error is thrown.
    public func pipeline(_ statements: [(sql: String, params: [PostgresValue])]) throws(PostgresError) -> [PostgresResult] {
        if statements.isEmpty { return [] }
        let connection = try openHandle()
        // Encode everything before sending anything: a bad parameter must not leave half a batch to be committed.
        for statement in statements {
            for param in statement.params { _ = try param.encoded() }
        }
        guard PQenterPipelineMode(connection) == 1 else { throw connectionFailure() }
        var firstError: PostgresError?
        var results: [PostgresResult] = []
        results.reserveCapacity(statements.count)
        // libpq keeps reading server output while it waits to send, so a large batch in blocking mode cannot deadlock.
        for statement in statements {
            let accepted = try Self.withEncodedParameters(statement.params) { count, types, values in
                PQsendQueryParams(connection, statement.sql, count, types, values, nil, nil, 0)
            }
            guard accepted == 1 else {
                // Without a sync the server rolls the unfinished batch back; the connection is not reusable mid-pipeline.
                let failure = connectionFailure()
                close()
                throw failure
            }
        }
        if PQpipelineSync(connection) != 1 {
            // Nothing more can be read reliably; the connection is unusable.
            let failure = connectionFailure()
            close()
            throw failure
        }
        // Each statement yields its result then a NULL; the sync yields PGRES_PIPELINE_SYNC.
        var synced = false
        var consecutiveNulls = 0
        while !synced {
            guard let result = PQgetResult(connection) else {
                consecutiveNulls += 1
                if consecutiveNulls > 1 || !isConnected {
                    // Two NULLs in a row mean libpq has nothing queued: the connection broke before the sync arrived.
                    let failure = connectionFailure()
                    close()
                    throw failure
                }
                continue
            }
            consecutiveNulls = 0
            if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                PQclear(result)
                synced = true
                continue
            }
            do {
                results.append(try consume(result))
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if PQexitPipelineMode(connection) != 1 {
            let failure = connectionFailure()
            close()
            throw failure
        }
        if let firstError { throw firstError }
        guard results.count == statements.count else {
            throw PostgresError(code: .protocol, message: "pipeline returned \(results.count) results for \(statements.count) statements")
        }
        return results
    }
}
