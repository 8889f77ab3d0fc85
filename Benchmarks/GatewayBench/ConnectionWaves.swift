import Foundation
import NIOCore
import NIOPosix

/// Waves of clients that connect to `/prices`, subscribe (with an ack), and then exit the way a
/// crashed or closed client process does: the kernel closes the socket (FIN, no close frame).
/// Each wave starts right after the previous one left. Per wave: connections per second, p50/p99
/// of connect → subscribe-ack, and the server's RSS and open descriptors after the wave and
/// after it left, so a server that keeps departed clients shows it in the next wave.
enum ConnectionWaves {
    static func run(port: Int, clients: Int, waves: Int, inFlight: Int, serverPID: Int?, group: MultiThreadedEventLoopGroup, label: String) async throws {
        let loops = group.makeIterator().map { $0 }
        let statsByLoop = loops.map { ($0, LoopStats()) }
        // What the clients' connections record (ticks, if any): one per loop, not one per
        // connection (a LoopStats is an 800 kB histogram).
        let tickStats = loops.map { _ in LoopStats() }
        let symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]
        report("\(label) wave=0 before: \(serverState(serverPID))")
        for wave in 1...waves {
            let started = NIODeadline.now()
            // Each loop runs its share with futures only (LoopWave): the client's cost stays small.
            let shares = loops.enumerated().map { index, loop in
                LoopWave(
                    loop: loop, clients: clients / loops.count + (index < clients % loops.count ? 1 : 0),
                    limit: inFlight / loops.count + (index < inFlight % loops.count ? 1 : 0), stats: statsByLoop[index].1
                ) { loop in
                    let symbol = symbols[Int.random(in: 0..<symbols.count)]
                    return startClient(port: port, loop: loop, symbol: symbol, stats: tickStats[index])
                }
            }
            for share in shares { share.loop.execute { share.run() } }
            for share in shares { try await share.done.futureResult.get() }
            var channels: [any Channel] = []
            var failed = 0
            for share in shares {
                let (opened, lost) = try await share.loop.submit { (share.channels, share.failed) }.get()
                channels += opened
                failed += lost
            }
            let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
            var result = WindowResult()
            for (loop, stats) in statsByLoop {
                try await loop.submit {
                    result.merge(stats)
                    stats.reset()
                }.get()
            }
            report(String(
                format: "%@ wave=%d clients=%d connected=%d failed=%d rate=%.0f/s p50=%.1fms p99=%.1fms %@",
                label, wave, clients, channels.count, failed, Double(channels.count) / seconds,
                result.quantile(0.5), result.quantile(0.99), serverState(serverPID)
            ))
            // Exit as a process does: the kernel closes every socket, no close frame.
            for channel in channels { channel.close(promise: nil) }
            for channel in channels { try? await channel.closeFuture.get() }
            try await Task.sleep(for: .milliseconds(200))
            report("\(label) wave=\(wave) left: \(serverState(serverPID))")
        }
        try await Task.sleep(for: .seconds(2))
        report("\(label) after 2 s: \(serverState(serverPID))")
    }

    /// One client: WebSocket handshake, `/prices` CONNECT, subscribe with an ack; the future
    /// holds the channel once the ack is in.
    static func startClient(port: Int, loop: any EventLoop, symbol: String, stats: LoopStats) -> EventLoopFuture<any Channel> {
        let ready = loop.makePromise(of: Void.self)
        let address: SocketAddress
        do { address = try SocketAddress(ipAddress: "127.0.0.1", port: port) } catch { return loop.makeFailedFuture(error) }
        return ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try BenchTLS.install(on: channel)
                    try channel.pipeline.syncOperations.addHandler(
                        BenchConnection(proto: .feed(symbol: symbol), path: "/socket.io/?EIO=4&transport=websocket", stats: stats, ready: ready)
                    )
                }
            }
            .connect(to: address)
            .flatMap { channel in
                ready.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
    }

    /// The server's resident memory and open descriptors, from /proc.
    static func serverState(_ pid: Int?) -> String {
        guard let pid else { return "" }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let rssKB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        return String(format: "server_rss=%.1fMB server_fds=%d", Double(rssKB) / 1024, fds)
    }

    static func report(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
