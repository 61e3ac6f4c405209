import Foundation
import XCTest
@testable import GraftData

final class AugmentationTests: XCTestCase {
    /// Brightness, contrast and saturation at fixed factors equal Pillow's ImageEnhance.
    func testColorAdjustEqualsPillowImageEnhance() throws {
        let ref = Reference.shared.jitter
        let image = try XCTUnwrap(RGBImage(width: ref.width, height: ref.height, pixels: ref.input))
        for c in ref.brightness {
            XCTAssertEqual(ColorAdjust.brightness(image, factor: c.factor).pixels, c.pixels, "brightness \(c.factor)")
        }
        for c in ref.contrast {
            XCTAssertEqual(ColorAdjust.contrast(image, factor: c.factor).pixels, c.pixels, "contrast \(c.factor)")
        }
        for c in ref.saturation {
            XCTAssertEqual(ColorAdjust.saturation(image, factor: c.factor).pixels, c.pixels, "saturation \(c.factor)")
        }
    }

    func testGeneratorIsReproducibleAndUniform() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<1000).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<1000).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<1000).map { _ in c.next() })
        var g = SeededGenerator(seed: 7)
        let n = 200_000
        var sum = 0.0, buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<n {
            let u = g.nextUnit()
            XCTAssert(u >= 0 && u < 1)
            sum += u
            buckets[Int(u * 10)] += 1
        }
        XCTAssertEqual(sum / Double(n), 0.5, accuracy: 0.005)
        for count in buckets { XCTAssertEqual(Double(count) / Double(n), 0.1, accuracy: 0.005) }
        // Per-item streams: distinct across items and epochs, stable for the same triple.
        var i1 = SeededGenerator(seed: 1, epoch: 0, index: 5), i2 = SeededGenerator(seed: 1, epoch: 0, index: 5)
        var i3 = SeededGenerator(seed: 1, epoch: 0, index: 6), i4 = SeededGenerator(seed: 1, epoch: 1, index: 5)
        let v = i1.next()
        XCTAssertEqual(v, i2.next())
        XCTAssertNotEqual(v, i3.next())
        XCTAssertNotEqual(v, i4.next())
    }

    /// Regions stay inside the image, cover the requested area range when a try
    /// succeeds, and follow the aspect-ratio range.
    func testRandomResizedCropRegions() {
        var g = SeededGenerator(seed: 3)
        let crop = Augmentation.ResizedCrop()
        var areas: [Double] = []
        for _ in 0..<2000 {
            let r = Augmentation.randomResizedCropRegion(width: 451, height: 300, crop: crop, generator: &g)
            XCTAssert(r.isInside(width: 451, height: 300), "\(r)")
            let area = Double(r.width * r.height) / (451 * 300)
            areas.append(area)
            XCTAssertLessThanOrEqual(area, 1.0)
            let ratio = Double(r.width) / Double(r.height)
            XCTAssert(ratio > 0.70 && ratio < 1.40, "ratio \(ratio)")
        }
        // Uniform scale in [0.08, 1] minus rejected draws: the mean sits near 0.5 but below it.
        let mean = areas.reduce(0, +) / Double(areas.count)
        XCTAssert(mean > 0.35 && mean < 0.56, "mean area \(mean)")
        XCTAssertGreaterThan(areas.min() ?? 1, 0.07)
        // A very wide image falls back to the centred crop clamped to ratio 4/3.
        var never = Augmentation.ResizedCrop(scale: 2...3)
        never.ratio = (3.0 / 4.0)...(4.0 / 3.0)
        XCTAssertEqual(Augmentation.randomResizedCropRegion(width: 400, height: 100, crop: never, generator: &g),
                       PixelRect(x: 133, y: 0, width: 133, height: 100))
    }

    func testAugmentationIsDeterministicPerSeedAndFlips() throws {
        let image = try ImageDecoder().decode(contentsOf: FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data/chelsea.png"))
        let prep = Preprocessing(inputSize: 32, crop: .stretch, normalization: .unit)
        let aug = Augmentation.standard
        var g1 = SeededGenerator(seed: 9, epoch: 0, index: 0), g2 = SeededGenerator(seed: 9, epoch: 0, index: 0)
        let a = aug.apply(image, preprocessing: prep, generator: &g1)
        XCTAssertEqual(a, aug.apply(image, preprocessing: prep, generator: &g2))
        XCTAssertEqual(a.count, 32 * 32 * 3)
        XCTAssert(a.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Flip only: output equals the mirrored evaluation image.
        let flipOnly = Augmentation(resizedCrop: nil, horizontalFlipProbability: 1, colorJitter: nil)
        var g = SeededGenerator(seed: 1)
        let flipped = flipOnly.apply(image, preprocessing: prep, generator: &g)
        XCTAssertEqual(flipped, prep.apply(prep.resized(image).flippedHorizontally()))
    }
}
