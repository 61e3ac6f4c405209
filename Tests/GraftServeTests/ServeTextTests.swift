import Foundation
import GraftTransfer
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GraftServe

/// A text bundle (all-minilm-l6-v2 features + logistic regression) behind the API.
final class ServeTextTests: XCTestCase {
    func testTextPredictionsAndBadJSON() async throws {
        var options = ServeOptions()
        options.port = 0
        options.maxTextsPerRequest = 3
        let server = try PredictionServer(bundle: ServeFixtures.textBundle(), options: options)
        let reference = try TrainedClassifier(bundle: ServeFixtures.textBundle())
        let texts = ["A warm, funny and beautifully acted film.", "Dull, overlong and badly written."]
        let expected = try reference.predict(reference.batch(texts: texts), top: 2)
        // The two classes must not be a coin toss for the check to mean something.
        XCTAssertGreaterThan(abs(expected[0][0].probability - 0.5), 0.01)

        try await server.application().test(.live) { client in
            func post(_ json: String, _ contentType: String = "application/json", uri: String = "/v1/predict") async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: [.contentType: contentType], body: ByteBuffer(string: json))
            }
            let one = try await post(#"{"text": "A warm, funny and beautifully acted film."}"#)
            XCTAssertEqual(one.status, .ok)
            let a1 = try JSONDecoder().decode(SingleAnswer.self, from: Data(one.body.readableBytesView))
            XCTAssertEqual(a1.model, "all-minilm-l6-v2")
            assertSameLabels(a1.predictions, expected[0])

            let many = try await post(#"{"texts": ["A warm, funny and beautifully acted film.", "Dull, overlong and badly written."], "top": 1}"#,
                                      "application/json; charset=utf-8")
            XCTAssertEqual(many.status, .ok)
            let a2 = try JSONDecoder().decode(ManyAnswer.self, from: Data(many.body.readableBytesView))
            XCTAssertEqual(a2.predictions.count, 2)
            for (got, want) in zip(a2.predictions, expected) { assertSameLabels(got, Array(want.prefix(1))) }

            let model = try await client.execute(uri: "/v1/model", method: .get)
            let info = try JSONSerialization.jsonObject(with: Data(model.body.readableBytesView)) as? [String: Any]
            XCTAssertEqual((info?["manifest"] as? [String: Any])?["task"] as? String, "classification")
            XCTAssertEqual(((info?["manifest"] as? [String: Any])?["backbone"] as? [String: Any])?["input"] as? String, "text")
            XCTAssertNil(info?["inputSize"])

            let bad: [(String, String, HTTPResponse.Status, String)] = [
                (#"{"text": "unterminated"#, "application/json", .badRequest, "malformed JSON"),
                ("[1, 2]", "application/json", .badRequest, "malformed JSON"),
                (#"{"text": 5}"#, "application/json", .badRequest, "\"text\" should be a string"),
                (#"{"text": ""}"#, "application/json", .badRequest, "text is empty"),
                (#"{"text": "  \n "}"#, "application/json", .badRequest, "text is empty"),
                (#"{"texts": []}"#, "application/json", .badRequest, "\"texts\" is empty"),
                (#"{"texts": ["fine", " "]}"#, "application/json", .badRequest, "text 1 is empty"),
                (#"{"texts": ["a", "b", "c", "d"]}"#, "application/json", .contentTooLarge, "at most 3"),
                (#"{"text": "a", "texts": ["b"]}"#, "application/json", .badRequest, "not both"),
                (#"{"top": 2}"#, "application/json", .badRequest, "needs \"text\""),
                (#"{"text": "fine", "top": 0}"#, "application/json", .badRequest, "top must be between"),
                (#"{"text": "fine"}"#, "image/png", .unsupportedMediaType, "classifies texts"),
                (#"{"text": "fine"}"#, "text/plain", .unsupportedMediaType, "classifies texts"),
            ]
            for (body, type, status, message) in bad {
                let r = try await post(body, type)
                XCTAssertEqual(r.status, status, body)
                let answer = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(r.body.readableBytesView))
                XCTAssertTrue(answer?.error.contains(message) ?? false, "\(body): \(answer?.error ?? "no JSON error")")
            }
            let metrics = String(decoding: try await client.execute(uri: "/metrics", method: .get).body.readableBytesView, as: UTF8.self)
            XCTAssertTrue(metrics.contains("graft_inputs_total 3"), metrics)  // 1 + 2 texts; no bad request reached the model
            XCTAssertTrue(metrics.contains(#"graft_http_requests_total{route="/v1/predict",status="400"} 10"#), metrics)
        }
    }
}
