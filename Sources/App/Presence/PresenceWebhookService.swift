import ServiceLifecycle

/// Runs the ``PresenceWebhook`` sender for the life of the process.
struct PresenceWebhookService: Service {
    let webhook: PresenceWebhook

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await webhook.run()
        }
    }
}
