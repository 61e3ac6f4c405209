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

    /// Writes a feature-extraction bundle: the head's numbers in head.safetensors, its kind and sizes in bundle.json.
    public static func save(_ manifest: BundleManifest, head: any ClassifierHead, to dir: URL) throws {
        var m = manifest
        m.headKind = head.kind; m.headC = head.regularisation; m.headClasses = head.classes
        var tensors: [StoredTensor]
        switch head {
        case let linear as LinearHead:
            m.headC = linear.C
            tensors = [try StoredTensor(name: "weight", shape: [linear.classes.count, linear.featureCount], floats: linear.weights),
                       try StoredTensor(name: "bias", shape: [linear.classes.count], floats: linear.bias)]
            if let s = linear.standardization {
                tensors += [try StoredTensor(name: "standardization.mean", shape: [s.mean.count], floats: s.mean),
                            try StoredTensor(name: "standardization.scale", shape: [s.scale.count], floats: s.scale)]
            }
        case let knn as NearestNeighborsHead:
            m.headNeighbors = knn.k
            // Labels are class indices, exact in Float far beyond any class count.
            tensors = [try StoredTensor(name: "examples", shape: [knn.labels.count, knn.featureCount], floats: knn.examples),
                       try StoredTensor(name: "labels", shape: [knn.labels.count], floats: knn.labels.map(Float.init))]
        default:
            throw TransferError.unsupported("bundles cannot store a \(head.kind.rawValue) head")
        }
        try writeAtomically(dir) { tmp in
            try WeightFile(tensors: tensors).writeSafetensors(to: tmp.appendingPathComponent("head.safetensors"))
            try encode(m).write(to: manifestURL(tmp))
        }
    }

    /// Writes a regression bundle: the ridge head's weights in head.safetensors (as a linear head's),
    /// its penalty in bundle.json; `classNames` are the target names.
    public static func save(_ manifest: BundleManifest, regression head: RegressionHead, to dir: URL) throws {
        var m = manifest
        m.headKind = .ridge; m.headAlpha = head.alpha; m.headClasses = nil; m.headC = nil
        try saveAffine(m, rows: head.targetCount, columns: head.featureCount, weights: head.weights, bias: head.bias,
                       standardization: head.standardization, to: dir)
    }

    public static func loadRegressionHead(_ dir: URL, manifest: BundleManifest) throws -> RegressionHead {
        let affine = try loadAffine(dir)
        guard manifest.headKind == .ridge, let alpha = manifest.headAlpha, let d = manifest.source?.dimension,
              let w = affine.weights, let b = affine.bias else {
            throw TransferError.bundle(path: dir.path, reason: "a regression bundle needs headKind ridge, headAlpha and source in bundle.json and weight, bias in head.safetensors")
        }
        return try RegressionHead(featureCount: d, targetCount: manifest.classNames.count, weights: w, bias: b,
                                  standardization: affine.standardization, alpha: alpha)
    }

    /// Writes a multi-label bundle: the per-label weights in head.safetensors, C and the thresholds in
    /// bundle.json; `classNames` are the label names.
    public static func save(_ manifest: BundleManifest, multiLabel head: MultiLabelHead, to dir: URL) throws {
        var m = manifest
        m.headKind = .oneVsRest; m.headC = head.C; m.headThresholds = head.thresholds; m.headClasses = nil
        try saveAffine(m, rows: head.labelCount, columns: head.featureCount, weights: head.weights, bias: head.bias,
                       standardization: head.standardization, to: dir)
    }

    public static func loadMultiLabelHead(_ dir: URL, manifest: BundleManifest) throws -> MultiLabelHead {
        let affine = try loadAffine(dir)
        guard manifest.headKind == .oneVsRest, let C = manifest.headC, let thresholds = manifest.headThresholds, let d = manifest.source?.dimension,
              let w = affine.weights, let b = affine.bias else {
            throw TransferError.bundle(path: dir.path, reason: "a multi-label bundle needs headKind ovr, headC, headThresholds and source in bundle.json and weight, bias in head.safetensors")
        }
        return try MultiLabelHead(labelCount: manifest.classNames.count, featureCount: d, weights: w, bias: b,
                                  standardization: affine.standardization, C: C, thresholds: thresholds)
    }

    /// A `rows` x `columns` affine map (and the standardisation before it) in head.safetensors, beside `manifest`.
    private static func saveAffine(_ manifest: BundleManifest, rows: Int, columns: Int, weights: [Float], bias: [Float],
                                   standardization: Standardization?, to dir: URL) throws {
        var tensors = [try StoredTensor(name: "weight", shape: [rows, columns], floats: weights),
                       try StoredTensor(name: "bias", shape: [rows], floats: bias)]
        if let s = standardization {
            tensors += [try StoredTensor(name: "standardization.mean", shape: [s.mean.count], floats: s.mean),
                        try StoredTensor(name: "standardization.scale", shape: [s.scale.count], floats: s.scale)]
        }
        try writeAtomically(dir) { tmp in
            try WeightFile(tensors: tensors).writeSafetensors(to: tmp.appendingPathComponent("head.safetensors"))
            try encode(manifest).write(to: manifestURL(tmp))
        }
    }

    /// What `saveAffine` wrote (nil where a tensor is missing; the callers say what they need).
    private static func loadAffine(_ dir: URL) throws -> (weights: [Float]?, bias: [Float]?, standardization: Standardization?) {
        let file = try WeightFile.open(dir.appendingPathComponent("head.safetensors"))
        func floats(_ k: String) throws -> [Float]? { try file[k].map { try $0.floats() } }
        var std: Standardization?
        if let mean = try floats("standardization.mean"), let scale = try floats("standardization.scale") {
            std = try Standardization(mean: mean, scale: scale)
        }
        return (try floats("weight"), try floats("bias"), std)
    }

    /// Writes a network bundle (fine-tuned or from scratch).
    public static func save(_ manifest: BundleManifest, network: Module, to dir: URL) throws {
        try writeAtomically(dir) { tmp in
            try StateDictFile.write(network, to: tmp.appendingPathComponent("model.safetensors"))
            try encode(manifest).write(to: manifestURL(tmp))
        }
    }

    public static func loadHead(_ dir: URL, manifest: BundleManifest) throws -> any ClassifierHead {
        let file = try WeightFile.open(dir.appendingPathComponent("head.safetensors"))
        func floats(_ k: String) throws -> [Float]? { try file[k].map { try $0.floats() } }
        guard let kind = manifest.headKind, let classes = manifest.headClasses, let d = manifest.source?.dimension else {
            throw TransferError.bundle(path: dir.path, reason: "bundle.json lacks the head (headKind, headClasses, source)")
        }
        if kind == .nearestNeighbors {
            guard let k = manifest.headNeighbors, let examples = try floats("examples"), let labels = try floats("labels") else {
                throw TransferError.bundle(path: dir.path, reason: "a knn head needs headNeighbors in bundle.json and examples, labels in head.safetensors")
            }
            guard labels.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
                throw TransferError.bundle(path: dir.path, reason: "head.safetensors: knn labels must be whole class indices")
            }
            return try NearestNeighborsHead(classes: classes, featureCount: d, k: k, examples: examples, labels: labels.map { Int($0) })
        }
        guard let w = try floats("weight"), let b = try floats("bias") else {
            throw TransferError.bundle(path: dir.path, reason: "head.safetensors lacks weight or bias")
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
