import DequeModule

/// A session's frames not yet handed to its transport: all of them while polling, and the
/// overflow of a WebSocket that is not writable. It conflates market data of a lagging socket
/// (``ConflationKey``) and paces replays (``Replay``); the session bounds its bytes
/// (`slowConsumerBytes`) and carries out what it reports. A value: tested with the session,
/// touched only on the session's loop.
struct OutboundQueue {
    private var frames = Deque<EncodedFrame>()
    /// Bytes queued (replays count only their marker: see ``Replay``).
    private(set) var bytes = 0
    /// Absolute index of `frames.first` (frames ever taken off the front).
    private var start = 0
    /// Set while a lagging WebSocket holds conflatable market data or awaits a snapshot.
    private var conflation: ConflationState?
    /// Missed events of a recovered socket, handed out as the transport takes them; one per
    /// replay marker in `frames`, in the same order.
    private var replays = Deque<Replay>()
    /// Slots in `frames` whose trade a gap marker declared: a stalled socket makes one per
    /// trade, so they are compacted away once they are most of the queue.
    private var vacated = 0
    /// Vacated slots tolerated before a compaction is considered.
    static let compactionFloor = 64

    /// True while anything waits to be sent (a replay included).
    var isEmpty: Bool { frames.isEmpty }

    /// Whether `key`'s stream is held until its snapshot (a delta now would not chain).
    /// Checked only while some stream waits, so the common case reads one optional.
    @inline(__always)
    func isHeld(_ key: ConflationKey?) -> Bool {
        guard let key, let conflation, !conflation.resyncing.isEmpty else { return false }
        return conflation.resyncing.contains(key)
    }

    /// What became of an appended frame.
    enum Appended {
        case queued
        /// It took the place of a queued frame of its stream (or a resync marker did).
        case conflated(ConflationKey)
    }

    /// Queues `frame` at the back; `conflating`: a lagging WebSocket may skip stale market data.
    mutating func append(_ frame: EncodedFrame, conflating: Bool) -> Appended {
        if conflating, let key = frame.conflation, conflate(frame, key: key) { return .conflated(key) }
        frames.append(frame)
        bytes += frame.byteCount
        return .queued
    }

    /// Puts `frame` first (pings jump the queue).
    mutating func prepend(_ frame: EncodedFrame) {
        frames.prepend(frame)
        bytes += frame.byteCount
    }

    /// Drops everything (the session closed).
    mutating func removeAll() {
        frames.removeAll()
        bytes = 0
        vacated = 0
        replays.removeAll()
        conflation = nil
    }

    // MARK: Conflation

    /// Absorbs `frame` when its stream already has a frame queued: the newer value replaces it,
    /// a chained stream is replaced by a resync marker, or a numbered stream's older frame is
    /// declared skipped. Returns false to queue it normally.
    private mutating func conflate(_ frame: EncodedFrame, key: ConflationKey) -> Bool {
        let state = conflation ?? ConflationState()
        conflation = state
        if let position = queuedPosition(state.positions[key], key: key) {
            switch key.policy {
            case .latestWins:
                bytes += frame.byteCount - frames[position].byteCount
                frames[position] = frame
            case .resyncBySnapshot:
                // The marker covers every skipped message (what the notice before the snapshot
                // declares), the queued one and this one alike.
                let skipped = Self.spanning(frames[position].sequences, frame.sequences)
                bytes -= frames[position].byteCount
                frames[position] = .marker(.resync, key, sequences: skipped)
                bytes += frames[position].byteCount
                state.resyncing.insert(key)
            case .declaredGap:
                guard let skipped = frames[position].sequences else {
                    // Nothing to declare it by: queued as it is.
                    state.positions[key] = start + frames.count
                    return false
                }
                declareSkipped(at: position, sequences: skipped, key: key, state: state)
                frames.append(frame)
                bytes += frame.byteCount
                state.positions[key] = start + frames.count - 1
                if vacated > Self.compactionFloor && vacated * 2 > frames.count { compact(state) }
            }
            return true
        }
        state.positions[key] = start + frames.count
        return false
    }

    /// The index in `frames` of `absolute` when it still holds a frame of `key`'s stream.
    private func queuedPosition(_ absolute: Int?, key: ConflationKey) -> Int? {
        guard let absolute, absolute >= start, absolute - start < frames.count, frames[absolute - start].conflation == key else {
            return nil
        }
        return absolute - start
    }

    /// The queued frame at `position` will not be sent: the stream's gap marker, when one is
    /// still queued, grows to cover it (nothing of the stream lies between them), or the frame
    /// becomes the marker.
    private mutating func declareSkipped(at position: Int, sequences: ClosedRange<UInt64>, key: ConflationKey, state: ConflationState) {
        bytes -= frames[position].byteCount
        if let gap = queuedPosition(state.gaps[key], key: key), frames[gap].marker == .gap {
            frames[gap].sequences = Self.spanning(frames[gap].sequences, sequences)
            frames[position] = .marker(.vacated)
            vacated += 1
        } else {
            frames[position] = .marker(.gap, key, sequences: sequences)
            state.gaps[key] = start + position
        }
        bytes += frames[position].byteCount
    }

    /// Drops the vacated slots; the stored positions move down by the slots dropped before them.
    private mutating func compact(_ state: ConflationState) {
        var kept = Deque<EncodedFrame>()
        kept.reserveCapacity(frames.count - vacated)
        var droppedBefore = [Int](repeating: 0, count: frames.count)
        var dropped = 0
        for (offset, frame) in frames.enumerated() {
            droppedBefore[offset] = dropped
            if frame.marker == .vacated {
                dropped += 1
                bytes -= frame.byteCount
            } else {
                kept.append(frame)
            }
        }
        func moved(_ absolute: Int) -> Int? {
            let offset = absolute - start
            guard offset >= 0, offset < droppedBefore.count, frames[offset].marker != .vacated else { return nil }
            return absolute - droppedBefore[offset]
        }
        state.positions = state.positions.compactMapValues(moved)
        state.gaps = state.gaps.compactMapValues(moved)
        frames = kept
        vacated = 0
    }

    /// The smallest range holding both.
    static func spanning(_ a: ClosedRange<UInt64>?, _ b: ClosedRange<UInt64>?) -> ClosedRange<UInt64>? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
    }

    /// The snapshot for a held stream is on its way: the stream flows again.
    mutating func endResync(_ key: ConflationKey) {
        conflation?.resyncing.remove(key)
    }

    // MARK: Taking frames

    /// What the front of the queue asks for.
    enum Next {
        case frame(EncodedFrame)
        /// A chained stream was skipped (`skipped`: the sequences, when known): the namespace
        /// is asked for a snapshot.
        case resync(ConflationKey, skipped: ClosedRange<UInt64>?)
        /// Numbered messages were skipped: the namespace is asked for the notice declaring them.
        case gap(ConflationKey, skipped: ClosedRange<UInt64>)
    }

    /// Takes the next frame off the front; a resync marker asks for its snapshot instead, and a
    /// replay marker hands out its replay's frames until that is done.
    mutating func pop() -> Next? {
        while let front = frames.first {
            if front.isReplayMarker, let frame = nextReplayFrame() {
                return .frame(frame)
            }
            frames.removeFirst()
            start += 1
            bytes -= front.byteCount
            switch front.marker {
            case nil: return .frame(front)
            case .resync: if let key = front.conflation { return .resync(key, skipped: front.sequences) }
            case .gap: if let key = front.conflation, let skipped = front.sequences { return .gap(key, skipped: skipped) }
            case .vacated: vacated -= 1
            case .replay: continue  // a replay with nothing left (never expected)
            }
        }
        if let state = conflation, state.resyncing.isEmpty {
            conflation = nil
        }
        return nil
    }

    /// The frame ``pop()`` would hand out next, when it is one (polling batches check its size).
    func peek() -> EncodedFrame? {
        guard let front = frames.first else { return nil }
        switch front.marker {
        case nil: return front
        case .replay: return replays.first?.first
        case .resync, .gap, .vacated: return front  // small; handled by pop()
        }
    }

    // MARK: Replays

    /// Starts handing out `frames` after everything already queued and before anything queued
    /// from now on (a second replay queues behind the first). False when there is nothing in it.
    mutating func startReplay(_ frames: AnyIterator<EncodedFrame>) -> Bool {
        let replay = Replay(frames)
        guard replay.first != nil else { return false }
        replays.append(replay)
        let marker = EncodedFrame.marker(.replay)
        self.frames.append(marker)
        bytes += marker.byteCount
        return true
    }

    /// The next frame of the replay whose marker is at the front; the marker goes with the
    /// replay's last frame. Nil when no replay is left.
    private mutating func nextReplayFrame() -> EncodedFrame? {
        guard !replays.isEmpty, let frame = replays[0].popFirst() else { return nil }
        if replays[0].first == nil {
            replays.removeFirst()
            if frames.first?.isReplayMarker == true, let marker = frames.popFirst() {
                start += 1
                bytes -= marker.byteCount
            }
        }
        return frame
    }
}

/// Frames of a replay, encoded one ahead of the transport. Every missed event must arrive,
/// however many there are, so a replay is paced by the transport instead of queued whole: a
/// marker in the queue holds its place (what was queued before goes first, what is sent later
/// waits behind it), and its frames do not count towards `slowConsumerBytes`: the client pulls
/// them at its own pace, and their size is already bounded by the recovery log.
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
