import Foundation
import GatewayCore
import GatewayMetrics
import GatewayServer
import Hummingbird
import NIOCore

/// `/metrics` (Prometheus text format) and `/health` for load balancers.
enum OperationalRoutes {
    static func register(on router: Router<GatewayRequestContext>, engine: EngineServer, metrics: GatewayMetrics, startedAt: Date) {
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
        router.get("health") { _, _ in
            let uptime = Int(Date().timeIntervalSince(startedAt))
            let status = engine.isAccepting ? "ok" : "degraded"
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"\(status)\",\"uptime\":\(uptime)}"))
            )
        }
    }
}
