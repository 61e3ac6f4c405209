import Foundation
import GraftData
import GraftTransfer
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GraftServe

/// Every route of an image bundle on a live loopback server, and every bad input.
final class ServeImageTests: XCTestCase {
    func makeServer(_ configure: (inout ServeOptions) -> Void = { _ in }) throws -> PredictionServer {
        var options = ServeOptions()
        options.port = 0
        configure(&options)
        return try PredictionServer(bundle: ServeFixtures.imageBundle(), options: options)
    }

    func testPredictModelHealthAndMetrics() async throws {
        let server = try makeServer()
        let reference = try TrainedClassifier(bundle: ServeFixtures.imageBundle())
        let png = ServeFixtures.gradientPNG
        let jpeg = try ServeFixtures.chinaJPEG
        let expectedPNG = try reference.predict(reference.batch(images: [ImageDecoder().decode(png, source: "png")]), top: 3)[0]
        let expectedJPEG = try reference.predict(reference.batch(images: [ImageDecoder().decode(jpeg, source: "jpeg")]), top: 2)[0]

        try await server.application().test(.live) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(health.status, .ok)
            XCTAssertEqual(String(decoding: health.body.readableBytesView, as: UTF8.self), #"{"status":"ok"}"#)

            let model = try await client.execute(uri: "/v1/model", method: .get)
            XCTAssertEqual(model.status, .ok)
            let info = try JSONSerialization.jsonObject(with: Data(model.body.readableBytesView)) as? [String: Any]
            let manifest = info?["manifest"] as? [String: Any]
            XCTAssertEqual(manifest?["classNames"] as? [String], ServeFixtures.imageClasses)
            XCTAssertEqual(manifest?["task"] as? String, "classification")
            XCTAssertEqual((manifest?["backbone"] as? [String: Any])?["input"] as? String, "image")
            XCTAssertEqual((manifest?["strategy"] as? [String: Any])?["kind"] as? String, "from-scratch")
            XCTAssertEqual(info?["inputSize"] as? Int, 32)
            XCTAssertEqual((info?["limits"] as? [String: Any])?["maxBatch"] as? Int, 16)

            // PNG, default top (5, capped by the 3 classes): the same probabilities as the bundle in-process.
            let r1 = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png))
            XCTAssertEqual(r1.status, .ok)
            XCTAssertEqual(r1.headers[.contentType], "application/json; charset=utf-8")
            let a1 = try JSONDecoder().decode(SingleAnswer.self, from: Data(r1.body.readableBytesView))
            XCTAssertEqual(a1.model, "small-cnn")
            assertSameLabels(a1.predictions, expectedPNG)
            XCTAssertEqual(a1.predictions.map(\.probability).reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(a1.predictions.map(\.probability), a1.predictions.map(\.probability).sorted(by: >))

            // JPEG as octet-stream with ?top=2.
            let r2 = try await client.execute(uri: "/v1/predict?top=2", method: .post, headers: [.contentType: "application/octet-stream"],
                                              body: ByteBuffer(bytes: jpeg))
            XCTAssertEqual(r2.status, .ok)
            let a2 = try JSONDecoder().decode(SingleAnswer.self, from: Data(r2.body.readableBytesView))
            assertSameLabels(a2.predictions, expectedJPEG)

            let metrics = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertEqual(metrics.status, .ok)
            XCTAssertEqual(metrics.headers[.contentType], "text/plain; version=0.0.4; charset=utf-8")
            let text = String(decoding: metrics.body.readableBytesView, as: UTF8.self)
            XCTAssertTrue(text.contains(#"graft_http_requests_total{route="/v1/predict",status="200"} 2"#), text)
            XCTAssertTrue(text.contains(#"graft_http_requests_total{route="/healthz",status="200"} 1"#), text)
            XCTAssertTrue(text.contains(#"graft_http_request_duration_seconds_count{route="/v1/predict"} 2"#), text)
            XCTAssertTrue(text.contains(#"graft_batch_size_bucket{le="1"} 2"#), text)
            XCTAssertTrue(text.contains("graft_batch_size_count 2"), text)
            XCTAssertTrue(text.contains("graft_inputs_total 2"), text)
        }
    }

    func testBadImageRequestsGetJSONErrors() async throws {
        let server = try makeServer { $0.maxBodyBytes = 64 * 1024 }
        let png = ServeFixtures.gradientPNG
        var big = [UInt8](repeating: 0, count: 100 * 1024)
        big.replaceSubrange(0..<png.count, with: png)
        let cases: [(String, String, HTTPFields, [UInt8], HTTPResponse.Status, String)] = [
            ("no content type", "/v1/predict", [:], Array(png), .unsupportedMediaType, "no Content-Type"),
            ("JSON to an image bundle", "/v1/predict", [.contentType: "application/json"], Array(#"{"text":"a cat"}"#.utf8), .unsupportedMediaType, "classifies images"),
            ("text/plain", "/v1/predict", [.contentType: "text/plain"], Array(png), .unsupportedMediaType, "text/plain"),
            ("empty body", "/v1/predict", [.contentType: "image/png"], [], .badRequest, "empty body"),
            ("truncated PNG", "/v1/predict", [.contentType: "image/png"], Array(png.prefix(60)), .unprocessableContent, "PNG"),
            ("not an image", "/v1/predict", [.contentType: "image/jpeg"], Array("hello, world".utf8), .unprocessableContent, "not a JPEG or PNG"),
            ("GIF", "/v1/predict", [.contentType: "image/png"], Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), .unsupportedMediaType, "GIF"),
            ("too large", "/v1/predict", [.contentType: "image/png"], big, .contentTooLarge, "exceeds the limit"),
            ("top=0", "/v1/predict?top=0", [.contentType: "image/png"], Array(png), .badRequest, "top must be between"),
            ("top=abc", "/v1/predict?top=abc", [.contentType: "image/png"], Array(png), .badRequest, "top must be an integer"),
            ("unknown route", "/v2/predict", [.contentType: "image/png"], Array(png), .notFound, "no route POST /v2/predict"),
        ]
        try await server.application().test(.live) { client in
            for (name, uri, headers, body, status, message) in cases {
                let r = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                XCTAssertEqual(r.status, status, name)
                XCTAssertEqual(r.headers[.contentType], "application/json; charset=utf-8", name)
                let answer = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(r.body.readableBytesView))
                XCTAssertTrue(answer?.error.contains(message) ?? false, "\(name): \(answer?.error ?? String(decoding: r.body.readableBytesView, as: UTF8.self))")
            }
            // A wrong method is a 404 with a JSON body too, and the server still answers afterwards.
            let get = try await client.execute(uri: "/v1/predict", method: .get)
            XCTAssertEqual(get.status, .notFound)
            XCTAssertNotNil(try? JSONDecoder().decode(ErrorAnswer.self, from: Data(get.body.readableBytesView)))
            let ok = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png))
            XCTAssertEqual(ok.status, .ok)
            let metrics = String(decoding: try await client.execute(uri: "/metrics", method: .get).body.readableBytesView, as: UTF8.self)
            XCTAssertTrue(metrics.contains(#"graft_http_requests_total{route="/v1/predict",status="415"} 4"#), metrics)
            XCTAssertTrue(metrics.contains(#"graft_http_requests_total{route="other",status="404"} 1"#), metrics)
            XCTAssertTrue(metrics.contains("graft_inputs_total 1"), metrics)  // no bad request reached the model
        }
    }

    func testImageSizeAndDecodeTimeLimits() async throws {
        // The header says 40x30 = 1,200 pixels: refused before decoding.
        let small = try makeServer { $0.maxImagePixels = 1000 }
        try await small.application().test(.live) { client in
            let r = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/png"],
                                             body: ByteBuffer(bytes: ServeFixtures.gradientPNG))
            XCTAssertEqual(r.status, .contentTooLarge)
            XCTAssertTrue(String(decoding: r.body.readableBytesView, as: UTF8.self).contains("40x30"))
        }
        // A 2400x1600 PNG takes far longer than 1 ms to decode and resize.
        var px = [UInt8](repeating: 0, count: 2400 * 1600 * 3)
        for i in px.indices { px[i] = UInt8(truncatingIfNeeded: i / 7) }
        let largePNG = try XCTUnwrap(PNGEncoder.encode(try XCTUnwrap(RGBImage(width: 2400, height: 1600, pixels: px))))
        let slow = try makeServer { $0.decodeTimeout = .milliseconds(1); $0.maxBodyBytes = 32 << 20 }
        try await slow.application().test(.live) { client in
            let r = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: largePNG))
            XCTAssertEqual(r.status, .unprocessableContent)
            XCTAssertTrue(String(decoding: r.body.readableBytesView, as: UTF8.self).contains("took longer than 1 ms"))
        }
    }
}
