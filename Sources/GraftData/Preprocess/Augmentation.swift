import GraftCore
import Foundation
/// Random training-time transforms, applied before normalisation:
/// random resized crop (or the evaluation geometry), horizontal flip, colour jitter.
///
/// The algorithms are torchvision's (`RandomResizedCrop.get_params`, PIL `ImageEnhance`
/// arithmetic for jitter); the random stream is Graft's own `SeededGenerator`, so the
/// distribution matches torchvision but not its exact draws.
public struct Augmentation: Sendable, Equatable {
    /// torchvision `RandomResizedCrop` parameters.
    public struct ResizedCrop: Sendable, Equatable {
        /// Fraction of the image area to keep.
        public var scale: ClosedRange<Double>
        /// Aspect ratio (width / height) range, sampled log-uniformly.
        public var ratio: ClosedRange<Double>
        public init(scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)) {
            self.scale = scale
            self.ratio = ratio
        }
    }

    /// torchvision `ColorJitter` strengths: each factor is uniform in `[max(0, 1 - s), 1 + s]`.
    public struct ColorJitter: Sendable, Equatable {
        public var brightness: Double, contrast: Double, saturation: Double
        public init(brightness: Double = 0.2, contrast: Double = 0.2, saturation: Double = 0.2) {
            self.brightness = brightness
            self.contrast = contrast
            self.saturation = saturation
        }
    }

    /// `nil`: use the evaluation geometry of the `Preprocessing`.
    public var resizedCrop: ResizedCrop?
    /// Chance of mirroring left to right.
    public var horizontalFlipProbability: Double
    /// `nil`: no colour jitter.
    public var colorJitter: ColorJitter?

    public init(resizedCrop: ResizedCrop? = ResizedCrop(), horizontalFlipProbability: Double = 0.5,
                colorJitter: ColorJitter? = nil) {
        self.resizedCrop = resizedCrop
        self.horizontalFlipProbability = horizontalFlipProbability
        self.colorJitter = colorJitter
    }

    /// torchvision's usual ImageNet training recipe: RandomResizedCrop + flip, plus mild jitter.
    public static let standard = Augmentation(colorJitter: ColorJitter(brightness: 0.2, contrast: 0.2, saturation: 0.2))

    /// Augments one image and normalises it into `destination` (`preprocessing.outputCount` Floats, HWC).
    public func apply(_ image: RGBImage, preprocessing: Preprocessing, generator: inout SeededGenerator,
                      into destination: UnsafeMutableBufferPointer<Float>) {
        let side = preprocessing.inputSize
        var out: RGBImage
        if let rrc = resizedCrop {
            let region = Self.randomResizedCropRegion(width: image.width, height: image.height, crop: rrc,
                                                      generator: &generator)
            out = Resampler.resize(image, region: region, width: side, height: side)
        } else {
            out = preprocessing.resized(image)
        }
        if generator.nextUnit() < horizontalFlipProbability { out = out.flippedHorizontally() }
        if let jitter = colorJitter { out = Self.jitter(out, jitter, generator: &generator) }
        Preprocessing.normalize(out, placedAt: (0, 0), side: side, normalization: preprocessing.normalization,
                                into: destination)
    }

    /// Convenience returning a new buffer.
    public func apply(_ image: RGBImage, preprocessing: Preprocessing, generator: inout SeededGenerator) -> [Float] {
        var out = [Float](repeating: 0, count: preprocessing.outputCount)
        out.withUnsafeMutableBufferPointer { apply(image, preprocessing: preprocessing, generator: &generator, into: $0) }
        return out
    }

    /// torchvision `RandomResizedCrop.get_params`: ten tries at a random area and
    /// log-uniform aspect ratio, then a centred fallback clamped to the ratio range.
    public static func randomResizedCropRegion(width: Int, height: Int, crop: ResizedCrop,
                                               generator: inout SeededGenerator) -> PixelRect {
        let area = Double(width * height)
        let logRatio = log(crop.ratio.lowerBound)...log(crop.ratio.upperBound)
        for _ in 0..<10 {
            let target = area * generator.uniform(crop.scale)
            let aspect = exp(generator.uniform(logRatio))
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= width, h > 0, h <= height {
                let top = generator.below(height - h + 1)
                let left = generator.below(width - w + 1)
                return PixelRect(x: left, y: top, width: w, height: h)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < crop.ratio.lowerBound {
            h = max(1, Int((Double(w) / crop.ratio.lowerBound).rounded(.toNearestOrEven)))
        } else if inRatio > crop.ratio.upperBound {
            w = max(1, Int((Double(h) * crop.ratio.upperBound).rounded(.toNearestOrEven)))
        }
        return PixelRect(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }

    /// Brightness, contrast and saturation in a random order, each with a random factor.
    static func jitter(_ image: RGBImage, _ j: ColorJitter, generator: inout SeededGenerator) -> RGBImage {
        var order = [0, 1, 2]
        generator.shuffle(&order)
        var out = image
        for op in order {
            let strength = [j.brightness, j.contrast, j.saturation][op]
            guard strength > 0 else { continue }
            let factor = generator.uniform(max(0, 1 - strength)...(1 + strength))
            switch op {
            case 0: out = ColorAdjust.brightness(out, factor: factor)
            case 1: out = ColorAdjust.contrast(out, factor: factor)
            default: out = ColorAdjust.saturation(out, factor: factor)
            }
        }
        return out
    }
}


