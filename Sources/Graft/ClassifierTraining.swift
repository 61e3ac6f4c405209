import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// `ImageClassifier.train` and `TextClassifier.train`: the transfer layer's one
/// job path (`TransferJob`) in a staging folder, then the bundle loaded back.
/// Runs on the job's thread.
enum ClassifierTraining {
    static func run(input: DataKind, data: TrainingData, parameters p: Parameters,
                    context: TrainingJobContext) throws -> (ClassifierCore, Metrics?) {
        context.report(TrainingProgress(phase: .preparing))
        try p.validate()
        let dataset = try data.dataset(for: input)
        let task = input == .image ? "image classifier" : "text classifier"
        if let backbone = p.backbone, backbone.input != input {
            throw GraftError.wrongBackbone(task: task, backbone: backbone.description)
        }
        guard dataset.classCounts.filter({ $0 > 0 }).count >= 2 else {
            throw TransferError.singleClass("the training data has only the class '\(dataset.classNames.first ?? "")'")
        }
        let work = (p.workingDirectory ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("graft-job-\(UUID().uuidString)")
        var options = JobOptions(workDirectory: work)
        options.validation = p.validation
        options.testCount = 0
        options.seed = p.seed
        options.batchSize = p.batchSize
        options.training = p.trainingOverrides
        options.bundle = work.appendingPathComponent("bundle")
        let job = TransferJob(data: DataSource(name: "the training data", train: dataset), backbone: p.backbone,
                              strategy: p.strategy, options: options)
        do {
            let result = try job.run(progress: context.handler, isCancelled: context.isCancelled)
            try context.checkCancellation()
            context.report(TrainingProgress(phase: .saving))
            // Only the bundle stays; it lives as long as the model does.
            for item in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where item != "bundle" {
                try? FileManager.default.removeItem(at: work.appendingPathComponent(item))
            }
            let metrics = result.validation.map { Metrics(report: $0, names: dataset.classNames) }
            return (try ClassifierCore(bundle: work.appendingPathComponent("bundle"), input: input, owning: work), metrics)
        } catch {
            try? FileManager.default.removeItem(at: work)
            throw error
        }
    }
}
