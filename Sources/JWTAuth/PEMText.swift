import Foundation

/// PEM armour around DER (RFC 7468): base64 in 64-character lines.
enum PEMText {
    static func publicKey(der: [UInt8]) -> String {
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN PUBLIC KEY-----\n\(body)\n-----END PUBLIC KEY-----\n"
    }
}
