import GatewayCore
import Hummingbird
import JWTAuth
import Namespaces

/// The HTTP API's `Authorization: Bearer <JWT>` check: a valid token whose role is allowed.
enum BearerAuthorization {
    @discardableResult
    static func require(_ request: Request, services: GatewayServices, roles: Set<Principal.Role>, forbidden: String) throws -> Principal {
        try require(request.headers, services: services, roles: roles, forbidden: forbidden)
    }

    @discardableResult
    static func require(_ headers: HTTPFields, services: GatewayServices, roles: Set<Principal.Role>, forbidden: String) throws -> Principal {
        let roleNames = roles.map(\.rawValue).sorted().joined(separator: " or ")
        guard let token = headers[.authorization].flatMap(BearerToken.parse) else {
            throw APIError.unauthorized("Send Authorization: Bearer <\(roleNames) token>.")
        }
        let principal: Principal
        do {
            principal = try services.authenticator.verify(token, now: services.now())
        } catch {
            throw APIError.unauthorized(error.message)
        }
        guard roles.contains(principal.role) else { throw APIError.forbidden(forbidden) }
        return principal
    }
}
