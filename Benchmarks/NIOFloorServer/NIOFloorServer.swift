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
/// With `--raw`, not even NIO's HTTP handlers: one handler per connection answers the C ramp
/// client's fixed request with pre-encoded bytes (it parses no HTTP and computes no accept key,
/// so it serves that client only). That is NIO's channels and event loops alone.
///
/// Run: nio-floor-server PORT [--raw]
@main
enum NIOFloorServer {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard (2...3).contains(arguments.count), let port = Int(arguments[1]) else {
            print("usage: nio-floor-server PORT [--raw]")
            return
        }
        let raw = arguments.count == 3 && arguments[2] == "--raw"
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
                if raw { return channel.pipeline.addHandler(RawRampAnswerer()) }
                return channel.pipeline.configureHTTPServerPipeline(
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

/// `--raw`: the whole exchange on bytes. Waits for the end of the request head, answers 101 and
/// the open packet in one write, then answers each (unmasked-key, short) text frame of the ramp.
final class RawRampAnswerer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The accept value for the ramp client's fixed key, `dGhlIHNhbXBsZSBub25jZQ==` (RFC 6455's example).
    private static let switching = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".utf8)
    private static let open = frame(#"0{"sid":"floor0000000000000000","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#)
    private static let joined = frame(#"40/prices,{"sid":"floor0000000000000001"}"#)
    private static let acked = frame(#"43/prices,1[{"ok":true}]"#)

    private var received: ByteBuffer?
    private var upgraded = false

    private static func frame(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [0x81, UInt8(bytes.count)] + bytes  // every reply here is under 126 bytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
        if !upgraded {
            guard let end = received!.readableBytesView.firstRange(of: [13, 10, 13, 10]) else { return }
            received!.moveReaderIndex(to: end.upperBound)
            upgraded = true
            write(Self.switching + Self.open, context: context)
        }
        // Client frames: 2 header bytes, a 4-byte mask key (the ramp client's is zero), payload.
        while let buffer = received, buffer.readableBytes >= 6,
              let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) {
            let length = Int(second & 0x7F)
            guard length < 126, buffer.readableBytes >= 6 + length,
                  let text = buffer.getString(at: buffer.readerIndex + 6, length: length) else { return }
            received!.moveReaderIndex(forwardBy: 6 + length)
            if text.hasPrefix("40/prices,") { write(Self.joined, context: context) }
            if text.hasPrefix("42/prices,1[") { write(Self.acked, context: context) }
        }
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }
}
