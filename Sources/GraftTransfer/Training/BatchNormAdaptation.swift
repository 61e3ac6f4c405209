import GraftData
import GraftNN
import GraftTensor

/// AdaBN (Li et al., 2016): re-estimates every batch norm's statistics on the target data before
/// fine-tuning, so a network trained on ImageNet photos normalises grey clothing with the clothing's
/// own means and variances. The weights stay; only `running_mean`/`running_var` change, to the
/// cumulative average over the batches (PyTorch's `momentum=None`), computed in training-mode
/// forwards without a tape and without augmentation. Text encoders have layer norms only: nothing to do.
enum BatchNormAdaptation {
    /// Adapts `network`'s batch norms on `indices` of `dataset`; returns how many layers changed.
    static func adapt(_ network: TaskNetwork, dataset: any Dataset, indices: [Int], batchSize: Int,
                      progress: ProgressHandler?, isCancelled: @Sendable () -> Bool) throws -> Int {
        let norms = network.module.namedModules().compactMap { $0.1 as? BatchNorm2d }
        guard !norms.isEmpty, !indices.isEmpty else { return 0 }
        let saved = norms.map { ($0.isFrozen, $0.momentum) }
        defer { for (bn, s) in zip(norms, saved) { bn.isFrozen = s.0; bn.momentum = s.1 } }
        for bn in norms { bn.isFrozen = false }   // batch statistics, and running averages updated
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize))
        let meter = ProgressMeter(phase: .extracting, total: indices.count)
        var batches = 0, seen = 0
        try withNoGrad {
            while let batch = try loader.next() {
                if isCancelled() { loader.cancel(); throw TransferError.cancelled }
                guard batch.count > 1 else { continue }   // one item has no variance to measure
                batches += 1
                for bn in norms { bn.momentum = 1 / Float(batches) }   // running = mean of the batches so far
                _ = try network.outputs(batch, training: true)
                seen += batch.count
                progress?(meter.event(completed: seen))
            }
        }
        return batches > 0 ? norms.count : 0
    }
}
