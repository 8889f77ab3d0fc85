import GatewayCore

/// What bounds plain HTTP connections on a listener (request-head and idle deadlines, head
/// sizes, connection counts): an engine's configuration and metrics, and the loop contexts whose
/// timer queues carry the deadlines. A listener serving Engine.IO takes its engine's; one that
/// serves only the HTTP API on loops of its own (the internal port) is given them.
public struct HTTPLimits: Sendable {
    public let engine: EngineServer
    public let loops: LoopContexts

    public init(engine: EngineServer, loops: LoopContexts) {
        self.engine = engine
        self.loops = loops
    }
}
