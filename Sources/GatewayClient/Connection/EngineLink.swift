import GatewayJSON
import NIOCore
import SocketIOCodec

/// One open Engine.IO WebSocket. Sends are queued in order and written by the link's writer
/// task, so the client never waits on the socket to send.
final class EngineLink: Sendable {
    let number: Int
    private let sends: AsyncStream<String>.Continuation
    let channel: any Channel

    init(number: Int, sends: AsyncStream<String>.Continuation, channel: any Channel) {
        self.number = number
        self.sends = sends
        self.channel = channel
    }

    /// A Socket.IO packet inside an Engine.IO message.
    func send(_ packet: SocketPacket) {
        sends.yield("4" + packet.encode().text)
    }

    /// An Engine.IO packet as text (`3` for a pong).
    func sendEngine(_ text: String) {
        sends.yield(text)
    }

    func close() {
        sends.finish()
        channel.close(promise: nil)
    }
}

/// The Engine.IO open packet's timing, which tells how soon a silent connection is dead.
struct EngineOpen: Sendable {
    var pingInterval: Duration
    var pingTimeout: Duration

    init(json: String) throws(GatewayClientError) {
        guard let value = try? JSONParser.parse(json), let interval = value["pingInterval"]?.intValue,
              let timeout = value["pingTimeout"]?.intValue
        else { throw .protocolViolation("an Engine.IO open packet without pingInterval/pingTimeout") }
        pingInterval = .milliseconds(interval)
        pingTimeout = .milliseconds(timeout)
    }
}
