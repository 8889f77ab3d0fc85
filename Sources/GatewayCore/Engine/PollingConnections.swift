import NIOConcurrencyHelpers

/// The HTTP connections that carried a long-poll, and the session each last polled for, so a
/// client that closes its connection while a GET waits ends that session at once ("transport
/// close") instead of at the next heartbeat.
///
/// One entry and one close callback per connection, however many polls it carries; the entry
/// goes when the connection closes, so the table never outgrows the open connections.
final class PollingConnections: Sendable {
    private let sessions = NIOLockedValueBox<[ObjectIdentifier: EngineSession]>([:])

    /// `connection` now carries a poll of `session`.
    func record(_ connection: any PollingConnection, session: EngineSession) {
        let id = connection.id
        let isNew = sessions.withLockedValue { sessions -> Bool in
            defer { sessions[id] = session }
            return sessions[id] == nil
        }
        // Runs at once if the connection is already closed, so no entry outlives its connection.
        if isNew {
            connection.whenClosed { [self] in
                guard let session = sessions.withLockedValue({ $0.removeValue(forKey: id) }) else { return }
                session.execute { session.pollingConnectionClosed(id) }
            }
        }
    }
}
