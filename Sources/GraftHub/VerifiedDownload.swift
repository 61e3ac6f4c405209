import Foundation

/// What a downloaded file must match before it is moved into a cache.
public enum ExpectedContent: Sendable, Equatable {
    /// The full SHA-256 (a Hub LFS file's ETag is its SHA-256).
    case sha256(String)
    /// The leading hex digits of the SHA-256 (torchvision's `name-HASH.pth`).
    case sha256Prefix(String)
    /// The git blob id (SHA-1 of `blob <size>\0` + content): a Hub small file's ETag.
    case gitBlobSHA1(String)
    /// Nothing to check but the size, when known.
    case unchecked
}

/// Download into `<destination>.incomplete` (resumed if present), verify, then
/// rename into place, so a cache never holds a partial or wrong file under its
/// real name. One process at a time per destination (an `flock`ed lock file).
public struct VerifiedDownload {
    public let client: HTTPClient
    public let showsProgress: Bool

    public init(client: HTTPClient = HTTPClient(), showsProgress: Bool = false) {
        self.client = client; self.showsProgress = showsProgress
    }

    public func fetch(_ url: URL, headers: [String: String] = [:], to destination: URL, lockFile: URL,
                      expected: ExpectedContent, expectedSize: Int64? = nil, label: String) throws {
        let fm = FileManager.default
        do { try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
            throw HubError.io(path: destination.deletingLastPathComponent().path, reason: "\(error)")
        }
        let lock = try FileLock(lockFile)
        defer { lock.release() }
        // Another process may have finished it while we waited for the lock.
        if fm.fileExists(atPath: destination.path) { return }
        let partial = URL(fileURLWithPath: destination.path + ".incomplete")
        let response = try client.download(url, headers: headers, to: partial,
                                           progress: showsProgress ? ProgressBar(label: label) : nil)
        guard response.status == 200 || response.status == 206 else {
            try? fm.removeItem(at: partial)
            throw HTTPStatusError.error(for: response, url: url, hadToken: headers["Authorization"] != nil)
        }
        do { try verify(partial, expected: expected, expectedSize: expectedSize, name: label) } catch {
            try? fm.removeItem(at: partial)
            throw error
        }
        guard rename(partial.path, destination.path) == 0 else {
            throw HubError.io(path: destination.path, reason: String(cString: strerror(errno)))
        }
    }

    func verify(_ file: URL, expected: ExpectedContent, expectedSize: Int64?, name: String) throws {
        let size = HTTPClient.size(of: file)
        if let expectedSize, size != expectedSize { throw HubError.sizeMismatch(file: name, expected: expectedSize, actual: size) }
        switch expected {
        case .unchecked: return
        case let .sha256(hex):
            let actual = try SHA256.hex(ofFileAt: file)
            guard actual == hex.lowercased() else { throw HubError.hashMismatch(file: name, expected: hex.lowercased(), actual: actual) }
        case let .sha256Prefix(prefix):
            let actual = try SHA256.hex(ofFileAt: file)
            guard actual.hasPrefix(prefix.lowercased()) else { throw HubError.hashMismatch(file: name, expected: prefix.lowercased() + "...", actual: actual) }
        case let .gitBlobSHA1(hex):
            let actual = try GitBlobSHA1.hex(ofFileAt: file)
            guard actual == hex.lowercased() else { throw HubError.hashMismatch(file: name, expected: hex.lowercased(), actual: actual) }
        }
    }
}

/// Maps an HTTP error status to the typed error, using the Hub's `X-Error-Code` when it sent one.
enum HTTPStatusError {
    static func error(for response: HTTPResponseHead, url: URL, hadToken: Bool, what: String? = nil) -> HubError {
        let u = url.absoluteString
        let code = response["X-Error-Code"]
        switch response.status {
        case 401:
            return .unauthorized(url: u, hadToken: hadToken)
        case 403:
            return .forbidden(url: u, message: response["X-Error-Message"])
        case 404:
            let described: String
            switch code {
            case "RepoNotFound": described = "repository not found"
            case "RevisionNotFound": described = "revision not found"
            case "EntryNotFound": described = "file not found in the repository"
            default: described = what ?? "not found"
            }
            return .notFound(url: u, what: what.map { "\($0): \(described)" } ?? described)
        case 429:
            return .rateLimited(url: u, retryAfter: response["Retry-After"])
        default:
            return .httpStatus(response.status, url: u)
        }
    }
}

/// An exclusive `flock` on a file, so two processes never write the same partial download.
final class FileLock {
    private var fd: Int32

    init(_ url: URL) throws {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(url.path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw HubError.io(path: url.path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HubError.io(path: url.path, reason: reason)
        }
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
