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
        _ = render(image, preprocessing: preprocessing, generator: &generator, into: destination)
    }

    /// Augments one image as `apply` does (the same draws, so the same pixels) and moves its objects with
    /// the pixels: boxes (relative to the image) go through the crop, the resize and the flip, are clipped
    /// to the output, and an object dropped when less than `minimumVisible` of its area, or less than 2
    /// output pixels of width or height, is left. Colour jitter does not move boxes.
    public func apply(_ image: RGBImage, preprocessing: Preprocessing, generator: inout SeededGenerator,
                      into destination: UnsafeMutableBufferPointer<Float>, boxes: [LabeledBox],
                      minimumVisible: Float = 0.2) -> [LabeledBox] {
        let placed = render(image, preprocessing: preprocessing, generator: &generator, into: destination)
        return Self.move(boxes, imageWidth: image.width, imageHeight: image.height, geometry: placed.geometry,
                         side: preprocessing.inputSize, flipped: placed.flipped, minimumVisible: minimumVisible)
    }

    /// The pixels, and where the image went: the crop rule's geometry (a random resized crop's region
    /// resized to the whole square, or the preprocessing's own) and whether it was mirrored.
    private func render(_ image: RGBImage, preprocessing: Preprocessing, generator: inout SeededGenerator,
                        into destination: UnsafeMutableBufferPointer<Float>) -> (geometry: Preprocessing.Geometry, flipped: Bool) {
        let side = preprocessing.inputSize
        var out: RGBImage
        let geometry: Preprocessing.Geometry
        if let rrc = resizedCrop {
            let region = Self.randomResizedCropRegion(width: image.width, height: image.height, crop: rrc,
                                                      generator: &generator)
            out = Resampler.resize(image, region: region, width: side, height: side)
            geometry = .init(region: region, resizedWidth: side, resizedHeight: side,
                             window: PixelRect(x: 0, y: 0, width: side, height: side), placement: (0, 0))
        } else {
            out = preprocessing.resized(image)
            geometry = preprocessing.geometry(width: image.width, height: image.height)
        }
        let flipped = generator.nextUnit() < horizontalFlipProbability
        if flipped { out = out.flippedHorizontally() }
        if let jitter = colorJitter { out = Self.jitter(out, jitter, generator: &generator) }
        Preprocessing.normalize(out, placedAt: (0, 0), side: side, normalization: preprocessing.normalization,
                                into: destination)
        return (geometry, flipped)
    }

    /// Boxes relative to a `imageWidth` x `imageHeight` image, relative to the `side` square that
    /// `geometry` (and a mirror when `flipped`) made of it.
    static func move(_ boxes: [LabeledBox], imageWidth: Int, imageHeight: Int, geometry g: Preprocessing.Geometry, side: Int,
                     flipped: Bool, minimumVisible: Float) -> [LabeledBox] {
        let s = Float(side)
        // Output pixel of an image pixel, per axis: resize the region, keep the window, place it.
        let sx = Float(g.resizedWidth) / Float(g.region.width), sy = Float(g.resizedHeight) / Float(g.region.height)
        let ox = -Float(g.region.x) * sx - Float(g.window.x) + Float(g.placement.x)
        let oy = -Float(g.region.y) * sy - Float(g.window.y) + Float(g.placement.y)
        let visible = BoundingBox(x: Float(g.placement.x), y: Float(g.placement.y), width: Float(g.window.width), height: Float(g.window.height))
        var out: [LabeledBox] = []
        for object in boxes {
            let b = object.box
            let mapped = BoundingBox(x: b.x * Float(imageWidth) * sx + ox, y: b.y * Float(imageHeight) * sy + oy,
                                     width: b.width * Float(imageWidth) * sx, height: b.height * Float(imageHeight) * sy)
            let x0 = max(mapped.x, visible.x), y0 = max(mapped.y, visible.y)
            let x1 = min(mapped.maxX, visible.maxX), y1 = min(mapped.maxY, visible.maxY)
            guard x1 - x0 >= 2, y1 - y0 >= 2, (x1 - x0) * (y1 - y0) >= minimumVisible * mapped.area else { continue }
            var kept = BoundingBox(x: x0 / s, y: y0 / s, width: (x1 - x0) / s, height: (y1 - y0) / s)
            if flipped { kept.x = 1 - kept.x - kept.width }
            out.append(LabeledBox(classIndex: object.classIndex, box: kept))
        }
        return out
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


