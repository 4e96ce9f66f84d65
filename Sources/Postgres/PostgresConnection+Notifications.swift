import CLibPQ
import Durations
import Foundation

extension PostgresConnection {
    /// Subscribes this connection to NOTIFY on `channel` (the name is quoted, so any text is a valid channel).
    public func listen(_ channel: String) throws(PostgresError) {
        try execute("LISTEN \(Self.quotedIdentifier(channel))")
    }

    /// Stops receiving NOTIFY on `channel`.
    public func unlisten(_ channel: String) throws(PostgresError) {
        try execute("UNLISTEN \(Self.quotedIdentifier(channel))")
    }

    /// Returns the notifications that arrive within `timeout` (at least one), or [] when none did.
    /// Blocks in poll() on the connection's socket: no busy loop.
    public func waitForNotifications(timeout: Duration) throws(PostgresError) -> [PostgresNotification] {
        let connection = try openHandle()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        // Notifications may already sit in libpq's buffer, read along with an earlier query's results.
        var notifications = try readNotifications(connection)
        while notifications.isEmpty {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { break }
            let socket = PQsocket(connection)
            guard socket >= 0 else { throw connectionFailure() }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Self.pollMilliseconds(remaining))
            if ready < 0 {
                if errno == EINTR { continue }
                throw PostgresError(code: .connection, message: "poll on the Postgres socket failed: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { break }
            // Readable, hung up or failed: PQconsumeInput reports a dead connection.
            notifications = try readNotifications(connection)
        }
        return notifications
    }

    private func readNotifications(_ connection: OpaquePointer) throws(PostgresError) -> [PostgresNotification] {
        guard PQconsumeInput(connection) == 1 else { throw connectionFailure() }
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(connection) {
            let channel = String(cString: notify.pointee.relname)
            let payload = notify.pointee.extra.map { String(cString: $0) } ?? ""
            notifications.append(PostgresNotification(channel: channel, payload: payload, pid: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        if notifications.isEmpty, !isConnected { throw connectionFailure() }
        return notifications
    }

    /// Rounds up so that a short remaining time never becomes a zero-timeout spin.
    private static func pollMilliseconds(_ duration: Duration) -> Int32 {
        Int32(clamping: max(1, duration.milliseconds(rounded: .up)))
    }

    static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
