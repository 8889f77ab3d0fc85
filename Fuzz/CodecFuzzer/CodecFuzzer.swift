import GatewayJSON
import Foundation
import NIOCore
import SocketIOCodec

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
enum CodecFuzzer {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) })
    }
}

/// One input through every decoder; whatever decodes must re-encode and decode again to the
/// same value. A crash, hang or failed round trip is a finding.
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let buffer = ByteBuffer(bytes: bytes)

    if let value = try? JSONParser.parse(bytes) {
        let text = JSONSerializer.serialize(value)
        guard (try? JSONParser.parse(text)) == value else { fatalError("JSON round trip changed \(text)") }
    }
    if let packet = try? EnginePacket.decode(utf8: bytes) {
        guard (try? EnginePacket.decode(text: packet.encodedText)) == packet else { fatalError("Engine.IO round trip") }
    }
    _ = try? PollingPayload.decode(buffer, maximumPackets: 64)
    if let packet = try? SocketPacket.decode(utf8: bytes) {
        var assembler = BinaryAssembler(header: packet)
        var assembled: SocketPacket? = packet.attachmentCount == 0 ? try? assembler.assemble() : nil
        for _ in 0..<packet.attachmentCount {
            assembled = (try? assembler.add(ByteBuffer(bytes: [1, 2, 3]))) ?? nil
        }
        if let assembled {
            let encoded = assembled.encode()
            if let again = try? SocketPacket.decode(encoded.text) {
                guard again.namespace == assembled.namespace, again.ackID == assembled.ackID else {
                    fatalError("Socket.IO round trip changed \(encoded.text)")
                }
            } else {
                fatalError("re-encoded packet does not decode: \(encoded.text)")
            }
        }
    }
    return 0
}
