import Foundation
import GraftTransfer
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GraftServe

/// `graft serve --precision bf16` (docs/PRECISION.md): the text bundle (fitted on fp32 features) served with
/// a bf16 encoder answers the fp32 labels, and `GET /v1/model` says which precision runs. A CPU without
/// AVX-512 bf16 refuses it with the typed error before the server starts.
final class ServePrecisionTests: XCTestCase {
    func testBF16ServerAnswersTheFP32LabelsAndSaysItsPrecision() async throws {
        var options = ServeOptions()
        options.port = 0
        guard Precision.bf16.isSupported else {
            XCTAssertThrowsError(try PredictionServer(bundle: ServeFixtures.textBundle(), options: options, precision: .bf16)) { error in
                guard case .unsupportedPrecision(.bf16, _)? = error as? KernelError else { return XCTFail("\(error)") }
            }
            throw XCTSkip("no AVX-512 bf16 on this CPU: refused with KernelError.unsupportedPrecision")
        }
        let server = try PredictionServer(bundle: ServeFixtures.textBundle(), options: options, precision: .bf16)
        XCTAssertEqual(server.classifier.precision, .bf16)
        let reference = try TrainedClassifier(bundle: ServeFixtures.textBundle())
        XCTAssertEqual(reference.precision, .fp32, "an fp32 bundle runs in fp32 unless asked")
        let text = "A warm, funny and beautifully acted film."
        let expected = try reference.predict(reference.batch(texts: [text]), top: 2)[0]
        try await server.application().test(.live) { client in
            let answer = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "application/json"],
                                                  body: ByteBuffer(string: #"{"text": "\#(text)"}"#))
            XCTAssertEqual(answer.status, .ok)
            let decoded = try JSONDecoder().decode(SingleAnswer.self, from: Data(answer.body.readableBytesView))
            assertSameLabels(decoded.predictions, expected, accuracy: 0.02)
            let model = try await client.execute(uri: "/v1/model", method: .get)
            let info = try JSONSerialization.jsonObject(with: Data(model.body.readableBytesView)) as? [String: Any]
            XCTAssertEqual(info?["precision"] as? String, "bf16")
        }
    }
}
