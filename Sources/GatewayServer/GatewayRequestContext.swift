import Hummingbird
import NIOCore

/// The request context of every gateway route: Hummingbird's core storage plus the channel, so
/// polling handshakes can pin a session to the event loop that accepted them.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Polling POST bodies are limited by the engine's maxPayload, not by this.
    public var maxUploadSize: Int { 2 * 1024 * 1024 }
}
