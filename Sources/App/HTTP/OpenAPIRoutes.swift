import Foundation
import GatewayServer
import Hummingbird
import Logging
import NIOCore

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every HTTP endpoint, kept in the
/// repository (`Sources/App/OpenAPI/openapi.json`) and copied beside the binary by SwiftPM.
enum OpenAPIRoutes {
    static func register(on router: Router<GatewayRequestContext>) {
        // Read once: the document does not change while the gateway runs.
        let document = bundledDocument()
        router.get("api/v1/openapi.json") { _, _ in
            guard let document else {
                throw APIError(status: .notFound, code: "NOT_FOUND", message: "The OpenAPI document was not installed beside this binary.")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
    }

    /// The routes the router serves, one debug line each (`http.route`), so tests and operators
    /// can hold them against the document.
    static func logRoutes(of router: Router<GatewayRequestContext>, logger: Logger) {
        for route in router.routes {
            logger.debug("HTTP route", metadata: ["http.route": "\(route.method) \(route.path)"])
        }
    }

    /// The document beside the executable (nil for a binary copied alone).
    static func bundledDocument() -> [UInt8]? {
        BundledResource.path("OpenAPI/openapi.json").flatMap { FileManager.default.contents(atPath: $0) }.map(Array.init)
    }
}
