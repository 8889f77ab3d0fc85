import AsyncHTTPClient
import DequeModule
import Foundation
import GatewayCore
import GatewayJSON
import GatewayMetrics
import JWTAuth
import Logging
import Namespaces
import NIOCore
import Synchronization

/// Delivers presence notices to `presence.webhookUrl`, in the order they were decided, at
/// least once: each is POSTed until the receiver answers 2xx, retried with backoff (1 s
/// doubling to 30 s) while it is down or failing. The queue is bounded
/// (`presence.maxPendingNotices`): when a dead receiver fills it, the oldest notice is dropped
/// and counted. Every request is signed: `X-Gateway-Signature: sha256=HEX(HMAC-SHA256(secret,
/// "{X-Gateway-Timestamp}.{body}"))`, and carries the notice id in `X-Gateway-Event-Id`.
final class PresenceWebhook: Sendable {
    let settings: PresenceSettings
    private let instanceID: String
    private let metrics: GatewayMetrics
    private let logger: Logger
    /// Notices waiting, and the id of the one being POSTed now: never the one dropped for room
    /// (it may already be delivered).
    private let queue = Mutex<(items: Deque<Pending>, sending: String?)>((Deque(), nil))

    struct Pending: Sendable {
        let id: String
        let body: String
    }

    init(settings: PresenceSettings, instanceID: String, metrics: GatewayMetrics, logger: Logger) {
        self.settings = settings
        self.instanceID = instanceID
        self.metrics = metrics
        self.logger = logger
        metrics.registerPresence()
    }

    var pending: Int { queue.withLock { $0.items.count } }

    /// Queues the notice of a change (any thread). The id is made here and kept through every retry.
    func enqueue(userId: String, change: PresenceChange) {
        let id = UUID().uuidString.lowercased()
        let body = JSONSerializer.serialize(.object([
            JSONMember("id", .string(id)),
            JSONMember("type", .string(change.online ? "user.online" : "user.offline")),
            JSONMember("userId", .string(userId)),
            JSONMember("version", .int(Int(change.version))),
            JSONMember("ts", .int(Int(WallClock.milliseconds()))),
            JSONMember("instance", .string(instanceID)),
        ]))
        let dropped = queue.withLock { queue -> Pending? in
            queue.items.append(Pending(id: id, body: body))
            guard queue.items.count > settings.maxPendingNotices else { return nil }
            // The oldest that is not on its way (over a bound of at least 1 there are two or more).
            return queue.items.first?.id == queue.sending ? queue.items.remove(at: 1) : queue.items.removeFirst()
        }
        metrics.countPresenceNotice(result: "queued")
        if let dropped {
            metrics.countPresenceNotice(result: "dropped")
            logger.warning("Presence notice dropped: the webhook queue is full", metadata: ["presence.id": "\(dropped.id)"])
        }
    }

    /// Sends until cancelled.
    func run() async {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: OutboundHTTP.configuration(caFile: settings.caFile, timeoutSeconds: settings.timeoutSeconds))
        var backoff = 1.0
        while !Task.isCancelled {
            let head = queue.withLock { queue -> Pending? in
                queue.sending = queue.items.first?.id
                return queue.items.first
            }
            guard let next = head else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            let outcome = await deliver(next, with: client)
            queue.withLock { queue in
                queue.sending = nil
                if outcome != .retry, queue.items.first?.id == next.id { queue.items.removeFirst() }
            }
            switch outcome {
            case .delivered, .refused:
                backoff = 1
            case .retry:
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                backoff = min(backoff * 2, 30)
            }
        }
        try? await client.shutdown()
    }

    private enum Outcome { case delivered, refused, retry }

    private func deliver(_ notice: Pending, with client: HTTPClient) async -> Outcome {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature = HMACSignature.sha256Hex(key: Array(settings.secret.utf8), message: Array("\(timestamp).\(notice.body)".utf8))
        var request = HTTPClientRequest(url: settings.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Gateway-Event-Id", value: notice.id)
        request.headers.add(name: "X-Gateway-Timestamp", value: timestamp)
        request.headers.add(name: "X-Gateway-Signature", value: "sha256=\(signature)")
        request.body = .bytes(ByteBuffer(string: notice.body))
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeoutSeconds)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let code = response.status.code
            if (200..<300).contains(code) {
                metrics.countPresenceNotice(result: "delivered")
                return .delivered
            }
            if (400..<500).contains(code), code != 408, code != 429 {
                // The receiver says this notice will never be accepted; retrying cannot help.
                metrics.countPresenceNotice(result: "refused")
                logger.error("Presence webhook refused a notice; it is not retried", metadata: ["presence.id": "\(notice.id)", "http.status": "\(code)"])
                return .refused
            }
            metrics.countPresenceNotice(result: "retried")
            logger.warning("Presence webhook failed; retrying", metadata: ["presence.id": "\(notice.id)", "http.status": "\(code)"])
            return .retry
        } catch {
            metrics.countPresenceNotice(result: "retried")
            logger.warning("Presence webhook unreachable; retrying", metadata: ["presence.id": "\(notice.id)", "error": "\(error)"])
            return .retry
        }
    }
}
