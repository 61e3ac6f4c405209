import ArgumentParser
import Foundation
import Graft
import GraftHub
import GraftModels

extension ModelsCommand {
    /// `graft models --cached`: every model that loads without a download — the
    /// installed zoo, the Hugging Face cache and torch hub's checkpoints (shared with
    /// the Python tools), and Graft's own downloads — with what to pass to `--model`.
    func printCached() {
        let environment = HubEnvironment()
        var rows: [(String, String, String, String)] = []
        for e in ModelZoo.entries where e.isInstalled {
            rows.append((e.name, "graft zoo", "-", e.url.path))
        }
        for m in CachedModels.list(environment) {
            rows.append((m.reference, m.cache, String(format: "%.1f MB", Double(m.bytes) / 1e6), m.path.path))
        }
        let width = max(30, rows.map(\.0.count).max() ?? 0)
        print("\("model".padding(toLength: width, withPad: " ", startingAt: 0))  cache            size       path")
        for (reference, cache, size, path) in rows {
            print("\(reference.padding(toLength: width, withPad: " ", startingAt: 0))  \(cache.padding(toLength: 15, withPad: " ", startingAt: 0))  \(size.leftPad(9))  \(path)")
        }
        print("\ncaches: \(environment.hubCache.path) (HF_HUB_CACHE/HF_HOME), \(environment.torchCheckpoints.path) (TORCH_HOME), \(environment.graftDownloads.path)")
        if environment.offline { print("offline (GRAFT_OFFLINE/HF_HUB_OFFLINE): only these load") }
    }
}

extension ModelsCommand {
    struct Downloaded: Encodable {
        let reference, path: String
        let bytes: Int64
        let seconds: Double
    }

    /// `graft models --download REF`: the files a reference names, fetched into the shared caches
    /// (verified, resumable, atomic; nothing is fetched when they are already there), and where.
    func fetch(_ reference: String) throws {
        let started = Date()
        let path: URL
        if reference.hasPrefix("hf:") {
            guard let folder = try PretrainedReferences.textModelDirectory(reference) else {
                throw ValidationError("--download \(reference): not a model reference (hf:ORG/NAME, torchvision:NAME or https://...)")
            }
            path = folder
        } else {
            guard let (file, _) = try PretrainedReferences.imageWeights(reference, architecture: arch) else {
                throw ValidationError("--download \(reference): not a model reference (hf:ORG/NAME, torchvision:NAME or https://...)")
            }
            path = file
        }
        let result = Downloaded(reference: reference, path: path.path, bytes: Self.bytes(under: path),
                                seconds: Date().timeIntervalSince(started))
        if json { return try CLIOutput.printJSON(result) }
        print("\(reference): \(String(format: "%.1f MB", Double(result.bytes) / 1e6)) in \(result.path)")
    }

    /// Bytes of a file, or of the files a folder (a snapshot of symlinks) leads to.
    static func bytes(under url: URL) -> Int64 {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isFolder) else { return 0 }
        guard isFolder.boolValue else { return (try? fm.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.size] as? Int64) ?? 0 }
        var total: Int64 = 0
        for case let file as URL in fm.enumerator(at: url, includingPropertiesForKeys: nil) ?? FileManager.DirectoryEnumerator() {
            let target = file.resolvingSymlinksInPath()
            var sub: ObjCBool = false
            if fm.fileExists(atPath: target.path, isDirectory: &sub), !sub.boolValue {
                total += (try? fm.attributesOfItem(atPath: target.path)[.size] as? Int64) ?? 0
            }
        }
        return total
    }
}
