/// permessage-deflate negotiation (RFC 7692 §5, §7.1): which client offers the gateway accepts
/// and what it answers. Pure: header values in, a decision out.
///
/// The gateway compresses server-to-client messages without context takeover (so a broadcast is
/// compressed once for every socket) and asks the client to do the same (so no connection keeps
/// an inflate window between messages). An offer the gateway cannot honour is declined and the
/// socket gets plain frames: one that limits the server's window below 15 bits (a message
/// compressed once cannot suit every window), or one with unknown or repeated parameters.
public enum PerMessageDeflate {
    public static let name = "permessage-deflate"

    /// The `Sec-WebSocket-Extensions` value of the 101 response when an offer is accepted.
    public static let response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    /// What a client offers, as browsers do: the extension, and that the server may cap the
    /// client's window. (The gateway answers with no context takeover both ways.)
    public static let clientOffer = "permessage-deflate; client_max_window_bits"

    /// True when one of the offers in the `Sec-WebSocket-Extensions` header values (the header
    /// may repeat, each a comma-separated list) is acceptable.
    public static func accepts(offers headerValues: [String]) -> Bool {
        extensions(in: headerValues).contains { $0.name == name && acceptable($0.parameters) }
    }

    /// What a server's 101 answer agreed to, for a client that offered ``clientOffer``; nil when
    /// the answer did not accept the extension (plain frames only).
    public static func agreement(fromResponse headerValues: [String]) -> Agreement? {
        guard let accepted = extensions(in: headerValues).first(where: { $0.name == name }) else { return nil }
        return Agreement(serverNoContextTakeover: accepted.parameters.contains { $0.name == "server_no_context_takeover" })
    }

    public struct Agreement: Equatable, Sendable {
        /// The server starts every message from an empty window; else the client's inflater
        /// must keep its window from message to message.
        public var serverNoContextTakeover: Bool
    }

    // MARK: Parsing

    struct Extension: Equatable {
        var name: String
        var parameters: [(name: String, value: String?)]

        static func == (lhs: Extension, rhs: Extension) -> Bool {
            lhs.name == rhs.name && lhs.parameters.elementsEqual(rhs.parameters) { $0.name == $1.name && $0.value == $1.value }
        }
    }

    /// RFC 6455 §9.1's grammar, leniently: names lowercased, values unquoted, empty items
    /// skipped. (Quoted values containing commas or semicolons are not needed by any parameter
    /// of this extension.)
    static func extensions(in headerValues: [String]) -> [Extension] {
        HeaderLists.items(headerValues).compactMap { item in
            let parts = item.split(separator: ";").map(HeaderLists.trimmed)
            guard let first = parts.first, !first.isEmpty else { return nil }
            let parameters = parts.dropFirst().filter { !$0.isEmpty }.map { part -> (name: String, value: String?) in
                guard let equals = part.firstIndex(of: "=") else { return (part.lowercased(), nil) }
                var value = HeaderLists.trimmed(part[part.index(after: equals)...])
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
                return (HeaderLists.trimmed(part[..<equals]).lowercased(), value)
            }
            return Extension(name: first.lowercased(), parameters: parameters)
        }
    }

    /// §7.1: every parameter known, none repeated, values valid, and the server's window left
    /// at 15 bits.
    static func acceptable(_ parameters: [(name: String, value: String?)]) -> Bool {
        var seen = Set<String>()
        for (name, value) in parameters {
            guard seen.insert(name).inserted else { return false }
            switch name {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard value == nil else { return false }
            case "server_max_window_bits":
                guard let value, let bits = windowBits(value), bits == 15 else { return false }
            case "client_max_window_bits":
                if let value, windowBits(value) == nil { return false }
            default:
                return false
            }
        }
        return true
    }

    private static func windowBits(_ text: String) -> Int? {
        guard text.count <= 2, text.allSatisfy(\.isASCIIDigit), let bits = Int(text), (8...15).contains(bits) else { return nil }
        return bits
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
