import NIOCore

/// The layer above Engine.IO (Socket.IO, or the echo app of the Engine.IO test suite).
/// Every call arrives on the session's event loop.
public protocol EngineMessageHandler: AnyObject {
    func sessionOpened(_ session: EngineSession)
    func received(text: String, on session: EngineSession)
    func received(binary: ByteBuffer, on session: EngineSession)
    func sessionClosed(_ session: EngineSession, reason: DisconnectReason)
    /// A chained stream was skipped for this lagging session (`skipped`: its sequences, when
    /// known): send a snapshot, then call ``EngineSession/endResync(_:)`` (the stream is held
    /// until then).
    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, on session: EngineSession)
    /// Numbered messages of a declared-gap stream were skipped for this lagging session: the
    /// frame that tells the client, sent in their place (nil: nothing to send).
    func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, on session: EngineSession) -> EncodedFrame?
}

extension EngineMessageHandler {
    public func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, on session: EngineSession) {
        session.endResync(key)
    }

    public func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, on session: EngineSession) -> EncodedFrame? { nil }
}

/// What the handshake request told us, kept for namespace authorisation.
public struct HandshakeInfo: Sendable {
    /// The `Authorization` header, when it names a bearer token no larger than a token may be;
    /// nothing else of the request is kept (a session lives for hours, its request's headers
    /// are the client's to size).
    public var authorization: String?
    public var remoteAddress: String?
    /// The parser of the path the client connected to.
    public var parser: SocketIOParser

    /// Authorization values longer than this are not kept (tokens are at most 8 KiB).
    public static let maximumAuthorizationBytes = 8 * 1024 + 16

    public init(authorization: String? = nil, remoteAddress: String? = nil, parser: SocketIOParser = .json) {
        self.authorization = authorization.flatMap { $0.utf8.count <= Self.maximumAuthorizationBytes ? $0 : nil }
        self.remoteAddress = remoteAddress
        self.parser = parser
    }

    /// The client's address: the connection's peer, or, when the peer is one of the `trusted`
    /// proxies, the nearest address in its `X-Forwarded-For` that is not a trusted proxy. A
    /// client that is not behind a trusted proxy cannot choose its address with the header.
    public static func clientAddress(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String? {
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
        return hops.last { !trusted.contains($0) } ?? hops.first ?? peer
    }

    /// The token of an `Authorization: Bearer <token>` header.
    public var bearerToken: String? {
        authorization.flatMap(BearerToken.parse)
    }
}

/// `Authorization: Bearer <token>` parsing, shared by the Socket.IO handshake and the HTTP API.
public enum BearerToken {
    public static func parse(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        var token = Substring(parts[1])
        while token.last == " " || token.last == "\t" { token.removeLast() }
        while token.first == " " { token.removeFirst() }
        return token.isEmpty ? nil : String(token)
    }
}
