import GraftData
import GraftModels
import GraftNN
import GraftTensor

/// A network whose knowledge a new task reuses. Image CNNs and text encoders
/// implement it once (detection networks and ONNX graphs next); the job path
/// (`TransferJob`) and everything above it talk only to this protocol, so no
/// code outside an implementation asks whether the input is an image or a text.
public protocol Backbone: AnyObject {
    /// What stores and bundles record to rebuild it (`Backbones.load`).
    var spec: BackboneSpec { get }
    /// How raw images become the network's input (nil: the backbone tokenizes texts itself).
    var preprocessing: Preprocessing? { get }
    /// Named cut points in forward order.
    var cutPoints: [String] { get }
    /// The cut a new head reads (`penultimate` for CNNs, `pooled` for sentence encoders).
    var headCut: String { get }
    /// Width of the head's input.
    var headDimension: Int { get }
    /// Trainable blocks in forward order: `fineTune(unfreeze: K)` trains the last K.
    var blockCount: Int { get }
    /// Feature rows at `cut`, pooled, under no-grad: `batch.count x dimension`. A short batch may run
    /// padded to `rows` items so every forward has one shape.
    func features(_ batch: Batch, at cut: String, pool: FeaturePooling, paddedTo rows: Int) throws -> Tensor
    /// Width of `features(at: cut, pool:)` rows.
    func featureDimension(at cut: String, pool: FeaturePooling) throws -> Int
    /// This backbone with a new head of `outputs` outputs (seeded), everything frozen but the
    /// last `unfreeze` blocks and the head (nil: everything trains).
    func network(outputs: Int, unfreeze: Int?, seed: UInt64) throws -> TaskNetwork
    /// The measured training defaults of a network strategy on this backbone.
    func defaultOptions(for strategy: Strategy) -> TrainingOptions
    /// Whether this backbone carries an int8 calibration (a quantized model, `graft quantize`).
    var isInt8Calibrated: Bool { get }
    /// Whether this backbone runs int8 with no calibration: its int8 layers quantize their inputs per batch
    /// (BERT encoders' linears, docs/PRECISION.md "int8 linears").
    var quantizesDynamically: Bool { get }
}

extension Backbone {
    public var input: DataKind { spec.input }

    public var isInt8Calibrated: Bool { false }

    public var quantizesDynamically: Bool { false }

    /// Throws `KernelError.unsupportedPrecision` unless this backbone can compute in `precision` here: the CPU's
    /// support, and for int8 a calibration (docs/PRECISION.md).
    public func requirePrecision(_ precision: Precision) throws {
        try precision.requireSupport()
        if precision == .int8 && !isInt8Calibrated && !quantizesDynamically {
            guard spec.input == .image else {
                throw KernelError.unsupportedPrecision(precision: .int8, reason: "\(spec.model) has no int8 path (int8 runs calibrated "
                    + "image networks and BERT text encoders)")
            }
            let model = spec.weights ?? spec.model
            if spec.architecture == "onnx" {   // an ONNX graph's quantized copy is an ONNX file again
                let prep = spec.preprocess ?? "RECIPE"
                throw KernelError.unsupportedPrecision(precision: .int8, reason: "\(model) has no int8 calibration: make a quantized copy with "
                    + "`graft quantize --model \(model) --preprocess \(prep) --data DATA --out FILE.onnx` and run that (--model FILE.onnx --preprocess \(prep))")
            }
            throw KernelError.unsupportedPrecision(precision: .int8, reason: "\(model) has no int8 calibration: make a "
                + "quantized copy with `graft quantize --model \(model) --data DATA --out FILE` and run that (--model FILE --arch \(spec.architecture))")
        }
    }

    /// Checks `cut` against the backbone's cut points.
    public func requireCut(_ cut: String) throws {
        guard cutPoints.contains(cut) else {
            throw TransferError.unsupported("\(spec.model) has no cut point '\(cut)'; available: \(cutPoints.joined(separator: ", "))")
        }
    }
}

/// A backbone with a task head: what fine-tuning and training from scratch train.
public protocol TaskNetwork: AnyObject {
    var backbone: any Backbone { get }
    /// The state dict's root (what bundles and checkpoints save).
    var module: Module { get }
    /// The new head when it is one linear layer (LP-FT warm-starts it; regression folds its scale into it);
    /// nil when the head is something else (detection's head convolutions).
    var linearHead: Linear? { get }
    /// Every new layer the task trains at the full learning rate.
    var headLayers: [Module] { get }
    /// The head's input for a batch: taped when training.
    func headInput(_ batch: Batch, training: Bool) throws -> Tensor
    /// The head's outputs for a batch, one row per item (`[n, outputs]`: logits, values, or a detector's
    /// raw head maps flattened).
    func outputs(_ batch: Batch, training: Bool) throws -> Tensor
}

extension TaskNetwork {
    public var preprocessing: Preprocessing? { backbone.preprocessing }

    /// The trainable parameters in module order, split into the new head's (`headLayers`) and the rest.
    public func trainableParameters() -> (head: [Tensor], trunk: [Tensor]) {
        let headIDs = Set(headLayers.flatMap { $0.namedParameters() }.map { ObjectIdentifier($0.1) })
        let trainable = module.trainableParameters.map(\.1)
        return (trainable.filter { headIDs.contains(ObjectIdentifier($0)) }, trainable.filter { !headIDs.contains(ObjectIdentifier($0)) })
    }
}

/// A task network whose head is one linear layer on `headInput` (classification, regression, multi-label).
public protocol LinearHeadNetwork: TaskNetwork {
    /// The new head (trained at the full learning rate; LP-FT warm-starts it).
    var head: Linear { get }
}

extension LinearHeadNetwork {
    public var linearHead: Linear? { head }
    public var headLayers: [Module] { [head] }
    public func outputs(_ batch: Batch, training: Bool) throws -> Tensor {
        try head.forward(headInput(batch, training: training), training: training)
    }
}
