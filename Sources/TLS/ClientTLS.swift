import NIOCore
import NIOSSL

/// TLS for the gateway's outgoing connections (Redis over `rediss://`, the Socket.IO client):
/// the system's trust store or a CA file, an optional client certificate, and the server's
/// name checked against its certificate.
public struct ClientTLS: Sendable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    /// The configuration keys the files came from, for error messages.
    public var keys: (ca: String, certificate: String, key: String)

    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        keys: (ca: String, certificate: String, key: String) = ("caFile", "certificateFile", "keyFile")
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.keys = keys
    }

    /// Reads the files once; the context serves every connection.
    public func makeContext() throws(TLSFileError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            configuration.trustRoots = .certificates(try TLSFiles.trustRoots(caFile, key: keys.ca))
        }
        if let certificateFile {
            guard let keyFile else {
                throw TLSFileError(key: keys.key, file: "", problem: "a client certificate needs its key file too")
            }
            configuration.certificateChain = try TLSFiles.certificateChain(certificateFile, key: keys.certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFiles.privateKey(keyFile, key: keys.key))
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            let (key, file) = keyFile.map { (keys.key, $0) } ?? caFile.map { (keys.ca, $0) } ?? (keys.ca, "")
            throw TLSFileError(key: key, file: file, problem: "cannot be used (\(error))")
        }
    }

    /// The handler for one connection to `host`: its certificate must name `host` (a DNS name
    /// through SNI, an IP address against the certificate's IP entries).
    public static func handler(context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }
}
