import Foundation

/// `presence.*`: where presence notices go and how long a user may be gone before they count
/// as offline.
struct PresenceSettings: Sendable {
    var url: URL
    var secret: String
    var caFile: String?
    var graceMs: Int
    var maxPendingNotices: Int
    var timeoutSeconds: Int

    init?(reading reader: inout ConfigurationReader) {
        graceMs = reader.int("presence.graceMs", in: 0...3_600_000)
        maxPendingNotices = reader.int("presence.maxPendingNotices", in: 1...1_000_000)
        timeoutSeconds = reader.int("presence.webhookTimeoutSeconds", in: 1...60)
        caFile = reader.readableFile("presence.webhookCaFile")
        secret = reader.string("presence.webhookSecret")
        guard let url = reader.httpURL("presence.webhookUrl") else { return nil }
        self.url = url
        if secret.utf8.count < 16 {
            reader.problem("presence.webhookSecret", "set a secret of at least 16 bytes: every notice is signed with it")
        }
    }
}
