// Minimal reproducer: ThreadSanitizer (Swift 6.3.1, Linux x86_64) reports a "Swift access race" on
// a value that is only ever touched inside `Synchronization.Mutex.withLock`: the lock's contended
// path runs in the uninstrumented Synchronization library, so TSan never sees the acquire. The same
// program with a pthread mutex (NSLock, NIOLock) reports nothing. This is why the gateway locks
// with NIOLockedValueBox (pthread) rather than Mutex: under `make sanitize` TSan can check it.
//
//   swiftc -sanitize=thread -g Benchmarks/sanitize/mutex_tsan_false_positive.swift -o /tmp/mutex-tsan && /tmp/mutex-tsan
import Foundation
import Synchronization

final class Box: Sendable {
    let state = Mutex<[UInt8]>([UInt8](repeating: 0, count: 256))
}

let box = Box()
let threads = (0..<4).map { _ in
    Thread {
        for _ in 0..<200_000 {
            box.state.withLock { bytes in
                bytes[0] &+= 1
                bytes[1] = bytes[0]
            }
        }
    }
}
for thread in threads { thread.start() }
Thread.sleep(forTimeInterval: 3)
print("done", box.state.withLock { $0[0] })
