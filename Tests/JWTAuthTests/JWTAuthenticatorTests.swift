import Foundation
import Testing
@testable import JWTAuth

/// Test-only key pairs in Fixtures/ (generated for these tests, used nowhere else).
enum Keys {
    static func pem(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "pem", subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }
}

func sign(_ claims: String, _ algorithm: JWTAlgorithm, key: String) throws -> String {
    try LibJWT.sign(claimsJSON: claims, algorithm: algorithm, key: Array(key.utf8))
}

/// A token with a hand-made header (for alg:none and friends).
func forged(header: String, claims: String, signature: String = "") -> String {
    func b64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
    return "\(b64(header)).\(b64(claims)).\(signature)"
}

@Suite("JWT verification")
struct JWTAuthenticatorTests {
    let now = 1_800_000_000.0
    let secret = "test-secret-0123456789"
    var hs: JWTAuthenticator { JWTAuthenticator(key: .secret(secret)) }
    var valid: String { #"{"sub":"u1","exp":1800000600}"# }

    @Test("a valid HS256 token gives its principal with default role and tier")
    func validHS256() throws {
        let principal = try hs.verify(try sign(valid, .hs256, key: secret), now: now)
        #expect(principal == Principal(userId: "u1", role: .user, tier: .free, expiresAt: 1_800_000_600))
    }

    @Test("userId wins over sub; role and tier are read")
    func claims() throws {
        let token = try sign(#"{"sub":"s","userId":"u9","role":"admin","tier":"premium","exp":1800000600}"#, .hs256, key: secret)
        let principal = try hs.verify(token, now: now)
        #expect(principal.userId == "u9")
        #expect(principal.role == .admin)
        #expect(principal.tier == .premium)
    }

    @Test("valid RS256 and ES256 tokens verify with the configured public key")
    func asymmetric() throws {
        let rsa = JWTAuthenticator(key: try .publicKey(pem: try Keys.pem("rsa-public")))
        #expect(rsa.keys.current.algorithms == [.rs256])
        #expect(try rsa.verify(try sign(valid, .rs256, key: try Keys.pem("rsa-private")), now: now).userId == "u1")
        let ec = JWTAuthenticator(key: try .publicKey(pem: try Keys.pem("ec-public")))
        #expect(ec.keys.current.algorithms == [.es256])
        #expect(try ec.verify(try sign(valid, .es256, key: try Keys.pem("ec-private")), now: now).userId == "u1")
    }

    @Test("refused tokens carry the SPEC's code", arguments: [
        ("", JWTAuthError.Code.unauthorized), ("garbage", .unauthorized), ("a.b", .unauthorized), ("a.b.c", .unauthorized),
    ])
    func garbage(token: String, code: JWTAuthError.Code) {
        #expect(throws: JWTAuthError.self) { try hs.verify(token, now: now) }
    }

    @Test("expiry: required, leeway of 5 s, then TOKEN_EXPIRED")
    func expiry() throws {
        let noExp = try sign(#"{"sub":"u1"}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError(.unauthorized, "The token has no expiry (exp).")) { try hs.verify(noExp, now: now) }
        let token = try sign(valid, .hs256, key: secret)
        #expect(throws: Never.self) { try hs.verify(token, now: 1_800_000_604) }
        #expect(throws: JWTAuthError(.tokenExpired, "The token has expired.")) { try hs.verify(token, now: 1_800_000_606) }
    }

    @Test("not-yet-valid, wrong issuer and wrong audience are refused")
    func nbfIssAud() throws {
        let future = try sign(#"{"sub":"u1","exp":1800000600,"nbf":1800000100}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError(.unauthorized, "The token is not valid yet (nbf).")) { try hs.verify(future, now: now) }
        let strict = JWTAuthenticator(key: .secret(secret), checks: ClaimChecks(issuer: "gw", audience: "traders"))
        let wrongIssuer = try sign(#"{"sub":"u1","exp":1800000600,"iss":"other","aud":"traders"}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError(.unauthorized, "The token was issued by someone else (iss).")) { try strict.verify(wrongIssuer, now: now) }
        let wrongAudience = try sign(#"{"sub":"u1","exp":1800000600,"iss":"gw","aud":["x","y"]}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError(.unauthorized, "The token is meant for another audience (aud).")) { try strict.verify(wrongAudience, now: now) }
        let right = try sign(#"{"sub":"u1","exp":1800000600,"iss":"gw","aud":["x","traders"]}"#, .hs256, key: secret)
        #expect(try strict.verify(right, now: now).userId == "u1")
    }

    @Test("alg none is refused even with an empty signature")
    func algNone() {
        let token = forged(header: #"{"alg":"none","typ":"JWT"}"#, claims: valid)
        #expect(throws: JWTAuthError(.unauthorized, "The token is signed with none; this gateway accepts HS256.")) { try hs.verify(token, now: now) }
    }

    @Test("algorithm confusion: an HS256 token 'signed' with the RS256 public key is refused")
    func confusion() throws {
        let publicPEM = try Keys.pem("rsa-public")
        let rsa = JWTAuthenticator(key: try .publicKey(pem: publicPEM))
        let confused = try sign(valid, .hs256, key: publicPEM)
        #expect(throws: JWTAuthError(.unauthorized, "The token is signed with HS256; this gateway accepts RS256.")) { try rsa.verify(confused, now: now) }
    }

    @Test("a tampered payload fails the signature check")
    func tampered() throws {
        let token = try sign(valid, .hs256, key: secret)
        let parts = token.split(separator: ".")
        let evil = forged(header: #"{"alg":"HS256","typ":"JWT"}"#, claims: #"{"sub":"admin","exp":1800000600}"#)
        let spliced = evil.split(separator: ".")[0...1].joined(separator: ".") + "." + parts[2]
        #expect(throws: JWTAuthError(.unauthorized, "The token signature is not valid.")) { try hs.verify(spliced, now: now) }
        #expect(throws: JWTAuthError(.unauthorized, "The token signature is not valid.")) { try JWTAuthenticator(key: .secret("other")).verify(token, now: now) }
    }

    @Test("tokens over 8 KiB are refused before parsing")
    func oversized() throws {
        let padding = String(repeating: "x", count: 9 * 1024)
        let big = try sign(#"{"sub":"u1","exp":1800000600,"pad":"\#(padding)"}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError(.unauthorized, "The token is larger than 8 KiB.")) { try hs.verify(big, now: now) }
    }

    @Test("a role outside user/admin/service is refused")
    func badRole() throws {
        let token = try sign(#"{"sub":"u1","exp":1800000600,"role":"root"}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError.self) { try hs.verify(token, now: now) }
    }

    @Test("minted tokens verify")
    func mint() throws {
        let token = try TokenMinter(secret: secret).mint(subject: "u5", role: .admin, tier: .premium, now: now, ttlSeconds: 3600)
        #expect(try hs.verify(token, now: now) == Principal(userId: "u5", role: .admin, tier: .premium, expiresAt: now + 3600))
    }

    @Test("exp past year 9999, infinite or not finite is refused; up to 9999 is accepted", arguments: [
        ("10000000000000000", false), ("1e300", false), ("253402300800", false), ("253402300799", true), ("100000000000", true),
    ])
    func expiryRange(exp: String, accepted: Bool) throws {
        let token = try sign(#"{"sub":"u1","exp":\#(exp)}"#, .hs256, key: secret)
        if accepted {
            #expect(try hs.verify(token, now: now).userId == "u1")
        } else {
            #expect(throws: JWTAuthError(.unauthorized, "The token's exp is out of range (after 9999-12-31).")) { try hs.verify(token, now: now) }
        }
    }

    @Test("user ids: what the rule accepts", arguments: ["alice", "alice#offsets", "a|user:b", "*", "{a}", "élodie", "用户", String(repeating: "x", count: 128)])
    func acceptedIds(id: String) {
        #expect(UserIDRule.problem(with: id) == nil)
    }

    @Test("user ids: what the rule refuses, with a reason", arguments: [
        "", " ", "a b", "a\tb", "a\nb", "a\u{0}b", "a\u{7F}", "a\u{200B}b", "a\u{202E}b", "a\u{3000}b", "e\u{301}", String(repeating: "x", count: 129),
        String(repeating: "é", count: 65),
    ])
    func refusedIds(id: String) throws {
        let problem = try #require(UserIDRule.problem(with: id))
        #expect(problem.hasPrefix("The token's user id"))
        guard !id.contains("\u{0}") else { return }  // libjwt cannot sign a NUL
        let token = try sign(#"{"userId":"\#(id.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : String(format: "\\u%04x", $0.value) }.joined())","exp":1800000600}"#, .hs256, key: secret)
        #expect(throws: JWTAuthError.self) { try hs.verify(token, now: now) }
    }
}
