import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy in front of the gateway that a test can cut: `sever()` resets every
/// connection through it, as a network blip does, while the gateway keeps running.
final class TCPProxy: Sendable {
    private let server: any Channel
    private let connections = NIOLockedValueBox<[any Channel]>([])

    var port: Int { server.localAddress?.port ?? 0 }
    var url: String { "http://127.0.0.1:\(port)" }

    init(targetPort: Int) async throws {
        let connections = connections
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        connections.withLockedValue { $0.append(contentsOf: [inbound, outbound]) }
                        let (toTarget, toClient) = (Relay(peer: outbound), Relay(peer: inbound))
                        return outbound.pipeline.addHandler(toClient).flatMap {
                            inbound.pipeline.addHandler(toTarget)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Closes every proxied connection (both sides) at once.
    func sever() {
        let open = connections.withLockedValue { current in
            defer { current = [] }
            return current
        }
        for channel in open { channel.close(promise: nil) }
    }

    func shutdown() {
        sever()
        server.close(promise: nil)
    }
}

/// Copies what one side reads to the other (test traffic is small: no backpressure).
private final class Relay: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    private let peer: any Channel

    init(peer: any Channel) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        peer.writeAndFlush(bytes, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
