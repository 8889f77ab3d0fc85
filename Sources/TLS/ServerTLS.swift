import Foundation
import NIOConcurrencyHelpers
import NIOSSL

/// The listener's TLS (TLS 1.2 and later, ALPN `http/1.1`): a context that new connections take
/// their handler from, and that ``reload()`` replaces from the same files. Connections already
/// open keep the context they started with, so a reload drops nobody.
public final class ServerTLS: Sendable {
    public let certificateFile: String
    public let keyFile: String
    private let current: NIOLockedValueBox<(context: NIOSSLContext, notValidAfter: Date)>

    public static let certificateKey = "server.tls.certificateFile"
    public static let privateKeyKey = "server.tls.keyFile"

    public init(certificateFile: String, keyFile: String) throws(TLSFileError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        current = NIOLockedValueBox(try Self.load(certificateFile: certificateFile, keyFile: keyFile))
    }

    /// A handler for one new connection, with the newest good certificate.
    public func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: current.withLockedValue { $0.context })
    }

    /// When the certificate in use expires.
    public var notValidAfter: Date { current.withLockedValue { $0.notValidAfter } }

    /// Reads the files again; on any problem the certificate in use stays and the error says why.
    public func reload() throws(TLSFileError) {
        let fresh = try Self.load(certificateFile: certificateFile, keyFile: keyFile)
        current.withLockedValue { $0 = fresh }
    }

    private static func load(certificateFile: String, keyFile: String) throws(TLSFileError) -> (context: NIOSSLContext, notValidAfter: Date) {
        let chain = try TLSFiles.certificateChain(certificateFile, key: certificateKey)
        let key = try TLSFiles.privateKey(keyFile, key: privateKeyKey)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            let context = try NIOSSLContext(configuration: configuration)
            return (context, Date(timeIntervalSince1970: TimeInterval(chain[0].notValidAfter)))
        } catch NIOSSLError.failedToLoadPrivateKey {
            // BoringSSL compares the key with the certificate's public key here.
            throw TLSFileError(key: privateKeyKey, file: keyFile, problem: "does not belong to the certificate in \(certificateFile)")
        } catch {
            throw TLSFileError(key: certificateKey, file: certificateFile, problem: "cannot be used with the key in \(keyFile) (\(error))")
        }
    }
}
