import Foundation
import XCTest
import GraftModels
import GraftTensor
import GraftWeights

/// The onnx wheel's backend test data (installed by `make setup` into GRAFT_HOME/packages/onnx), run
/// through OnnxModel: a suite no one here wrote. Every case either matches the expected outputs
/// (numpy's allclose with the runner's tolerances) or is refused as an unsupported operator or
/// operator variant, named; any other outcome fails the test. Pass rates: docs/ONNX.md.
final class OnnxBackendConformanceTests: XCTestCase {
    static let data = FixturePaths.packages.appendingPathComponent("onnx/onnx/backend/test/data")

    enum Outcome: Equatable { case pass, unsupportedOperator(String), unsupportedVariant(String), failure(String) }

    struct Tally: CustomStringConvertible {
        var results: [(String, Outcome)] = []
        var passed: Int { results.filter { $0.1 == .pass }.count }
        var failures: [(String, Outcome)] { results.filter { if case .failure = $0.1 { return true }; return false } }
        var description: String {
            let unsupported = results.compactMap { r -> String? in
                switch r.1 { case let .unsupportedOperator(w), let .unsupportedVariant(w): "\(r.0): \(w)"; default: nil }
            }
            return "\(passed)/\(results.count) pass\n" + unsupported.map { "  unsupported: \($0)" }.joined(separator: "\n")
        }
    }

    struct MissingData: Error, CustomStringConvertible { let description: String }
    func requireData(_ dir: URL) throws {
        guard FileManager.default.fileExists(atPath: dir.path) else {
            throw MissingData(description: "onnx backend data missing at \(dir.path): run `make setup`")
        }
    }

    func readTensor(_ url: URL) throws -> OnnxTensorData {
        try OnnxTensorData(serializedBytes: try Data(contentsOf: url), file: url.lastPathComponent)
    }

    /// |a - b| <= atol + rtol |b| elementwise, shapes equal.
    func allClose(_ got: OnnxTensorData, _ want: OnnxTensorData, rtol: Float, atol: Float) -> String? {
        guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
        let g = got.floats, w = want.floats
        var worst: (Int, Float) = (-1, 0)
        for i in 0..<w.count {
            let excess = Swift.abs(g[i] - w[i]) - (atol + rtol * Swift.abs(w[i]))
            if excess > 0 || g[i].isNaN != w[i].isNaN, excess > worst.1 || worst.0 < 0 { worst = (i, excess) }
        }
        return worst.0 < 0 ? nil : "element \(worst.0): \(g[worst.0]) vs \(w[worst.0])"
    }

    func outcome(_ error: Error) -> Outcome {
        switch error {
        case let OnnxError.unsupportedOperators(_, ops): return .unsupportedOperator(ops.keys.sorted().joined(separator: ", "))
        case let OnnxError.unsupportedVariant(_, node, op, what): return .unsupportedVariant("\(op) (\(node)): \(what)")
        default: return .failure("\(error)")
        }
    }

    /// One model directory with test_data_set_N/{input,output}_K.pb.
    func runCase(_ dir: URL, rtol: Float, atol: Float) -> Outcome {
        do {
            let model = try OnnxModel(contentsOf: dir.appendingPathComponent("model.onnx"))
            let sets = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("test_data_set") }.sorted()
            for set in sets {
                let s = dir.appendingPathComponent(set)
                var feeds: [String: OnnxTensorData] = [:]
                for (k, input) in model.graph.inputs.enumerated() {
                    feeds[input.name] = try readTensor(s.appendingPathComponent("input_\(k).pb"))
                }
                let out = try model.run(feeds)
                for (k, name) in model.outputNames.enumerated() {
                    let want = try readTensor(s.appendingPathComponent("output_\(k).pb"))
                    if let mismatch = allClose(out[name]!, want, rtol: rtol, atol: atol) { return .failure("\(set) output \(k): \(mismatch)") }
                }
            }
            return .pass
        } catch { return outcome(error) }
    }

    func runDirectory(_ name: String) throws -> Tally {
        let dir = Self.data.appendingPathComponent(name)
        try requireData(dir)
        var tally = Tally()
        for c in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            tally.results.append((c, runCase(dir.appendingPathComponent(c), rtol: 1e-3, atol: 1e-7)))
        }
        print("onnx backend \(name): \(tally)")
        return tally
    }

    func assertNoUnexplainedFailures(_ t: Tally, _ dir: String) {
        for (name, o) in t.failures { XCTFail("\(dir)/\(name): \(o)") }
    }

    /// The nine CNNs of `light/`: inputs as onnx's runner makes them (arange(n) / n in the declared
    /// shape, symbolic dims as 1), expected outputs from the `_output_0.pb` beside each model.
    func testLightModelsAllPass() throws {
        let dir = Self.data.appendingPathComponent("light")
        try requireData(dir)
        let models = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".onnx") }.sorted()
        XCTAssertEqual(models.count, 9)
        var tally = Tally()
        for m in models {
            let url = dir.appendingPathComponent(m)
            let o: Outcome
            do {
                let model = try OnnxModel(contentsOf: url)
                var feeds: [String: OnnxTensorData] = [:]
                for input in model.graph.inputs {
                    let shape = (input.dims ?? []).map { $0 ?? 1 }
                    let n = shape.reduce(1, *)
                    feeds[input.name] = OnnxTensorData(name: input.name, shape: shape,
                                                       values: .float((0..<n).map { Float(Double($0) / Double(n)) }), dataType: 1)
                }
                let out = try model.run(feeds)
                let want = try readTensor(dir.appendingPathComponent(m.replacingOccurrences(of: ".onnx", with: "_output_0.pb")))
                o = allClose(out[model.outputNames[0]]!, want, rtol: m.contains("densenet") ? 2e-3 : 1e-3, atol: 1e-7).map { .failure($0) } ?? .pass
            } catch { o = outcome(error) }
            tally.results.append((m, o))
        }
        print("onnx backend light: \(tally)")
        for (name, o) in tally.results where o != .pass { XCTFail("light/\(name): \(o)") }
    }

    func testPytorchConverted() throws {
        let t = try runDirectory("pytorch-converted")
        assertNoUnexplainedFailures(t, "pytorch-converted")
        XCTAssertGreaterThanOrEqual(t.passed, 67)   // measured: docs/ONNX.md
    }

    func testPytorchOperator() throws {
        let t = try runDirectory("pytorch-operator")
        assertNoUnexplainedFailures(t, "pytorch-operator")
        XCTAssertEqual(t.passed, t.results.count)
    }

    func testSimple() throws {
        let t = try runDirectory("simple")
        assertNoUnexplainedFailures(t, "simple")
        XCTAssertGreaterThanOrEqual(t.passed, 7)
    }
}
