/// Session and socket ids: 20 random base64url characters (120 bits), the length the reference
/// server uses. Engine.IO sids are secrets (whoever holds one can poll the session).
public enum SessionID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 20)
        for index in 0..<20 { bytes[index] = alphabet[Int(generator.next(upperBound: UInt8(64)))] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
