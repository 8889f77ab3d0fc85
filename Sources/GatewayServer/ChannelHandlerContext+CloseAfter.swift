import NIOCore

extension ChannelHandlerContext {
    /// Writes `data` (a response's end, a close frame), flushes, and closes the channel once it
    /// is written or failed: the peer gets the last word before the connection goes.
    func writeAndFlushThenClose(_ data: NIOAny) {
        let channel = channel
        writeAndFlush(data).whenComplete { _ in channel.close(promise: nil) }
    }
}
