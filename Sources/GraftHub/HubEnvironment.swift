import Foundation

/// Where models come from and where they are kept, read from the same
/// environment variables the Python tools use, so both share one cache.
/// Tests pass their own dictionary instead of the process environment.
public struct HubEnvironment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    private func value(_ name: String) -> String? {
        guard let v = variables[name], !v.isEmpty else { return nil }
        return v
    }

    private func flag(_ name: String) -> Bool {
        guard let v = value(name)?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(v)
    }

    private var home: URL {
        value("HOME").map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
    }

    private var xdgCache: URL { value("XDG_CACHE_HOME").map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent(".cache") }

    /// `GRAFT_OFFLINE=1` or `HF_HUB_OFFLINE=1`: resolve from caches only, never open a connection.
    public var offline: Bool { flag("GRAFT_OFFLINE") || flag("HF_HUB_OFFLINE") }

    /// The Hub's base URL (`HF_ENDPOINT`, as huggingface_hub reads it).
    public var hubEndpoint: URL {
        let s = value("HF_ENDPOINT") ?? "https://huggingface.co"
        return URL(string: s.hasSuffix("/") ? String(s.dropLast()) : s) ?? URL(string: "https://huggingface.co")!
    }

    /// Where torchvision's ImageNet weights are published (`GRAFT_TORCHVISION_BASE_URL` for a mirror).
    public var torchvisionBaseURL: URL {
        let s = value("GRAFT_TORCHVISION_BASE_URL") ?? "https://download.pytorch.org/models"
        return URL(string: s.hasSuffix("/") ? String(s.dropLast()) : s) ?? URL(string: "https://download.pytorch.org/models")!
    }

    /// `$HF_HOME`, default `~/.cache/huggingface`.
    public var hfHome: URL { value("HF_HOME").map { URL(fileURLWithPath: $0) } ?? xdgCache.appendingPathComponent("huggingface") }

    /// The Hub cache: `$HF_HUB_CACHE` (or the older `HUGGINGFACE_HUB_CACHE`), else `$HF_HOME/hub`.
    public var hubCache: URL {
        (value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE")).map { URL(fileURLWithPath: $0) } ?? hfHome.appendingPathComponent("hub")
    }

    /// A token for gated and private models: `HF_TOKEN`, else the file `huggingface-cli login` writes.
    public var hubToken: String? {
        if let t = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN") { return t }
        let file = value("HF_TOKEN_PATH").map { URL(fileURLWithPath: $0) } ?? hfHome.appendingPathComponent("token")
        let t = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return t?.isEmpty == false ? t : nil
    }

    /// torch hub's checkpoint folder: `$TORCH_HOME/hub/checkpoints`, `TORCH_HOME` defaulting to `$XDG_CACHE_HOME/torch`.
    public var torchCheckpoints: URL {
        (value("TORCH_HOME").map { URL(fileURLWithPath: $0) } ?? xdgCache.appendingPathComponent("torch"))
            .appendingPathComponent("hub/checkpoints")
    }

    /// Graft's own cache for weights fetched from plain URLs: `$GRAFT_HOME/downloads`.
    public var graftDownloads: URL {
        (value("GRAFT_HOME").map { URL(fileURLWithPath: $0) } ?? xdgCache.appendingPathComponent("graft"))
            .appendingPathComponent("downloads")
    }

    /// Show a progress bar (stderr is a terminal and `GRAFT_QUIET` is unset).
    public var showsProgress: Bool { !flag("GRAFT_QUIET") && isatty(2) == 1 }
}
