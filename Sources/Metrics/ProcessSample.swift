import Foundation

/// Resident memory, CPU time and open descriptors of this process, read from /proc (Linux).
/// Fields are nil where /proc is not available.
struct ProcessSample {
    var residentBytes: Int?
    var cpuSeconds: Double?
    var openFileDescriptors: Int?

    static func read() -> ProcessSample {
        var sample = ProcessSample()
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { sample.residentBytes = pages * pageSize }
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name: state is field 3; utime and stime are 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticks > 0 {
                sample.cpuSeconds = (user + system) / ticks
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            sample.openFileDescriptors = entries.count
        }
        return sample
    }
}
