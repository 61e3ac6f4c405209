import GraftKernels
import GraftTensor
import Synchronization

/// The range of values a convolution's input took while calibrating (post-training static quantization,
/// docs/PRECISION.md), and the int8 quantization of the input derived from it. Min/max over every calibration
/// input (not a percentile): the same rule as ONNX Runtime's default `CalibrationMethod.MinMax`, the peer it is
/// measured against, and an input never clips on data like the calibration's.
public final class InputCalibration: Sendable {
    private let observed = Mutex<(min: Float, max: Float)?>(nil)
    private let asymmetric = Atomic<Bool>(false)

    public init() {}

    /// Whether an input of both signs quantizes to asymmetric u8 codes with a zero point rather than symmetric s8:
    /// set by networks whose signed inputs are lopsided (a detector's leaky-ReLU outputs).
    public var asymmetricCodes: Bool {
        get { asymmetric.load(ordering: .relaxed) }
        set { asymmetric.store(newValue, ordering: .relaxed) }
    }

    /// The calibrated range, nil until calibration saw an input (or one was loaded).
    public var range: (min: Float, max: Float)? {
        get { observed.withLock { $0 } }
        set { observed.withLock { $0 = newValue } }
    }

    /// How the input quantizes to u8/s8, nil when the layer is not calibrated.
    public var quantization: ActivationQuantization? {
        range.map { ActivationQuantization(min: $0.min, max: $0.max, asymmetric: asymmetricCodes) }
    }

    /// Widens the range to cover `x`.
    public func observe(_ x: Tensor) {
        guard x.count > 0 else { return }
        var lo = Float.infinity, hi = -Float.infinity
        let p = x.pointer
        for i in 0..<x.count { lo = Swift.min(lo, p[i]); hi = Swift.max(hi, p[i]) }
        observed.withLock { r in r = r.map { (Swift.min($0.min, lo), Swift.max($0.max, hi)) } ?? (lo, hi) }
    }
}

/// Calibration runs: `Calibration.recording { try model.forward(x, training: false) }` makes every convolution
/// the forward reaches record its input's range (inverted-residual blocks run as their separate convolutions,
/// so their convolutions are calibrated too). Task-local, like `GradMode`.
public enum Calibration {
    @TaskLocal public static var isRecording = false

    public static func recording<T>(_ body: () throws -> T) rethrows -> T {
        try $isRecording.withValue(true) { try body() }
    }
}

/// Per-channel weight scales of one weight version, cached beside a layer (a weight pass per forward would cost
/// more than the int8 multiply saves): `Conv2d`'s, and an imported ONNX graph's convolutions'.
public final class WeightScaleCache: Sendable {
    private let cached = Mutex<(key: [Int], scales: [Float])?>(nil)

    public init() {}

    /// The int8 parameters of a layer with `weight` and `calibration`, or nil when inference is not int8 or the
    /// layer was not calibrated (it then computes in fp32).
    public func parameters(weight: Tensor, calibration: InputCalibration) -> ConvInt8Parameters? {
        guard ComputePrecision.current == .int8, !Calibration.isRecording, let input = calibration.quantization else { return nil }
        let key = [weight.storage.id, weight.storage.version, input.unsigned ? 1 : 0]
        let scales = cached.withLock { c in
            if let c, c.key == key { return c.scales }
            let s = ConvInt8Parameters.perChannelScales(of: weight.pointer, outChannels: weight.shape[0], count: weight.count,
                                                        levels: ConvInt8Parameters.weightLevels(unsignedInput: input.unsigned))
            c = (key, s)
            return s
        }
        return ConvInt8Parameters(input: input, weightScales: scales)
    }
}
