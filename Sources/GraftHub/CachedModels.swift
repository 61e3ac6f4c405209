import Foundation

/// A model available without a download, and where it is.
public struct CachedModel: Sendable, Equatable {
    /// What to pass to `--model` (`hf:ORG/NAME`, `torchvision:NAME`, or a file path).
    public let reference: String
    /// `huggingface`, `torch hub` or `graft downloads`.
    public let cache: String
    public let path: URL
    public let bytes: Int64
}

/// Everything the shared caches already hold (never touches the network).
public enum CachedModels {
    public static func list(_ environment: HubEnvironment = HubEnvironment()) -> [CachedModel] {
        var out: [CachedModel] = []
        let hub = HuggingFaceCache(root: environment.hubCache)
        for s in hub.snapshots() {
            let reference = s.revisions.contains("main") ? "hf:\(s.repository)"
                : "hf:\(s.repository)@\(s.revisions.first ?? s.commit)"
            out.append(CachedModel(reference: reference, cache: "huggingface", path: s.folder, bytes: bytes(under: s.folder)))
        }
        let fm = FileManager.default
        let checkpoints = environment.torchCheckpoints
        for name in ((try? fm.contentsOfDirectory(atPath: checkpoints.path)) ?? []).sorted() where !name.hasPrefix(".") && !name.hasSuffix(".incomplete") {
            let path = checkpoints.appendingPathComponent(name)
            let reference = TorchvisionWeights.all.first { $0.file == name }.map { "torchvision:\($0.name)" } ?? path.path
            out.append(CachedModel(reference: reference, cache: "torch hub", path: path, bytes: HTTPClient.size(of: path)))
        }
        let downloads = environment.graftDownloads
        for key in ((try? fm.contentsOfDirectory(atPath: downloads.path)) ?? []).sorted() where !key.hasPrefix(".") {
            for name in ((try? fm.contentsOfDirectory(atPath: downloads.appendingPathComponent(key).path)) ?? []).sorted()
            where !name.hasSuffix(".incomplete") {
                let path = downloads.appendingPathComponent("\(key)/\(name)")
                out.append(CachedModel(reference: path.path, cache: "graft downloads", path: path, bytes: HTTPClient.size(of: path)))
            }
        }
        return out
    }

    /// Bytes of the files a snapshot's links point at.
    static func bytes(under folder: URL) -> Int64 {
        let fm = FileManager.default
        var total: Int64 = 0
        for sub in (try? fm.subpathsOfDirectory(atPath: folder.path)) ?? [] {
            let target = folder.appendingPathComponent(sub).resolvingSymlinksInPath()
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: target.path, isDirectory: &isDir), !isDir.boolValue { total += HTTPClient.size(of: target) }
        }
        return total
    }
}
