import GatewayJSON
import ArgumentParser
import Foundation
import GatewayClient

/// `gateway admin stats|broadcast|kick|maintenance --url --token`: talks to `/admin` like any
/// Socket.IO client, for operators without a dashboard. Prints the ack as JSON.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operate a running gateway through /admin.",
        subcommands: [Stats.self, Broadcast.self, Kick.self, Maintenance.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: "Gateway URL (http://, https://, ws:// or wss://).") var url: String = "http://127.0.0.1:3000"
        @Option(help: "PEM CA certificates to trust for https:// and wss:// (default: the system's).") var caFile: String?
        @Option(help: "Admin token (default: $GATEWAY_ADMIN_TOKEN).") var token: String?

        func call(_ event: String, _ payload: JSONValue) async throws {
            guard let token = token ?? ProcessInfo.processInfo.environment["GATEWAY_ADMIN_TOKEN"] else {
                throw ValidationError("pass --token or set GATEWAY_ADMIN_TOKEN (an admin token; see `gateway token --role admin`)")
            }
            let reply: JSONValue
            do {
                let client = try SocketIOClient(url: url, caFile: caFile)
                reply = try await client.call(namespace: "/admin", auth: .object(["token": .string(token)]), event: event, payload: payload)
            } catch let failure as GatewayClientError {
                FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
                throw ExitCode(1)
            }
            print(JSONSerializer.serialize(reply))
            if reply["ok"] == .bool(false) { throw ExitCode(1) }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Connections, users, traffic, limits hit.")
        @OptionGroup var connection: Connection
        func run() async throws { try await connection.call("admin.command", .object(["command": "stats"])) }
    }

    struct Broadcast: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "system.broadcast to every socket (or to --namespace ones).")
        @OptionGroup var connection: Connection
        @Argument(help: "The message.") var message: String
        @Option(help: "info, warning or critical.") var level: String = "info"
        @Option(help: "Namespace to reach (repeatable; default all).") var namespace: [String] = []
        func run() async throws {
            var members = [JSONMember("message", .string(message)), JSONMember("level", .string(level))]
            if !namespace.isEmpty { members.append(JSONMember("namespaces", .array(namespace.map { .string($0) }))) }
            try await connection.call("admin.broadcast", .object(members))
        }
    }

    struct Kick: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close every connection of a user, or one socket.")
        @OptionGroup var connection: Connection
        @Option(help: "User id.") var user: String?
        @Option(help: "Socket id.") var sid: String?
        func run() async throws {
            guard (user == nil) != (sid == nil) else { throw ValidationError("pass exactly one of --user and --sid") }
            var members = [JSONMember("command", "kick")]
            if let user { members.append(JSONMember("userId", .string(user))) }
            if let sid { members.append(JSONMember("sid", .string(sid))) }
            try await connection.call("admin.command", .object(members))
        }
    }

    struct Maintenance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn maintenance mode on or off.")
        @OptionGroup var connection: Connection
        @Argument(help: "on or off.") var state: String
        @Option(help: "Message shown to clients.") var message: String?
        func run() async throws {
            guard state == "on" || state == "off" else { throw ValidationError("state must be on or off") }
            var members = [JSONMember("command", "maintenance"), JSONMember("enabled", .bool(state == "on"))]
            if let message { members.append(JSONMember("message", .string(message))) }
            try await connection.call("admin.command", .object(members))
        }
    }
}
