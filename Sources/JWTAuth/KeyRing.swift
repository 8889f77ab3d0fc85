/// The verification keys in force: configured ones (secret, public key file, `jwt.keys`,
/// `jwt.previousSecret`) and those of the last good JWKS document. Immutable; a refresh
/// builds a new ring.
public struct KeyRing: Sendable {
    /// A token without a `kid` is tried against at most this many keys of its algorithm.
    public static let maximumKeysWithoutKid = 8

    public let configured: [JWTKey]
    public let fetched: [JWTKey]

    public init(configured: [JWTKey], fetched: [JWTKey] = []) {
        self.configured = configured
        self.fetched = fetched
    }

    public var all: [JWTKey] { configured + fetched }

    /// The algorithms some key accepts, in a stable order, for refusal messages.
    public var algorithms: [JWTAlgorithm] {
        let present = Set(all.map(\.algorithm))
        return JWTAlgorithm.allCases.filter(present.contains)
    }

    enum Selection {
        case keys([JWTKey])
        /// The token names a `kid` no key has.
        case unknownKid
        /// No key (in force now) accepts the token's algorithm.
        case wrongAlgorithm
    }

    /// The keys that may verify a token with this header at `now`. A `kid` selects exactly the
    /// keys with that kid; without one, the keys of the token's algorithm (kid-less ones first).
    func select(algorithm: String, kid: String?, now: Double) -> Selection {
        let live = all.filter { key in key.validUntil.map { now <= $0 } ?? true }
        if let kid {
            let named = live.filter { $0.kid == kid }
            if named.isEmpty { return .unknownKid }
            let usable = named.filter { $0.algorithm.rawValue == algorithm }
            return usable.isEmpty ? .wrongAlgorithm : .keys(usable)
        }
        let usable = live.filter { $0.algorithm.rawValue == algorithm }
        if usable.isEmpty { return .wrongAlgorithm }
        let ordered = usable.filter { $0.kid == nil } + usable.filter { $0.kid != nil }
        return .keys(Array(ordered.prefix(Self.maximumKeysWithoutKid)))
    }
}
