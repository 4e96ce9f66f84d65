import Queue

/// Where a connection handler's enqueue goes: its event loop's queue router, or an in-memory fake in the pipeline tests
/// (which then answer each enqueue when they choose).
protocol EnqueueSender: AnyObject {
    /// Writes the requester's command for `partition`; its reply comes to `queueReplied`. Returns where the replica wait
    /// that must follow on the same connection goes. Throws, without calling back, when refused.
    func submit(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> any ReplicaWaitSender
}

/// The connection an enqueue went out on, for its replica wait (`QueueLink.awaitReplicas`).
protocol ReplicaWaitSender: AnyObject {
    func awaitReplicas(_ wait: ReplicaWait, listener: any ReplicaWaitListener)
}

extension QueueRouter: EnqueueSender {
    func submit(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> any ReplicaWaitSender {
        let link: QueueLink = try send(caller, partition: partition)
        return link
    }
}

extension QueueLink: ReplicaWaitSender {}
