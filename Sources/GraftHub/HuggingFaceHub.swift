import Foundation

/// The files of a repository a model needs: all of `required`, whichever of `optional` exist.
public struct HubFileSet: Sendable {
    public var required: [String]
    public var optional: [String]
    public init(required: [String], optional: [String] = []) { self.required = required; self.optional = optional }
}

/// Downloads repository files from the Hugging Face Hub into the shared cache,
/// the way `huggingface_hub.hf_hub_download` does: a HEAD on
/// `{HF_ENDPOINT}/{repo}/resolve/{revision}/{file}` gives the commit
/// (`X-Repo-Commit`), the content id (`X-Linked-Etag` for LFS files, which is
/// their SHA-256, else `ETag`), the size and, for LFS, a redirect to the CDN;
/// the body goes to `blobs/<etag>`, the snapshot gets a symlink, `refs/<revision>`
/// the commit. The first file pins the commit, so every file comes from one snapshot.
public struct HuggingFaceHub: Sendable {
    public let environment: HubEnvironment
    public let cache: HuggingFaceCache
    public let client: HTTPClient

    public init(environment: HubEnvironment = HubEnvironment(), client: HTTPClient = HTTPClient()) {
        self.environment = environment
        self.cache = HuggingFaceCache(root: environment.hubCache)
        self.client = client
    }

    /// The local snapshot folder holding `files` of `repository` at `revision`.
    /// Offline, or when the Hub cannot be reached, a complete cached snapshot is used.
    public func snapshot(_ repository: String, revision: String = "main", files: HubFileSet) throws -> URL {
        let reference = ModelReference.hub(repository: repository, revision: revision).description
        if environment.offline {
            if let cached = cachedSnapshot(repository, revision: revision, files: files) { return cached }
            throw HubError.notCached(reference: reference, looked: [cache.repoFolder(repository).path])
        }
        do {
            return try download(repository, revision: revision, files: files)
        } catch let error as HubError {
            guard case .network = error, let cached = cachedSnapshot(repository, revision: revision, files: files) else { throw error }
            FileHandle.standardError.write(Data("warning: \(error); using the cached snapshot \(cached.lastPathComponent)\n".utf8))
            return cached
        }
    }

    /// A cached snapshot with every required file, or nil. Never touches the network.
    public func cachedSnapshot(_ repository: String, revision: String, files: HubFileSet) -> URL? {
        guard let commit = cache.commit(repository, revision: revision),
              files.required.allSatisfy({ cache.cachedFile(repository, commit: commit, file: $0) != nil }) else { return nil }
        return cache.snapshot(repository, commit: commit)
    }

    /// `{endpoint}/{repo}/resolve/{revision}/{file}`, the revision quoted whole (`refs/pr/1` -> `refs%2Fpr%2F1`).
    public func fileURL(_ repository: String, revision: String, file: String) -> URL {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let rev = revision.addingPercentEncoding(withAllowedCharacters: unreserved) ?? revision
        let path = file.split(separator: "/").map { String($0).addingPercentEncoding(withAllowedCharacters: unreserved) ?? String($0) }
        return URL(string: environment.hubEndpoint.absoluteString + "/\(repository)/resolve/\(rev)/" + path.joined(separator: "/"))!
    }

    private var authorization: [String: String] {
        environment.hubToken.map { ["Authorization": "Bearer \($0)"] } ?? [:]
    }

    /// `W/"abc"` -> `abc`.
    static func normalizedETag(_ raw: String?) -> String? {
        guard var e = raw?.trimmingCharacters(in: .whitespaces), !e.isEmpty else { return nil }
        if e.hasPrefix("W/") { e.removeFirst(2) }
        e = e.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return e.isEmpty || e.contains("/") ? nil : e
    }

    private func download(_ repository: String, revision: String, files: HubFileSet) throws -> URL {
        var pinned: String?
        let downloader = VerifiedDownload(client: client, showsProgress: environment.showsProgress)
        let wanted = files.required.map { ($0, true) } + files.optional.map { ($0, false) }
        for (file, required) in wanted {
            if let pinned, !required, cache.isKnownMissing(repository, commit: pinned, file: file) { continue }
            let url = fileURL(repository, revision: pinned ?? revision, file: file)
            let head: HTTPResponseHead
            do { head = try client.head(url, headers: authorization) } catch let failure as TransferFailure {
                throw HubError.network(url: url.absoluteString, reason: failure.reason)
            }
            if head.status == 404, !required, head["X-Error-Code"] ?? "EntryNotFound" == "EntryNotFound" {
                if let commit = head["X-Repo-Commit"] ?? pinned { try? cache.markMissing(repository, commit: commit, file: file) }
                continue
            }
            guard (200..<400).contains(head.status) else {
                throw HTTPStatusError.error(for: head, url: url, hadToken: environment.hubToken != nil,
                                            what: "\(file) in \(ModelReference.hub(repository: repository, revision: revision))")
            }
            guard let commit = head["X-Repo-Commit"] else { throw HubError.missingMetadata(url: url.absoluteString, header: "X-Repo-Commit") }
            guard let etag = Self.normalizedETag(head["X-Linked-Etag"] ?? head["ETag"]) else {
                throw HubError.missingMetadata(url: url.absoluteString, header: "ETag")
            }
            pinned = commit
            let size = (head["X-Linked-Size"] ?? head["Content-Length"]).flatMap { Int64($0) }
            // LFS files redirect to their storage; small files come from the resolve URL itself.
            let pinnedURL = fileURL(repository, revision: commit, file: file)
            let source = (300..<400).contains(head.status)
                ? head["Location"].flatMap { URL(string: $0, relativeTo: url)?.absoluteURL } ?? pinnedURL : pinnedURL
            let blob = cache.blob(repository, etag: etag)
            if !FileManager.default.fileExists(atPath: blob.path) {
                try downloader.fetch(source, headers: source.host == url.host ? authorization : [:], to: blob,
                                     lockFile: cache.lock(repository, etag: etag),
                                     expected: Self.expectedContent(etag: etag), expectedSize: size, label: file)
            }
            do { try cache.link(repository, commit: commit, file: file, etag: etag) } catch {
                throw HubError.io(path: cache.snapshotFile(repository, commit: commit, file: file).path, reason: "\(error)")
            }
        }
        guard let commit = pinned else {
            throw HubError.notFound(url: fileURL(repository, revision: revision, file: "").absoluteString, what: "no files of \(repository)")
        }
        do { try cache.writeRef(repository, revision: revision, commit: commit) } catch {
            throw HubError.io(path: cache.repoFolder(repository).path, reason: "\(error)")
        }
        return cache.snapshot(repository, commit: commit)
    }

    /// What a file's ETag promises: an LFS file's is the SHA-256 of its content, a git file's its
    /// git blob SHA-1; any other ETag (a mirror's own) is checked by size only.
    static func expectedContent(etag: String) -> ExpectedContent {
        let isHex = etag.allSatisfy { "0123456789abcdef".contains($0) }
        switch (isHex, etag.count) {
        case (true, 64): return .sha256(etag)
        case (true, 40): return .gitBlobSHA1(etag)
        default: return .unchecked
        }
    }
}
