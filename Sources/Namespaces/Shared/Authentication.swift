import GatewayCore
import JWTAuth

/// Finds and verifies the token of a CONNECT (SPEC §2): the auth payload's `token`, else the
/// handshake's `Authorization: Bearer` header; never the query string.
enum Authentication {
    enum Outcome {
        case anonymous
        case authenticated(Principal)
        case refused(message: String, code: String)
    }

    static func authenticate(_ request: ConnectRequest, services: GatewayServices) -> Outcome {
        let token: String?
        switch request.auth["token"] {
        case .string(let value)?: token = value
        case nil, .null?: token = request.handshake.bearerToken
        default: return .refused(message: "The auth token must be a string.", code: "UNAUTHORIZED")
        }
        guard let token else { return .anonymous }
        do {
            return .authenticated(try services.authenticator.verify(token, now: services.now()))
        } catch {
            return .refused(message: error.message, code: error.code.rawValue)
        }
    }

    static func refusal<Admission>(_ message: String, code: String) -> ConnectDecision<Admission> {
        .reject(message: message, data: .object(["code": .string(code)]))
    }
}
