import GraftData
import GraftModels
import GraftTensor

/// Turns a batch of raw examples into feature rows, under no-grad.
public protocol FeatureExtractor: AnyObject {
    var source: FeatureSource { get }
    /// The pipeline that prepares images (nil for text extractors).
    var preprocessing: Preprocessing? { get }
    /// `batch.count * source.dimension` values, row-major.
    func features(_ batch: Batch) throws -> [Float]
    /// The same rows, computed on a batch padded to `rows` examples when it is shorter (the last batch,
    /// or one with unreadable items) so that every forward has one shape.
    func features(_ batch: Batch, paddedTo rows: Int) throws -> [Float]
}

extension FeatureExtractor {
    public func features(_ batch: Batch, paddedTo rows: Int) throws -> [Float] { try features(batch) }
}

/// Features of a CNN at a named cut point, pooled to one vector per image.
public final class ImageFeatureExtractor: FeatureExtractor {
    public let backbone: any ImageBackbone
    public let layer: String
    public let pool: FeaturePooling
    public private(set) var source: FeatureSource
    public var preprocessing: Preprocessing? { backbone.preprocessing }

    /// `layer`: a cut point of the model (`penultimate` by default).
    public init(backbone: any ImageBackbone, layer: String = "penultimate", pool: FeaturePooling = .avg) throws {
        self.backbone = backbone
        self.layer = layer
        self.pool = pool
        guard backbone.cutPoints.contains(layer) else {
            throw ModelError.unknownCutPoint(layer, model: backbone.architecture, available: backbone.cutPoints)
        }
        source = FeatureSource(model: backbone.architecture, layer: layer, pool: pool, dimension: 0)
        // One probe image tells the width of this cut point.
        let size = backbone.preprocessing.inputSize
        let probe = try withNoGrad { try self.pooled(backbone.forward(Tensor.zeros([1, size, size, 3]), upTo: layer, training: false)) }
        source.dimension = probe.count
    }

    public func features(_ batch: Batch) throws -> [Float] { try features(batch, paddedTo: batch.count) }

    /// A short batch runs padded with zero images and its extra rows are dropped: one input shape end to
    /// end means no new oneDNN primitives and no second set of activation buffers for the tail, so peak
    /// memory does not depend on how the data set's size divides by the batch size (measured: a last
    /// batch of 16 added 210 MB), and every row comes from the same kernels.
    public func features(_ batch: Batch, paddedTo rows: Int) throws -> [Float] {
        let n = max(rows, batch.count)
        var pixels = batch.pixels
        if n > batch.count { pixels += [Float](repeating: 0, count: (n - batch.count) * batch.height * batch.width * 3) }
        let x = try Tensor(shape: [n, batch.height, batch.width, 3], values: pixels)
        let values = try withNoGrad { try pooled(backbone.forward(x, upTo: layer, training: false)).values }
        return n == batch.count ? values : Array(values.prefix(batch.count * source.dimension))
    }

    /// [N, H, W, C] -> [N, C] (avg, max) or [N, H*W*C] (flatten); [N, D] passes through.
    func pooled(_ t: Tensor) throws -> Tensor {
        guard t.rank == 4 else { return try t.flattened(fromAxis: 1) }
        switch pool {
        case .avg: return try t.globalAvgPool2d()
        case .max: return try t.reshaped([t.shape[0], t.shape[1] * t.shape[2], t.shape[3]]).max(axis: 1)
        case .flatten: return try t.flattened(fromAxis: 1)
        }
    }
}
