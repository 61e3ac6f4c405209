// `import Graft` brings the task-first API (ImageClassifier, TextClassifier, ImageModel, Embedder,
// WordVectors, Parameters, Strategy, ...) and the few types a user needs to bring data or a model.
// Everything else stays in its own layer, importable on its own (GraftData, GraftModels,
// GraftTransfer, ...): kernels, storage pointers, caches and the job internals are not Graft's API.

// Data in: images, data sets, where set-up puts things.
@_exported import struct GraftData.RGBImage
@_exported import struct GraftData.ImageDecoder
@_exported import struct GraftData.Preprocessing
@_exported import protocol GraftData.Dataset
@_exported import struct GraftData.Subset
@_exported import enum GraftData.DataKind
@_exported import enum GraftData.DataItem
@_exported import enum GraftData.BuiltinDatasets
@_exported import enum GraftData.GraftHome
@_exported import enum GraftData.ImageError
// Models in: the zoo, architectures for your weights, word vectors.
@_exported import enum GraftModels.ModelZoo
@_exported import struct GraftModels.ZooEntry
@_exported import enum GraftModels.ImageModels
@_exported import enum GraftModels.ModelError
// Detection: what `ObjectDetector` answers.
@_exported import struct GraftModels.Detection
@_exported import struct GraftData.BoundingBox
@_exported import enum GraftWeights.WeightsError
@_exported import enum GraftNN.LoadError
@_exported import struct GraftText.WordVectors
@_exported import struct GraftText.SearchHit
// The job's vocabulary: strategies, backbones, splits, bundles, results.
@_exported import enum GraftTransfer.Strategy
@_exported import struct GraftTransfer.BackboneSpec
@_exported import struct GraftTransfer.PostTrainingQuantization
@_exported import enum GraftModels.Int8WeightStorage
@_exported import enum GraftTransfer.ValidationSplit
@_exported import enum GraftTransfer.TaskKind
@_exported import struct GraftTransfer.BundleManifest
@_exported import struct GraftTransfer.FeatureSource
@_exported import enum GraftTransfer.FeaturePooling
@_exported import struct GraftTransfer.LabelScore
@_exported import enum GraftTransfer.TransferError
@_exported import struct GraftHeads.RegressionReport
@_exported import struct GraftHeads.MultiLabelReport
@_exported import enum GraftHeads.HeadKind

// Inference precision (docs/PRECISION.md) and its typed refusal.
@_exported import enum GraftTransfer.Precision
@_exported import enum GraftTransfer.KernelError
