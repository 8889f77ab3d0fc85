import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The least a SwiftNIO server does for the connection ramp (issue 13): NIO's own HTTP pipeline
/// and WebSocket upgrader, the way NIO's examples set them up, on as many loops as the gateway
/// (one per core), and one handler that answers the ramp's exchange with frames encoded once:
/// the Engine.IO open packet, the `/prices` CONNECT reply and the `subscribe` ack. No sessions,
/// heartbeats, timers, auth or validation. What it costs per connection is what the stack the
/// gateway is built on costs; the gateway's figures are measured against it in the same run
/// (Benchmarks/run-ceiling.sh), beside the C ceiling server.
///
/// Run: nio-floor-server PORT
@main
enum NIOFloorServer {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 2, let port = Int(arguments[1]) else {
            print("usage: nio-floor-server PORT")
            return
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.pipeline.addHandler(RampAnswerer()) }
        )
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
            }
            .bind(host: "127.0.0.1", port: port)
            .wait()
        try server.closeFuture.wait()
    }
}

/// Answers each text frame of the ramp with its pre-encoded reply.
final class RampAnswerer: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private static let open = #"0{"sid":"floor0000000000000000","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    private static let joined = #"40/prices,{"sid":"floor0000000000000001"}"#

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(Self.open, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text else {
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        let text = String(buffer: frame.unmaskedData)
        if text.hasPrefix("40/prices,") {
            send(Self.joined, context: context)
        } else if text.hasPrefix("42/prices,"), let bracket = text.firstIndex(of: "[") {
            let id = text[text.index(text.startIndex, offsetBy: 10)..<bracket]
            send("43/prices,\(id)[{\"ok\":true}]", context: context)
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: text))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}
