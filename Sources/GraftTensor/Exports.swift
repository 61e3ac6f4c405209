// Tensors are initialised from Graft's seeded generator, which lives in GraftCore;
// re-export it so `import GraftTensor` (and every layer above) keeps seeing it.
@_exported import struct GraftCore.SeededGenerator

// Every layer above names the inference precision (`withPrecision`, bundles, the CLI's --precision).
@_exported import enum GraftKernels.Precision
@_exported import enum GraftKernels.KernelError
