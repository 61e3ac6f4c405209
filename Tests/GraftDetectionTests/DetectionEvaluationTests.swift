import Foundation
import GraftHeads
import XCTest

/// mAP equals pycocotools' COCOeval on the same boxes (Tests/Fixtures/detection/make_map_fixture.py).
final class DetectionEvaluationTests: XCTestCase {
    struct Fixture: Decodable {
        struct Object: Decodable { let image_id: Int; let category_id: Int; let bbox: [Double]; let iscrowd: Int }
        struct Prediction: Decodable { let image_id: Int; let category_id: Int; let score: Double; let bbox: [Double] }
        struct PerClass: Decodable { let ap50: Double; let ap5095: Double }
        let groundTruth: [Object]
        let predictions: [Prediction]
        let map50: Double, map5095: Double
        let perClass: [String: PerClass]
    }

    static func box(_ b: [Double]) -> DetectionEvaluation.Box { .init(x: b[0], y: b[1], width: b[2], height: b[3]) }

    func testMatchesPycocotools() throws {
        let data = try Data(contentsOf: DetectionFixtures.fixtures.appendingPathComponent("map_reference.json"))
        let f = try JSONDecoder().decode(Fixture.self, from: data)
        let report = DetectionEvaluation.evaluate(
            objects: f.groundTruth.map { .init(image: $0.image_id, classID: $0.category_id, box: Self.box($0.bbox), isCrowd: $0.iscrowd == 1) },
            predictions: f.predictions.map { .init(image: $0.image_id, classID: $0.category_id, score: $0.score, box: Self.box($0.bbox)) })
        XCTAssertEqual(report.map50, f.map50, accuracy: 1e-9)
        XCTAssertEqual(report.map5095, f.map5095, accuracy: 1e-9)
        XCTAssertEqual(report.perClass.map(\.classID), [1, 2, 3])
        for c in report.perClass {
            let expected = try XCTUnwrap(f.perClass["\(c.classID)"])
            XCTAssertEqual(c.ap50, expected.ap50, accuracy: 1e-9, "class \(c.classID)")
            XCTAssertEqual(c.ap5095, expected.ap5095, accuracy: 1e-9, "class \(c.classID)")
        }
    }

    func testPerfectAndEmptyPredictions() {
        let objects = [DetectionEvaluation.Object(image: 1, classID: 0, box: .init(x: 0, y: 0, width: 10, height: 10))]
        let perfect = DetectionEvaluation.evaluate(objects: objects, predictions: [.init(image: 1, classID: 0, score: 0.9, box: objects[0].box)])
        XCTAssertEqual(perfect.map50, 1, accuracy: 1e-12)
        XCTAssertEqual(perfect.map5095, 1, accuracy: 1e-12)
        XCTAssertEqual(DetectionEvaluation.evaluate(objects: objects, predictions: []).map50, 0)
        // A class with no objects does not count; with no objects at all there is nothing to average.
        XCTAssertEqual(DetectionEvaluation.evaluate(objects: [], predictions: []).map50, -1)
    }
}
