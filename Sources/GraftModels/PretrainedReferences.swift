import Foundation
import GraftHub

/// Why a published model cannot become one of Graft's networks.
public enum ModelReferenceError: Error, CustomStringConvertible, Equatable {
    /// config.json names an architecture family Graft's encoder does not implement.
    case unsupportedModelType(String, model: String, supported: [String])
    /// A plain URL says nothing about the network its weights belong to.
    case architectureRequired(url: String, available: [String])
    case wrongKind(reference: String, expected: String)
    case unreadableConfig(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedModelType(t, m, s):
            return "\(m): config.json has model_type '\(t)', which Graft's text encoder does not run; supported: \(s.joined(separator: ", "))"
        case let .architectureRequired(u, a): return "\(u): say which network these weights are for with --arch (\(a.joined(separator: ", ")))"
        case let .wrongKind(r, e): return "\(r) is not \(e)"
        case let .unreadableConfig(p, why): return "\(p): \(why)"
        }
    }
}

/// Models named by where they are published (`hf:ORG/NAME[@REV]`, `torchvision:NAME`,
/// `https://...` with an architecture), resolved to local files through the shared
/// caches (see GraftHub and docs/HUB.md). Zoo names and paths are not references: nil.
public enum PretrainedReferences {
    /// What a sentence-transformers BERT encoder needs from its repository.
    public static let textModelFiles = HubFileSet(
        required: ["config.json", "model.safetensors", "vocab.txt"],
        optional: ["tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "modules.json",
                   "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json"])

    /// `model_type`s whose checkpoints Graft's `BERT` loads key for key (with a WordPiece vocab.txt).
    public static let supportedTextModelTypes = ["bert"]

    /// The local folder of an `hf:` text model (downloaded if missing), its
    /// architecture checked from config.json before the weights are fetched.
    public static func textModelDirectory(_ name: String, environment: HubEnvironment = HubEnvironment()) throws -> URL? {
        guard let reference = try ModelReference.parse(name) else { return nil }
        guard case let .hub(repository, revision) = reference else {
            throw ModelReferenceError.wrongKind(reference: name, expected: "a text model (text models come from hf:ORG/NAME)")
        }
        let hub = HuggingFaceHub(environment: environment)
        let configOnly = try hub.snapshot(repository, revision: revision, files: HubFileSet(required: ["config.json"]))
        try checkTextArchitecture(configOnly.appendingPathComponent("config.json"), model: name)
        // The config's snapshot folder is named by its commit: the rest comes from the same commit.
        return try hub.snapshot(repository, revision: configOnly.lastPathComponent, files: textModelFiles)
    }

    /// Reads `model_type` (and the settings the BERT implementation depends on) from config.json.
    public static func checkTextArchitecture(_ config: URL, model: String) throws {
        let json: [String: Any]
        do {
            json = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any] ?? [:]
        } catch { throw ModelReferenceError.unreadableConfig(path: config.path, reason: "\(error)") }
        let type = json["model_type"] as? String ?? "(none)"
        guard supportedTextModelTypes.contains(type) else {
            throw ModelReferenceError.unsupportedModelType(type, model: model, supported: supportedTextModelTypes)
        }
        if let position = json["position_embedding_type"] as? String, position != "absolute" {
            throw ModelReferenceError.unsupportedModelType("\(type) with position_embedding_type \(position)", model: model,
                                                          supported: supportedTextModelTypes.map { "\($0) (absolute positions)" })
        }
    }

    /// The weights file and architecture of a `torchvision:` or URL reference.
    public static func imageWeights(_ name: String, architecture: String?, environment: HubEnvironment = HubEnvironment()) throws -> (file: URL, architecture: String)? {
        guard let reference = try ModelReference.parse(name) else { return nil }
        let downloads = WeightFileDownloads(environment: environment)
        switch reference {
        case let .torchvision(weights):
            return (try downloads.torchvision(weights), architecture ?? weights.architecture)
        case let .url(url):
            guard let architecture else {
                throw ModelReferenceError.architectureRequired(url: url.absoluteString, available: ImageModels.architectures)
            }
            return (try downloads.file(at: url), architecture)
        case .hub:
            throw ModelReferenceError.wrongKind(reference: name, expected: "an image model Graft can fetch yet (use torchvision:NAME or an https:// URL with --arch)")
        }
    }
}

extension PretrainedReferences {
    /// What a reference names, without fetching anything: whether the network reads
    /// images (else texts) and its architecture. nil for zoo names and paths.
    public static func describe(_ name: String, architecture: String?) throws -> (readsImages: Bool, architecture: String)? {
        guard let reference = try ModelReference.parse(name) else { return nil }
        switch reference {
        case let .torchvision(weights): return (true, architecture ?? weights.architecture)
        case let .url(url):
            guard let architecture else {
                throw ModelReferenceError.architectureRequired(url: url.absoluteString, available: ImageModels.architectures)
            }
            return (architecture != "bert", architecture)
        case .hub: return (false, "bert")
        }
    }
}

extension ImageModels {
    /// A network with the weights a `torchvision:`/URL reference names, or nil for zoo names and paths.
    static func fromReference(_ name: String, architecture: String?) throws -> (any ImageBackbone)? {
        guard let (file, architecture) = try PretrainedReferences.imageWeights(name, architecture: architecture) else { return nil }
        let model = try make(architecture)
        try model.load(contentsOf: file)
        return model
    }
}
