import Foundation
import JWTAuth
import Logging

/// With no JWT key configured the gateway still starts, so a newcomer can connect at once: it
/// makes a random HS256 secret for this run, warns loudly, and prints a user and an admin token.
enum DevelopmentMode {
    static func authenticator(for configuration: GatewayConfiguration, logger: Logger) -> JWTAuthenticator {
        if !configuration.jwt.isDevelopmentMode {
            return JWTAuthenticator(keys: KeyStore(KeyRing(configured: configuration.jwt.keys)), checks: configuration.jwt.claimChecks)
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", generator.next(upperBound: UInt8.max)) }.joined()
        let minter = TokenMinter(secret: secret)
        let now = Date().timeIntervalSince1970
        let issuer = configuration.jwt.claimChecks.issuer
        let audience = configuration.jwt.claimChecks.audience
        let user = (try? minter.mint(subject: "dev-user", role: .user, now: now, ttlSeconds: 86_400, issuer: issuer, audience: audience)) ?? ""
        let admin = (try? minter.mint(subject: "dev-admin", role: .admin, now: now, ttlSeconds: 86_400, issuer: issuer, audience: audience)) ?? ""
        logger.warning("DEVELOPMENT MODE: no JWT_SECRET, JWT_PUBLIC_KEY_FILE, JWT_KEYS_FILE or JWT_JWKS_URL is set; using a random secret for this run only. Never run like this in production.")
        let banner = """

            ================================================================
             DEVELOPMENT MODE: tokens valid for 24 h, for this process only
             user  (sub dev-user):  \(user)
             admin (sub dev-admin): \(admin)
            ================================================================

            """
        FileHandle.standardError.write(Data(banner.utf8))
        return JWTAuthenticator(key: .secret(secret), checks: configuration.jwt.claimChecks)
    }
}
