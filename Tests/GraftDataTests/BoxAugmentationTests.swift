import GraftData
import XCTest

/// Box-aware augmentation: a detection image's objects move with its pixels through the random
/// resized crop, the resize and the flip (and stay put under colour jitter).
final class BoxAugmentationTests: XCTestCase {
    /// A 200x100 black image with a white rectangle at x 40..<80, y 20..<60.
    static let image: RGBImage = {
        var pixels = [UInt8](repeating: 0, count: 200 * 100 * 3)
        for y in 20..<60 { for x in 40..<80 { for c in 0..<3 { pixels[(y * 200 + x) * 3 + c] = 255 } } }
        return RGBImage(width: 200, height: 100, pixels: pixels)!
    }()
    static let box = LabeledBox(classIndex: 2, box: BoundingBox(x: 0.2, y: 0.2, width: 0.2, height: 0.4))

    /// The extent of pixels brighter than half, in output pixels.
    func whiteExtent(_ values: [Float], side: Int) -> BoundingBox? {
        var x0 = side, y0 = side, x1 = -1, y1 = -1
        for y in 0..<side { for x in 0..<side where values[(y * side + x) * 3] > 0.5 {
            x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x); y1 = max(y1, y)
        } }
        return x1 < 0 ? nil : BoundingBox(x: Float(x0), y: Float(y0), width: Float(x1 - x0 + 1), height: Float(y1 - y0 + 1))
    }

    func check(_ augmentation: Augmentation, _ preprocessing: Preprocessing, seeds: Range<Int>) throws {
        let side = preprocessing.inputSize
        var kept = 0, flipped = 0
        for seed in seeds {
            var g1 = SeededGenerator(seed: UInt64(seed)), g2 = SeededGenerator(seed: UInt64(seed))
            var withBoxes = [Float](repeating: 0, count: preprocessing.outputCount)
            let moved = withBoxes.withUnsafeMutableBufferPointer {
                augmentation.apply(Self.image, preprocessing: preprocessing, generator: &g1, into: $0, boxes: [Self.box])
            }
            // The same draws as the plain call: the same pixels.
            XCTAssertEqual(withBoxes, augmentation.apply(Self.image, preprocessing: preprocessing, generator: &g2), "seed \(seed)")
            guard let b = moved.first?.box else { continue }
            kept += 1
            XCTAssertEqual(moved[0].classIndex, 2)
            let white = try XCTUnwrap(whiteExtent(withBoxes, side: side), "seed \(seed): a kept box over no white pixels")
            let scaled = BoundingBox(x: b.x * Float(side), y: b.y * Float(side), width: b.width * Float(side), height: b.height * Float(side))
            // Resampling blurs edges by about a pixel.
            XCTAssertEqual(white.x, scaled.x, accuracy: 1.5, "seed \(seed)")
            XCTAssertEqual(white.y, scaled.y, accuracy: 1.5, "seed \(seed)")
            XCTAssertEqual(white.maxX, scaled.maxX, accuracy: 1.5, "seed \(seed)")
            XCTAssertEqual(white.maxY, scaled.maxY, accuracy: 1.5, "seed \(seed)")
            if white.x > Float(side) / 2 { flipped += 1 }
        }
        XCTAssertGreaterThan(kept, seeds.count / 3)
        if augmentation.horizontalFlipProbability > 0 { XCTAssertGreaterThan(flipped, 0, "no flip was drawn") }
    }

    func testBoxesFollowRandomResizedCropAndFlip() throws {
        let augmentation = Augmentation(resizedCrop: .init(scale: 0.3...1.0), horizontalFlipProbability: 0.5,
                                        colorJitter: .init(brightness: 0.1, contrast: 0.1, saturation: 0.1))
        try check(augmentation, Preprocessing(inputSize: 64, crop: .stretch, normalization: .unit), seeds: 0..<40)
    }

    func testBoxesFollowThePreprocessingGeometryWithoutACrop() throws {
        // Stretch, then the torchvision centre crop (which cuts the box's side off), always mirrored.
        try check(Augmentation(resizedCrop: nil, horizontalFlipProbability: 1), Preprocessing(inputSize: 48, crop: .stretch, normalization: .unit), seeds: 0..<2)
        try check(Augmentation(resizedCrop: nil, horizontalFlipProbability: 1), Preprocessing(inputSize: 64, crop: .center, normalization: .unit), seeds: 0..<2)
    }

    func testAnObjectMostlyCutAwayIsDropped() {
        // The crop takes the right half of the image: the box (x 0.2...0.4) is gone.
        var g = SeededGenerator(seed: 1)
        let right = Augmentation(resizedCrop: .init(scale: 0.5...0.5, ratio: 1.0...1.0), horizontalFlipProbability: 0)
        var kept = 0
        for _ in 0..<20 {
            var out = [Float](repeating: 0, count: 32 * 32 * 3)
            let moved = out.withUnsafeMutableBufferPointer {
                right.apply(Self.image, preprocessing: Preprocessing(inputSize: 32, crop: .stretch, normalization: .unit), generator: &g, into: $0, boxes: [Self.box])
            }
            if let b = moved.first {
                kept += 1
                // What is kept is at least a fifth of the object, clipped to the output.
                XCTAssertTrue(b.box.x >= 0 && b.box.maxX <= 1 + 1e-6 && b.box.y >= 0 && b.box.maxY <= 1 + 1e-6, "\(b.box)")
            } else {
                XCTAssertLessThan(out.enumerated().filter { $0.offset % 3 == 0 && $0.element > 0.5 }.count, 200)
            }
        }
        XCTAssertLessThan(kept, 20)
    }
}
