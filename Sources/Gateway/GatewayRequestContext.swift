import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the channel, whose peer address is read only when needed.
struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// The TCP peer: the client itself, or the reverse proxy in front of us.
    var remoteAddress: SocketAddress? { channel?.remoteAddress }

    /// The peer's IP address as text, if it has one.
    var peerAddress: String? { remoteAddress?.ipAddress }
}
