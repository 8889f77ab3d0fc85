import NIOCore

/// The answer to a polling request, decided on the session's loop and written by the edge.
public enum PollResponse: Sendable {
    /// 200 with a text/plain payload body.
    case payload(ByteBuffer)
    /// 200 `ok` for a POST.
    case ok
    /// An Engine.IO error: status plus `{"code","message"}`.
    case error(EngineRequestError)
    /// An error status with an empty body (duplicate GET/POST, oversized POST).
    case emptyError(status: Int)
}
