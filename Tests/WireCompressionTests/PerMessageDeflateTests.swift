import Testing
@testable import WireCompression

@Suite("permessage-deflate negotiation")
struct PerMessageDeflateTests {
    @Test("offers the gateway accepts", arguments: [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",  // Chromium, Firefox
        "permessage-deflate; client_max_window_bits=15; server_max_window_bits=15",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; client_max_window_bits=\"10\"",
        "PerMessage-Deflate ; Client_Max_Window_Bits",
        "x-webkit-deflate-frame, permessage-deflate",  // an unknown extension first
        "permessage-deflate; server_max_window_bits=10, permessage-deflate",  // the second offer
    ])
    func accepted(offer: String) {
        #expect(PerMessageDeflate.accepts(offers: [offer]))
    }

    @Test("offers the gateway declines (plain frames)", arguments: [
        "",
        "x-webkit-deflate-frame",
        "permessage-deflate; server_max_window_bits=10",  // one compressed message cannot suit every window
        "permessage-deflate; server_max_window_bits",  // a value is required
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",  // repeated
        "permessage-deflate; mystery",
    ])
    func declined(offer: String) {
        #expect(!PerMessageDeflate.accepts(offers: [offer]))
    }

    @Test("the header may repeat: any acceptable offer in any of its lines counts")
    func repeatedHeader() {
        #expect(PerMessageDeflate.accepts(offers: ["foo", "permessage-deflate; client_max_window_bits"]))
        #expect(!PerMessageDeflate.accepts(offers: []))
    }

    @Test("the gateway's own answer is what a client reads as an agreement without server context takeover")
    func agreement() {
        #expect(PerMessageDeflate.agreement(fromResponse: [PerMessageDeflate.response]) == .init(serverNoContextTakeover: true))
        #expect(PerMessageDeflate.agreement(fromResponse: ["permessage-deflate"]) == .init(serverNoContextTakeover: false))
        #expect(PerMessageDeflate.agreement(fromResponse: []) == nil)
        #expect(PerMessageDeflate.agreement(fromResponse: ["x-other"]) == nil)
    }
}
