import Foundation
import XCTest
@testable import GraftWeights

/// Tests/Fixtures/weights, written by fixtures/weights/make_fixtures.py.
enum WeightFixtures {
    static let dir = FixturePaths.fixtures.appendingPathComponent("weights")
    static func url(_ name: String) -> URL { dir.appendingPathComponent(name) }
    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: url(name))) }

    /// expected.json: exact values of every tensor of the tiny files.
    nonisolated(unsafe) static let expected: [String: Any] = {
        let data = (try? Data(contentsOf: url("expected.json"))) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]) ?? [:]
    }()

    /// reference.json: per-tensor statistics of the real package files.
    nonisolated(unsafe) static let reference: [String: Any] = {
        let data = (try? Data(contentsOf: url("reference.json"))) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]) ?? [:]
    }()

    static func package(_ path: String) -> URL { FixturePaths.packages.appendingPathComponent(path) }
}

/// Compares every tensor of `file` with expected.json's entry `key`: names in order, dtype,
/// shape and exact values (the reference holds the values in float64, exact for every dtype used).
func assertMatchesExpected(_ file: WeightFile, _ key: String, line: UInt = #line) throws {
    let entry = try XCTUnwrap(WeightFixtures.expected[key] as? [String: Any], "no expected entry \(key)", line: line)
    let names = try XCTUnwrap(entry["names"] as? [String], line: line)
    XCTAssertEqual(file.names, names, "\(key): names in file order", line: line)
    let tensors = try XCTUnwrap(entry["tensors"] as? [String: [String: Any]], line: line)
    for name in names {
        let e = try XCTUnwrap(tensors[name], line: line)
        let t = try XCTUnwrap(file[name], "\(key): missing \(name)", line: line)
        XCTAssertEqual(t.dtype.rawValue, e["dtype"] as? String, "\(key) \(name): dtype", line: line)
        XCTAssertEqual(t.shape, (e["shape"] as? [NSNumber])?.map(\.intValue), "\(key) \(name): shape", line: line)
        let values = try XCTUnwrap(e["hex"] as? [String], line: line).map { Double($0) ?? .nan }
        XCTAssertEqual(try t.floats(), values.map { Float($0) }, "\(key) \(name): values", line: line)
        if !t.dtype.isFloatingPoint {
            XCTAssertEqual(try t.int64s(), values.map { Int64($0) }, "\(key) \(name): integer values", line: line)
        }
        if t.dtype == .f64 {
            let doubles = t.bytes.withUnsafeBytes { raw in (0..<t.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
            XCTAssertEqual(doubles, values, "\(key) \(name): float64 values", line: line)
        }
    }
    if let metadata = entry["metadata"] as? [String: String] {
        for (k, v) in metadata { XCTAssertEqual(file.metadata[k], v, "\(key): metadata \(k)", line: line) }
    }
}

/// Compares a real file with reference.json's entry `key`: count, names, dtypes, shapes, and
/// per-tensor plus overall sum and sum of squares in float64.
func assertMatchesReference(_ file: WeightFile, _ key: String, line: UInt = #line) throws {
    let ref = try XCTUnwrap(WeightFixtures.reference[key] as? [String: Any], "no reference \(key)", line: line)
    let tensors = try XCTUnwrap(ref["tensors"] as? [[String: Any]], line: line)
    XCTAssertEqual(file.tensors.count, (ref["count"] as? NSNumber)?.intValue, "\(key): tensor count", line: line)
    XCTAssertEqual(file.names, tensors.map { $0["name"] as? String ?? "" }, "\(key): names", line: line)
    func close(_ a: Double, _ b: Double, _ scale: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b), scale) }
    var total = 0.0, totalSq = 0.0
    for (t, r) in zip(file.tensors, tensors) {
        XCTAssertEqual(t.dtype.rawValue, r["dtype"] as? String, "\(key) \(t.name): dtype", line: line)
        XCTAssertEqual(t.shape, (r["shape"] as? [NSNumber])?.map(\.intValue), "\(key) \(t.name): shape", line: line)
        var sum = 0.0, sumsq = 0.0
        let values = try t.floats()
        for v in values { let d = Double(v); sum += d; sumsq += d * d }
        let head = (r["head"] as? [String] ?? []).map { Double($0) ?? .nan }
        XCTAssertEqual(values.prefix(head.count).map(Double.init), head, "\(key) \(t.name): first values in C order", line: line)
        let rs = (r["sum"] as? NSNumber)?.doubleValue ?? .nan, rq = (r["sumsq"] as? NSNumber)?.doubleValue ?? .nan
        XCTAssertTrue(close(sum, rs, (Double(t.elementCount) * rq).squareRoot()), "\(key) \(t.name): sum \(sum) vs \(rs)", line: line)
        XCTAssertTrue(close(sumsq, rq, rq), "\(key) \(t.name): sum of squares \(sumsq) vs \(rq)", line: line)
        total += sum; totalSq += sumsq
    }
    let rt = (ref["total_sum"] as? NSNumber)?.doubleValue ?? .nan, rtq = (ref["total_sumsq"] as? NSNumber)?.doubleValue ?? .nan
    XCTAssertTrue(close(total, rt, (Double(file.tensors.reduce(0) { $0 + $1.elementCount }) * rtq).squareRoot()), "\(key): total sum \(total) vs \(rt)", line: line)
    XCTAssertTrue(close(totalSq, rtq, rtq), "\(key): total sum of squares \(totalSq) vs \(rtq)", line: line)
}

/// Asserts that `body` throws a `WeightsError` and returns it.
@discardableResult
func assertWeightsError<T>(_ what: String, line: UInt = #line, _ body: () throws -> T) -> WeightsError? {
    do {
        _ = try body()
        XCTFail("\(what): expected a WeightsError", line: line)
    } catch let e as WeightsError {
        XCTAssertFalse(e.description.isEmpty, line: line)
        return e
    } catch {
        XCTFail("\(what): threw \(error), not a WeightsError", line: line)
    }
    return nil
}
