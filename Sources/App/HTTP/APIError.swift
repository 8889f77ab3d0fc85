import GatewayJSON
import Hummingbird
import NIOCore

/// API errors as JSON `{"error":{"code","message"}}` (SPEC §7), with the status that fits.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    var headers: HTTPFields { [.contentType: "application/json"] }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    var body: String {
        JSONSerializer.serialize(.object(["error": .object(["code": .string(code), "message": .string(message)])]))
    }

    static func badRequest(_ message: String, code: String = "INVALID_PAYLOAD") -> APIError { APIError(status: .badRequest, code: code, message: message) }
    static func unauthorized(_ message: String) -> APIError { APIError(status: .unauthorized, code: "UNAUTHORIZED", message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "FORBIDDEN", message: message) }
}

/// Turns Hummingbird's own errors (404, 413, …) into the same JSON shape.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as FeedRejection {
            throw error
        } catch let error as any HTTPResponseError {
            let code: String
            switch error.status {
            case .notFound: code = "NOT_FOUND"
            case .contentTooLarge: code = "PAYLOAD_TOO_LARGE"
            case .methodNotAllowed: code = "METHOD_NOT_ALLOWED"
            default: code = "HTTP_\(error.status.code)"
            }
            throw APIError(status: error.status, code: code, message: error.status.reasonPhrase)
        }
    }
}
