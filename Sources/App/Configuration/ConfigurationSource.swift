import Foundation
import Yams

/// Raw values by key path: the YAML file's scalars (lists joined by commas), then environment
/// overrides. Typing and validation happen in ``GatewayConfiguration``.
struct ConfigurationSource {
    var values: [String: String] = [:]
    /// Where each value came from, for error messages ("WS_PORT", "config/gateway.yaml").
    var origins: [String: String] = [:]
    var problems: [String] = []

    init(yaml: String?, fileName: String, environment: [String: String]) {
        if let yaml { load(yaml: yaml, fileName: fileName) }
        for key in ConfigurationKey.all {
            guard let variable = key.environment, let value = environment[variable] else { continue }
            values[key.path] = value
            origins[key.path] = variable
        }
    }

    private mutating func load(yaml: String, fileName: String) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            problems.append("\(fileName): not valid YAML (\(error))")
            return
        }
        guard let root else { return }
        walk(root, prefix: "", fileName: fileName)
    }

    private mutating func walk(_ node: Node, prefix: String, fileName: String) {
        switch node {
        case .mapping(let mapping):
            for (keyNode, value) in mapping {
                guard let key = keyNode.scalar?.string else { continue }
                walk(value, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", fileName: fileName)
            }
        case .scalar(let scalar):
            record(prefix, scalar.string, fileName: fileName)
        case .sequence(let sequence):
            let items = sequence.compactMap { $0.scalar?.string }
            record(prefix, items.joined(separator: ","), fileName: fileName)
        default:
            problems.append("\(prefix): unsupported YAML value in \(fileName)")
        }
    }

    private mutating func record(_ path: String, _ value: String, fileName: String) {
        guard ConfigurationKey.byPath[path] != nil else {
            problems.append("\(path): unknown key in \(fileName)")
            return
        }
        values[path] = value
        origins[path] = fileName
    }
}
