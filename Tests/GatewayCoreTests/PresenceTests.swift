import GatewayCore
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@Suite("Presence on one instance: online once, offline after the grace, blips unsaid")
struct PresenceTests {
    final class Heard: Sendable {
        let notices = NIOLockedValueBox<[String]>([])
        var kinds: [String] { notices.withLockedValue { $0 } }
    }

    func tracker(_ loop: EmbeddedEventLoop, _ heard: Heard) -> PresenceTracker {
        PresenceTracker(ledger: LocalPresenceLedger(), grace: .seconds(1), eventLoop: loop) { userId, change in
            heard.notices.withLockedValue { $0.append("\(userId) \(change.online ? "user.online" : "user.offline") v\(change.version)") }
        }
    }

    @Test("a second socket says nothing; the last one gone says offline only after the grace")
    func onlineThenOffline() {
        let (loop, heard) = (EmbeddedEventLoop(), Heard())
        let presence = tracker(loop, heard)
        presence.socketOpened("alice")
        presence.socketOpened("alice")
        presence.socketClosed("alice")
        loop.advanceTime(by: .seconds(2))
        #expect(heard.kinds == ["alice user.online v1"])
        presence.socketClosed("alice")
        loop.advanceTime(by: .milliseconds(500))
        #expect(heard.kinds == ["alice user.online v1"], "still within the grace")
        loop.advanceTime(by: .milliseconds(600))
        #expect(heard.kinds == ["alice user.online v1", "alice user.offline v2"])
        #expect(presence.localKeys.isEmpty)
    }

    @Test("a reconnect within the grace is a blip: no offline, no second online")
    func blip() {
        let (loop, heard) = (EmbeddedEventLoop(), Heard())
        let presence = tracker(loop, heard)
        presence.socketOpened("bob")
        presence.socketClosed("bob")
        loop.advanceTime(by: .milliseconds(300))
        presence.socketOpened("bob")
        loop.advanceTime(by: .seconds(2))
        #expect(heard.kinds == ["bob user.online v1"])
        // Gone again: the grace counts from this departure, not the first.
        presence.socketClosed("bob")
        loop.advanceTime(by: .milliseconds(1100))
        #expect(heard.kinds == ["bob user.online v1", "bob user.offline v2"])
    }

    @Test("closing a socket of a user never seen does nothing")
    func unknownUser() {
        let (loop, heard) = (EmbeddedEventLoop(), Heard())
        tracker(loop, heard).socketClosed("nobody")
        loop.advanceTime(by: .seconds(5))
        #expect(heard.kinds.isEmpty)
    }
}
