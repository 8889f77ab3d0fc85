import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `gateway` executable (built beside the tests), started on a loopback port.
final class GatewayProcess: @unchecked Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var binary: URL {
        let directory = ProcessInfo.processInfo.environment["GATEWAY_BIN_DIR"].map { URL(fileURLWithPath: $0) }
            ?? repository.appendingPathComponent(".build/debug")
        return directory.appendingPathComponent("gateway")
    }

    let port: Int
    let environment: [String: String]
    let configFile: URL
    let log: URL
    private var process: Process?

    var url: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, environment: [String: String], configFile: URL) {
        self.port = port
        self.environment = environment
        self.configFile = configFile
        log = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-client-test-\(UUID().uuidString).log")
    }

    /// A gateway started on `port` (default: a free one), with the shipped configuration where
    /// each `edits` key (its text in config/gateway.yaml) is replaced by its value.
    static func launch(port: Int? = nil, environment: [String: String] = [:], edits: [String: String] = [:]) async throws -> GatewayProcess {
        var configFile = repository.appendingPathComponent("config/gateway.yaml")
        if !edits.isEmpty {
            var text = try String(contentsOf: configFile, encoding: .utf8)
            for (old, new) in edits {
                guard text.contains(old) else { throw TestFailure("config/gateway.yaml has no '\(old)'") }
                text = text.replacingOccurrences(of: old, with: new)
            }
            configFile = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-client-test-\(UUID().uuidString).yaml")
            try text.write(to: configFile, atomically: true, encoding: .utf8)
        }
        let gateway = GatewayProcess(port: try port ?? freePort(), environment: environment, configFile: configFile)
        try await gateway.start()
        return gateway
    }

    /// Starts (again) on the same port and waits until it answers `/health`. The waiting
    /// blocks, so it runs off Swift's cooperative pool (two threads on this machine), where it
    /// would starve the client under test.
    func start() async throws {
        try await offCooperativePool { try self.startBlocking() }
    }

    private func startBlocking() throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--config", configFile.path, "--port", "\(port)"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning { throw TestFailure("the gateway exited at start: \(output())") }
            if canConnect(port: port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("the gateway did not listen on \(port)")
    }

    /// SIGKILL: the gateway vanishes as in a crash (sockets reset, nothing saved).
    func kill() async {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        try? await offCooperativePool { process.waitUntilExit() }
    }

    /// SIGKILL without waiting: the tests are done with it.
    func stop() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
    }

    deinit { stop() }

    func output() -> String {
        (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }

    /// A request to the gateway's HTTP API; the status and body.
    func http(_ method: String, _ path: String, body: String?, token: String?) async throws -> (status: Int, data: Data) {
        var request = URLRequest(url: URL(string: url + path)!, timeoutInterval: 5)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}

/// Runs blocking work (process waits, sleeps) on a Dispatch thread.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
