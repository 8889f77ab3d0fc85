import Dispatch
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal as `gateway watch` uses it: raw keys (no echo, no line buffering, Ctrl-C as a
/// key so the screen is always restored), the alternate screen, a hidden cursor. Restored by
/// `restore()`, which the command calls on every way out, and which SIGTERM, SIGHUP and
/// SIGQUIT run before the process exits.
final class Terminal: @unchecked Sendable {
    /// Written once in `enter`, before anything else can read it.
    private var original = termios()
    private let isRaw = NIOLockedValueBox(false)
    private var signalSources: [any DispatchSourceSignal] = []
    let isInteractive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1

    func enter() {
        guard isInteractive, tcgetattr(STDIN_FILENO, &original) == 0 else { return }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
        isRaw.withLockedValue { $0 = true }
        write("\u{1B}[?1049h\u{1B}[?25l")
        for number in [SIGTERM, SIGHUP, SIGQUIT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                restore()
                exit(128 + number)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Back to the terminal as it was (once, whoever calls first).
    func restore() {
        guard isRaw.withLockedValue({ wasRaw in defer { wasRaw = false }; return wasRaw }) else { return }
        write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
    }

    /// Rows and columns (80×24 when unknown).
    var size: (rows: Int, columns: Int) {
        var window = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0 else { return (24, 80) }
        return (Int(window.ws_row), Int(window.ws_col))
    }

    /// Replaces the screen with `lines` (home, each line cleared to its end, the rest cleared).
    func draw(_ lines: [String]) {
        var frame = "\u{1B}[H"
        for line in lines { frame += line + "\u{1B}[K\r\n" }
        frame += "\u{1B}[J"
        write(frame)
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Blocks until a key arrives (nil at end of input).
    func readKey() -> UInt8? {
        var byte: UInt8 = 0
        return read(STDIN_FILENO, &byte, 1) == 1 ? byte : nil
    }
}
