/// Conflation for a WebSocket that has fallen behind (SPEC §5 delivery policy); see
/// ``ConflationKey``. Only touched while the session has a backlog or a pending resync.
extension EngineSession {
    /// Absorbs `frame` when its stream already has a frame queued: the newer value replaces it,
    /// or a chained stream is replaced by a resync marker. Returns false to queue it normally.
    func conflate(_ frame: EncodedFrame, key: ConflationKey) -> Bool {
        let state: ConflationState
        if let existing = conflation {
            state = existing
        } else {
            state = ConflationState()
            conflation = state
        }
        if let absolute = state.positions[key], absolute >= backlogStart, absolute - backlogStart < backlog.count,
           backlog[absolute - backlogStart].conflation == key {
            let position = absolute - backlogStart
            switch key.policy {
            case .latestWins:
                backlogBytes += frame.byteCount - backlog[position].byteCount
                backlog[position] = frame
            case .resyncBySnapshot:
                backlogBytes -= backlog[position].byteCount
                backlog[position] = .resyncMarker(key)
                backlogBytes += backlog[position].byteCount
                state.resyncing.insert(key)
            }
            countConflated(key)
            return true
        }
        state.positions[key] = backlogStart + backlog.count
        return false
    }

    func countConflated(_ key: ConflationKey) {
        metrics.namespace(key.namespace.value).conflated.increment(by: 1)
    }

    /// Takes the next frame off the backlog; a resync marker asks for its snapshot instead, and
    /// a replay marker hands out its replay's frames until that is done.
    func popBacklog() -> EncodedFrame? {
        while let front = backlog.first {
            if front.isReplayMarker, let frame = nextReplayFrame() {
                return frame
            }
            backlog.removeFirst()
            backlogStart += 1
            backlogBytes -= front.byteCount
            if front.isReplayMarker { continue }  // a replay with nothing left (never expected)
            if front.isResyncMarker, let key = front.conflation {
                handler?.resync(key, on: self)
                continue
            }
            return front
        }
        if let state = conflation, state.resyncing.isEmpty {
            conflation = nil
        }
        return nil
    }

    /// The snapshot for a held stream is on its way: the stream flows again.
    public func endResync(_ key: ConflationKey) {
        conflation?.resyncing.remove(key)
    }
}
