@testable import Cluster
import GatewayJSON
import Testing

@Suite("The Redis broker's envelopes and stream offsets")
struct BrokerEnvelopeTests {
    @Test("every envelope reads back as itself, with its origin; a body is carried untouched", arguments: [
        BrokerEnvelope.message(.object(["kind": "user", "userId": "u 1/ü", "event": "order.filled", "data": .fragment(#"{"price":"64000.10","n":1.50}"#)])),
        .message(.object(["kind": "broadcast", "body": .object(["message": "Back at 10:00", "namespaces": .array(["/prices"])])])),
        .request(id: "r1", replyTo: "ws:bus:instance:A", body: .object(["command": "kick", "userId": "u"])),
        .reply(id: "r1", body: .int(2)),
        .marker("recovery-token"),
    ])
    func roundTrip(envelope: BrokerEnvelope) throws {
        let decoded = try #require(BrokerEnvelope.decode(Array(envelope.encoded(origin: "instance-A").utf8)))
        #expect(decoded.origin == "instance-A")
        #expect(JSONSerializer.serialize(body(decoded.envelope)) == JSONSerializer.serialize(body(envelope)))
    }

    @Test("what the append script adds to a message (its closing brace dropped) is a member of the body")
    func scriptOffset() throws {
        let text = String(BrokerEnvelope.message(.object(["kind": "user", "n": 1])).encoded(origin: "A").dropLast()) + #","offset":"1718000000123-4"}"#
        let decoded = try #require(BrokerEnvelope.decode(Array(text.utf8)))
        guard case .message(let body) = decoded.envelope else { Issue.record("not a message"); return }
        #expect(body["offset"]?.stringValue == "1718000000123-4")
        #expect(body["origin"] == nil, "the origin is the broker's, not the body's")
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

    @Test("anything else on a channel is not an envelope")
    func garbage() {
        for text in ["", "{}", "[1]", #"{"kind":"market","messages":[]}"#, "not json", #"{"origin":"x","kind":"request"}"#, #"{"origin":"x","kind":"reply","id":"1"}"#, #"{"origin":"x","kind":"marker"}"#] {
            #expect(BrokerEnvelope.decode(Array(text.utf8)) == nil, "\(text)")
        }
    }

    private func body(_ envelope: BrokerEnvelope) -> JSONValue {
        switch envelope {
        case .message(let body): body
        case .request(let id, let replyTo, let body): .object(["id": .string(id), "replyTo": .string(replyTo), "body": body])
        case .reply(let id, let body): .object(["id": .string(id), "body": body])
        case .marker(let token): .string(token)
        }
    }
}
