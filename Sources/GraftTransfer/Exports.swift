// The inference precision is part of this layer's API (feature sources, bundles, `TrainedModel`), and
// its refusal on a CPU without the instructions is a `KernelError`: callers name both without
// importing the kernels.
@_exported import enum GraftTensor.Precision
@_exported import enum GraftTensor.KernelError
