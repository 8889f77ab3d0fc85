#if canImport(Glibc)
import Glibc

/// glibc's malloc controls, which Swift's Glibc module does not import (they live in
/// `<malloc.h>`): looked up once and called with the C calling convention (a Swift-side
/// declaration would not be).
enum GlibcMalloc {
    /// `mallopt` parameters (glibc's `<malloc.h>`).
    static let trimThreshold: Int32 = -1
    static let mmapThreshold: Int32 = -3

    private static let trimFunction: (@convention(c) (Int) -> Int32)? = lookUp("malloc_trim")
    private static let optionFunction: (@convention(c) (Int32, Int32) -> Int32)? = lookUp("mallopt")

    /// `malloc_trim(pad)`: returns free memory to the system; 1 when some was returned.
    @discardableResult
    static func trim(pad: Int = 0) -> Int32 { trimFunction?(pad) ?? 0 }

    /// `mallopt(parameter, value)`: 1 on success.
    @discardableResult
    static func setOption(_ parameter: Int32, _ value: Int32) -> Int32 { optionFunction?(parameter, value) ?? 0 }

    private static func lookUp<Function>(_ name: String) -> Function? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }
}
#endif
