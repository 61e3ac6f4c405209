import Foundation

/// The Hugging Face cache layout, as huggingface_hub reads and writes it:
///
///     models--ORG--NAME/
///       blobs/<etag>                     file contents, named by ETag (SHA-256 for LFS files)
///       snapshots/<commit>/<file>        relative symlinks to ../../blobs/<etag>
///       refs/<revision>                  the commit a branch or tag pointed to
///       .no_exist/<commit>/<file>        files known to be absent at that commit
///     .locks/models--ORG--NAME/<etag>.lock
public struct HuggingFaceCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public func folderName(_ repository: String) -> String { "models--" + repository.replacingOccurrences(of: "/", with: "--") }
    public func repoFolder(_ repository: String) -> URL { root.appendingPathComponent(folderName(repository)) }
    public func blob(_ repository: String, etag: String) -> URL { repoFolder(repository).appendingPathComponent("blobs/\(etag)") }
    public func lock(_ repository: String, etag: String) -> URL {
        root.appendingPathComponent(".locks/\(folderName(repository))/\(etag).lock")
    }
    public func snapshot(_ repository: String, commit: String) -> URL { repoFolder(repository).appendingPathComponent("snapshots/\(commit)") }
    public func snapshotFile(_ repository: String, commit: String, file: String) -> URL {
        snapshot(repository, commit: commit).appendingPathComponent(file)
    }
    private func ref(_ repository: String, revision: String) -> URL { repoFolder(repository).appendingPathComponent("refs/\(revision)") }
    private func noExist(_ repository: String, commit: String, file: String) -> URL {
        repoFolder(repository).appendingPathComponent(".no_exist/\(commit)/\(file)")
    }

    static func isCommitHash(_ s: String) -> Bool { s.count == 40 && s.allSatisfy { "0123456789abcdef".contains($0) } }

    /// The commit `revision` names: itself if it is a commit hash, else what `refs/<revision>` recorded.
    public func commit(_ repository: String, revision: String) -> String? {
        if Self.isCommitHash(revision) { return revision }
        let text = try? String(contentsOf: ref(repository, revision: revision), encoding: .utf8)
        let commit = text?.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.flatMap { Self.isCommitHash($0) ? $0 : nil }
    }

    public func writeRef(_ repository: String, revision: String, commit: String) throws {
        guard revision != commit else { return }
        let url = ref(repository, revision: revision)
        if self.commit(repository, revision: revision) == commit { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: url, options: .atomic)
    }

    /// A snapshot file that resolves to an existing blob (a dangling link is not cached).
    public func cachedFile(_ repository: String, commit: String, file: String) -> URL? {
        let url = snapshotFile(repository, commit: commit, file: file)
        return FileManager.default.fileExists(atPath: url.resolvingSymlinksInPath().path) ? url : nil
    }

    /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative link, as huggingface_hub does.
    public func link(_ repository: String, commit: String, file: String, etag: String) throws {
        let link = snapshotFile(repository, commit: commit, file: file)
        let fm = FileManager.default
        try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depth = file.split(separator: "/").count + 1   // up through the file's folders, the commit, `snapshots`
        let target = String(repeating: "../", count: depth) + "blobs/\(etag)"
        if (try? fm.destinationOfSymbolicLink(atPath: link.path)) == target { return }
        try? fm.removeItem(at: link)
        try fm.createSymbolicLink(atPath: link.path, withDestinationPath: target)
    }

    public func markMissing(_ repository: String, commit: String, file: String) throws {
        let url = noExist(repository, commit: commit, file: file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data())
    }

    public func isKnownMissing(_ repository: String, commit: String, file: String) -> Bool {
        FileManager.default.fileExists(atPath: noExist(repository, commit: commit, file: file).path)
    }

    /// Every cached repository snapshot, with the revisions that name it.
    public func snapshots() -> [(repository: String, commit: String, revisions: [String], folder: URL)] {
        let fm = FileManager.default
        guard let folders = try? fm.contentsOfDirectory(atPath: root.path) else { return [] }
        var out: [(String, String, [String], URL)] = []
        for folder in folders.sorted() where folder.hasPrefix("models--") {
            let repository = folder.dropFirst("models--".count).replacingOccurrences(of: "--", with: "/")
            let refsDir = root.appendingPathComponent("\(folder)/refs")
            var revisionsByCommit: [String: [String]] = [:]
            for name in (try? fm.subpathsOfDirectory(atPath: refsDir.path)) ?? [] {
                if let c = commit(repository, revision: name) { revisionsByCommit[c, default: []].append(name) }
            }
            let snapshotsDir = root.appendingPathComponent("\(folder)/snapshots")
            for commit in ((try? fm.contentsOfDirectory(atPath: snapshotsDir.path)) ?? []).sorted() {
                out.append((repository, commit, (revisionsByCommit[commit] ?? []).sorted(), snapshotsDir.appendingPathComponent(commit)))
            }
        }
        return out
    }
}
