import Foundation
import XCTest
@testable import GraftData

final class ResizeTests: XCTestCase {
    let decoder = ImageDecoder()

    private func source(_ item: Reference.Resize) throws -> (RGBImage, PixelRect?) {
        let image = try decoder.decode(contentsOf: FixturePaths.packages.appendingPathComponent(item.file))
        let region = item.box.map { PixelRect(x: $0[0], y: $0[1], width: $0[2] - $0[0], height: $0[3] - $0[1]) }
        return (image, region)
    }

    /// 8-bit path: bit-identical to Pillow's `Image.resize(size, BILINEAR)` for shrinking,
    /// enlarging, unequal axis factors, crop-then-resize and grey sources.
    func testEightBitResizeEqualsPillow() throws {
        for item in Reference.shared.resize {
            let (image, region) = try source(item)
            let out = Resampler.resize(image, region: region, width: item.width, height: item.height)
            XCTAssertEqual(out.width, item.width)
            XCTAssertEqual(out.height, item.height)
            XCTAssertEqual(maxSampleDiff(out, item.samples), 0, item.file)
            XCTAssertEqual(fnv1a64(out.pixels), item.fnv1a64, "\(item.file) \(item.width)x\(item.height)")
            if let raw = item.raw {
                let expected = try [UInt8](Data(contentsOf: Reference.directory.appendingPathComponent(raw + ".u8")))
                XCTAssertEqual(maxAbsDiff(out.pixels, expected), 0, item.file)
            }
        }
    }

    /// Float path: Pillow's mode "F" resize per channel, to Float32 rounding.
    func testFloatResizeEqualsPillowModeF() throws {
        var worst: Float = 0
        for item in Reference.shared.resize {
            let (image, region) = try source(item)
            let out = Resampler.resizeToFloat(image, region: region, width: item.width, height: item.height)
            XCTAssertEqual(out.count, item.width * item.height * 3)
            for s in item.floatSamples {
                let (x, y) = (Int(s[0]), Int(s[1]))
                for c in 0..<3 {
                    worst = max(worst, abs(out[(y * item.width + x) * 3 + c] - Float(s[2 + c])))
                }
            }
            if let raw = item.raw {
                let data = try Data(contentsOf: Reference.directory.appendingPathComponent(raw + ".f32"))
                let expected = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                XCTAssertEqual(expected.count, out.count)
                for i in out.indices { worst = max(worst, abs(out[i] - expected[i])) }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-4, "float resize vs Pillow mode F")
    }

    /// Keeping a window of the resized image equals resizing fully and cropping.
    func testWindowEqualsResizeThenCrop() throws {
        let image = try decoder.decode(contentsOf: FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data/coffee.png"))
        let full = Resampler.resize(image, width: 341, height: 227)
        let window = PixelRect(x: 50, y: 13, width: 224, height: 200)
        let part = Resampler.resize(image, width: 341, height: 227, keeping: window)
        XCTAssertEqual(part, full.cropped(x: 50, y: 13, width: 224, height: 200))
        let region = PixelRect(x: 33, y: 40, width: 300, height: 211)
        XCTAssertEqual(Resampler.resize(image, region: region, width: 100, height: 90),
                       Resampler.resize(image.cropped(x: 33, y: 40, width: 300, height: 211), width: 100, height: 90))
    }

    /// torchvision `Resize(256) + CenterCrop(224)` and the EfficientNet-Lite crop, against
    /// the same steps done with Pillow; normalised values to Float32 precision.
    func testPipelinesEqualPillowReference() throws {
        for item in Reference.shared.pipeline {
            let image = try decoder.decode(contentsOf: FixturePaths.packages.appendingPathComponent(item.file))
            for (prep, ref) in [(Preprocessing.imageNet(), item.imagenet),
                                (Preprocessing.efficientNetLite(), item.efficientnetLite)] {
                let geometric = prep.resized(image)
                XCTAssertEqual(geometric.width, 224)
                XCTAssertEqual(maxSampleDiff(geometric, ref.samples), 0, item.file)
                XCTAssertEqual(fnv1a64(geometric.pixels), ref.fnv1a64, "\(item.file) \(prep.crop)")
                let values = prep.apply(image)
                XCTAssertEqual(values.count, 224 * 224 * 3)
                for s in ref.normalized {
                    let (x, y) = (Int(s[0]), Int(s[1]))
                    for c in 0..<3 {
                        XCTAssertEqual(values[(y * 224 + x) * 3 + c], Float(s[2 + c]), accuracy: 1e-6, item.file)
                    }
                }
                // The float path differs from the 8-bit one by the skipped rounding only.
                var float = prep
                float.precision = .float
                let fv = float.apply(image)
                let step = prep.normalization == .efficientNetLite ? Float(1.0 / 128) : Float(1.0 / (255 * 0.224))
                var worst: Float = 0
                for i in values.indices { worst = max(worst, abs(fv[i] - values[i])) }
                XCTAssertLessThanOrEqual(worst, 1.01 * step, "\(item.file): float path more than one level away")
            }
        }
    }

    func testCenterCropPadsSmallImages() throws {
        let tiny = try XCTUnwrap(RGBImage(width: 4, height: 2, pixels: [UInt8](repeating: 200, count: 24)))
        var prep = Preprocessing(inputSize: 6, resizeShorterTo: 2, crop: .center, normalization: .unit)
        // Resize(2) keeps 4x2; CenterCrop(6) pads 1 column each side and 2 rows each side.
        let out = prep.resized(tiny)
        XCTAssertEqual(out.width, 6)
        for y in 0..<6 {
            for x in 0..<6 {
                let inside = (1..<5).contains(x) && (2..<4).contains(y)
                XCTAssertEqual(out[x, y].r, inside ? 200 : 0, "(\(x), \(y))")
            }
        }
        let values = prep.apply(tiny)
        XCTAssertEqual(values[0], 0)
        XCTAssertEqual(values[(2 * 6 + 1) * 3], 200 / 255, accuracy: 1e-7)
        prep.precision = .float
        XCTAssertEqual(prep.apply(tiny), values)
    }

    func testGeometryRules() {
        let lite = Preprocessing.efficientNetLite()
        // 640x427: crop int(224/256 * 427) = 373, offsets ((640-373)+1)//2 = 134, ((427-373)+1)//2 = 27.
        XCTAssertEqual(lite.geometry(width: 640, height: 427).region, PixelRect(x: 134, y: 27, width: 373, height: 373))
        let net = Preprocessing.imageNet()
        // 451x300: Resize(256) -> int(256 * 451 / 300) = 384 x 256; crop offsets round(80) and round(16).
        let g = net.geometry(width: 451, height: 300)
        XCTAssertEqual(g.resizedWidth, 384)
        XCTAssertEqual(g.resizedHeight, 256)
        XCTAssertEqual(g.window, PixelRect(x: 80, y: 16, width: 224, height: 224))
        // Half-way offsets round to even like Python's round(): (227 - 224) / 2 = 1.5 -> 2, (229-224)/2 = 2.5 -> 2.
        XCTAssertEqual(Preprocessing(inputSize: 224, resizeShorterTo: 227).geometry(width: 227, height: 300).window.x, 2)
        XCTAssertEqual(Preprocessing(inputSize: 224, resizeShorterTo: 229).geometry(width: 229, height: 300).window.x, 2)
    }
}
