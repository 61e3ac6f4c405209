import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftTransfer
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GraftServe

/// `POST /v1/detect` on a live loopback server: the boxes `YoloDetector` finds in-process, and
/// `/v1/predict`'s limits and JSON errors.
final class ServeDetectTests: XCTestCase {
    struct Box: Decodable { let label: String; let score: Float; let x, y, w, h: Float }
    struct Answer: Decodable { let model: String; let width: Int; let height: Int; let detections: [Box] }

    func testDetectMatchesInProcessAndRefusesBadInput() async throws {
        var options = ServeOptions()
        options.port = 0
        options.maxBodyBytes = 1 << 20
        var server = try PredictionServer(bundle: ServeFixtures.imageBundle(), options: options)
        let detector = try YoloDetector.pretrained("yolov3-tiny")
        server.detection = DetectRoute(detector: detector, name: "yolov3-tiny", options: options)
        let photo = ServeFixtures.packages.appendingPathComponent("scikit-image/skimage/data/coffee.png")
        let png = try Data(contentsOf: photo)
        let expected = try detector.detect([ImageDecoder().decode(png, source: "coffee")], threshold: 0.25)[0]

        try await server.application().test(.live) { client in
            let r = try await client.execute(uri: "/v1/detect", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png))
            XCTAssertEqual(r.status, .ok)
            let answer = try JSONDecoder().decode(Answer.self, from: Data(r.body.readableBytesView))
            XCTAssertEqual(answer.model, "yolov3-tiny")
            XCTAssertEqual([answer.width, answer.height], [600, 400])
            XCTAssertEqual(answer.detections.map(\.label), expected.map(\.label))
            XCTAssertEqual(answer.detections.first?.score ?? 0, expected.first?.score ?? 1, accuracy: 1e-6)
            XCTAssertEqual(answer.detections.first?.w ?? 0, expected.first?.box.width ?? 1, accuracy: 1e-3)

            let low = try await client.execute(uri: "/v1/detect?threshold=0.05", method: .post, headers: [.contentType: "image/png"],
                                               body: ByteBuffer(bytes: png))
            let many = try JSONDecoder().decode(Answer.self, from: Data(low.body.readableBytesView))
            XCTAssertGreaterThan(many.detections.count, answer.detections.count)

            let bad: [(String, HTTPFields, [UInt8], HTTPResponse.Status, String)] = [
                ("/v1/detect", [.contentType: "text/plain"], Array(png), .unsupportedMediaType, "got text"),
                ("/v1/detect", [.contentType: "image/png"], [], .badRequest, "empty body"),
                ("/v1/detect", [.contentType: "image/png"], Array("hello".utf8), .unprocessableContent, "not a JPEG or PNG"),
                ("/v1/detect?threshold=2", [.contentType: "image/png"], Array(png), .badRequest, "threshold must be"),
                ("/v1/detect", [.contentType: "image/png"], [UInt8](repeating: 1, count: 2 << 20), .contentTooLarge, "exceeds the limit"),
            ]
            for (uri, headers, body, status, message) in bad {
                let e = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                XCTAssertEqual(e.status, status, "\(uri) \(message)")
                XCTAssertTrue(String(decoding: e.body.readableBytesView, as: UTF8.self).contains(message), "\(uri) \(message)")
            }
        }
    }

    /// An int8 route (`graft serve --detect FILE --detect-precision int8`): a detector quantized by `graft quantize`'s
    /// calibration answers with the boxes the same detector finds in-process in int8.
    func testInt8DetectMatchesInProcessInt8() async throws {
        var options = ServeOptions()
        options.port = 0
        var server = try PredictionServer(bundle: ServeFixtures.imageBundle(), options: options)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-serve-int8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let photos = ServeFixtures.packages.appendingPathComponent("scikit-image/skimage/data")
        let table = dir.appendingPathComponent("calibration.csv"), file = dir.appendingPathComponent("yolo.int8.safetensors")
        try ("path,label\n" + ["coffee.png", "chelsea.png", "astronaut.png"].map { "\(photos.appendingPathComponent($0).path),photo\n" }.joined())
            .write(to: table, atomically: true, encoding: .utf8)
        _ = try PostTrainingQuantization(items: 3).run(spec: .detector(), dataset: TableDataset(csv: table), to: file)
        let detector = try YoloDetector.quantized(file)
        server.detection = DetectRoute(detector: detector, name: "yolo-int8", options: options, precision: .int8)
        let png = try Data(contentsOf: photos.appendingPathComponent("coffee.png"))
        let image = try ImageDecoder().decode(png, source: "coffee")
        let int8 = try withPrecision(.int8) { try detector.detect([image])[0] }, fp32 = try detector.detect([image])[0]
        XCTAssertNotEqual(int8.first?.score, fp32.first?.score, "int8 computes something else than fp32")

        try await server.application().test(.live) { client in
            let r = try await client.execute(uri: "/v1/detect", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png))
            XCTAssertEqual(r.status, .ok)
            let answer = try JSONDecoder().decode(Answer.self, from: Data(r.body.readableBytesView))
            XCTAssertEqual(answer.detections.map(\.label), int8.map(\.label))
            XCTAssertEqual(answer.detections.first?.score ?? 0, int8.first?.score ?? 1, accuracy: 1e-6)
            XCTAssertEqual(answer.detections.first?.w ?? 0, int8.first?.box.width ?? 1, accuracy: 1e-3)
        }
    }
}
