import GatewayCore
import Testing

@Suite("Session ids")
struct SessionIDTests {
    @Test("20 URL-safe characters, and no two of 100,000 alike")
    func shapeAndUniqueness() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var seen = Set<String>()
        for _ in 0..<100_000 {
            let id = SessionID.make()
            #expect(id.count == 20 && id.allSatisfy(allowed.contains))
            seen.insert(id)
        }
        #expect(seen.count == 100_000)
    }

    @Test("every position uses the whole alphabet (no bits left unused)")
    func everyPositionVaries() {
        var perPosition = Array(repeating: Set<Character>(), count: 20)
        for _ in 0..<5_000 {
            for (index, character) in SessionID.make().enumerated() { perPosition[index].insert(character) }
        }
        #expect(perPosition.allSatisfy { $0.count == 64 })
    }
}

@Suite("Session ids across threads")
struct SessionIDConcurrencyTests {
    @Test("ids made on many threads at once, past several pool refills, are all distinct")
    func concurrentIDsAreDistinct() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<2_000).map { _ in SessionID.make() } }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 16_000)
        #expect(Set(ids).count == 16_000)
    }
}
