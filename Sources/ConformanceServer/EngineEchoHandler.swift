import GatewayCore
import NIOCore

/// The app the engine.io-protocol test suite expects: every message is echoed back.
final class EngineEchoHandler: EngineMessageHandler {
    func sessionOpened(_ session: EngineSession) {}

    func received(text: String, on session: EngineSession) {
        session.send(text: "4" + text)
    }

    func received(binary: ByteBuffer, on session: EngineSession) {
        session.send(EncodedFrame(binary: binary))
    }

    func sessionClosed(_ session: EngineSession, reason: DisconnectReason) {}
}
