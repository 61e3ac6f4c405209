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
        let (bundle, work, result) = try JobRunner.run(source: DataSource(name: "the training data", train: dataset), task: ClassificationTask(),
                                                     parameters: p, context: context)
        do {
            let metrics = result.validation.map { Metrics(report: $0, names: dataset.classNames) }
            return (try ClassifierCore(bundle: bundle, input: input, owning: work), metrics)
        } catch {
            try? FileManager.default.removeItem(at: work)
            throw error
        }
    }
}
