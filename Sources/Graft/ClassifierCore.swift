import Foundation
import Synchronization
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// What `ImageClassifier` and `TextClassifier` share: a loaded bundle
/// (`TrainedClassifier`), calls into it one at a time, and the folder it owns.
final class ClassifierCore: Sendable {
    /// The loaded model; one call at a time runs it.
    private let model: Mutex<TrainedModel>
    let manifest: BundleManifest
    /// What the backbone computes in.
    let precision: Precision
    let embeddingDimension: Int
    private let bundleURL: URL
    /// A freshly trained model's staging folder, removed with the model.
    private let ownedDirectory: URL?

    /// `input`, `task`: what the caller needs the bundle to read and predict (nil: whatever it does).
    init(bundle: URL, input: DataKind?, task: TaskKind? = nil, owning directory: URL? = nil, precision: Precision? = nil) throws {
        let classifier = try TrainedModel(bundle: bundle, precision: precision)
        if let input, classifier.input != input {
            throw TransferError.bundle(path: bundle.path, reason: "it reads \(classifier.input.rawValue)s, not \(input.rawValue)s")
        }
        if let task, classifier.manifest.task != task {
            throw TransferError.bundle(path: bundle.path, reason: "it is a \(classifier.manifest.task.rawValue) bundle, not \(task.rawValue)")
        }
        manifest = classifier.manifest
        self.precision = classifier.precision
        embeddingDimension = classifier.embeddingDimension
        bundleURL = classifier.url
        model = Mutex(classifier)
        ownedDirectory = directory
        if let directory { StagingDirectories.shared.register(directory) }
    }

    deinit { if let ownedDirectory { StagingDirectories.shared.remove(ownedDirectory) } }

    private func locked<T: Sendable>(_ body: (TrainedModel) throws -> T) throws -> T {
        try model.withLock { try body($0) }
    }

    /// Top-k labels per input, `batchSize` inputs at a time.
    func predict<Input>(_ inputs: [Input], top: Int, batch: (TrainedModel, [Input]) -> Batch) throws -> [[LabelScore]] {
        try chunks(inputs).flatMap { chunk in try locked { try $0.predict(batch($0, chunk), top: max(1, top)) } }
    }

    /// Task scores per input: class or label probabilities; a regression bundle's values.
    func scores<Input>(_ inputs: [Input], batch: (TrainedModel, [Input]) -> Batch) throws -> [[Float]] {
        try chunks(inputs).flatMap { chunk in
            try locked { m in m.manifest.task == .regression ? try m.values(batch(m, chunk)) : try m.probabilities(batch(m, chunk)) }
        }
    }

    /// A multi-label bundle's per-label decision thresholds.
    var thresholds: [Float]? { try? locked { $0.thresholds } }

    /// The kind of input the bundle reads.
    var input: DataKind { manifest.input }

    /// One feature row per input.
    func embeddings<Input>(_ inputs: [Input], batch: (TrainedModel, [Input]) -> Batch) throws -> [[Float]] {
        let d = embeddingDimension
        return try chunks(inputs).flatMap { chunk -> [[Float]] in
            let flat = try locked { try $0.embeddings(batch($0, chunk)) }
            return (0..<chunk.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
        }
    }

    private func chunks<Input>(_ inputs: [Input], size: Int = 32) -> [[Input]] {
        stride(from: 0, to: inputs.count, by: size).map { Array(inputs[$0..<min($0 + size, inputs.count)]) }
    }

    /// Scores the model on labelled data. Classes are matched by name; data
    /// classes the model never learnt count as errors and are named in `labels`.
    func evaluate(_ dataset: any Dataset) throws -> Metrics {
        let scored = try locked { try BundleEvaluation($0, dataset: dataset) }
        return Metrics(report: scored.report, names: scored.labelNames())
    }

    /// Copies the bundle to `url`, replacing what is there: old or new at every instant (`AtomicDirectory`).
    func write(to url: URL) throws {
        let source = bundleURL.standardizedFileURL, target = url.standardizedFileURL
        guard source.path != target.path else { return }
        do {
            try AtomicDirectory.write(target) { staged in
                for item in try FileManager.default.contentsOfDirectory(atPath: source.path) {
                    try FileManager.default.copyItem(at: source.appendingPathComponent(item), to: staged.appendingPathComponent(item))
                }
            }
        } catch {
            throw GraftError.write(path: target.path, reason: "\(error)")
        }
    }
}
