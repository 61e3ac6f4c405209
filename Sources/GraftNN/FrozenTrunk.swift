import GraftTensor

/// Fine-tuning with a frozen trunk computed as at inference (`TrainingOptions.frozenTrunkPrecision`, docs/TRANSFER.md
/// "Frozen trunk precision"). While it is on, a model in training mode runs its leading frozen part (everything before
/// the first module with a trainable parameter) as it would at inference: no dropout, no tape, the fused kernels, in
/// `ComputePrecision.current`; the trainable rest records its tape in fp32 as always (ops that record compute in fp32
/// whatever the precision). BERT honours it (its frozen layers otherwise run the unfused, padded ops with dropout);
/// image networks already run frozen stages folded (frozen batch norms, no dropout in the trunk), so for them it only
/// lets the precision reach those stages.
public enum FrozenTrunk {
    /// Off by default: frozen layers then train as in PyTorch's `model.train()`, dropout included.
    @TaskLocal public static var runsAsInference = false
}
