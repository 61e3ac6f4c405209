import Foundation
import XCTest
@testable import GraftData

final class DatasetTests: XCTestCase {
    // MARK: CSV

    func testCSVQuoting() throws {
        let text = "\u{FEFF}text,label\r\n"
            + "plain,a\r\n"
            + "\"with, comma\",b\n"
            + "\"say \"\"hi\"\"\",a\n"
            + "\"two\nlines\",b\n"
            + "\n"
            + "\"\",a\n"
            + "last,\"c\""      // no final newline
        let records = try CSVReader.parse(Array(text.utf8))
        XCTAssertEqual(records.map(\.fields), [
            ["text", "label"], ["plain", "a"], ["with, comma", "b"], ["say \"hi\"", "a"],
            ["two\nlines", "b"], ["", "a"], ["last", "c"],
        ])
        XCTAssertEqual(records.map(\.line), [1, 2, 3, 4, 5, 8, 9])
        XCTAssertThrowsError(try CSVReader.parse(Array("a,b\n\"open,1\n2,3\n".utf8))) { error in
            XCTAssertEqual(error as? CSVReader.Failure, .malformed(line: 2, reason: "quoted field is never closed"))
        }
        XCTAssertThrowsError(try CSVReader.parse(Array("a,b\n\"x\"y,1\n".utf8))) { error in
            XCTAssertEqual(error as? CSVReader.Failure, .malformed(line: 2, reason: "text after the closing quote of a field"))
        }
    }

    func testTextTableCSVAndJSONL() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("reviews.csv")
        try "id,text,label\n1,\"good, really\",pos\n2,bad,neg\n3,\"fine\nfilm\",pos\n".write(to: csv, atomically: true, encoding: .utf8)
        let data = try TableDataset(csv: csv)
        XCTAssertEqual(data.kind, .text)
        XCTAssertEqual(data.classNames, ["neg", "pos"])
        XCTAssertEqual(data.labels, [1, 0, 1])
        XCTAssertEqual(try data.item(at: 2), .text("fine\nfilm"))
        XCTAssertEqual(data.sourceID(at: 1), "reviews.csv#1")

        let jsonl = dir.appendingPathComponent("digits.jsonl")
        try "{\"text\": \"ten\", \"label\": 10}\n\n{\"text\": \"two\", \"label\": 2}\r\n{\"text\": \"nine\", \"label\": 9}\n"
            .write(to: jsonl, atomically: true, encoding: .utf8)
        let numbers = try TableDataset(jsonl: jsonl)
        XCTAssertEqual(numbers.classNames, ["2", "9", "10"], "integer labels sort numerically")
        XCTAssertEqual(numbers.labels, [2, 0, 1])

        let broken = dir.appendingPathComponent("broken.jsonl")
        try "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": oops}\n".write(to: broken, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TableDataset(jsonl: broken)) { error in
            XCTAssertEqual(error as? DatasetError, .malformedRecord(path: broken.path, line: 2, reason: "not a JSON object"))
        }
        let ragged = dir.appendingPathComponent("ragged.csv")
        try "text,label\na,b\nc\n".write(to: ragged, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TableDataset(csv: ragged)) { error in
            XCTAssertEqual(error as? DatasetError, .malformedRecord(path: ragged.path, line: 3, reason: "1 fields, the header has 2"))
        }
        XCTAssertThrowsError(try TableDataset(csv: csv, labelColumn: "category")) { error in
            XCTAssertEqual(error as? DatasetError, .missingColumn(path: csv.path, column: "category", available: ["id", "text", "label"]))
        }
        XCTAssertThrowsError(try TableDataset(csv: csv, classNames: ["pos"])) { error in
            XCTAssertEqual(error as? DatasetError, .unknownLabel(path: csv.path, line: 3, label: "neg"))
        }
    }

    /// Invalid UTF-8 used to become U+FFFD silently; now the file and line are reported.
    func testInvalidUTF8InCSVAndJSONLNamesTheLine() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("latin1.csv")
        // Line 3 is a quoted field spanning lines 3-4 whose second line holds Latin-1 0xE9.
        try Data(Array("text,label\nok,pos\n\"caf\nbad ".utf8) + [0xE9] + Array("t\",neg\n".utf8)).write(to: csv)
        XCTAssertThrowsError(try TableDataset(csv: csv)) { error in
            XCTAssertEqual(error as? DatasetError, .malformedRecord(path: csv.path, line: 4, reason: "invalid UTF-8 (byte 0xE9) in field 1"))
            XCTAssertEqual("\(error)".hasPrefix("\(csv.path):4:"), true)
        }
        let jsonl = dir.appendingPathComponent("latin1.jsonl")
        try Data(Array("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"caf".utf8) + [0xE9] + Array("\", \"label\": \"y\"}\n".utf8)).write(to: jsonl)
        XCTAssertThrowsError(try TableDataset(jsonl: jsonl)) { error in
            XCTAssertEqual(error as? DatasetError, .malformedRecord(path: jsonl.path, line: 2, reason: "invalid UTF-8 (byte 0xE9) at column 14"))
        }
    }

    func testImagePathTableResolvesRelativePaths() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let skimage = FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: skimage.appendingPathComponent("coins.png"), to: dir.appendingPathComponent("img/coins.png"))
        let table = dir.appendingPathComponent("list.csv")
        try "path,label\nimg/coins.png,money\n\(skimage.appendingPathComponent("chelsea.png").path),cat\n"
            .write(to: table, atomically: true, encoding: .utf8)
        let data = try TableDataset(csv: table)
        XCTAssertEqual(data.kind, .image)
        XCTAssertEqual(data.classNames, ["cat", "money"])
        guard case .image(let coins) = try data.item(at: 0), case .image(let cat) = try data.item(at: 1) else {
            return XCTFail("expected images")
        }
        XCTAssertEqual(coins.width, 384)
        XCTAssertEqual(coins[10, 10].r, coins[10, 10].b, "grey expanded to RGB")
        XCTAssertEqual(cat.width, 451)
        XCTAssertEqual(data.sourceID(at: 0), "img/coins.png")
    }

    // MARK: Image folders

    func testImageFolder() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let skimage = FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data")
        let fm = FileManager.default
        for (folder, files) in [("dog", ["astronaut.png"]), ("cat", ["chelsea.png", "coffee.png"]), ("Zebra", ["camera.png"])] {
            try fm.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
            for f in files { try fm.copyItem(at: skimage.appendingPathComponent(f), to: dir.appendingPathComponent("\(folder)/\(f)")) }
        }
        try fm.createDirectory(at: dir.appendingPathComponent("cat/nested"), withIntermediateDirectories: true)
        try fm.copyItem(at: skimage.appendingPathComponent("rocket.jpg"), to: dir.appendingPathComponent("cat/nested/a.jpg"))
        try Data("x".utf8).write(to: dir.appendingPathComponent("cat/.DS_Store"))
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("dog/readme.txt"))
        try Data("loose file at the root".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        // A link cycle (cat/loop -> cat) is followed once, not forever.
        try fm.createSymbolicLink(at: dir.appendingPathComponent("cat/loop"), withDestinationURL: dir.appendingPathComponent("cat"))

        let data = try ImageFolderDataset(root: dir)
        XCTAssertEqual(data.classNames, ["Zebra", "cat", "dog"], "code-point order, like Python's sorted()")
        XCTAssertEqual(data.relativePaths, ["Zebra/camera.png", "cat/chelsea.png", "cat/coffee.png", "cat/nested/a.jpg",
                                            "dog/astronaut.png", "dog/readme.txt"])
        XCTAssertEqual(data.labels, [0, 1, 1, 1, 2, 2])
        XCTAssertEqual(data.classCounts, [1, 3, 2])
        XCTAssertThrowsError(try data.item(at: 5)) { error in
            XCTAssertEqual((error as? ImageError)?.file, dir.appendingPathComponent("dog/readme.txt").path)
        }

        try fm.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try ImageFolderDataset(root: dir)) { error in
            XCTAssertEqual(error as? DatasetError, .emptyClass(name: "empty", path: dir.appendingPathComponent("empty").path))
            XCTAssert("\(error)".contains("'empty'"))
        }
        let flat = try makeTemporaryDirectory("flat")
        defer { try? fm.removeItem(at: flat) }
        XCTAssertThrowsError(try ImageFolderDataset(root: flat)) { error in
            XCTAssertEqual(error as? DatasetError, .noClasses(root: flat.path))
        }
        XCTAssertThrowsError(try ImageFolderDataset(root: dir.appendingPathComponent("notes.txt"))) { error in
            XCTAssertEqual(error as? DatasetError, .notADirectory(path: dir.appendingPathComponent("notes.txt").path))
        }
    }

    // MARK: Built-in data

    func testFashionMNISTFromGzippedIDX() throws {
        let ref = Reference.shared.datasets
        let test = try BuiltinDatasets.fashionMNIST(.test)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(ref.fashion_test.count, 10_000)
        XCTAssertEqual(Array(test.labels.prefix(20)), ref.fashion_test.firstLabels)
        XCTAssertEqual(test.width, 28)
        XCTAssertEqual(test.classCounts, [Int](repeating: 1000, count: 10))
        XCTAssertEqual(test.classNames[9], "Ankle boot")
        let first = test.image(at: 0)
        XCTAssertEqual(first.width, 28)
        var sum = 0
        for i in 0..<(28 * 28) { sum += Int(first.pixels[3 * i]); XCTAssertEqual(first.pixels[3 * i], first.pixels[3 * i + 2]) }
        XCTAssertEqual(sum, ref.fashion_test.firstImageSum)
        XCTAssertEqual(Array(test.pixels[392..<408]), ref.fashion_test.firstImageMiddle)
        XCTAssertEqual(test.sourceID(at: 17), "t10k-images-idx3-ubyte.gz#17")

        let train = try BuiltinDatasets.fashionMNIST(.train)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(Array(train.labels.prefix(20)), ref.fashion_train.firstLabels)
        XCTAssertEqual(train.pixels.prefix(784).reduce(0) { $0 + Int($1) }, ref.fashion_train.firstImageSum)
    }

    func testIDXErrors() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images.idx"), labels = dir.appendingPathComponent("labels.idx")
        // 2 images of 2x3, but one byte short.
        try Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3] + [UInt8](repeating: 7, count: 11)).write(to: images)
        try Data([0, 0, 8, 1, 0, 0, 0, 2, 1, 0]).write(to: labels)
        XCTAssertThrowsError(try InMemoryImageDataset.idx(images: images, labels: labels)) { error in
            XCTAssertEqual(error as? DatasetError,
                           .malformedIDX(path: images.path, reason: "dimensions [2, 2, 3] need 12 bytes of data, found 11"))
        }
        try Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3] + [UInt8](repeating: 7, count: 12)).write(to: images)
        let ok = try InMemoryImageDataset.idx(images: images, labels: labels)
        XCTAssertEqual(ok.width, 3)
        XCTAssertEqual(ok.height, 2)
        XCTAssertEqual(ok.labels, [1, 0])
        try Data([0x1F, 0x8B, 8, 0, 1, 2, 3]).write(to: labels)
        XCTAssertThrowsError(try InMemoryImageDataset.idx(images: images, labels: labels)) { error in
            guard case .decompression(let path, _)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, labels.path)
        }
    }

    func testDigitsCSVGz() throws {
        let ref = Reference.shared.datasets.digits
        let digits = try BuiltinDatasets.digits()
        XCTAssertEqual(digits.count, ref.count)
        XCTAssertEqual(Array(digits.labels.prefix(20)), ref.firstLabels)
        XCTAssertEqual(digits.classCounts, ref.perClass)
        let expected = ref.firstPixels.map { UInt8((Double($0) * 255 / 16).rounded()) }
        XCTAssertEqual(Array(digits.pixels.prefix(64)), expected)
    }

    func testRottenTomatoesFromBzip2() throws {
        let ref = Reference.shared.datasets.rottenTomatoes
        let reviews = try BuiltinDatasets.rottenTomatoes()
        XCTAssertEqual(reviews.count, ref.freshRotten)
        XCTAssertEqual(reviews.classNames, ["fresh", "rotten"])
        XCTAssertEqual(reviews.classCounts[0], ref.fresh)
        XCTAssertEqual(try reviews.item(at: 0), .text(ref.firstText))
        XCTAssertEqual(reviews.classNames[reviews.label(at: 0)], ref.firstLabel)
        XCTAssertEqual(try reviews.item(at: reviews.count - 1), .text(ref.lastText))
        XCTAssertEqual(reviews.classNames[reviews.label(at: reviews.count - 1)], ref.lastLabel)
    }
}
