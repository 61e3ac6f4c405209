import Foundation
import GraftData

extension TransferJob {
    /// `.contrastive` (SetFit): the backbone's blocks are tuned on pairs of the training items
    /// (`ContrastiveTuning`), then the head is fitted as logistic regression on the tuned embeddings
    /// (LP-FT's probe, C by cross-validation) and copied into the network, which the bundle saves whole.
    func tuneContrastively(_ network: TaskNetwork, _ contrastive: ContrastiveOptions, recipe: NetworkRecipe, task: any TransferTask,
                           split: ExperimentSplit, seed: UInt64, progress: ProgressHandler?,
                           isCancelled: @escaping @Sendable () -> Bool) throws -> NetworkRecipe.Outcome {
        let start = Date()
        let tuned = try ContrastiveTuning(contrastive, progress: progress)
            .tune(network, dataset: data.labelled, indices: split.train, seed: seed, isCancelled: isCancelled)
        if isCancelled() { throw TransferError.cancelled }
        guard let head = try recipe.warmStart(network, task: task, dataset: data.labelled, indices: split.train,
                                              progress: progress, isCancelled: isCancelled) else {
            throw TransferError.singleClass("the logistic head after contrastive tuning needs training items of every class")
        }
        let training = TrainingResult(history: tuned.history, bestEpoch: nil, bestValidationAccuracy: nil, stoppedEarly: false,
                                      trainableParameters: tuned.trainableParameters + network.headLayers.reduce(0) { $0 + $1.parameterCount },
                                      seconds: Date().timeIntervalSince(start))   // tuning and the head's fit
        return NetworkRecipe.Outcome(training: training, probe: head, name: "SetFit")
    }
}
