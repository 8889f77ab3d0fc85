import HTTPTypes
import NIOCore

/// A route answered on the connection's own event loop, with no Swift task: the request is read,
/// handled and answered between two socket reads. For the producers' market ingest, whose round
/// trip must not wait for a cooperative-pool thread while the loops fan ticks out (a task per
/// request made a producer's POST wait tens of milliseconds behind the fan-out, and every tick
/// with it). `respond` runs on an event loop, so it must not block: parse, check, hand over.
///
/// Only requests that say their length (`Content-Length`) up to `bodyLimit` are taken inline;
/// larger or chunked ones go to the router's route, which must serve the same path.
public struct InlineRoute: Sendable {
    public let method: HTTPRequest.Method
    /// The path without a query string, e.g. `/api/v1/market`.
    public let path: String
    /// The largest body handled on the loop.
    public let bodyLimit: Int
    /// A declared body over this length is answered with `tooLarge` at its head, unread, and
    /// the connection closes (the router's route would read it first).
    public let maxBody: Int
    public let tooLarge: InlineResponse
    /// Checks the head before any of the body is read (authorization): nil to go on, else the
    /// answer; the body is then read past, never kept.
    public let admit: @Sendable (HTTPRequest) -> InlineResponse?
    public let respond: @Sendable (InlineRequest) -> InlineResponse

    public init(
        method: HTTPRequest.Method, path: String, bodyLimit: Int, maxBody: Int, tooLarge: InlineResponse,
        admit: @escaping @Sendable (HTTPRequest) -> InlineResponse? = { _ in nil },
        respond: @escaping @Sendable (InlineRequest) -> InlineResponse
    ) {
        self.method = method
        self.path = path
        self.bodyLimit = bodyLimit
        self.maxBody = maxBody
        self.tooLarge = tooLarge
        self.admit = admit
        self.respond = respond
    }

    /// True for this route's method and path.
    func matches(_ head: HTTPRequest) -> Bool {
        guard head.method == method, let target = head.path, target.hasPrefix(path) else { return false }
        let rest = target.utf8.dropFirst(path.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "?")
    }

    /// The body length the head declares (nil: chunked, none said, or not a length: the router
    /// and its parser deal with those). Never negative, never past `Int`: it sizes a buffer.
    static func declaredLength(_ head: HTTPRequest) -> Int? {
        guard head.headerFields[.transferEncoding] == nil, let length = head.headerFields[.contentLength].flatMap(Int.init), length >= 0 else {
            return nil
        }
        return length
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
