import ServiceLifecycle

/// Runs the ``JWKSRefresher`` for the life of the process.
struct JWKSRefreshService: Service {
    let refresher: JWKSRefresher

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await refresher.run()
        }
    }
}
