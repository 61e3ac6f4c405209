import Foundation
import GraftTensor
import XCTest

/// SetFit's pair loss against PyTorch: `MSELoss()(cosine_similarity(u, v), s)` on seeded float64 embeddings
/// (fixtures/tasks/make_contrastive_fixtures.py), value and both gradients, here in float32.
final class CosineSimilarityLossTests: XCTestCase {
    struct Case: Decodable {
        var shape: [Int]
        var u: [Double], v: [Double], similarity: [Double]
        var loss: Double
        var gradU: [Double], gradV: [Double]
    }
    struct Fixture: Decodable { var loss: Case }

    func testLossAndGradientsEqualPyTorch() throws {
        let c = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("tasks/contrastive.json"))).loss
        let u = try Tensor(shape: c.shape, values: c.u.map(Float.init), requiresGrad: true)
        let v = try Tensor(shape: c.shape, values: c.v.map(Float.init), requiresGrad: true)
        let s = try Tensor(shape: [c.shape[0]], values: c.similarity.map(Float.init))
        let loss = try Tensor.cosineSimilarityLoss(u, v, similarity: s)
        XCTAssertEqual(loss.shape, [])
        XCTAssertEqual(Double(loss.scalarValue), c.loss, accuracy: 1e-6)
        try loss.backward()
        for (name, got, want) in [("u", try XCTUnwrap(u.grad).values, c.gradU), ("v", try XCTUnwrap(v.grad).values, c.gradV)] {
            XCTAssertEqual(got.count, want.count)
            for (i, (g, w)) in zip(got, want).enumerated() { XCTAssertEqual(Double(g), w, accuracy: 1e-6, "gradient of \(name)[\(i)]") }
        }
    }

    func testIdenticalRowsScoreOneAndShapesAreChecked() throws {
        let u = try Tensor(shape: [2, 3], values: [1, 2, 3, -1, 0, 4])
        let same = try Tensor.cosineSimilarityLoss(u, u, similarity: Tensor(shape: [2], values: [1, 1]))
        XCTAssertEqual(same.scalarValue, 0, accuracy: 1e-7)
        let opposite = try Tensor.cosineSimilarityLoss(u, u * -1, similarity: Tensor(shape: [2], values: [0, 0]))
        XCTAssertEqual(opposite.scalarValue, 1, accuracy: 1e-6, "cosine -1 against 0 costs 1")
        XCTAssertThrowsError(try Tensor.cosineSimilarityLoss(u, Tensor(shape: [3, 2], values: Array(repeating: 1, count: 6)),
                                                            similarity: Tensor(shape: [2], values: [1, 0])))
        XCTAssertThrowsError(try Tensor.cosineSimilarityLoss(u, u, similarity: Tensor(shape: [3], values: [1, 0, 1])))
    }
}
