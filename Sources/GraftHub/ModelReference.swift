import Foundation

/// A pretrained model named by where it is published:
/// `hf:ORG/NAME[@REVISION]` (Hugging Face Hub), `torchvision:NAME` (torchvision's
/// ImageNet weights), or an `https://` URL of a weights file (with `--arch`).
/// Anything else is a zoo name or a local path and is not a remote reference.
public enum ModelReference: Equatable, Sendable, CustomStringConvertible {
    case hub(repository: String, revision: String)
    case torchvision(TorchvisionWeights)
    case url(URL)

    /// nil when `string` is not a remote reference (a zoo name or a path).
    public static func parse(_ string: String) throws -> ModelReference? {
        if string.hasPrefix("hf:") { return try parseHub(String(string.dropFirst(3)), original: string) }
        if string.hasPrefix("torchvision:") {
            let name = String(string.dropFirst("torchvision:".count))
            guard let weights = TorchvisionWeights.named(name) else {
                throw HubError.unknownTorchvisionModel(name, available: TorchvisionWeights.all.map(\.name))
            }
            return .torchvision(weights)
        }
        if string.hasPrefix("https://") || string.hasPrefix("http://") {
            guard let url = URL(string: string), url.host != nil, !url.lastPathComponent.isEmpty, url.lastPathComponent != "/" else {
                throw HubError.invalidReference(string, reason: "not a URL of a file")
            }
            return .url(url)
        }
        return nil
    }

    /// Repository ids as the Hub validates them (`huggingface_hub.utils.validate_repo_id`):
    /// `[ORG/]NAME` of letters, digits, `-`, `_`, `.`; no `--` or `..`; at most 96 characters a part.
    static func parseHub(_ body: String, original: String) throws -> ModelReference {
        let parts = body.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let repository = parts[0]
        let revision = parts.count > 1 ? parts[1] : "main"
        guard !revision.isEmpty, !revision.contains(where: \.isWhitespace) else {
            throw HubError.invalidReference(original, reason: "empty revision after '@'")
        }
        let names = repository.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard (1...2).contains(names.count),
              names.allSatisfy({ !$0.isEmpty && $0.count <= 96 && $0.unicodeScalars.allSatisfy { allowed.contains($0) && $0.isASCII } }),
              !repository.contains("--"), !repository.contains(".."),
              names.allSatisfy({ !$0.hasPrefix("-") && !$0.hasPrefix(".") && !$0.hasSuffix("-") && !$0.hasSuffix(".") }) else {
            throw HubError.invalidReference(original, reason: "expected hf:ORG/NAME or hf:ORG/NAME@REVISION (letters, digits, '-', '_', '.')")
        }
        return .hub(repository: repository, revision: revision)
    }

    public var description: String {
        switch self {
        case let .hub(r, rev): return rev == "main" ? "hf:\(r)" : "hf:\(r)@\(rev)"
        case let .torchvision(w): return "torchvision:\(w.name)"
        case let .url(u): return u.absoluteString
        }
    }
}
