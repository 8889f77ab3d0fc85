import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// Fan-out load client: N subscribers on one room, one sender emitting ~150-byte events at
/// rising rates; reports deliveries per second and p50/p99 feed→socket latency per rate.
@main
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway-bench", abstract: "Fan-out benchmark client.")

    @Option(help: "Server port on 127.0.0.1") var port: Int = 3000
    @Option(help: "socketio (echo-app fan-out), raw (stock WebSocket server), feed (the gateway's /prices with its simulator), waves (connect, subscribe and leave in waves), book (in-process order-book cost)")
    var mode: String = "socketio"
    @Option(help: "feed mode: symbols the subscribers are spread over") var symbols: String = "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"
    @Option(help: "feed mode: measurement windows") var windows: Int = 3
    @Option(help: "Subscriber connections") var subscribers: Int = 1000
    @Option(help: "Broadcasts per second, comma separated steps") var rates: String = "250,500,1000,1500,2000"
    @Option(help: "Seconds per step") var seconds: Double = 3
    @Option(help: "Client event-loop threads") var threads: Int = 2
    @Option(help: "Label printed with each result line") var label: String = "gateway"
    @Option(help: "feed mode: spread the subscribers over these ports, comma separated (default: --port)") var ports: String?
    @Option(help: "waves mode: how many waves of --subscribers clients") var waves: Int = 2
    @Option(help: "waves mode: connections in flight at once") var inFlight: Int = 1000
    @Option(help: "waves mode: the server's process id, for its RSS and descriptors") var serverPid: Int?
    @Option(help: "Connect over TLS (wss://), trusting the CA certificates in this PEM file") var caFile: String?
    @Option(help: "feed mode: symbols each subscriber subscribes to (consecutive ones from --symbols)") var symbolsPerClient: Int = 1

    func run() async throws {
        if mode == "book" { return BookBench.run() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        try BenchTLS.configure(caFile: caFile)
        if mode == "waves" {
            try await ConnectionWaves.run(
                port: port, clients: subscribers, waves: waves, inFlight: inFlight, serverPID: serverPid, group: group, label: label
            )
            return try await group.shutdownGracefully()
        }
        let statsByLoop = group.makeIterator().map { ($0, LoopStats()) }
        func stats(for loop: any EventLoop) -> LoopStats { statsByLoop.first { $0.0 === loop }!.1 }
        let proto: BenchConnection.WireProtocol = mode == "raw" ? .raw : .socketIO(namespace: "/bench", room: "bench")
        let path = mode == "raw" ? "/" : "/socket.io/?EIO=4&transport=websocket"

        func connect(_ proto: BenchConnection.WireProtocol, port: Int = port) async throws -> any Channel {
            let loop = group.next()
            let ready = loop.makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try BenchTLS.install(on: channel)
                        try channel.pipeline.syncOperations.addHandler(
                            BenchConnection(proto: proto, path: path, stats: stats(for: channel.eventLoop), ready: ready)
                        )
                    }
                }
                .connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: port)).get()
            try await ready.futureResult.get()
            return channel
        }

        var channels: [any Channel] = []
        if mode == "feed" {
            let symbolList = symbols.split(separator: ",").map(String.init)
            let portList = ports.map { $0.split(separator: ",").compactMap { Int($0) } } ?? [port]
            // While the feed runs, each handshake waits behind live traffic: connect 100 at a time.
            for start in stride(from: 0, to: subscribers, by: 100) {
                try await withThrowingTaskGroup(of: (any Channel).self) { group in
                    for index in start..<min(subscribers, start + 100) {
                        // Several symbols go in one subscribe: the protocol takes them joined as JSON strings.
                        let chosen = (0..<symbolsPerClient).map { symbolList[(index * symbolsPerClient + $0) % symbolList.count] }
                        group.addTask { try await connect(.feed(symbol: chosen.joined(separator: "\",\"")), port: portList[index % portList.count]) }
                    }
                    for try await channel in group { channels.append(channel) }
                }
            }
            try await Task.sleep(for: .seconds(1))
            for _ in 0..<windows {
                for (loop, stats) in statsByLoop { try await loop.submit { stats.reset() }.get() }
                try await Task.sleep(for: .seconds(seconds))
                var result = WindowResult()
                for (loop, stats) in statsByLoop { try await loop.submit { result.merge(stats) }.get() }
                let line = String(
                    format: "%@ subscribers=%d symbols=%d per-client=%d deliveries=%.0f/s p50=%.2fms p99=%.2fms (ms resolution)",
                    label, subscribers, symbolList.count, symbolsPerClient, Double(result.received) / seconds, result.quantile(0.5), result.quantile(0.99)
                ) + "\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            for channel in channels { channel.close(promise: nil) }
            try await group.shutdownGracefully()
            return
        }
        for _ in 0..<subscribers { channels.append(try await connect(proto)) }
        let senderProto: BenchConnection.WireProtocol = mode == "raw" ? .raw : .socketIO(namespace: "/bench", room: nil)
        let sender = try await connect(senderProto)
        try await Task.sleep(for: .milliseconds(500))

        let pad = String(repeating: "x", count: 96)
        for rate in rates.split(separator: ",").compactMap({ Int($0) }) {
            for (loop, stats) in statsByLoop { try await loop.submit { stats.reset() }.get() }
            let ticks = try await drive(sender: sender, rate: rate, seconds: seconds, pad: pad)
            // Let in-flight deliveries land before reading the window.
            try await Task.sleep(for: .milliseconds(300))
            var result = WindowResult()
            for (loop, stats) in statsByLoop { try await loop.submit { result.merge(stats) }.get() }
            let expected = ticks * subscribers
            let perSecond = Double(result.received) / seconds
            let line =
                String(
                    format: "%@ subscribers=%d rate=%d/s deliveries=%.0f/s delivered=%.1f%% p50=%.2fms p99=%.2fms",
                    label, subscribers, rate, perSecond, 100 * Double(result.received) / Double(max(expected, 1)),
                    result.quantile(0.5), result.quantile(0.99)
                ) + "\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        for channel in channels { channel.close(promise: nil) }
        sender.close(promise: nil)
        try await group.shutdownGracefully()
    }

    /// Sends `rate` broadcasts per second for `seconds`, in 1 ms batches; returns how many.
    func drive(sender: any Channel, rate: Int, seconds: Double, pad: String) async throws -> Int {
        let total = Int(Double(rate) * seconds)
        let start = NIODeadline.now()
        var sent = 0
        while sent < total {
            let due = min(total, Int(Double(rate) * Double((NIODeadline.now() - start).nanoseconds) / 1e9) + 1)
            if due > sent {
                let batch = due - sent
                let raw = mode == "raw"
                try await sender.eventLoop.submit {
                    for _ in 0..<batch {
                        let t = NIODeadline.now().uptimeNanoseconds
                        let event = #"42/bench,["tick",{"t":\#(t),"pad":"\#(pad)"}]"#
                        let text = raw ? "B" + event : #"42/bench,["broadcast","bench","tick",{"t":\#(t),"pad":"\#(pad)"}]"#
                        sender.write(BenchConnection.frame(text, allocator: sender.allocator), promise: nil)
                    }
                    sender.flush()
                }.get()
                sent = due
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        return total
    }
}
