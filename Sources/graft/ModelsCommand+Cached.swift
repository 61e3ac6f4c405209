import Foundation
import Graft
import GraftHub

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
