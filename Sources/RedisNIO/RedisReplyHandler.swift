import NIOCore

/// The only handler on a `RedisLoopConnection`'s channel: it moves the bytes read to the connection and tells it
/// when the socket is gone. Decisions stay in the connection.
final class RedisReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: RedisLoopConnection
    private let epoch: Int

    init(connection: RedisLoopConnection, epoch: Int) {
        self.connection = connection
        self.epoch = epoch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.received(Self.unwrapInboundIn(data), epoch: epoch)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed(epoch: epoch, error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.channelClosed(epoch: epoch, error: error)
        context.close(promise: nil)
    }
}
