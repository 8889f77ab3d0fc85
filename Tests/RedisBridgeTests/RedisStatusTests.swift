@testable import RedisBridge
import NIOConcurrencyHelpers
import Testing

@Suite("Redis up/down as operators see it")
struct RedisStatusTests {
    @Test("up only when every link is; the state found at start-up is not a change; later changes are reported once")
    func transitions() {
        let status = RedisStatus()
        let heard = NIOLockedValueBox<[String]>([])
        status.observe { up, initial in heard.withLockedValue { $0.append("\(up ? "up" : "down")\(initial ? " (initial)" : "")") } }
        status.register("feed")
        status.register("user-events")
        #expect(!status.isUp)
        status.set("feed", up: true)
        #expect(!status.isUp, "one link is not all of them")
        status.set("user-events", up: true)
        #expect(status.isUp)
        status.set("feed", up: false)
        status.set("user-events", up: false)
        status.set("feed", up: true)
        status.set("user-events", up: true)
        #expect(heard.withLockedValue { $0 } == ["up (initial)", "down", "up"])
    }
}
