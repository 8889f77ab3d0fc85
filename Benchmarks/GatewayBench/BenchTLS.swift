import GatewayTLS
import NIOCore
import NIOSSL

/// `--ca-file`: every benchmark connection speaks TLS to the server, trusting that CA, so the
/// same load can be measured over `wss://` and plain `ws://` in one run.
enum BenchTLS {
    nonisolated(unsafe) static var context: NIOSSLContext?

    static func configure(caFile: String?) throws {
        guard let caFile else { return }
        context = try ClientTLS(caFile: caFile, keys: ("--ca-file", "", "")).makeContext()
    }

    /// Adds the TLS handler first when TLS is on (set once, before any connection).
    static func install(on channel: any Channel) throws {
        guard let context else { return }
        try channel.pipeline.syncOperations.addHandler(ClientTLS.handler(context: context, host: "127.0.0.1"))
    }
}
