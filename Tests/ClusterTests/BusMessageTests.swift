@testable import Cluster
import GatewayJSON
import Testing

@Suite("Cluster bus messages and user interest")
struct BusMessageTests {
    @Test("every kind of bus message reads back as itself, with its origin", arguments: [
        BusMessage.userEvent(userId: "u 1/ü", event: "order.filled", payloadJSON: #"{"orderId":"o1","price":"64000.10","n":1.50}"#),
        .userEvent(userId: "u", event: "order.new", payloadJSON: "{}", offset: "1718000000123-4"),
        .broadcast(.object(["message": "Back at 10:00", "level": "warning", "namespaces": .array(["/prices"])])),
        .market([.object(["type": "tick", "symbol": "BTC/USDT", "price": "1.0", "ts": .number("1718000000123.456")])]),
        .maintenance(enabled: true, message: "Back at 10:00"),
        .maintenance(enabled: false, message: nil),
        .request(id: "r1", replyTo: "ws:bus:instance:A", command: .object(["command": "kick", "userId": "u"])),
        .reply(id: "r1", result: .int(2)),
        .marker("recovery-token"),
    ])
    func roundTrip(message: BusMessage) throws {
        let decoded = try #require(BusMessage.decode(Array(message.encoded(origin: "instance-A").utf8)))
        #expect(decoded.origin == "instance-A")
        #expect(decoded.message == message)
    }

    @Test("what the append script adds to a bus message (its closing brace dropped) reads back as the offset")
    func scriptOffset() throws {
        let text = String(BusMessage.userEvent(userId: "u", event: "order.new", payloadJSON: #"{"n":1}"#).encoded(origin: "A").dropLast())
            + #","offset":"1718000000123-4"}"#
        let decoded = try #require(BusMessage.decode(Array(text.utf8)))
        #expect(decoded.message == .userEvent(userId: "u", event: "order.new", payloadJSON: #"{"n":1}"#, offset: "1718000000123-4"))
    }

    @Test("stream ids pack into offsets that rise as the ids do, and unpack to the same id")
    func streamOffsets() throws {
        let ids = ["0-0", "0-1", "1718000000123-0", "1718000000123-1", "1718000000123-99", "1718000000124-0", "4102444800000-7"]
        let packed = try ids.map { try #require(StreamOffset.pack($0)) }
        #expect(packed == packed.sorted() && Set(packed).count == ids.count)
        #expect(packed.map(StreamOffset.unpack) == ids)
        for bad in ["", "12", "1-2-3", "a-1", "1-", "-1", "99999999999999999999-0"] {
            #expect(StreamOffset.pack(bad) == nil, "\(bad)")
        }
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
