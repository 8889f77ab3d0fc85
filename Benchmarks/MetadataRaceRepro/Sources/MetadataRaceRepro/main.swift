import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization

// Each thread waits until all are ready, then sets up NIO's upgradable HTTP server pipeline on
// its own EmbeddedChannel: the first use in this process of the generic types that set-up
// instantiates by mangled name, on every thread at the same instant (what the gateway's event
// loops did for connections accepted the moment its port opened). Exit 0 means no crash; the
// crash is a signal. One attempt per process: metadata is instantiated once per process.
let threadCount = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 4
let arrived = Atomic<Int>(0)
let finished = Atomic<Int>(0)

struct Ready: Sendable {}

for _ in 0..<threadCount {
    Thread {
        arrived.add(1, ordering: .sequentiallyConsistent)
        while arrived.load(ordering: .sequentiallyConsistent) < threadCount {}
        let channel = EmbeddedChannel()
        let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Ready>(upgraders: []) { channel in
            channel.eventLoop.makeSucceededFuture(Ready())
        }
        _ = try? channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrade)
        )
        _ = try? channel.finish()
        finished.add(1, ordering: .sequentiallyConsistent)
    }.start()
}
while finished.load(ordering: .sequentiallyConsistent) < threadCount { usleep(100) }
