import Foundation

/// What `ImageClassifier` and `TextClassifier` share: a loaded bundle
/// (`TrainedClassifier`), calls into it one at a time, and the folder it owns.
final class ClassifierCore: @unchecked Sendable {
    let classifier: TrainedClassifier
    /// A freshly trained model's staging folder, removed with the model.
    private let ownedDirectory: URL?
    private let lock = NSLock()

    init(bundle: URL, task: BundleManifest.Task, owning directory: URL? = nil) throws {
        classifier = try TrainedClassifier(bundle: bundle)
        ownedDirectory = directory
        if let directory { StagingDirectories.shared.register(directory) }
        guard classifier.task == task else {
            throw TransferError.bundle(path: bundle.path, reason: "its task is \(classifier.task.rawValue), not \(task.rawValue)")
        }
    }

    deinit { if let ownedDirectory { StagingDirectories.shared.remove(ownedDirectory) } }

    var manifest: BundleManifest { classifier.manifest }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    /// Top-k labels per input, `batchSize` inputs at a time.
    func predict<Input>(_ inputs: [Input], top: Int, batch: ([Input]) -> Batch) throws -> [[LabelScore]] {
        try chunks(inputs).flatMap { chunk in try locked { try classifier.predict(batch(chunk), top: max(1, top)) } }
    }

    /// One feature row per input.
    func embeddings<Input>(_ inputs: [Input], batch: ([Input]) -> Batch) throws -> [[Float]] {
        let d = classifier.embeddingDimension
        return try chunks(inputs).flatMap { chunk -> [[Float]] in
            let flat = try locked { try classifier.embeddings(batch(chunk)) }
            return (0..<chunk.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
        }
    }

    private func chunks<Input>(_ inputs: [Input], size: Int = 32) -> [[Input]] {
        stride(from: 0, to: inputs.count, by: size).map { Array(inputs[$0..<min($0 + size, inputs.count)]) }
    }

    /// Scores the model on labelled data. Classes are matched by name; data
    /// classes the model never learnt count as errors and are named in `labels`.
    func evaluate(_ dataset: any Dataset) throws -> Metrics {
        let scored = try locked { try BundleEvaluation(classifier, dataset: dataset) }
        return Metrics(report: scored.report, names: scored.labelNames())
    }

    /// Copies the bundle to `url` (replacing what is there) through a temporary
    /// folder beside it, so `url` never holds half a bundle.
    func write(to url: URL) throws {
        let source = classifier.url.standardizedFileURL, target = url.standardizedFileURL
        guard source.path != target.path else { return }
        let fm = FileManager.default
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: source, to: staging)
            if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
            try fm.moveItem(at: staging, to: target)
        } catch {
            try? fm.removeItem(at: staging)
            throw GraftError.write(path: target.path, reason: "\(error)")
        }
    }
}
