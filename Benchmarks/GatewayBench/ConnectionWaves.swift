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
        let symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]
        report("\(label) wave=0 before: \(serverState(serverPID))")
        for wave in 1...waves {
            let started = NIODeadline.now()
            var channels: [any Channel] = []
            var failed = 0
            channels.reserveCapacity(clients)
            try await withThrowingTaskGroup(of: (any Channel)?.self) { tasks in
                var next = 0
                func add() {
                    let index = next
                    next += 1
                    tasks.addTask {
                        let loop = loops[index % loops.count]
                        let stats = statsByLoop[index % loops.count].1
                        let begin = NIODeadline.now()
                        do {
                            let channel = try await connect(port: port, loop: loop, symbol: symbols[index % symbols.count], stats: stats)
                            let elapsed = UInt64((NIODeadline.now() - begin).nanoseconds)
                            try await loop.submit { stats.record(latencyNanos: elapsed) }.get()
                            return channel
                        } catch {
                            return nil
                        }
                    }
                }
                while next < min(inFlight, clients) { add() }
                for try await channel in tasks {
                    if let channel { channels.append(channel) } else { failed += 1 }
                    if next < clients { add() }
                }
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

    /// One client: WebSocket handshake, `/prices` CONNECT, subscribe with an ack.
    static func connect(port: Int, loop: any EventLoop, symbol: String, stats: LoopStats) async throws -> any Channel {
        let ready = loop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try BenchTLS.install(on: channel)
                    try channel.pipeline.syncOperations.addHandler(
                        BenchConnection(proto: .feed(symbol: symbol), path: "/socket.io/?EIO=4&transport=websocket", stats: LoopStats(), ready: ready)
                    )
                }
            }
            .connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: port)).get()
        do {
            try await ready.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
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
