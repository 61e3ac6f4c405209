// Tensors are initialised from Graft's seeded generator, which lives in GraftCore;
// re-export it so `import GraftTensor` (and every layer above) keeps seeing it.
@_exported import struct GraftCore.SeededGenerator
