import Foundation
import Synchronization
import GatewayJSON
import Testing
@testable import JWTAuth

@Suite("Key selection, rotation and JWKS documents")
struct KeyRingTests {
    let now = 1_800_000_000.0
    let claims = #"{"sub":"u1","exp":1800000600}"#

    func signed(_ secret: String, kid: String?) throws -> String {
        try LibJWT.sign(claimsJSON: claims, algorithm: .hs256, key: Array(secret.utf8), kid: kid)
    }

    @Test("a kid selects exactly its key; an unknown kid is reported once and refused")
    func kidSelection() throws {
        let store = KeyStore(KeyRing(configured: [.secret("secret-A-0123456789", kid: "A"), .secret("secret-B-0123456789", kid: "B")]))
        let reported = ReportedKids()
        store.onUnknownKid { reported.add($0) }
        let verifier = JWTAuthenticator(keys: store)
        #expect(try verifier.verify(try signed("secret-B-0123456789", kid: "B"), now: now).userId == "u1")
        #expect(throws: JWTAuthError(.unauthorized, "The token signature is not valid.")) {
            try verifier.verify(try signed("secret-A-0123456789", kid: "B"), now: now)
        }
        #expect(throws: JWTAuthError(.unauthorized, "The token is signed with a key (kid) this gateway does not know.")) {
            try verifier.verify(try signed("secret-A-0123456789", kid: "C"), now: now)
        }
        #expect(reported.all == ["C"])
        // Without a kid every HS256 key is tried.
        #expect(try verifier.verify(try signed("secret-A-0123456789", kid: nil), now: now).userId == "u1")
    }

    @Test("the previous secret verifies until its validUntil, then nothing")
    func previousSecret() throws {
        let store = KeyStore(KeyRing(configured: [.secret("new-secret-0123456789"), .secret("old-secret-0123456789", validUntil: now + 60)]))
        let verifier = JWTAuthenticator(keys: store)
        let old = try signed("old-secret-0123456789", kid: nil)
        #expect(try verifier.verify(old, now: now).userId == "u1")
        #expect(throws: JWTAuthError(.unauthorized, "The token signature is not valid.")) { try verifier.verify(old, now: now + 61) }
        #expect(try verifier.verify(try signed("new-secret-0123456789", kid: nil), now: now + 61).userId == "u1")
    }

    @Test("fetched keys replace fetched keys only; with no key at all the refusal says why")
    func replaceFetched() throws {
        let store = KeyStore(KeyRing(configured: []))
        let verifier = JWTAuthenticator(keys: store)
        #expect(throws: JWTAuthError(.unauthorized, "The gateway has no verification keys yet (its key server has not answered); try again shortly.")) {
            try verifier.verify(try signed("fetched-secret-0123456789", kid: "F"), now: now)
        }
        store.replaceFetched([.secret("fetched-secret-0123456789", kid: "F")])
        #expect(try verifier.verify(try signed("fetched-secret-0123456789", kid: "F"), now: now).userId == "u1")
        store.replaceFetched([])
        #expect(throws: JWTAuthError.self) { try verifier.verify(try signed("fetched-secret-0123456789", kid: "F"), now: now) }
    }

    @Test("an oversized or control-character kid in a token header is refused before any key is looked up")
    func badKidHeader() throws {
        let verifier = JWTAuthenticator(key: .secret("secret-A-0123456789"))
        let long = forged(header: #"{"alg":"HS256","kid":"\#(String(repeating: "k", count: 300))"}"#, claims: claims, signature: "x")
        #expect(throws: JWTAuthError(.unauthorized, "The token header's kid is not a short text.")) { try verifier.verify(long, now: now) }
        let number = forged(header: #"{"alg":"HS256","kid":7}"#, claims: claims, signature: "x")
        #expect(throws: JWTAuthError(.unauthorized, "The token header's kid is not a short text.")) { try verifier.verify(number, now: now) }
    }

    /// RFC 8037 appendix A.4: an Ed25519 JWS over "Example of Ed25519 signing" (not JSON, so
    /// a verified signature shows as the claims error, a bad one as the signature error).
    @Test("EdDSA: the RFC 8037 example verifies through OpenSSL; a flipped bit does not")
    func edDSA() throws {
        let jwk = try JSONParser.parse(#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"rfc8037","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)
        let set = try JWKSet(parsing: jwk)
        #expect(set.keys.map(\.algorithm) == [.edDSA])
        let verifier = JWTAuthenticator(keys: KeyStore(KeyRing(configured: set.keys)))
        let jws = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        #expect(throws: JWTAuthError(.unauthorized, "The token claims are not valid JSON.")) { try verifier.verify(jws, now: now) }
        let tampered = jws.replacingOccurrences(of: "hgyY0il", with: "hgyY0im")
        #expect(throws: JWTAuthError(.unauthorized, "The token signature is not valid.")) { try verifier.verify(tampered, now: now) }
    }

    @Test("a JWKS document: encryption keys, private keys, secrets and bogus points are skipped with a reason")
    func skipped() throws {
        let document = try JSONParser.parse("""
            {"keys":[
              {"kty":"OKP","crv":"Ed25519","kid":"ok","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
              {"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
              {"kty":"oct","kid":"secret","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"},
              {"kty":"EC","crv":"P-256","kid":"offcurve","x":"AQ","y":"AQ"},
              {"kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"},
              {"kty":"RSA","kid":"private","n":"AQAB","e":"AQAB","d":"AQAB"},
              {"kty":"XYZ","kid":"odd"}
            ]}
            """)
        let set = try JWKSet(parsing: document)
        #expect(set.keys.compactMap(\.kid) == ["ok"])
        #expect(set.skipped.count == 6)
        #expect(set.skipped.contains("kid secret: shared secrets are not read from a JWKS document fetched over the network"))
        #expect(set.skipped.contains("kid short: the RSA key is shorter than 2048 bits"))
        #expect(set.skipped.contains("kid private: it holds a private key (d); publish public keys only"))
        // A keys file on disk may hold secrets.
        let local = try JWKSet(parsing: document, allowSecrets: true)
        #expect(local.keys.compactMap(\.kid) == ["ok", "secret"])
        let tooMany = try JSONParser.parse(#"{"keys":[\#(Array(repeating: "{}", count: 101).joined(separator: ","))]}"#)
        #expect(throws: JWTAuthError.self) { try JWKSet(parsing: tooMany) }
    }

    @Test("PEM keys: RSA may pick RS384, an EC key cannot verify RS256")
    func pemAlgorithms() throws {
        #expect(try JWTKey.publicKey(pem: try Keys.pem("rsa-public"), algorithm: .rs384).algorithm == .rs384)
        #expect(throws: JWTAuthError.self) { try JWTKey.publicKey(pem: try Keys.pem("ec-public"), algorithm: .rs256) }
        let token = try sign(#"{"sub":"u1","exp":1800000600}"#, .rs384, key: try Keys.pem("rsa-private"))
        let verifier = JWTAuthenticator(key: try .publicKey(pem: try Keys.pem("rsa-public"), algorithm: .rs384))
        #expect(try verifier.verify(token, now: now).userId == "u1")
    }
}

final class ReportedKids: Sendable {
    private let kids = Mutex<[String]>([])
    func add(_ kid: String) { kids.withLock { $0.append(kid) } }
    var all: [String] { kids.withLock { $0 } }
}
