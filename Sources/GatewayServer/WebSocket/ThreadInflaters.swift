import NIOPosix
import WireCompression

/// One permessage-deflate inflater per event-loop thread: clients are asked for
/// `client_no_context_takeover`, so messages carry no state from one to the next, connections
/// share the thread's inflater, and none holds zlib state of its own. Call on the loop that
/// owns the channel.
enum ThreadInflaters {
    private static let inflaters = ThreadSpecificVariable<MessageInflater>()

    static func current() throws(CompressionError) -> MessageInflater {
        if let inflater = inflaters.currentValue { return inflater }
        let inflater = try MessageInflater()
        inflaters.currentValue = inflater
        return inflater
    }
}
