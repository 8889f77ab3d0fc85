import ArgumentParser
import Foundation
import JWTAuth

/// `gateway token --sub ID [--role user|admin|service] [--tier free|premium] [--ttl 1h]`: a token
/// signed with the configured HS256 secret, for trying things out.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Mint a token signed with the configured JWT_SECRET.")

    @Option(help: "User id (the sub claim).") var sub: String
    @Option(help: "user, admin or service.") var role: String = "user"
    @Option(help: "free or premium.") var tier: String = "free"
    @Option(help: "Lifetime: seconds, or with a unit: 90s, 15m, 1h, 7d.") var ttl: String = "1h"
    @Option(name: .long, help: "Configuration file (default config/gateway.yaml).") var config: String?

    func run() throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        guard let secret = configuration.jwt.secret else {
            throw ValidationError("minting needs JWT_SECRET (HS256); with JWT_PUBLIC_KEY_FILE tokens come from your issuer")
        }
        guard let role = Principal.Role(rawValue: role) else { throw ValidationError("--role must be user, admin or service") }
        guard let tier = Principal.Tier(rawValue: tier) else { throw ValidationError("--tier must be free or premium") }
        guard let seconds = Self.seconds(ttl), seconds > 0 else { throw ValidationError("--ttl must look like 3600, 90s, 15m, 1h or 7d") }
        let token = try TokenMinter(secret: secret).mint(
            subject: sub, role: role, tier: tier, now: Date().timeIntervalSince1970, ttlSeconds: seconds,
            issuer: configuration.jwt.claimChecks.issuer, audience: configuration.jwt.claimChecks.audience
        )
        print(token)
    }

    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let last = text.last, let unit = units[last] { return Double(text.dropLast()).map { $0 * unit } }
        return Double(text)
    }
}
