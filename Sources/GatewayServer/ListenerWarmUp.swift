import NIOCore
import NIOPosix

/// Requests through the listener's own connection set-up, on a throwaway loopback port,
/// before the real port accepts anyone.
///
/// Why: a Swift runtime bug (Swift 6.3.1 on Linux). Generic type metadata instantiated for the
/// first time on several threads at once can crash the process: a null pointer in
/// `swift_checkMetadataState`, reached from `swift_conformsToProtocol` while another thread holds
/// the metadata cache entry. The first connections of a fresh process, accepted on two event
/// loops at the same instant, instantiate NIO's typed upgrade pipeline (and Hummingbird's request
/// types) that way. With the warm-up switched off (`GATEWAY_TEST_WARM_UP=0`), 1 of 300 debug
/// starts with a crowd at the open port crashed exactly there (2026-12-07);
/// `Benchmarks/MetadataRaceRepro` reproduces it with NIO alone, no gateway code: about 1 process
/// in 200. Types are instantiated once per process, so connections made one at a time, before
/// anyone else is accepted, close the window: a plain request (router, `Request`) and a WebSocket
/// upgrade the engine refuses (the upgrader; refused because its query asks for Engine.IO 3, so
/// no session, log line or metric comes of it). The real port is bound first with accepting
/// paused, so clients wait in the kernel's queue, and the warm-up's connections cannot take that
/// port as their source port.
///
/// On a TLS listener the plain bytes fail the handshake: the pipeline set-up (the crash site)
/// still runs, the HTTP part does not.
enum ListenerWarmUp {
    static func requests(enginePath: String?) -> [String] {
        var requests = ["GET /health HTTP/1.1\r\nHost: warm-up\r\nConnection: close\r\n\r\n"]
        if let enginePath {
            requests.append(
                "GET \(enginePath)?EIO=3&transport=websocket HTTP/1.1\r\nHost: warm-up\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
        }
        return requests
    }

    /// Sends each request on its own connection to `server`, one after the other, each waiting
    /// for the server to close (at most `timeout`). Failures are ignored: serving does not
    /// depend on the warm-up.
    static func run(server: any Channel, group: any EventLoopGroup, requests: [String], timeout: TimeAmount = .seconds(2)) async {
        for request in requests { await send(request, to: server, group: group, timeout: timeout) }
    }

    private static func send(_ request: String, to server: any Channel, group: any EventLoopGroup, timeout: TimeAmount) async {
        guard let address = loopbackAddress(of: server) else { return }
        do {
            let client = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .connect(to: address)
                .get()
            let deadline = client.eventLoop.scheduleTask(in: timeout) { client.close(promise: nil) }
            try? await client.writeAndFlush(ByteBuffer(string: request)).get()
            try? await client.closeFuture.get()
            deadline.cancel()
        } catch {
            return
        }
    }

    /// The listener's address, with a wildcard host (0.0.0.0, ::) replaced by loopback.
    static func loopbackAddress(of server: any Channel) -> SocketAddress? {
        guard let local = server.localAddress, let port = local.port else { return nil }
        switch local.protocol {
        case .inet6: return try? SocketAddress(ipAddress: local.ipAddress == "::" ? "::1" : local.ipAddress ?? "::1", port: port)
        default: return try? SocketAddress(ipAddress: local.ipAddress == "0.0.0.0" ? "127.0.0.1" : local.ipAddress ?? "127.0.0.1", port: port)
        }
    }
}
