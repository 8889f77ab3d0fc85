import GatewayJSON

/// A book snapshot as a subscriber gets it (the whole book or a depth-N view), with the `seq`
/// the stream continues from.
package struct DepthSnapshot {
    let symbol: String
    let seq: UInt64
    let json: JSONValue
}
