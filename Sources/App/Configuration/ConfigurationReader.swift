import Foundation

/// Typed access to a ``ConfigurationSource`` with one problem line per bad value; every
/// component's configuration reads its keys through it.
struct ConfigurationReader {
    let source: ConfigurationSource
    private(set) var problems: [String] = []

    init(source: ConfigurationSource) {
        self.source = source
    }

    func raw(_ path: String) -> String {
        source.values[path] ?? ConfigurationKey.byPath[path]!.defaultValue
    }

    mutating func problem(_ path: String, _ message: String) {
        let origin = source.origins[path].map { " (from \($0))" } ?? ""
        // Secrets are never echoed back (a Redis URL may carry a password).
        let shown = path == "jwt.secret" || path == "jwt.previousSecret" || path == "presence.webhookSecret" || (path == "redis.url" && raw(path).contains("@")) ? "<hidden>" : raw(path)
        problems.append("\(path) = '\(shown)'\(origin): \(message)")
    }

    mutating func string(_ path: String) -> String { raw(path) }

    mutating func int(_ path: String, in range: ClosedRange<Int>) -> Int {
        guard let value = Int(raw(path).trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            problem(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            return Int(ConfigurationKey.byPath[path]!.defaultValue) ?? range.lowerBound
        }
        return value
    }

    mutating func positiveDouble(_ path: String) -> Double {
        guard let value = Double(raw(path).trimmingCharacters(in: .whitespaces)), value > 0, value <= 10_000 else {
            problem(path, "expected a number above 0 and at most 10000")
            return 1
        }
        return value
    }

    mutating func optionalInt(_ path: String, in range: ClosedRange<Int>) -> Int? {
        let text = raw(path).trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        guard let value = Int(text), range.contains(value) else {
            problem(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func list(_ path: String) -> [String] {
        raw(path).split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    mutating func choice(_ path: String, _ allowed: [String]) -> String? {
        let value = raw(path).lowercased()
        guard allowed.contains(value) else {
            problem(path, "expected one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// An `http://` or `https://` URL with a host; nil when empty (the feature is off) or bad.
    mutating func httpURL(_ path: String) -> URL? {
        guard let text = string(path).nonEmpty else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            problem(path, "expected an http:// or https:// URL")
            return nil
        }
        return url
    }

    /// A readable file's path; nil when empty.
    mutating func readableFile(_ path: String) -> String? {
        guard let file = string(path).nonEmpty else { return nil }
        if !FileManager.default.isReadableFile(atPath: file) { problem(path, "cannot read the file") }
        return file
    }

    mutating func bool(_ path: String) -> Bool {
        choice(path, ["true", "false"]) == "true"
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
