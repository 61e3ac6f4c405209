import Foundation
import GraftTensor
import XCTest

/// A PyTorch reference case from Tests/Fixtures/ops (see fixtures/ops/make_fixtures.py).
struct OpFixture {
    let tensors: [String: Tensor]
    let meta: [String: Double]

    init(_ name: String) throws {
        let url = FixturePaths.fixtures.appendingPathComponent("ops/\(name).json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var tensors: [String: Tensor] = [:]
        var meta: [String: Double] = [:]
        for (k, v) in json {
            if k == "meta" {
                for (mk, mv) in v as! [String: Any] { meta[mk] = (mv as? NSNumber)?.doubleValue }
            } else {
                let d = v as! [String: Any]
                let shape = (d["shape"] as! [NSNumber]).map(\.intValue)
                let data = (d["data"] as! [NSNumber]).map(\.floatValue)
                tensors[k] = try Tensor(shape: shape, values: data)
            }
        }
        self.tensors = tensors
        self.meta = meta
    }

    subscript(_ k: String) -> Tensor { tensors[k]! }
    func int(_ k: String) -> Int { Int(meta[k]!) }
    func param(_ k: String) throws -> Tensor { let t = try tensors[k]!.copy(); t.requiresGrad = true; return t }
}

/// max |a - b| <= tol * max(1, max |b|): error relative to the output scale.
func assertClose(_ a: Tensor, _ b: Tensor, tol: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
    guard a.shape == b.shape else { return }
    var maxDiff: Float = 0, scale: Float = 1
    for i in 0..<a.count {
        maxDiff = max(maxDiff, abs(a.pointer[i] - b.pointer[i]))
        scale = max(scale, abs(b.pointer[i]))
    }
    XCTAssertLessThanOrEqual(maxDiff, tol * scale, "\(what): max abs diff \(maxDiff) (scale \(scale))", file: file, line: line)
}
