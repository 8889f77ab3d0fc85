import Foundation
import NIOSSL

/// Reads PEM certificates and keys, turning every failure into a ``TLSFileError`` that names
/// the configuration key and the file.
public enum TLSFiles {
    /// A certificate chain (leaf first), not expired and already valid at `now`.
    public static func certificateChain(_ path: String, key: String, now: Date = Date()) throws(TLSFileError) -> [NIOSSLCertificate] {
        try readable(path, key: key)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSFileError(key: key, file: path, problem: "holds no PEM certificate (\(error))")
        }
        guard let leaf = chain.first else { throw TLSFileError(key: key, file: path, problem: "holds no PEM certificate") }
        let notAfter = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        let notBefore = Date(timeIntervalSince1970: TimeInterval(leaf.notValidBefore))
        if notAfter < now {
            throw TLSFileError(key: key, file: path, problem: "the certificate expired on \(ISO8601DateFormatter().string(from: notAfter))")
        }
        if notBefore > now {
            throw TLSFileError(key: key, file: path, problem: "the certificate is not valid before \(ISO8601DateFormatter().string(from: notBefore))")
        }
        return chain
    }

    public static func privateKey(_ path: String, key: String) throws(TLSFileError) -> NIOSSLPrivateKey {
        try readable(path, key: key)
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSFileError(key: key, file: path, problem: "holds no PEM private key, or an encrypted one (\(error))")
        }
    }

    /// CA certificates to trust (PEM, one or more).
    public static func trustRoots(_ path: String, key: String) throws(TLSFileError) -> [NIOSSLCertificate] {
        try readable(path, key: key)
        do {
            let roots = try NIOSSLCertificate.fromPEMFile(path)
            guard !roots.isEmpty else { throw TLSFileError(key: key, file: path, problem: "holds no PEM certificate") }
            return roots
        } catch let error as TLSFileError {
            throw error
        } catch {
            throw TLSFileError(key: key, file: path, problem: "holds no PEM certificate (\(error))")
        }
    }

    private static func readable(_ path: String, key: String) throws(TLSFileError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw TLSFileError(key: key, file: path, problem: exists ? "cannot read the file (permissions)" : "no such file")
        }
    }

    /// What identifies a file's current content for change detection: the file a symbolic
    /// link leads to and its modification time (Kubernetes rotates mounted secrets by swapping
    /// a link, so the name's own time never changes). nil: unreadable.
    public static func stamp(_ path: String) -> String? {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let modified = (try? FileManager.default.attributesOfItem(atPath: target))?[.modificationDate] as? Date else { return nil }
        return "\(target)@\(modified.timeIntervalSince1970)"
    }
}
