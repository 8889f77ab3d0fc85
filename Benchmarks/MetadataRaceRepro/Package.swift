// swift-tools-version: 6.1
// A minimal reproducer of a Swift runtime crash (Swift 6.3.1, Linux x86_64): generic type metadata
// instantiated for the first time on several threads at once can crash in
// `swift_checkMetadataState` (a null pointer, while another thread holds the metadata cache entry).
// The gateway met it on connections accepted the instant its port opened; see README.md here.
import PackageDescription

let package = Package(
    name: "MetadataRaceRepro",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "MetadataRaceRepro",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
