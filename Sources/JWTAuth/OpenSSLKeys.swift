internal import COpenSSL

/// The only file that talks to libcrypto: turns JWK members into a public key (PEM, for
/// libjwt), tells what kind a public key is, and checks Ed25519 signatures (libjwt 1.10 has
/// no EdDSA).
enum OpenSSLKeys {
    enum Kind {
        case rsa
        /// The JOSE curve name: P-256, P-384 or P-521 (others are refused by the caller).
        case ec(curve: String)
        /// The raw 32-byte public key.
        case ed25519(raw: [UInt8])

        var name: String {
            switch self {
            case .rsa: "RSA"
            case .ec(let curve): "EC \(curve)"
            case .ed25519: "Ed25519"
            }
        }
    }

    struct Failure: Error { let reason: String }

    // EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519 (the NIDs; the macros alias other macros).
    private static let rsaID: Int32 = 6
    private static let ecID: Int32 = 408
    private static let ed25519ID: Int32 = 1087
    // OSSL_PARAM_BLD keeps the parameter *names* by pointer until the key is built, so they must
    // outlive the builder: Swift's temporary C strings for literals do not.
    nonisolated(unsafe) private static let nameN = strdup("n")!
    nonisolated(unsafe) private static let nameE = strdup("e")!
    nonisolated(unsafe) private static let nameGroup = strdup("group")!
    nonisolated(unsafe) private static let namePub = strdup("pub")!

    /// EVP_PKEY_PUBLIC_KEY: OSSL_KEYMGMT_SELECT_ALL_PARAMETERS | OSSL_KEYMGMT_SELECT_PUBLIC_KEY.
    private static let publicKeySelection: Int32 = 0x86

    /// What the DER SubjectPublicKeyInfo holds.
    static func kind(ofPublicKeyDER der: [UInt8]) throws(JWTAuthError) -> Kind {
        guard let key = parse(der: der) else {
            throw JWTAuthError(.invalidConfiguration, "the public key cannot be read")
        }
        defer { EVP_PKEY_free(key) }
        switch EVP_PKEY_get_base_id(key) {
        case rsaID: return .rsa
        case ecID:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_utf8_string_param(key, "group", &name, name.count, &length) == 1 else {
                throw JWTAuthError(.invalidConfiguration, "the EC public key names no curve")
            }
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .ec(curve: joseCurve(openSSLGroup: group) ?? group)
        case ed25519ID:
            var raw = [UInt8](repeating: 0, count: 32)
            var length = raw.count
            guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else {
                throw JWTAuthError(.invalidConfiguration, "the Ed25519 public key cannot be read")
            }
            return .ed25519(raw: raw)
        default:
            throw JWTAuthError(.invalidConfiguration, "the public key is not RSA, EC or Ed25519")
        }
    }

    /// A PEM SubjectPublicKeyInfo for an RSA key given as big-endian modulus and exponent.
    static func rsaPEM(modulus: [UInt8], exponent: [UInt8]) throws(Failure) -> String {
        guard modulus.count >= 256 else { throw Failure(reason: "the RSA key is shorter than 2048 bits") }
        guard modulus.count <= 1024 else { throw Failure(reason: "the RSA key is longer than 8192 bits") }
        guard let builder = OSSL_PARAM_BLD_new() else { throw Failure(reason: "out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        let n = BN_bin2bn(modulus, Int32(modulus.count), nil)
        let e = BN_bin2bn(exponent, Int32(exponent.count), nil)
        defer { BN_free(n); BN_free(e) }
        guard n != nil, e != nil, OSSL_PARAM_BLD_push_BN(builder, nameN, n) == 1, OSSL_PARAM_BLD_push_BN(builder, nameE, e) == 1 else {
            throw Failure(reason: "the RSA numbers cannot be read")
        }
        return try pem(type: "RSA", builder: builder)
    }

    /// A PEM SubjectPublicKeyInfo for an EC point on a JOSE curve (P-256, P-384, P-521).
    static func ecPEM(curve: String, x: [UInt8], y: [UInt8]) throws(Failure) -> String {
        guard let group = openSSLGroup(joseCurve: curve) else { throw Failure(reason: "the curve \(curve) is not P-256, P-384 or P-521") }
        guard let builder = OSSL_PARAM_BLD_new() else { throw Failure(reason: "out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        let point: [UInt8] = [0x04] + x + y
        // The builder keeps the group name and the point by pointer too: both stay alive until
        // the key is built inside these scopes.
        let built: Result<String, Failure> = group.withCString { groupName in
            point.withUnsafeBufferPointer { pointBytes in
                guard OSSL_PARAM_BLD_push_utf8_string(builder, nameGroup, groupName, 0) == 1,
                    OSSL_PARAM_BLD_push_octet_string(builder, namePub, pointBytes.baseAddress, pointBytes.count) == 1
                else { return .failure(Failure(reason: "the EC point cannot be read")) }
                do throws(Failure) {
                    return .success(try pem(type: "EC", builder: builder))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try built.get()
    }

    /// A PEM SubjectPublicKeyInfo for a raw Ed25519 public key.
    static func ed25519PEM(raw: [UInt8]) throws(Failure) -> String {
        guard raw.count == 32, let key = EVP_PKEY_new_raw_public_key(ed25519ID, nil, raw, raw.count) else {
            throw Failure(reason: "the Ed25519 key is not 32 bytes")
        }
        defer { EVP_PKEY_free(key) }
        return try pem(of: key)
    }

    /// Checks an Ed25519 signature over `message` (the JWS signing input).
    static func verifyEd25519(publicKey raw: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        guard signature.count == 64, let key = EVP_PKEY_new_raw_public_key(ed25519ID, nil, raw, raw.count) else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    private static func pem(type: String, builder: OpaquePointer) throws(Failure) -> String {
        guard let params = OSSL_PARAM_BLD_to_param(builder) else { throw Failure(reason: "out of memory") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw Failure(reason: "OpenSSL has no \(type)") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &key, publicKeySelection, params) == 1, let key else {
            throw Failure(reason: "OpenSSL refused the \(type) key")
        }
        defer { EVP_PKEY_free(key) }
        if type == "EC" {
            // fromdata does not check that the point is on the curve; a bogus point must not load.
            guard let check = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { throw Failure(reason: "out of memory") }
            defer { EVP_PKEY_CTX_free(check) }
            guard EVP_PKEY_public_check(check) == 1 else { throw Failure(reason: "the EC point is not on the curve") }
        }
        return try pem(of: key)
    }

    private static func pem(of key: OpaquePointer) throws(Failure) -> String {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &out)
        guard length > 0, let out else { throw Failure(reason: "OpenSSL cannot write the key") }
        defer { CRYPTO_free(out, #fileID, #line) }
        let der = [UInt8](UnsafeBufferPointer(start: out, count: Int(length)))
        return PEMText.publicKey(der: der)
    }

    private static func parse(der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { bytes -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = bytes.baseAddress
            return d2i_PUBKEY(nil, &cursor, bytes.count)
        }
    }

    private static func openSSLGroup(joseCurve: String) -> String? {
        switch joseCurve {
        case "P-256": "prime256v1"
        case "P-384": "secp384r1"
        case "P-521": "secp521r1"
        default: nil
        }
    }

    private static func joseCurve(openSSLGroup: String) -> String? {
        switch openSSLGroup {
        case "prime256v1", "P-256": "P-256"
        case "secp384r1", "P-384": "P-384"
        case "secp521r1", "P-521": "P-521"
        default: nil
        }
    }
}
