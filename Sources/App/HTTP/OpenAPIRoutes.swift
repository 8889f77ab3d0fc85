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

    /// Looked up by hand, as the dashboard is: a binary copied alone still serves the rest.
    static func bundledDocument() -> [UInt8]? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [Bundle.main.bundleURL, executable] {
            let file = candidate.appendingPathComponent("realtime-gateway_App.resources/OpenAPI/openapi.json")
            if let data = FileManager.default.contents(atPath: file.path) { return Array(data) }
        }
        return nil
    }
}
