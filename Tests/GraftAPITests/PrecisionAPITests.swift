import Foundation
import Graft
import XCTest

/// `precision:` on the API's pretrained models (docs/PRECISION.md): bf16 answers as fp32 does, and a CPU
/// without AVX-512 bf16 refuses it with `KernelError.unsupportedPrecision` when the model is made.
final class PrecisionAPITests: XCTestCase {
    func testBF16ModelsAnswerAsFP32Ones() throws {
        guard Precision.bf16.isSupported else {
            XCTAssertThrowsError(try Embedder(precision: .bf16)) { error in
                guard case .unsupportedPrecision(.bf16, _)? = error as? KernelError else { return XCTFail("\(error)") }
            }
            throw XCTSkip("no AVX-512 bf16 on this CPU: refused with KernelError.unsupportedPrecision")
        }
        XCTAssertThrowsError(try ImageModel(precision: .int8)) { XCTAssertNotNil($0 as? KernelError) }   // not quantized

        let sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
        let (fp32, bf16) = (try Embedder(), try Embedder(precision: .bf16))
        XCTAssertEqual(bf16.precision, .bf16)
        for (a, b) in zip(try fp32.encode(sentences), try bf16.encode(sentences)) {
            let cosine = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
            XCTAssertGreaterThanOrEqual(cosine, 0.999)
        }

        let photo = APIFixtures.packages.appendingPathComponent("scikit-image/skimage/data/chelsea.png")
        let (top32, top16) = (try ImageModel().classify(contentsOf: photo, top: 3), try ImageModel(precision: .bf16).classify(contentsOf: photo, top: 3))
        XCTAssertEqual(top32.first?.label, top16.first?.label)
        XCTAssertEqual(top32[0].probability, top16[0].probability, accuracy: 0.03)
    }

    /// int8 through the API: `PostTrainingQuantization` on the photos, then `ImageModel(.custom(weights:architecture:),
    /// precision: .int8)`; the same top-1 as fp32, and the unquantized model refused with the typed error.
    func testInt8ImageModelFromAQuantizedFile() throws {
        try Precision.int8.requireSupport()
        let photos = APIFixtures.packages.appendingPathComponent("scikit-image/skimage/data")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-api-int8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "color.png"]
        let url = dir.appendingPathComponent("lite0.int8.safetensors")
        let summary = try PostTrainingQuantization(items: names.count)
            .run(spec: .efficientNetLite0, dataset: Photos(urls: names.map { photos.appendingPathComponent($0) }), to: url)
        XCTAssertEqual(summary.items, names.count)
        XCTAssertEqual(summary.calibratedConvolutions, summary.convolutions)
        let int8 = try ImageModel(.custom(weights: url, architecture: "efficientnet-lite0"), precision: .int8)
        XCTAssertEqual(int8.precision, .int8)
        XCTAssertEqual(summary.weights, "s8")
        // Photos whose fp32 top-1 leads by 12 points or more (Chelsea's two cat classes, 40% / 34%, swap on AVX2).
        for name in ["coffee.png", "rocket.jpg"] {
            let photo = photos.appendingPathComponent(name)
            let (a, b) = (try ImageModel().classify(contentsOf: photo, top: 1), try int8.classify(contentsOf: photo, top: 1))
            XCTAssertEqual(a.first?.label, b.first?.label, name)
            // The bound Int8AccuracyTests holds int8 blocks to on every CPU: without int8 dot products (AVX2) weights
            // read against u8 inputs have 7 bits (docs/PRECISION.md), and rocket.jpg moves 0.32 -> 0.45 there.
            XCTAssertEqual(a[0].probability, b[0].probability, accuracy: 0.2, name)
        }
    }
}

/// The user's own images as a `Dataset` (one class): calibration data for `PostTrainingQuantization`.
struct Photos: Dataset {
    let urls: [URL]
    var count: Int { urls.count }
    var classNames: [String] { ["photo"] }
    var kind: DataKind { .image }
    func label(at index: Int) -> Int { 0 }
    func sourceID(at index: Int) -> String { urls[index].lastPathComponent }
    func item(at index: Int) throws -> DataItem { .image(try ImageDecoder().decode(contentsOf: urls[index])) }

    /// `Embedder(precision: .int8)`: the packaged MiniLM runs int8 with no quantized copy (its linears quantize per
    /// batch); the vectors stay at cosine >= 0.99 to fp32 and rank the sentences as fp32 does.
    func testInt8EmbedderNeedsNoCalibration() throws {
        try Precision.int8.requireSupport()
        let sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
        let (fp32, int8) = (try Embedder(), try Embedder(precision: .int8))
        XCTAssertEqual(int8.precision, .int8)
        let (a, b) = (try fp32.encode(sentences), try int8.encode(sentences))
        func cosine(_ x: [Float], _ y: [Float]) -> Float {
            zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } / (x.reduce(0) { $0 + $1 * $1 }.squareRoot() * y.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        for (x, y) in zip(a, b) {
            XCTAssertGreaterThanOrEqual(cosine(x, y), 0.99)
            XCTAssertNotEqual(x, y, "int8 really ran")
        }
        XCTAssertGreaterThan(cosine(b[0], b[1]), cosine(b[0], b[2]), "the two eating sentences stay the closest pair")
    }
}
