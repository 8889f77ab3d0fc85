import GatewayCore
import GatewayTLS
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Builds the listener that serves Engine.IO / Socket.IO on `path` (both transports) next to
/// whatever other routes `router` holds, over TLS when `tls` is given.
public enum GatewayHTTPServer {
    public static func makeListener(
        mounts: [EngineMount],
        router: Router<GatewayRequestContext>,
        inlineRoutes: [InlineRoute] = [],
        limits: HTTPLimits? = nil,
        host: String,
        port: Int,
        eventLoopGroup: any EventLoopGroup,
        listenBacklog: Int = 4096,
        tls: ServerTLS? = nil,
        logger: Logger,
        warmUp: Bool = true,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> GatewayListener {
        for mount in mounts {
            PollingRoutes(engine: mount.engine, cors: CORSPolicy(allowedOrigins: mount.engine.configuration.allowedOrigins), parser: mount.parser)
                .register(on: router, path: mount.path)
        }
        let childChannel = SocketIOChildChannel(
            responder: responder(for: router, logger: logger), mounts: mounts, inlineRoutes: inlineRoutes, limits: limits, tls: tls, logger: logger
        )
        // A burst of connects (a reconnect storm, a deploy) waits in the kernel's accept queue
        // instead of being dropped into SYN retransmits (1 s, 3 s, …).
        var listener = GatewayListener(
            childChannel: childChannel, host: host, port: port, backlog: listenBacklog, eventLoopGroup: eventLoopGroup,
            logger: logger, onServerRunning: onServerRunning
        )
        listener.warmUp = warmUp
        return listener
    }
}

/// An Engine.IO server served under a path prefix (`/socket.io/`).
/// `parser`: how sessions opened under this path write Socket.IO packets (the msgpack path
/// shares the engine, its sessions, rooms and bounds with the JSON one).
public struct EngineMount: Sendable {
    public let path: String
    public let engine: EngineServer
    public let parser: SocketIOParser

    public init(path: String, engine: EngineServer, parser: SocketIOParser = .json) {
        self.path = path.hasSuffix("/") ? path : path + "/"
        self.engine = engine
        self.parser = parser
    }

    /// True for `/socket.io/…` and for `/socket.io` itself.
    func matches(_ target: String) -> Bool {
        target.hasPrefix(path) || target + "/" == path
    }
}
