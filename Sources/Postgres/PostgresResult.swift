/// The outcome of one statement: its columns, its rows, and how many rows it changed.
public struct PostgresResult: Sendable {
    /// Column names in order.
    public let columns: [String]
    /// Rows in the order the server sent them.
    public let rows: [PostgresRow]
    /// Rows inserted, updated, deleted, selected (the command tag's count); 0 when the command reports none.
    public let affectedRows: Int

    init(columns: [String], rows: [PostgresRow], affectedRows: Int) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }
}
