import Synchronization

/// The key ring shared by every verifier, swapped whole when a JWKS refresh lands. Reads are
/// one lock and a copy of a struct of two arrays; verification happens outside the lock.
public final class KeyStore: Sendable {
    private let ring: Mutex<KeyRing>
    private let unknownKidObserver: Mutex<(@Sendable (String) -> Void)?>

    public init(_ ring: KeyRing) {
        self.ring = Mutex(ring)
        self.unknownKidObserver = Mutex(nil)
    }

    public var current: KeyRing { ring.withLock { $0 } }

    /// Replaces the keys fetched from the JWKS document; configured keys stay.
    public func replaceFetched(_ keys: [JWTKey]) {
        ring.withLock { $0 = KeyRing(configured: $0.configured, fetched: keys) }
    }

    /// Called (on the verifying thread) with each `kid` no key has; the JWKS refresher
    /// listens, and rate-limits what it does about it.
    public func onUnknownKid(_ observer: @escaping @Sendable (String) -> Void) {
        unknownKidObserver.withLock { $0 = observer }
    }

    func reportUnknownKid(_ kid: String) {
        let observer = unknownKidObserver.withLock { $0 }
        observer?(kid)
    }
}
