import Logging
import MarketFeed
import ServiceLifecycle

/// Runs one feed driver (simulator or replay) into the market state until shutdown.
struct FeedDriverService: Service {
    let driver: any FeedDriver
    let sink: any FeedSink
    let logger: Logger

    func run() async throws {
        let task = try await driver.start(into: sink).get()
        logger.info("Market feed running", metadata: ["feed.source": "\(driver.kind.rawValue)"])
        try? await gracefulShutdown()
        task.cancel()
    }
}
