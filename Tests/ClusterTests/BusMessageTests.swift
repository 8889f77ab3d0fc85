import Cluster
import GatewayJSON
import Testing

@Suite("Cluster bus messages and user interest")
struct BusMessageTests {
    @Test("every kind of bus message reads back as itself, with its origin", arguments: [
        BusMessage.userEvent(userId: "u 1/ü", event: "order.filled", payloadJSON: #"{"orderId":"o1","price":"64000.10","n":1.50}"#),
        .broadcast(.object(["message": "Back at 10:00", "level": "warning", "namespaces": .array(["/prices"])])),
        .market([.object(["type": "tick", "symbol": "BTC/USDT", "price": "1.0", "ts": .number("1718000000123.456")])]),
        .maintenance(enabled: true, message: "Back at 10:00"),
        .maintenance(enabled: false, message: nil),
        .request(id: "r1", replyTo: "ws:bus:instance:A", command: .object(["command": "kick", "userId": "u"])),
        .reply(id: "r1", result: .int(2)),
    ])
    func roundTrip(message: BusMessage) throws {
        let decoded = try #require(BusMessage.decode(Array(message.encoded(origin: "instance-A").utf8)))
        #expect(decoded.origin == "instance-A")
        #expect(decoded.message == message)
    }

    @Test("anything else on the channel is not a bus message")
    func garbage() {
        for text in ["", "{}", "[1]", #"{"origin":"x"}"#, #"{"origin":"x","kind":"user"}"#, #"{"kind":"market","messages":[]}"#, "not json"] {
            #expect(BusMessage.decode(Array(text.utf8)) == nil, "\(text)")
        }
    }

    @Test("user interest: the cap holds, and the bus hears of a user's first and last socket only")
    func interest() {
        let interest = UserInterest(limit: 2)
        let heard = Heard()
        interest.observe { heard.add($0); return nil }
        #expect(interest.acquire("alice"))
        #expect(interest.acquire("alice"))
        #expect(!interest.acquire("alice"), "the per-user cap")
        #expect(interest.acquire("bob"))
        #expect(heard.names == ["alice", "bob"], "first sockets only")
        interest.release("alice")
        #expect(interest.isPresent("alice"))
        interest.release("alice")
        #expect(!interest.isPresent("alice"))
        #expect(heard.names == ["alice", "bob", "alice"], "and the last one")
        #expect(Set(interest.presentUsers) == ["bob"])

        // A kept recovery session keeps a user present after their last socket.
        interest.holdRecovery("carol")
        #expect(interest.isPresent("carol") && interest.activeKeys == 1, "held, but no socket counted")
        #expect(interest.acquire("carol"))
        interest.release("carol")
        #expect(interest.isPresent("carol"), "the session still holds the user")
        interest.releaseRecovery("carol")
        #expect(!interest.isPresent("carol"))
        #expect(heard.names == ["alice", "bob", "alice", "carol", "carol"], "present once, absent once")
    }
}

private final class Heard: @unchecked Sendable {
    private(set) var names: [String] = []
    func add(_ name: String) { names.append(name) }
}
