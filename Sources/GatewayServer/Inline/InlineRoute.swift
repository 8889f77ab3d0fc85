import HTTPTypes
import NIOCore

/// A route answered on the connection's own event loop, with no Swift task: the request is read,
/// handled and answered between two socket reads. For the producers' market ingest, whose round
/// trip must not wait for a cooperative-pool thread while the loops fan ticks out (a task per
/// request made a producer's POST wait tens of milliseconds behind the fan-out, and every tick
/// with it). `respond` runs on an event loop, so it must not block: parse, check, hand over.
public struct InlineRoute: Sendable {
    public let method: HTTPRequest.Method
    /// The path without a query string, e.g. `/api/v1/market`.
    public let path: String
    /// The largest body accepted; a larger one is answered with `tooLarge` and never buffered.
    public let bodyLimit: Int
    public let respond: @Sendable (InlineRequest) -> InlineResponse
    /// The answer to a body over `bodyLimit` (413).
    public let tooLarge: InlineResponse

    public init(
        method: HTTPRequest.Method, path: String, bodyLimit: Int, tooLarge: InlineResponse,
        respond: @escaping @Sendable (InlineRequest) -> InlineResponse
    ) {
        self.method = method
        self.path = path
        self.bodyLimit = bodyLimit
        self.tooLarge = tooLarge
        self.respond = respond
    }

    func matches(_ head: HTTPRequest) -> Bool {
        guard head.method == method, let target = head.path else { return false }
        guard target.hasPrefix(path) else { return false }
        let rest = target.utf8.dropFirst(path.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "?")
    }
}

/// What an inline route gets: the request head and its whole body.
public struct InlineRequest: Sendable {
    public let head: HTTPRequest
    public let body: ByteBuffer
}

/// What an inline route answers: always a complete response with a body (JSON here).
public struct InlineResponse: Sendable {
    public let status: HTTPResponse.Status
    public let headers: HTTPFields
    public let body: ByteBuffer

    public init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
