import Foundation
import GraftHeads
import XCTest

/// Data sets and scikit-learn references shared by the heads tests.
enum TestData {
    struct Split {
        var train: FeatureMatrix
        var trainLabels: [Int]
        var test: FeatureMatrix
        var testLabels: [Int]
    }

    /// scikit-learn's 8x8 digits (1,797 x 64), parsed from the installed package's CSV.
    static func digits() throws -> (x: FeatureMatrix, labels: [Int]) {
        let url = FixturePaths.packages.appendingPathComponent("scikit-learn/sklearn/datasets/data/digits.csv.gz")
        let text = String(decoding: try Gunzip.decompress([UInt8](try Data(contentsOf: url))), as: UTF8.self)
        var values = [Float](), labels = [Int]()
        for (number, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: ",")
            guard fields.count == 65, let label = Int(fields[64]) else {
                throw Gunzip.Failure(description: "digits.csv.gz line \(number + 1): expected 65 fields")
            }
            for f in fields[0..<64] {
                guard let v = Float(f) else { throw Gunzip.Failure(description: "digits.csv.gz line \(number + 1): bad value \(f)") }
                values.append(v)
            }
            labels.append(label)
        }
        return (try FeatureMatrix(rows: labels.count, columns: 64, values: values), labels)
    }

    /// The stratified split the fixture script made (its test indices).
    static func digitsSplit() throws -> Split {
        let (x, labels) = try digits()
        let testRows = try intArray(fixture("digits")["test_indices"])
        let testSet = Set(testRows)
        let trainRows = (0..<x.rows).filter { !testSet.contains($0) }
        return Split(train: try x.selectingRows(trainRows), trainLabels: trainRows.map { labels[$0] },
                     test: try x.selectingRows(testRows), testLabels: testRows.map { labels[$0] })
    }

    /// The synthetic imbalanced 4-class set; `binary` keeps classes 0 and 1 only.
    static func synthetic(binary: Bool = false) throws -> Split {
        let json = try fixture("synthetic")
        let rows = try (json["features"] as? [[Double]]).unwrap("features")
        let labels = try intArray(json["labels"])
        let trainRows = try (json["train_rows"] as? Int).unwrap("train_rows")
        let keep = (0..<labels.count).filter { !binary || labels[$0] <= 1 }
        let train = keep.filter { $0 < trainRows }, test = keep.filter { $0 >= trainRows }
        let x = try FeatureMatrix(rows.map { $0.map { Float($0) } })
        return Split(train: try x.selectingRows(train), trainLabels: train.map { labels[$0] },
                     test: try x.selectingRows(test), testLabels: test.map { labels[$0] })
    }

    static func fixture(_ name: String) throws -> [String: Any] {
        let url = FixturePaths.fixtures.appendingPathComponent("heads/\(name).json")
        return try (JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]).unwrap(name)
    }

    static func intArray(_ value: Any?) throws -> [Int] {
        try (value as? [Int]).unwrap("integer array")
    }

    static func accuracy(_ predicted: [Int], _ truth: [Int]) -> Double {
        Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
    }
}

struct MissingFixtureValue: Error, CustomStringConvertible {
    let description: String
}

extension Optional {
    func unwrap(_ what: String) throws -> Wrapped {
        guard let self else { throw MissingFixtureValue(description: "fixture value \(what) missing or mistyped") }
        return self
    }
}
