import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import Synchronization

/// Any ONNX image graph as a `Backbone`: cut points are its node outputs (`graft inspect model.onnx`),
/// the default cut is the graph's output, and preprocessing is named by the user (`spec.preprocess`:
/// a built-in recipe or a JSON file), since an ONNX file does not record it.
public final class OnnxBackbone: Backbone {
    public let spec: BackboneSpec
    public let graph: OnnxGraph
    let prep: Preprocessing
    /// One executor per requested cut (each fuses up to its cut), built on first use.
    private let models = Mutex<[String: OnnxModel]>([:])

    public init(_ spec: BackboneSpec) throws {
        guard let path = spec.weights else { throw TransferError.unsupported("an ONNX backbone needs its file (spec.weights)") }
        guard let recipe = spec.preprocess else {
            throw TransferError.unsupported("\(path): an ONNX graph does not say how images become its input: give --preprocess "
                                            + "(\(OnnxPreprocessing.recipes.joined(separator: ", ")) or a .json file; docs/ONNX.md)")
        }
        graph = try OnnxGraph(contentsOf: URL(fileURLWithPath: path))
        guard graph.inputs.count == 1, let dims = graph.inputs[0].dims, dims.count == 4, dims[1] == nil || dims[1] == 3 else {
            throw TransferError.unsupported("\(path): an image backbone takes one [N, 3, H, W] input; this graph takes "
                                            + graph.inputs.map { "\($0.name) \($0.dims.map { "\($0)" } ?? "?")" }.joined(separator: ", "))
        }
        let side = dims[2] != nil && dims[2] == dims[3] ? dims[2] : nil
        prep = try OnnxPreprocessing.resolve(recipe, inputSize: side)
        if let h = dims[2], let w = dims[3], h != prep.inputSize || w != prep.inputSize {
            throw TransferError.unsupported("\(path): the graph takes \(h)x\(w) images, preprocessing \(recipe) makes \(prep.inputSize)x\(prep.inputSize)")
        }
        self.spec = spec
    }

    public var preprocessing: Preprocessing? { prep }
    public var cutPoints: [String] { OnnxModel.cutPoints(of: graph).map(\.value) }
    public var headCut: String { graph.outputs.first?.name ?? cutPoints.last ?? "" }
    public var headDimension: Int { (try? featureDimension(at: headCut, pool: .avg)) ?? 0 }
    public var blockCount: Int { 0 }
    /// A graph `graft quantize` wrote: its convolutions' ranges are in the file (`OnnxInt8Quantization`).
    public var isInt8Calibrated: Bool { OnnxInt8Quantization.isQuantized(graph) }

    func model(_ cut: String) throws -> OnnxModel {
        if let m = models.withLock({ $0[cut] }) { return m }
        try requireCut(cut)
        let m = try OnnxModel(graph: graph, outputs: [cut])
        models.withLock { $0[cut] = m }
        return m
    }

    /// The graph's value at `cut` for NHWC pixels, as NHWC maps when it is a 4-D map.
    func forward(_ x: Tensor, cut: String) throws -> Tensor {
        let y = try withNoGrad { try model(cut).runChannelsLast([graph.inputs[0].name: x]) }
        guard let v = y[cut] else { throw TransferError.unsupported("\(cut) produced no value") }
        return v
    }

    /// The batch size the graph was exported with, when it fixes one (PP-OCR's are 1); nil when dynamic.
    var fixedBatch: Int? { graph.inputs[0].dims?.first ?? nil }

    /// As `CNNBackbone`: a short batch runs padded with zero images to `rows` and the extra rows are dropped,
    /// so every forward has one shape (no new oneDNN primitives, no second set of buffers for the tail). A
    /// graph exported with a fixed batch size runs the batch in chunks of that size, the last one padded.
    public func features(_ batch: Batch, at cut: String, pool: FeaturePooling, paddedTo rows: Int) throws -> Tensor {
        let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
        return try x.inChunks(of: fixedBatch ?? max(rows, batch.count)) { try CNNBackbone.pooled(forward($0, cut: cut), pool) }
    }

    public func featureDimension(at cut: String, pool: FeaturePooling) throws -> Int {
        try CNNBackbone.pooled(zeroForward(cut), pool).shape[1]
    }

    /// The shape of the value at `cut` for one batch of zero images: [N, H, W, C] for a map (channels-last), else as the graph has it.
    public func valueShape(at cut: String) throws -> [Int] { try zeroForward(cut).shape }

    private func zeroForward(_ cut: String) throws -> Tensor {
        let size = prep.inputSize
        return try forward(Tensor.zeros([fixedBatch ?? 1, size, size, 3]), cut: cut)
    }

    /// The graph with a new head in place of its classifier, trained from `spec.unfreezeFrom` on (`OnnxFineTuneModel`).
    /// An ONNX graph has no numbered blocks: without `unfreezeFrom`, `unfreeze` 0 trains the head alone on the
    /// classifier's input, nil (`--unfreeze all`) every node, and a block count is refused with the way to name a node.
    public func network(outputs: Int, unfreeze: Int?, seed: UInt64) throws -> TaskNetwork {
        // Its convolutions' weights come from Cast and Mul nodes there, not from initializers a step could train.
        if graph.metadata[Int8Quantization.weightsKey] == Int8WeightStorage.s8.rawValue {
            throw TransferError.unsupported("\(graph.file) stores s8 weights (graft quantize): fine-tune the original graph, "
                + "or one quantized with --weights fp32")
        }
        var start = spec.unfreezeFrom
        if start == nil {
            switch unfreeze {
            case nil: start = graph.inputs.first?.name
            case 0?: break
            case let k?:
                throw TransferError.unsupported("\(graph.file): an ONNX graph has no numbered blocks to unfreeze (\(k) asked): name the first node "
                    + "to train with --unfreeze-from NODE (`graft inspect \(graph.file)` lists them), or --unfreeze 0 to train the new head alone")
            }
        }
        let (headInput, _) = OnnxFineTuneModel.classifierInput(of: graph)
        let cached = models.withLock { $0[headInput] != nil }
        let width = try featureDimension(at: headInput, pool: .avg)
        if !cached { models.withLock { $0[headInput] = nil } }   // the probe's executor: its own copy of every weight, unused after
        var g = SeededGenerator(seed: seed &+ 0x4EAD)
        let model = try OnnxFineTuneModel(graph: graph, start: start, outputs: outputs, features: width, generator: &g)
        return OnnxTaskNetwork(self, model: model)
    }

    /// The CNN zoo's measured fine-tuning defaults (an imported graph is a CNN the user brought).
    public func defaultOptions(for strategy: Strategy) -> TrainingOptions { CNNBackbone.measuredDefaults(for: strategy) }
}
