import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftWeights
import XCTest

/// The acceptance of issue 16: YOLOv3-tiny on scikit-image's photos equals an independent NumPy
/// forward of the cfg (itself checked against OpenCV's Darknet importer) made by
/// Tests/Fixtures/detection/make_yolo_fixture.py.
final class YoloParityTests: XCTestCase {
    struct Reference: Decodable {
        struct Box: Decodable { let label: String; let classIndex: Int; let score: Float; let x, y, width, height: Float }
        struct Image: Decodable { let file: String; let width, height: Int; let detections, lowThresholdDetections: [Box] }
        let threshold, lowThreshold, nms: Float
        let rawStride: Int
        let images: [Image]
    }

    static let detector = Result { try YoloDetector(cfg: DetectionFixtures.cfg, weights: DetectionFixtures.weights, names: DetectionFixtures.names) }

    func testDetectionsAndRawOutputsMatchTheReference() throws {
        let detector = try Self.detector.get()
        let data = try Data(contentsOf: DetectionFixtures.fixtures.appendingPathComponent("yolov3_tiny_reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        XCTAssertEqual(reference.images.count, 12)
        var matched = 0, worstRaw: Float = 0
        for image in reference.images {
            let rgb = try ImageDecoder().decode(contentsOf: DetectionFixtures.photos.appendingPathComponent(image.file))
            XCTAssertEqual([rgb.width, rgb.height], [image.width, image.height], image.file)
            for (threshold, expected) in [(reference.threshold, image.detections), (reference.lowThreshold, image.lowThresholdDetections)] {
                let got = try detector.detect([rgb], threshold: threshold, iouThreshold: reference.nms)[0]
                XCTAssertEqual(got.count, expected.count, "\(image.file) at \(threshold): \(got.map { "\($0.label) \($0.score)" })")
                var unused = Array(got.indices)
                for e in expected {
                    let box = BoundingBox(x: e.x, y: e.y, width: e.width, height: e.height)
                    guard let k = unused.firstIndex(where: { got[$0].classIndex == e.classIndex && got[$0].box.iou(box) >= 0.99
                                                             && abs(got[$0].score - e.score) <= 1e-3 }) else {
                        XCTFail("\(image.file) at \(threshold): no match for \(e.label) \(e.score) \(box)")
                        continue
                    }
                    XCTAssertEqual(got[unused[k]].label, e.label)
                    unused.remove(at: k)
                    matched += 1
                }
            }
            // Raw head outputs (NHWC, heads concatenated), every rawStride-th value.
            let (input, _) = try detector.prepare([rgb])
            let heads = try withNoGrad { try detector.network.forward(input) }
            let flat = heads.flatMap(\.values)
            let npy = try WeightFile.open(DetectionFixtures.fixtures.appendingPathComponent("raw/\(image.file.split(separator: ".")[0]).npy"))
            let expected = try npy.tensors[0].floats()
            let sampled = stride(from: 0, to: flat.count, by: reference.rawStride).map { flat[$0] }
            XCTAssertEqual(sampled.count, expected.count, image.file)
            for (a, b) in zip(sampled, expected) { worstRaw = max(worstRaw, abs(a - b) / max(1, abs(b))) }
        }
        XCTAssertEqual(matched, 38)
        // Float32 oneDNN against a float64 reference.
        XCTAssertLessThan(worstRaw, 1e-4, "largest raw difference (relative above 1)")
        print("yolo parity: \(matched) detections matched, largest raw difference \(worstRaw)")
    }

    /// A batch gives each image the result it gets alone (letterbox slots, batch-norm folding).
    func testBatchEqualsSingleImages() throws {
        let detector = try Self.detector.get()
        let images = try ["camera.png", "coffee.png", "motorcycle_left.png"].map {
            try ImageDecoder().decode(contentsOf: DetectionFixtures.photos.appendingPathComponent($0))
        }
        let batch = try detector.detect(images, threshold: 0.1)
        for (i, image) in images.enumerated() {
            let single = try detector.detect([image], threshold: 0.1)[0]
            XCTAssertEqual(batch[i].count, single.count)
            for (a, b) in zip(batch[i], single) {
                XCTAssertEqual(a.classIndex, b.classIndex)
                XCTAssertEqual(a.score, b.score, accuracy: 1e-5)
                XCTAssertGreaterThan(a.box.iou(b.box), 0.9999)
            }
        }
    }
}
