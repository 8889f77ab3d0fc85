#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The key per-address limits count a client under. An IPv4 address is itself; an IPv6 address
/// counts as its /64, the block one subscriber usually holds whole, so a client cannot step
/// around a per-address bound (or fill the tables that track addresses) by taking a new address
/// from its prefix for every connection. An IPv4-mapped IPv6 address is its IPv4 address.
public enum AddressKey {
    public static func of(_ address: String?) -> String {
        guard let address, address.contains(":") else { return address ?? "unknown" }
        var bytes = in6_addr()
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        return withUnsafeBytes(of: &bytes) { raw -> String in
            let octets = Array(raw)
            if octets[0..<10].allSatisfy({ $0 == 0 }) && octets[10] == 0xFF && octets[11] == 0xFF {
                return octets[12..<16].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(octets[$0]) << 8 | UInt16(octets[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        }
    }
}
