import GatewayJSON
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle

/// Runs until graceful shutdown (SIGTERM/SIGINT), then: stop accepting, tell every socket
/// `server.shutdown`, give queued data up to `drainSeconds` to leave, close every session.
/// Listed after the HTTP application so it shuts down first, while the sockets still exist.
struct ShutdownService: Service {
    let engine: EngineServer
    let broadcaster: Broadcaster
    let namespaces: [NamespacePath]
    let drainSeconds: Int
    let reconnectAfterMs: Int
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("Shutting down", metadata: ["sessions": "\(engine.sessionCount)"])
        engine.stopAccepting()
        let notice = JSONSerializer.serialize(
            .object(["message": "The server is restarting; please reconnect.", "reconnectAfterMs": .int(reconnectAfterMs)])
        )
        for namespace in namespaces {
            broadcaster.emit(to: .everyone(in: namespace), event: "server.shutdown", payloadJSON: notice)
        }
        let deadline = ContinuousClock.now + .seconds(drainSeconds)
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            if await engine.pendingOutboundBytes() == 0 { break }
        }
        engine.closeAll(reason: .serverShuttingDown)
        try? await Task.sleep(for: .milliseconds(100))
    }
}
