import GatewayCore
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOWebSocket
import WireCompression

/// The engine's side of a WebSocket upgrade, in two steps so that the 101 response can be
/// written in between: `resolve` finds the session (a new WebSocket-only one, or the polling
/// session a probe takes over), `install` puts the Engine.IO handler into the pipeline.
struct EngineUpgrade {
    enum Resolved {
        case session(EngineSession, isNew: Bool)
        /// Unknown sid, already upgraded or probing, or the engine is not accepting: accepted,
        /// then closed, as the reference server does.
        case refused
    }

    let resolved: Resolved
    let writer: ChannelFrameWriter
    let engine: EngineServer

    /// permessage-deflate is on and the client offered it in a form the gateway accepts
    /// (``PerMessageDeflate``); the same answer for the 101's headers and for the pipeline.
    static func negotiatesDeflate(_ head: HTTPRequestHead, engine: EngineServer) -> Bool {
        engine.loops.compression.settings.webSocket && PerMessageDeflate.accepts(offers: head.headers[canonicalForm: "sec-websocket-extensions"].map(String.init))
    }

    /// The headers the 101 adds: the extension agreed, if any.
    static func responseHeaders(_ head: HTTPRequestHead, engine: EngineServer) -> HTTPHeaders {
        negotiatesDeflate(head, engine: engine) ? ["Sec-WebSocket-Extensions": PerMessageDeflate.response] : [:]
    }

    /// On the channel's loop.
    /// `parser`: that of the path, for a new session (a probe keeps its polling session's).
    static func resolve(
        channel: any Channel, head: HTTPRequestHead, intent: EngineRequest.Intent, engine: EngineServer, parser: SocketIOParser = .json
    ) -> EventLoopFuture<EngineUpgrade> {
        let deflates = negotiatesDeflate(head, engine: engine)
        let writer = ChannelFrameWriter(channel: channel, deflatesMessages: deflates)
        if deflates {
            // Broadcasts are compressed in advance while any such socket is open.
            let compression = engine.loops.compression
            let gauge = engine.metrics.deflateConnections
            compression.deflateSocketOpened(parser: parser)
            gauge.increment(by: 1)
            channel.closeFuture.whenComplete { _ in
                compression.deflateSocketClosed(parser: parser)
                gauge.decrement(by: 1)
            }
        }
        switch intent {
        case .webSocketUpgrade(let sid):
            return engine.attachProbe(sid: sid, writer: writer, from: channel.eventLoop).hop(to: channel.eventLoop).map { session in
                EngineUpgrade(resolved: session.map { Resolved.session($0, isNew: false) } ?? .refused, writer: writer, engine: engine)
            }
        default:
            let handshake = HandshakeInfo(
                authorization: head.headers.first(name: "authorization"), remoteAddress: clientAddress(channel, head, engine), parser: parser
            )
            let session = engine.makeWebSocketSession(writer: writer, on: channel.eventLoop, handshake: handshake)
            return channel.eventLoop.makeSucceededFuture(
                EngineUpgrade(resolved: session.map { Resolved.session($0, isNew: true) } ?? .refused, writer: writer, engine: engine)
            )
        }
    }

    /// The client's address as per-address limits see it (``HandshakeInfo/clientAddress(peer:forwardedFor:trusted:)``).
    static func clientAddress(_ channel: any Channel, _ head: HTTPRequestHead, _ engine: EngineServer) -> String? {
        HandshakeInfo.clientAddress(
            peer: channel.remoteAddress?.ipAddress, forwardedFor: head.headers.first(name: "x-forwarded-for"), trusted: engine.configuration.trustedProxies
        )
    }

    /// Adds the message assembler (joins fragmented client messages and inflates compressed
    /// ones, up to maxPayload) and the
    /// Engine.IO handler at `position`, and starts a new session (`startNow`; else call
    /// ``start()`` once nothing but WebSocket handlers is left to write through). A refused
    /// upgrade closes.
    func install(on channel: any Channel, position: ChannelPipeline.SynchronousOperations.Position, startNow: Bool = true) throws {
        guard case .session(let session, let isNew) = resolved else {
            channel.close(promise: nil)
            return
        }
        let maxPayload = engine.configuration.maxPayload
        let operations = channel.pipeline.syncOperations
        do {
            // On the channel's loop: that thread's inflater, for as long as the channel lives.
            let assembler = WebSocketMessageAssembler(maxPayload: maxPayload, inflater: writer.deflatesMessages ? try ThreadInflaters.current() : nil)
            try operations.addHandler(assembler, position: position)
            try operations.addHandler(EngineWebSocketHandler(session: session, writer: writer), position: .after(assembler))
        } catch {
            abandon()
            throw error
        }
        if startNow { start() }
    }

    /// The pipeline could not be set up: a new session made for it is closed (its slot goes
    /// back); a polling session that was probing keeps polling.
    func abandon() {
        if case .session(let session, isNew: true) = resolved { session.close(reason: .transportError, transportGone: true) }
    }

    /// A new session's open packet and heartbeat.
    func start() {
        if case .session(let session, isNew: true) = resolved { engine.startWebSocketSession(session, writer: writer) }
    }
}
