import CLibJWT

/// The only file that talks to libjwt. libjwt 1.10 takes the algorithm from the token header,
/// so callers must have compared the header's `alg` with the configured key first
/// (``JWTAuthenticator`` does); this layer only checks the signature and returns the claims.
enum LibJWT {
    enum Failure: Error { case invalidSignature, encodeFailed }

    /// Verifies `token` with `key` and returns its claims as JSON text.
    static func verifiedClaims(token: String, key: [UInt8]) throws(Failure) -> String {
        var handle: OpaquePointer?
        let status = key.withUnsafeBufferPointer { keyBytes in
            jwt_decode(&handle, token, keyBytes.baseAddress, Int32(keyBytes.count))
        }
        guard status == 0, let handle else { throw .invalidSignature }
        defer { jwt_free(handle) }
        guard let json = jwt_get_grants_json(handle, nil) else { return "{}" }
        defer { free(json) }
        return String(cString: json)
    }

    /// Signs `claimsJSON` (`gateway token`, development mode, tests).
    static func sign(claimsJSON: String, algorithm: JWTAlgorithm, key: [UInt8], kid: String? = nil) throws(Failure) -> String {
        var handle: OpaquePointer?
        guard jwt_new(&handle) == 0, let handle else { throw .encodeFailed }
        defer { jwt_free(handle) }
        let alg = jwt_str_alg(algorithm.rawValue)
        let status = key.withUnsafeBufferPointer { keyBytes in
            jwt_set_alg(handle, alg, keyBytes.baseAddress, Int32(keyBytes.count))
        }
        if let kid, jwt_add_header(handle, "kid", kid) != 0 { throw .encodeFailed }
        guard status == 0, jwt_add_grants_json(handle, claimsJSON) == 0, let encoded = jwt_encode_str(handle) else {
            throw .encodeFailed
        }
        defer { free(encoded) }
        return String(cString: encoded)
    }
}
