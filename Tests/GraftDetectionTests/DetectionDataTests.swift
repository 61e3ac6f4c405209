import Foundation
import GraftData
import XCTest

/// YOLO txt and COCO JSON readers: values, and a typed error naming file and line (or entry) for bad labels.
final class DetectionDataTests: XCTestCase {
    func write(_ text: String, _ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func testYoloFolder() throws {
        let root = try DetectionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try write("face\ncup\n", root.appendingPathComponent("classes.txt"))
        for name in ["a.png", "b.jpg", "c.png"] { try write("x", root.appendingPathComponent("images/\(name)")) }
        try write("1 0.5 0.5 0.2 0.4\n\n# comment\n0 0.1 0.1 0.2 0.2\n", root.appendingPathComponent("labels/a.txt"))
        try write("", root.appendingPathComponent("labels/b.txt"))
        let data = try DetectionDataset.yolo(root)
        XCTAssertEqual(data.classNames, ["face", "cup"])
        XCTAssertEqual(data.items.map(\.image.lastPathComponent), ["a.png", "b.jpg", "c.png"])
        let expected = [LabeledBox(classIndex: 1, box: BoundingBox(x: 0.4, y: 0.3, width: 0.2, height: 0.4)),
                        LabeledBox(classIndex: 0, box: BoundingBox(x: 0, y: 0, width: 0.2, height: 0.2))]
        XCTAssertEqual(data.items[0].objects.map(\.classIndex), expected.map(\.classIndex))
        for (a, b) in zip(data.items[0].objects, expected) {
            XCTAssertEqual([a.box.x, a.box.y, a.box.width, a.box.height], [b.box.x, b.box.y, b.box.width, b.box.height], accuracy: 1e-6)
        }
        XCTAssertEqual(data.items[1].objects, [])
        XCTAssertEqual(data.items[2].objects, [])
    }

    func testBadYoloLinesNameTheLine() throws {
        let dir = try DetectionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [
            ("0 0.5 0.5 0.2", ":1: expected 'class cx cy w h', found 4 fields"),
            ("\n\nx 0.5 0.5 0.2 0.2", ":3: class 'x' is not an integer"),
            ("2 0.5 0.5 0.2 0.2", ":1: class 2 is not one of the 2 classes"),
            ("0 0.5 nan 0.2 0.2", "finite numbers"),
            ("0 0.5 0.5 0 0.2", "must be positive"),
            ("0 0.95 0.5 0.2 0.2", "outside the image"),
        ]
        for (text, expected) in cases {
            let url = dir.appendingPathComponent("bad.txt")
            try write(text, url)
            XCTAssertThrowsError(try DetectionDataset.yoloLabels(url, classes: 2)) { e in
                XCTAssertTrue("\(e)".hasPrefix(url.path + ":"), "\(e)")
                XCTAssertTrue("\(e)".contains(expected), "\(text.debugDescription): \(e)")
            }
        }
    }

    func testCocoJSON() throws {
        let dir = try DetectionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("train.json")
        try write("""
            {"images": [{"id": 7, "file_name": "p.png", "width": 200, "height": 100}],
             "categories": [{"id": 3, "name": "cup"}, {"id": 1, "name": "face"}],
             "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [20, 10, 50, 40]},
                             {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 10, 10], "iscrowd": 1}]}
            """, json)
        let data = try DetectionDataset.coco(json)
        XCTAssertEqual(data.classNames, ["face", "cup"])
        XCTAssertEqual(data.items.first?.image, dir.appendingPathComponent("p.png"))
        XCTAssertEqual(data.items.first?.objects, [LabeledBox(classIndex: 1, box: BoundingBox(x: 0.1, y: 0.1, width: 0.25, height: 0.4))])

        let bad: [(String, String)] = [
            (#""image_id": 8, "category_id": 3, "bbox": [1, 1, 5, 5]"#, "annotations[0] (id 9): unknown image_id 8"),
            (#""image_id": 7, "category_id": 2, "bbox": [1, 1, 5, 5]"#, "unknown category_id 2"),
            (#""image_id": 7, "category_id": 3, "bbox": [190, 1, 20, 5]"#, "outside the 200x100 image"),
            (#""image_id": 7, "category_id": 3, "bbox": [1, 1, 5]"#, "bbox must be 4 finite numbers"),
        ]
        for (annotation, expected) in bad {
            try write("""
                {"images": [{"id": 7, "file_name": "p.png", "width": 200, "height": 100}],
                 "categories": [{"id": 3, "name": "cup"}], "annotations": [{"id": 9, \(annotation)}]}
                """, json)
            XCTAssertThrowsError(try DetectionDataset.coco(json)) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(e)")
                XCTAssertTrue("\(e)".hasPrefix(json.path), "\(e)")
            }
        }
        try write("{\"images\": 3}", json)
        XCTAssertThrowsError(try DetectionDataset.coco(json)) { XCTAssertTrue($0 is DetectionDataError) }
    }
}
