import NIOCore

/// `--ticks echo` and `--ticks raw`: one client of this tool sends ~150-byte events at a fixed
/// rate in 1 ms batches, each stamped with its send time (monotonic, same machine). The echo
/// app rebroadcasts `["broadcast", room, "tick", {...}]` to the room; a plain WebSocket server
/// rebroadcasts every `B`-prefixed text (Benchmarks/StockWebSocketServer).
struct BroadcastSender: Sendable {
    enum Style: Sendable {
        /// `scope`: the namespace as packets write it (`/bench,`).
        case echoApp(scope: String, room: String)
        case raw(scope: String)
    }

    let channel: any Channel
    let style: Style
    private static let pad = String(repeating: "x", count: 96)

    /// Sends `rate` events a second for `seconds`; returns how many it sent.
    func run(rate: Int, seconds: Double) async throws -> Int {
        let total = Int(Double(rate) * seconds)
        let start = NIODeadline.now()
        var sent = 0
        while sent < total {
            let due = min(total, Int(Double(rate) * Double((NIODeadline.now() - start).nanoseconds) / 1e9) + 1)
            if due > sent {
                let batch = due - sent
                try await channel.eventLoop.submit { [channel, style] in
                    for _ in 0..<batch {
                        let text = Self.event(style: style, sent: NIODeadline.now().uptimeNanoseconds)
                        channel.write(WebSocketFrames.text(text, allocator: channel.allocator), promise: nil)
                    }
                    channel.flush()
                }.get()
                sent = due
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        return total
    }

    private static func event(style: Style, sent: UInt64) -> String {
        switch style {
        case .echoApp(let scope, let room):
            return #"42\#(scope)["broadcast","\#(room)","tick",{"t":\#(sent),"pad":"\#(pad)"}]"#
        case .raw(let scope):
            return #"B42\#(scope)["tick",{"t":\#(sent),"pad":"\#(pad)"}]"#
        }
    }
}
