import Queue

/// Where a connection handler's enqueue goes: its event loop's queue router, or an in-memory fake in the pipeline tests
/// (which then answer each enqueue when they choose).
protocol EnqueueSender: AnyObject {
    /// Writes the requester's command for `partition`; its reply comes to `queueReplied`. Returns where a follow-up
    /// that must share the connection (the replica wait) goes. Throws, without calling back, when refused.
    func submit(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> any EnqueueSender
}

extension QueueRouter: EnqueueSender {
    func submit(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> any EnqueueSender {
        let link: QueueLink = try send(caller, partition: partition)
        return link
    }
}

extension QueueLink: EnqueueSender {
    func submit(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> any EnqueueSender {
        try send(caller)
        return self
    }
}
