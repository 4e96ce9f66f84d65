import Queue

/// Where a connection handler's enqueue goes: its event loop's Redis connection, or an in-memory fake in the pipeline
/// tests (which then answer each enqueue when they choose).
protocol EnqueueSender: AnyObject {
    /// Writes the requester's command; its reply comes to `redisReplied`. Throws, without calling back, when refused.
    func send(_ caller: QueueCaller) throws(QueueSendRefusal)
}

extension QueueLink: EnqueueSender {}
