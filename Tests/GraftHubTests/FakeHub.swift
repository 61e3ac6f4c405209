import Foundation
@testable import GraftHub

/// A Hugging Face Hub on loopback, answering the way huggingface.co does:
/// `/{repo}/resolve/{revision}/{file}` with `X-Repo-Commit` and `ETag`; LFS
/// files redirect (302) to a storage host (`localhost`, a different host from
/// `127.0.0.1`, as the CDN is) with `X-Linked-Etag` (their SHA-256) and
/// `X-Linked-Size`; errors carry `X-Error-Code`. Requests that arrive in proxy
/// form (`GET http://host/path`) are answered the same and counted as proxied.
final class FakeHub: @unchecked Sendable {
    let repository: String
    let commit = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    private let files: [String: Data]
    private let lfs: Set<String>
    private let shas: [String: String]
    private let lock = NSLock()
    private var _server: LoopbackServer?
    private var gets: [String: Int] = [:]

    /// Serve this file with one byte changed (headers still promise the real one).
    var corrupt: Set<String> = []
    /// Cut the first GET of these files off halfway.
    var dropFirstGET: Set<String> = []
    /// Every GET of these files is cut off halfway.
    var alwaysDrop: Set<String> = []
    var requiredToken: String?
    var rateLimited = false

    init(repository: String, files: [String: Data], lfs: Set<String>) throws {
        self.repository = repository; self.files = files; self.lfs = lfs
        shas = files.mapValues { Self.sha256($0) }
        _server = try LoopbackServer { [unowned self] in self.answer($0) }
    }

    var server: LoopbackServer { _server! }
    var endpoint: String { server.baseURL }
    func stop() { server.stop() }

    static func sha256(_ d: Data) -> String { SHA256.hex(of: d) }
    /// The git blob id the Hub sends as a small file's ETag.
    static func gitLikeETag(_ d: Data) -> String { GitBlobSHA1.hex(of: d) }

    /// Requests that reached the storage host, with whether they carried a token.
    var storageRequests: [LoopbackServer.Request] { server.requests.filter { path(of: $0.target).hasPrefix("/lfs/") } }

    private func path(of target: String) -> String {
        guard target.hasPrefix("http://"), let url = URL(string: target) else { return target }
        return url.path
    }

    private func answer(_ request: LoopbackServer.Request) -> LoopbackServer.Reply {
        let path = path(of: request.target)
        if rateLimited { return .init(status: 429, headers: [("Retry-After", "30")]) }
        if path.hasPrefix("/lfs/") {
            let sha = String(path.dropFirst(5))
            guard let name = shas.first(where: { $0.value == sha })?.key, let data = files[name] else { return .init(status: 404) }
            return serveBody(name, data, request)
        }
        let prefix = "/\(repository)/resolve/"
        guard path.hasPrefix(prefix) else {
            return .init(status: 401, headers: [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")])
        }
        if let token = requiredToken, request["Authorization"] != "Bearer \(token)" {
            return .init(status: 401, headers: [("X-Error-Code", "GatedRepo"), ("X-Error-Message", "Access to model \(repository) is restricted.")])
        }
        let rest = path.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else { return .init(status: 404) }
        let revision = rest[..<slash].removingPercentEncoding ?? ""
        let file = String(rest[rest.index(after: slash)...]).removingPercentEncoding ?? ""
        guard revision == "main" || revision == commit else {
            return .init(status: 404, headers: [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", "Invalid rev id: \(revision)")])
        }
        guard let data = files[file] else {
            return .init(status: 404, headers: [("X-Error-Code", "EntryNotFound"), ("X-Repo-Commit", commit),
                                                ("X-Error-Message", "Entry not found")])
        }
        if lfs.contains(file) {
            return .init(status: 302, headers: [
                ("Location", "http://localhost:\(server.port)/lfs/\(shas[file]!)"),
                ("X-Repo-Commit", commit), ("ETag", "\"\(Self.gitLikeETag(data))\""),
                ("X-Linked-Etag", "\"\(shas[file]!)\""), ("X-Linked-Size", "\(data.count)"), ("Content-Length", "0"),
            ])
        }
        return serveBody(file, data, request, headers: [("X-Repo-Commit", commit), ("ETag", "\"\(Self.gitLikeETag(data))\"")])
    }

    private func serveBody(_ name: String, _ data: Data, _ request: LoopbackServer.Request, headers: [(String, String)] = []) -> LoopbackServer.Reply {
        var body = data
        if corrupt.contains(name) { body[body.count / 2] ^= 0xff }
        var reply = LoopbackServer.serve(body, request: request, headers: headers)
        guard request.method == "GET" else { return reply }
        let n: Int = lock.withLock { gets[name, default: 0] += 1; return gets[name]! }
        if alwaysDrop.contains(name) || (n == 1 && dropFirstGET.contains(name)) { reply.cutAfter = reply.body.count / 2 }
        return reply
    }
}
