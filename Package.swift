// swift-tools-version: 6.1
import Foundation
import PackageDescription

// Opt-in targets keep the everyday build small: the stock Hummingbird WebSocket server the
// benchmarks compare against only builds with GATEWAY_BENCH=1, the libFuzzer harness only
// with GATEWAY_FUZZ=1.
let environment = ProcessInfo.processInfo.environment
let withBenchmarks = environment["GATEWAY_BENCH"] == "1"
let withFuzzer = environment["GATEWAY_FUZZ"] == "1"

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

var products: [Product] = [
    .executable(name: "gateway", targets: ["App"]),
    .library(name: "SocketIOCodec", targets: ["SocketIOCodec"]),
    .library(name: "GatewayClient", targets: ["GatewayClient"]),
]

var dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
]

var targets: [Target] = [
    // JSON that keeps key order and number text (prices stay as the feed wrote them).
    .target(
        name: "GatewayJSON",
        dependencies: [.product(name: "NIOCore", package: "swift-nio")],
        path: "Sources/JSON",
        swiftSettings: upcoming
    ),
    // Pure Engine.IO v4 / Socket.IO v5 codec: bytes in, packets out. No I/O, no clocks.
    .target(
        name: "SocketIOCodec",
        dependencies: ["GatewayJSON", .product(name: "NIOCore", package: "swift-nio")],
        swiftSettings: upcoming
    ),
    // permessage-deflate (negotiation, compress once, bounded inflate) and HTTP body
    // compression, on zlib through compress-nio. Pure: bytes in, bytes out.
    .target(
        name: "WireCompression",
        dependencies: [
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ],
        swiftSettings: upcoming
    ),
    // SPEC §7 metric catalogue on swift-metrics, exposed through swift-prometheus.
    .target(
        name: "GatewayMetrics",
        dependencies: [
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
        path: "Sources/Metrics",
        swiftSettings: upcoming
    ),
    // Transport-agnostic engine: sessions, heartbeats, namespaces, rooms, broadcaster.
    .target(
        name: "GatewayCore",
        dependencies: [
            "GatewayJSON",
            "SocketIOCodec",
            "GatewayMetrics",
            "WireCompression",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Atomics", package: "swift-atomics"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
        ],
        // The broadcast loop touches class properties per subscriber; dynamic exclusivity
        // checks showed up in profiles and buy nothing in loop-confined code.
        swiftSettings: upcoming + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
    ),
    // The network edge: Hummingbird HTTP routes, Engine.IO polling, WebSocket upgrade into a
    // synchronous NIO handler.
    .target(
        name: "GatewayServer",
        dependencies: [
            "GatewayCore",
            "GatewayTLS",
            "SocketIOCodec",
            "GatewayMetrics",
            "WireCompression",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
    // Market data: feed message validation, order books (seq, CRC32), sources.
    .target(
        name: "MarketFeed",
        dependencies: [
            "GatewayJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ],
        swiftSettings: upcoming
    ),
    // TLS on swift-nio-ssl: the listener's reloadable certificate, clients' trust and files.
    .target(
        name: "GatewayTLS",
        dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ],
        path: "Sources/TLS",
        swiftSettings: upcoming
    ),
    // libjwt through pkg-config (Debian: libjwt-dev).
    .systemLibrary(name: "CLibJWT", pkgConfig: "libjwt", providers: [.apt(["libjwt-dev"])]),
    // OpenSSL's libcrypto (Debian: libssl-dev): JWK to public key conversion, Ed25519, HMAC.
    .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    // Token verification: libjwt for signatures, Swift for the algorithm rule and the claims.
    .target(
        name: "JWTAuth",
        dependencies: ["CLibJWT", "COpenSSL", "GatewayJSON"],
        swiftSettings: upcoming
    ),
    // hiredis through pkg-config (Debian: libhiredis-dev): its RESP formatter and reply reader.
    .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
    // Redis on NIO sockets with hiredis's wire code: reconnecting links, SUBSCRIBE, XREAD.
    .target(
        name: "RedisBridge",
        dependencies: [
            "CHiredis",
            "GatewayTLS",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
    // The namespace handlers (/, /prices, /market, /user, /admin).
    .target(
        name: "Namespaces",
        dependencies: [
            "GatewayCore",
            "GatewayMetrics",
            "JWTAuth",
            "MarketFeed",
            "GatewayJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
    // Cluster mode (SPEC §8) on Redis: the core's ports (Broker, HistoryStore, presence,
    // shared rate limits) implemented over RedisBridge. Knows no namespace.
    .target(
        name: "Cluster",
        dependencies: [
            "GatewayCore",
            "GatewayJSON",
            "GatewayMetrics",
            "RedisBridge",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
    // The client library: a self-reconnecting Socket.IO client with typed streams (prices,
    // verified order books, trades, recovered user events); `gateway admin` and `gateway watch`.
    .target(
        name: "GatewayClient",
        dependencies: [
            "GatewayJSON",
            "GatewayTLS",
            "MarketFeed",
            "WireCompression",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            "SocketIOCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ],
        swiftSettings: upcoming
    ),
    // Test-support echo server: the app the official Engine.IO / Socket.IO protocol test
    // suites expect, built on the same core and edge as the gateway.
    .executableTarget(
        name: "ConformanceServer",
        dependencies: [
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            "GatewayCore",
            "GatewayServer",
            "GatewayMetrics",
            "GatewayJSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ],
        swiftSettings: upcoming
    ),
    // The `gateway` executable: configuration, CLI, wiring, lifecycle.
    .executableTarget(
        name: "App",
        dependencies: [
            "GatewayCore",
            "GatewayServer",
            "GatewayMetrics",
            "GatewayClient",
            "JWTAuth",
            "MarketFeed",
            "Namespaces",
            "RedisBridge",
            "Cluster",
            "GatewayJSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ],
        // The browser dashboard's static files, copied beside the executable.
        resources: [.copy("Dashboard"), .copy("OpenAPI")],
        swiftSettings: upcoming
    ),
    // The client library: pure parts, and streams against the real gateway executable.
    .testTarget(
        name: "GatewayClientTests",
        dependencies: [
            "GatewayClient",
            "GatewayJSON",
            "JWTAuth",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "WireCompressionTests",
        dependencies: [
            "WireCompression",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "SocketIOCodecTests",
        dependencies: ["SocketIOCodec", "GatewayJSON", .product(name: "NIOCore", package: "swift-nio")],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "JWTAuthTests",
        dependencies: ["JWTAuth"],
        resources: [.copy("Fixtures")],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "MarketFeedTests",
        dependencies: ["MarketFeed", "GatewayJSON"],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "NamespacesTests",
        dependencies: [
            "Namespaces", "GatewayCore", "GatewayServer", "GatewayMetrics", "JWTAuth", "MarketFeed", "GatewayJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "RedisBridgeTests",
        dependencies: ["RedisBridge", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "ClusterTests",
        dependencies: ["Cluster", "GatewayCore", "GatewayJSON"],
        swiftSettings: upcoming
    ),
    .testTarget(
        name: "GatewayCoreTests",
        dependencies: [
            "GatewayCore", "GatewayServer", "GatewayMetrics", "GatewayJSON", "SocketIOCodec", "WireCompression",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
    // The edge's channel handlers on EmbeddedChannel: WebSocket frames in, frames out.
    .testTarget(
        name: "GatewayServerTests",
        dependencies: [
            "GatewayServer", "GatewayCore", "GatewayMetrics", "SocketIOCodec", "WireCompression",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: upcoming
    ),
]

// The load tool always builds (`make test` runs it); its dependencies are already in the graph.
targets.append(
    .executableTarget(
        name: "GatewayBench",
        dependencies: [
            "GatewayCore",
            "GatewayJSON",
            "GatewayTLS",
            "MarketFeed",
            "Namespaces",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ],
        path: "Benchmarks/GatewayBench",
        swiftSettings: upcoming
    )
)
products.append(.executable(name: "gateway-bench", targets: ["GatewayBench"]))

if withBenchmarks {
    dependencies.append(.package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"))
    targets.append(
        .executableTarget(
            name: "StockWebSocketServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/StockWebSocketServer",
            swiftSettings: upcoming
        )
    )
    targets.append(
        .executableTarget(
            name: "NIOFloorServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Benchmarks/NIOFloorServer",
            swiftSettings: upcoming
        )
    )
    products.append(.executable(name: "nio-floor-server", targets: ["NIOFloorServer"]))
}

if withFuzzer {
    // Coverage instrumentation + ASan; libFuzzer's driver without its main (Fuzz/run-fuzzer.sh
    // passes the toolchain's libclang_rt.fuzzer_no_main archive in GATEWAY_FUZZ_LIB).
    let fuzzerLibrary = environment["GATEWAY_FUZZ_LIB"] ?? ""
    targets.append(
        .executableTarget(
            name: "CodecFuzzer",
            dependencies: ["SocketIOCodec", "GatewayJSON", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/CodecFuzzer",
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=address", "-Xlinker", fuzzerLibrary, "-lstdc++"])]
        )
    )
}

let package = Package(
    name: "realtime-gateway",
    platforms: [.macOS(.v15)],
    products: products,
    dependencies: dependencies,
    targets: targets,
    swiftLanguageModes: [.v6]
)
