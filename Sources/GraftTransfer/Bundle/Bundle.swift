import Foundation
import GraftHeads
import GraftNN
import GraftTensor
import GraftWeights

/// A trained classifier on disk: a directory with `bundle.json` and either
/// `head.safetensors` (feature extraction: the linear head and its
/// standardisation) or `model.safetensors` (fine-tuned or from-scratch
/// network: the whole state dict). Written to a temporary directory and
/// exchanged with the old one, so the path holds the old or the new bundle at every instant.
public enum BundleStore {
    public static func manifestURL(_ dir: URL) -> URL { dir.appendingPathComponent("bundle.json") }

    public static func readManifest(_ dir: URL) throws -> BundleManifest {
        AtomicDirectory.sweep(beside: dir)
        guard let data = try? Data(contentsOf: manifestURL(dir)) else {
            throw TransferError.bundle(path: dir.path, reason: "no bundle.json (not a Graft bundle)")
        }
        do { return try JSONDecoder().decode(BundleManifest.self, from: data) } catch {
            throw TransferError.bundle(path: dir.path, reason: "unreadable bundle.json: \(error)")
        }
    }

    /// Writes a feature-extraction bundle.
    public static func save(_ manifest: BundleManifest, head: LinearHead, to dir: URL) throws {
        var m = manifest
        m.headKind = head.kind; m.headC = head.C; m.headClasses = head.classes
        try writeAtomically(dir) { tmp in
            var tensors = [try StoredTensor(name: "weight", shape: [head.classes.count, head.featureCount], floats: head.weights),
                           try StoredTensor(name: "bias", shape: [head.classes.count], floats: head.bias)]
            if let s = head.standardization {
                tensors += [try StoredTensor(name: "standardization.mean", shape: [s.mean.count], floats: s.mean),
                            try StoredTensor(name: "standardization.scale", shape: [s.scale.count], floats: s.scale)]
            }
            try WeightFile(tensors: tensors).writeSafetensors(to: tmp.appendingPathComponent("head.safetensors"))
            try encode(m).write(to: manifestURL(tmp))
        }
    }

    /// Writes a network bundle (fine-tuned or from scratch).
    public static func save(_ manifest: BundleManifest, network: Module, to dir: URL) throws {
        try writeAtomically(dir) { tmp in
            try StateDictFile.write(network, to: tmp.appendingPathComponent("model.safetensors"))
            try encode(manifest).write(to: manifestURL(tmp))
        }
    }

    public static func loadHead(_ dir: URL, manifest: BundleManifest) throws -> LinearHead {
        let file = try WeightFile.open(dir.appendingPathComponent("head.safetensors"))
        func floats(_ k: String) throws -> [Float]? { try file[k].map { try $0.floats() } }
        guard let kind = manifest.headKind, let classes = manifest.headClasses, let w = try floats("weight"), let b = try floats("bias"),
              let d = manifest.source?.dimension else {
            throw TransferError.bundle(path: dir.path, reason: "head.safetensors or bundle.json lacks the head")
        }
        var std: Standardization?
        if let mean = try floats("standardization.mean"), let scale = try floats("standardization.scale") {
            std = try Standardization(mean: mean, scale: scale)
        }
        return try LinearHead(kind: kind, classes: classes, featureCount: d, weights: w, bias: b, standardization: std, C: manifest.headC ?? 1)
    }

    static func encode(_ m: BundleManifest) throws -> Data {
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(m)
    }

    /// Old-or-new at every instant (`AtomicDirectory`): a kill never leaves half a bundle.
    static func writeAtomically(_ dir: URL, _ body: (URL) throws -> Void) throws {
        try AtomicDirectory.write(dir, body)
    }
}
