import GatewayJSON
import Foundation
import Logging

/// One JSON object per line on stderr: `{"ts","level","label","message",…metadata}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var members: [JSONMember] = [
            JSONMember("ts", .string(Date().formatted(.iso8601))),
            JSONMember("level", .string(event.level.rawValue)),
            JSONMember("label", .string(label)),
            JSONMember("message", .string(event.message.description)),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            members.append(JSONMember(key, .string(value.description)))
        }
        let line = JSONSerializer.serialize(.object(members)) + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
