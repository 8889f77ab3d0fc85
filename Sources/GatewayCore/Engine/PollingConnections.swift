import NIOConcurrencyHelpers
import NIOCore

/// The HTTP connections that carried a long-poll, and the session each last polled for, so a
/// client that closes its connection while a GET waits ends that session at once ("transport
/// close") instead of at the next heartbeat.
///
/// One entry and one close callback per connection, however many polls it carries; the entry
/// goes when the connection closes, so the table never outgrows the open connections.
final class PollingConnections: Sendable {
    private struct Entry {
        let connection: any Channel
        var session: EngineSession
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    /// `connection` now carries a poll of `session`.
    func record(_ connection: any Channel, session: EngineSession) {
        let id = ObjectIdentifier(connection)
        let isNew = entries.withLockedValue { entries -> Bool in
            if entries[id] != nil {
                entries[id]?.session = session
                return false
            }
            entries[id] = Entry(connection: connection, session: session)
            return true
        }
        // Runs at once if the connection is already closed, so no entry outlives its connection.
        if isNew {
            connection.closeFuture.whenComplete { [self] _ in
                guard let entry = entries.withLockedValue({ $0.removeValue(forKey: id) }) else { return }
                entry.session.execute { entry.session.pollConnectionClosed(id) }
            }
        }
    }
}
