import AsyncHTTPClient
import NIOCore
import NIOSSL

/// How the gateway calls out (the IdP's JWKS, the presence webhook): the system's roots or one
/// CA file, no redirects (a moved endpoint is a configuration error to see, not to follow),
/// one timeout for connecting and for reading.
enum OutboundHTTP {
    static func configuration(caFile: String?, timeoutSeconds: Int) -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        let timeout = TimeAmount.seconds(Int64(timeoutSeconds))
        return HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout))
    }
}
