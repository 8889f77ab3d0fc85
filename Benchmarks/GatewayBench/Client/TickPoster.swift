import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// `--ticks post`: price ticks POSTed to the gateway's `/api/v1/market` (SPEC §6) at a steady
/// rate, batched every 10 ms, each stamped with its send time (`ts`, ms since the epoch) so the
/// subscribers time producer → socket. One keep-alive connection, one request at a time.
final class TickPoster: Sendable {
    private let channel: any Channel
    private let replies: HTTPReplyReader
    private let target: ServerTarget
    private let token: String
    private let symbols: [String]

    private init(channel: any Channel, replies: HTTPReplyReader, target: ServerTarget, token: String, symbols: [String]) {
        self.channel = channel
        self.replies = replies
        self.target = target
        self.token = token
        self.symbols = symbols
    }

    static func connect(to target: ServerTarget, tls: NIOSSLContext?, on loop: any EventLoop, token: String, symbols: [String]) async throws -> TickPoster {
        let replies = HTTPReplyReader()
        do {
            let channel = try await ClientLauncher.connect(to: target, tls: tls, on: loop, timeout: .seconds(10)) { channel in
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(replies)
            }.get()
            return TickPoster(channel: channel, replies: replies, target: target, token: token, symbols: symbols)
        } catch {
            throw RunFailure("cannot connect to \(target.display) to POST ticks: \(ClientFailure(error))")
        }
    }

    /// Posts `rate` ticks a second for `seconds`, spread round-robin over the symbols.
    func run(rate: Int, seconds: Double) async throws -> Offered {
        let total = Int(Double(rate) * seconds)
        let start = NIODeadline.now()
        var sent = 0
        var outcome = Offered()
        while sent < total {
            let due = min(total, Int(Double(rate) * Double((NIODeadline.now() - start).nanoseconds) / 1e9) + 1)
            if due > sent {
                let count = min(due - sent, 1000)  // the route's largest batch
                let reply = try await post(batch(from: sent, count: count))
                switch reply.status {
                case 200..<300: outcome.accepted += count
                case 429: outcome.refused += count
                default:
                    throw RunFailure(
                        "POST \(target.display)/api/v1/market answered \(reply.status): \(reply.body.prefix(300))"
                            + (reply.status == 401 || reply.status == 403 ? " (--token must be a service or admin token)" : "")
                    )
                }
                sent += count
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return outcome
    }

    func close() {
        channel.close(promise: nil)
    }

    private func batch(from first: Int, count: Int) -> String {
        let ts = UInt64(Date().timeIntervalSince1970 * 1000)
        let ticks = (first..<(first + count)).map { index in
            let price = String(format: "%.2f", 100 + Double(index % 1000) / 100)
            return #"{"type":"tick","symbol":"\#(symbols[index % symbols.count])","price":"\#(price)","bid":"\#(price)","ask":"\#(price)","volume":"1","ts":\#(ts)}"#
        }
        return "[" + ticks.joined(separator: ",") + "]"
    }

    private func post(_ body: String) async throws -> HTTPReplyReader.Reply {
        let promise = channel.eventLoop.makePromise(of: HTTPReplyReader.Reply.self)
        let headers: HTTPHeaders = [
            "Host": target.hostHeader, "Content-Type": "application/json", "Authorization": "Bearer \(token)",
            "Content-Length": String(body.utf8.count),
        ]
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/v1/market", headers: headers)
        channel.eventLoop.execute { [replies, channel] in
            replies.expect(promise)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// The status and body of each response, handed to the request waiting for it.
final class HTTPReplyReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    struct Reply: Sendable {
        var status: Int
        var body: String
    }

    private var waiting: EventLoopPromise<Reply>?
    private var reply = Reply(status: 0, body: "")

    /// Call on the channel's loop, before writing the request.
    func expect(_ promise: EventLoopPromise<Reply>) {
        waiting = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): reply = Reply(status: Int(head.status.code), body: "")
        case .body(let buffer): reply.body += String(buffer: buffer)
        case .end:
            waiting?.succeed(reply)
            waiting = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.fail(RunFailure("the server closed the HTTP connection"))
        waiting = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.fail(error)
        waiting = nil
        context.close(promise: nil)
    }
}
