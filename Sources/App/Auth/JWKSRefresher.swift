import AsyncHTTPClient
import Foundation
import GatewayJSON
import GatewayMetrics
import JWTAuth
import Logging
import NIOCore
import Synchronization

/// Keeps the identity provider's keys in the key store: fetched at start (retried with backoff
/// while none arrived), every `refreshSeconds`, and soon after a token names an unknown `kid`,
/// but never more than once per `minRefreshSeconds` for that reason, so junk `kid`s cannot make
/// the gateway hammer the IdP. A failed fetch keeps the last good keys.
final class JWKSRefresher: Sendable {
    static let maximumDocumentBytes = 1 << 20

    let settings: JWKSSettings
    private let store: KeyStore
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let state = Mutex(State())

    struct State {
        var lastSuccess: Double?
        var lastAttempt: Double = 0
        var lastError: String?
        var keyIDs: [String] = []
        var unknownKidSeen = false
    }

    /// What `/health` reports.
    struct Status {
        enum Condition: String { case ok, stale, missing }
        let condition: Condition
        let ageSeconds: Int?
        let keys: Int
        let lastError: String?
    }

    init(settings: JWKSSettings, store: KeyStore, metrics: GatewayMetrics, logger: Logger) {
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.logger = logger
        metrics.registerJWKS()
        store.onUnknownKid { [weak self] _ in
            self?.state.withLock { $0.unknownKidSeen = true }
        }
    }

    func status(now: Double = Date().timeIntervalSince1970) -> Status {
        state.withLock { state in
            guard let last = state.lastSuccess else {
                return Status(condition: .missing, ageSeconds: nil, keys: 0, lastError: state.lastError)
            }
            let age = Int(now - last)
            return Status(condition: age > settings.maxAgeSeconds ? .stale : .ok, ageSeconds: age, keys: state.keyIDs.count, lastError: state.lastError)
        }
    }

    /// Runs until cancelled: the schedule, the backoff and the unknown-kid trigger.
    func run() async {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: OutboundHTTP.configuration(caFile: settings.caFile, timeoutSeconds: settings.timeoutSeconds))
        var next = 0.0
        var cause = "start"
        var backoff = 1.0
        while !Task.isCancelled {
            let now = Date().timeIntervalSince1970
            let (unknownKid, lastAttempt) = state.withLock { ($0.unknownKidSeen, $0.lastAttempt) }
            if now >= next || (unknownKid && now >= lastAttempt + Double(settings.minRefreshSeconds)) {
                if now < next { cause = "unknown_kid" }
                let ok = await refresh(with: client, cause: cause)
                let refresh = Double(settings.refreshSeconds)
                if ok {
                    backoff = 1
                    next = Date().timeIntervalSince1970 + refresh
                } else {
                    next = Date().timeIntervalSince1970 + min(backoff, refresh)
                    backoff = min(backoff * 2, 60)
                }
                cause = "schedule"
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        try? await client.shutdown()
    }

    /// One fetch; true when a usable document was read.
    @discardableResult
    func refresh(with client: HTTPClient, cause: String) async -> Bool {
        state.withLock {
            $0.lastAttempt = Date().timeIntervalSince1970
            $0.unknownKidSeen = false
        }
        do {
            let set = try await fetch(with: client)
            let kids = set.keys.map { $0.kid ?? "(no kid)" }
            let previous = state.withLock { state -> [String] in
                let previous = state.keyIDs
                state.lastSuccess = Date().timeIntervalSince1970
                state.lastError = nil
                state.keyIDs = kids
                return previous
            }
            store.replaceFetched(set.keys)
            metrics.countJWKSRefresh(ok: true, cause: cause)
            metrics.recordJWKS(keys: set.keys.count, lastSuccess: Date().timeIntervalSince1970)
            if previous != kids {
                logger.notice("JWKS keys in force", metadata: [
                    "jwks.kids": "\(kids.joined(separator: ","))", "jwks.added": "\(Set(kids).subtracting(previous).sorted().joined(separator: ","))",
                    "jwks.removed": "\(Set(previous).subtracting(kids).sorted().joined(separator: ","))", "jwks.cause": "\(cause)",
                ])
            }
            for reason in set.skipped {
                logger.warning("JWKS key skipped", metadata: ["jwks.skipped": "\(reason)"])
            }
            return true
        } catch {
            let message = "\(error)"
            // /health is public: it says what kind of failure, the log says the details.
            let shown = (error as? JWKSFetchError)?.description ?? "the key server could not be reached or did not answer in time"
            let hadKeys = state.withLock { state -> Bool in
                state.lastError = shown
                return state.lastSuccess != nil
            }
            metrics.countJWKSRefresh(ok: false, cause: cause)
            logger.error(hadKeys ? "JWKS refresh failed; the last good keys stay in force" : "JWKS fetch failed; tokens cannot be verified until it succeeds", metadata: [
                "jwks.url": "\(Self.redacted(settings.url))", "jwks.cause": "\(cause)", "error": "\(message)",
            ])
            return false
        }
    }

    private func fetch(with client: HTTPClient) async throws -> JWKSet {
        var request = HTTPClientRequest(url: settings.url.absoluteString)
        request.headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
        let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeoutSeconds)))
        guard response.status == .ok else {
            throw JWKSFetchError("the key server answered HTTP \(response.status.code)")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maximumDocumentBytes)
        } catch {
            throw JWKSFetchError("the JWKS document is larger than 1 MiB")
        }
        guard let document = try? JSONParser.parse(body.readableBytesView) else {
            throw JWKSFetchError("the JWKS document is not JSON")
        }
        let set: JWKSet
        do {
            set = try JWKSet(parsing: document)
        } catch {
            throw JWKSFetchError(error.message)
        }
        guard !set.keys.isEmpty else {
            throw JWKSFetchError("the JWKS document holds no usable signing key (\(set.skipped.joined(separator: "; ")))")
        }
        return set
    }

    /// The URL without user info or query, for logs.
    static func redacted(_ url: URL) -> String {
        var parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
        parts?.user = nil
        parts?.password = nil
        parts?.query = nil
        return parts?.string ?? "(url)"
    }
}

struct JWKSFetchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
