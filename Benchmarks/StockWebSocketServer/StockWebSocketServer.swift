import ArgumentParser
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Synchronization

/// The baseline for the fan-out design gate: Hummingbird's stock WebSocket path. A text frame
/// `B<text>` from any client is broadcast as `<text>` to every connection, each through its
/// own `WebSocketOutboundWriter` (the per-connection actor and async writer), the way an
/// application built on hummingbird-websocket would write it.
@main
struct StockWebSocketServer: AsyncParsableCommand {
    @Option var port: Int = 3100

    func run() async throws {
        let registry = Registry()
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade { _, _, _ in
                .upgrade([:]) { inbound, outbound, _ in
                    let id = registry.add(outbound)
                    defer { registry.remove(id) }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message, text.hasPrefix("B") else { continue }
                        let payload = String(text.dropFirst())
                        for writer in registry.all() {
                            try? await writer.write(.text(payload))
                        }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port))
        )
        try await app.runService()
    }
}

final class Registry: Sendable {
    private let writers = Mutex<[Int: WebSocketOutboundWriter]>([:])
    private let next = Atomic<Int>(0)

    func add(_ writer: WebSocketOutboundWriter) -> Int {
        let id = next.add(1, ordering: .relaxed).newValue
        writers.withLock { $0[id] = writer }
        return id
    }

    func remove(_ id: Int) { _ = writers.withLock { $0.removeValue(forKey: id) } }

    func all() -> [WebSocketOutboundWriter] { writers.withLock { Array($0.values) } }
}
