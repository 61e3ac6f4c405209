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
        XCTAssertThrowsError(try ImageModel(precision: .int8)) { XCTAssertNotNil($0 as? KernelError) }

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
}
