/// How 8-bit pixel values become model inputs. Both kinds reduce to
/// `x * scale[c] + offset[c]` per channel on the 0...255 value.
public enum Normalization: Sendable, Equatable {
    /// `(x / 255 - mean[c]) / std[c]`: torchvision's `ToTensor` + `Normalize(mean, std)`.
    case meanStd(mean: [Float], std: [Float])
    /// `(x - subtract) / divide` on 0...255 values, e.g. EfficientNet-Lite's `(x - 127) / 128`.
    case affine(subtract: Float, divide: Float)
    /// `x / 255` (torchvision `ToTensor` alone).
    case unit

    /// ImageNet statistics used by torchvision's pretrained models.
    public static let imageNet = Normalization.meanStd(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Inception-style scaling of the TensorFlow EfficientNet-Lite models: `(x - 127) / 128`.
    public static let efficientNetLite = Normalization.affine(subtract: 127, divide: 128)

    /// Normalises one value in 0...255 of channel `c`, in the same order of Float32
    /// operations as the reference (`ToTensor` divides by 255, then `Normalize`).
    @inline(__always)
    func apply(_ x: Float, channel c: Int) -> Float {
        switch self {
        case .meanStd(let mean, let std):
            let m = mean.count == 3 ? mean[c] : (mean.first ?? 0)
            let s = std.count == 3 ? std[c] : (std.first ?? 1)
            return (x / 255 - m) / s
        case .affine(let subtract, let divide):
            return (x - subtract) / divide
        case .unit:
            return x / 255
        }
    }

    /// All 3 x 256 normalised values of 8-bit input, channel-major: `table[c * 256 + v]`.
    func lookupTable() -> [Float] {
        (0..<3).flatMap { c in (0..<256).map { apply(Float($0), channel: c) } }
    }
}
