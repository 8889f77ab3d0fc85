import HTTPTypes
import Hummingbird

/// CORS for polling requests (`WS_CORS_ORIGIN`): `*` or a list of origins. With a list, a
/// matching Origin is reflected with credentials allowed; WebSocket upgrades from any other
/// Origin are refused by the engine (403).
public struct CORSPolicy: Sendable {
    public let allowedOrigins: [String]?

    /// nil allows any origin.
    public init(allowedOrigins: [String]?) {
        self.allowedOrigins = allowedOrigins
    }

    func headers(origin: String?) -> HTTPFields {
        var fields = HTTPFields()
        guard let allowedOrigins else {
            fields[.accessControlAllowOrigin] = "*"
            return fields
        }
        if let origin, allowedOrigins.contains(origin) {
            fields[.accessControlAllowOrigin] = origin
            fields[.accessControlAllowCredentials] = "true"
            fields[.vary] = "Origin"
        }
        return fields
    }

    func preflight(_ request: Request) -> Response {
        var fields = headers(origin: request.headers[.origin])
        fields[.accessControlAllowMethods] = "GET, POST, OPTIONS"
        if let requested = request.headers[.accessControlRequestHeaders] {
            fields[.accessControlAllowHeaders] = requested
        }
        fields[.accessControlMaxAge] = "600"
        return Response(status: .noContent, headers: fields)
    }
}
