import Foundation
import Logging

/// glibc's allocator settings for a process that sends a lot: every loop tick each busy socket
/// joins its frames in a buffer of its own (up to 64 KiB), hands it to the kernel and frees it.
/// With glibc's defaults the top of an arena is handed back to the kernel as soon as 128 KiB
/// lie free there, and buffers past the (adaptive) mmap threshold get pages of their own: the
/// next tick faults the same pages in again. At 2.5 M deliveries/s that was 60,000–85,000 page
/// faults a second and a fifth of the gateway's CPU (docs/performance.md). Here freed memory
/// stays in the arenas up to 64 MiB, and allocations under 4 MiB come from them;
/// ``MemoryReturnService`` still returns memory explicitly once a crowd leaves.
///
/// Left alone when `GLIBC_TUNABLES` sets malloc options: the operator's choice wins.
enum MallocTuning {
    static let trimThreshold: Int32 = 64 << 20
    static let mmapThreshold: Int32 = 4 << 20

    static func apply(logger: Logger) {
        #if canImport(Glibc)
        if let tunables = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"], tunables.contains("glibc.malloc.") {
            logger.debug("Malloc settings left to GLIBC_TUNABLES")
            return
        }
        let applied = GlibcMalloc.setOption(GlibcMalloc.trimThreshold, trimThreshold) == 1
            && GlibcMalloc.setOption(GlibcMalloc.mmapThreshold, mmapThreshold) == 1
        logger.debug("Malloc settings", metadata: ["malloc.applied": "\(applied)", "malloc.trim_threshold": "\(trimThreshold)", "malloc.mmap_threshold": "\(mmapThreshold)"])
        #endif
    }
}
