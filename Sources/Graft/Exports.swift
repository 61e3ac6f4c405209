// `import Graft` brings the whole toolkit; each layer is also its own product.
@_exported import GraftData
@_exported import GraftHeads
@_exported import GraftKernels
@_exported import GraftModels
@_exported import GraftNN
@_exported import GraftTensor
@_exported import GraftText
@_exported import GraftTransfer
@_exported import GraftWeights
