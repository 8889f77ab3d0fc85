import Foundation
import GatewayTLS
import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads the listener's certificate and key on SIGHUP and when either file changes (checked
/// every `checkInterval`; nil: on SIGHUP only). Connected sockets keep their TLS sessions; new connections get the
/// new certificate. A bad new pair is logged and the one in use kept.
struct CertificateReloadService: Service {
    let tls: ServerTLS
    let logger: Logger
    var checkInterval: Duration?

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in signals { reload(because: "SIGHUP") }
                }
                if let checkInterval { group.addTask {
                    var seen = stamps()
                    while !Task.isCancelled {
                        try? await Task.sleep(for: checkInterval)
                        let now = stamps()
                        if now != seen {
                            seen = now
                            reload(because: "file changed")
                        }
                    }
                } }
                await group.waitForAll()
            }
        }
    }

    private func stamps() -> [String?] {
        [TLSFiles.stamp(tls.certificateFile), TLSFiles.stamp(tls.keyFile)]
    }

    private func reload(because reason: String) {
        do throws(TLSFileError) {
            try tls.reload()
            logger.notice("TLS certificate reloaded", metadata: [
                "tls.reason": "\(reason)", "tls.certificateFile": "\(tls.certificateFile)",
                "tls.notValidAfter": "\(ISO8601DateFormatter().string(from: tls.notValidAfter))",
            ])
        } catch {
            logger.error("TLS certificate not reloaded; the current one stays", metadata: [
                "tls.reason": "\(reason)", "error": "\(error.description)",
            ])
        }
    }
}
