import DequeModule

/// Replays for recovered sockets: every missed event must arrive, however many there are, so a
/// replay is paced by the transport instead of queued whole. A marker in the backlog holds its
/// place (what was queued before goes first, what is sent later waits behind it); the frames
/// are encoded as the socket takes them and do not count towards `slowConsumerBytes`: the
/// client pulls them at its own pace, and their size is already bounded by the recovery log.
extension EngineSession {
    /// Frames of a replay, encoded one ahead of the transport.
    struct Replay {
        private var upcoming: EncodedFrame?
        private var rest: AnyIterator<EncodedFrame>

        init(_ frames: AnyIterator<EncodedFrame>) {
            rest = frames
            upcoming = rest.next()
        }

        var first: EncodedFrame? { upcoming }

        mutating func popFirst() -> EncodedFrame? {
            defer { upcoming = rest.next() }
            return upcoming
        }
    }

    /// Starts sending `frames` after everything already queued and before anything sent from
    /// now on (a second replay queues behind the first).
    public func startReplay(_ frames: AnyIterator<EncodedFrame>) {
        guard !isClosed else { return }
        let replay = Replay(frames)
        guard replay.first != nil else { return }
        replays.append(replay)
        let marker = EncodedFrame.replayMarker()
        backlog.append(marker)
        backlogBytes += marker.byteCount
        scheduleFlush()
    }

    /// The next frame of the replay whose marker is at the front of the backlog; the marker
    /// goes with the replay's last frame. Nil when no replay is left.
    func nextReplayFrame() -> EncodedFrame? {
        guard !replays.isEmpty, let frame = replays[0].popFirst() else { return nil }
        if replays[0].first == nil {
            replays.removeFirst()
            if backlog.first?.isReplayMarker == true, let marker = backlog.popFirst() {
                backlogStart += 1
                backlogBytes -= marker.byteCount
            }
        }
        return frame
    }

    /// The frame ``popBacklog()`` would hand out next (polling batches check its size first).
    func peekBacklog() -> EncodedFrame? {
        guard let front = backlog.first else { return nil }
        return front.isReplayMarker ? replays.first?.first : front
    }
}
