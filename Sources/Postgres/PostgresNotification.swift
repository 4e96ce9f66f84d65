/// A NOTIFY received on a channel this connection LISTENs to.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel name.
    public let channel: String
    /// The payload, empty when none was sent.
    public let payload: String
    /// The process id of the notifying backend.
    public let pid: Int32

    public init(channel: String, payload: String, pid: Int32) {
        self.channel = channel
        self.payload = payload
        self.pid = pid
    }
}
