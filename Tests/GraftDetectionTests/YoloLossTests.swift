import Foundation
import GraftData
import GraftModels
import GraftTensor
@testable import GraftTransfer
import GraftWeights
import XCTest

/// The YOLO loss: its assignment, its gradient (central differences) and a fine-tuning step.
final class YoloLossTests: XCTestCase {
    static func head() throws -> DarknetLayer.YoloHead {
        let config = try DarknetConfig.parse("[net]\nwidth=64\nheight=64\nchannels=14\n[yolo]\nmask=0,1\nanchors=10,14, 40,30\nclasses=2\nnum=2")
        guard case let .yolo(head) = config.layers[0].kind else { throw CocoaError(.coderInvalidValue) }
        return head
    }

    static let targets = [[DetectionTarget(classIndex: 1, centerX: 20, centerY: 40, width: 12, height: 15),
                           DetectionTarget(classIndex: 0, centerX: 50, centerY: 12, width: 35, height: 28)]]

    func testAssignmentIsDarknets() throws {
        let loss = YoloLoss(heads: [try Self.head()], inputWidth: 64, inputHeight: 64)
        // grid 2x2 over 64 pixels: (20, 40) is row 1, col 0, best anchor 10x14; (50, 12) row 0, col 1, anchor 40x30.
        let slots = loss.assignments(Self.targets[0], grids: [(2, 2)]).map { [$0.0.row, $0.0.col, $0.0.anchor] }
        XCTAssertEqual(slots, [[1, 0, 0], [0, 1, 1]])
    }

    func testGradientMatchesCentralDifferences() throws {
        var loss = YoloLoss(heads: [try Self.head()], inputWidth: 64, inputHeight: 64)
        loss.ignoreThreshold = 2  // the ignore mask is a step function: keep it out of the finite differences
        var rng = SplitMix(seed: 5)
        let values = (0..<(2 * 2 * 14)).map { _ in Float(rng.next(2000)) / 1000 - 1 }
        let raw = try Tensor(shape: [1, 2, 2, 14], values: values, requiresGrad: true)
        let parts = try loss([raw], targets: Self.targets)
        XCTAssertGreaterThan(parts.box, 0); XCTAssertGreaterThan(parts.objectness, 0); XCTAssertGreaterThan(parts.classes, 0)
        XCTAssertEqual(parts.total.scalarValue, parts.box + parts.objectness + parts.classes, accuracy: 1e-4)
        try parts.total.backward()
        let grad = try XCTUnwrap(raw.grad).values
        let eps: Float = 1e-2
        for i in values.indices {
            var up = values, down = values
            up[i] += eps; down[i] -= eps
            let lu = try withNoGrad { try loss([Tensor(shape: [1, 2, 2, 14], values: up)], targets: Self.targets).total.scalarValue }
            let ld = try withNoGrad { try loss([Tensor(shape: [1, 2, 2, 14], values: down)], targets: Self.targets).total.scalarValue }
            let numeric = (lu - ld) / (2 * eps)
            XCTAssertEqual(grad[i], numeric, accuracy: 2e-3 + 0.02 * abs(numeric), "d loss / d raw[\(i)]")
        }
    }

    /// Heads-only fine-tuning of YOLOv3-tiny for one new class: the loss falls and the trunk does not move.
    func testFineTuningStepLowersTheLossAndKeepsTheTrunk() throws {
        let pretrained = try DarknetNetwork(cfg: DetectionFixtures.cfg, weights: DetectionFixtures.weights)
        let tuning = try DetectionFineTuning(pretrained: pretrained, classes: 1, unfreeze: 0, learningRate: 1e-3, seed: 1)
        XCTAssertEqual(tuning.trainable, [15, 22])
        let detector = try YoloDetector(network: tuning.network, labels: ["cup"])
        let image = try ImageDecoder().decode(contentsOf: DetectionFixtures.photos.appendingPathComponent("coffee.png"))
        let (input, geometry) = try detector.prepare([image])
        // The cup of the parity fixture, in input pixels: 600x400 letterboxed to 416x277 at y offset 69.
        let scale = Float(geometry[0].resizedWidth) / Float(image.width)
        let target = DetectionTarget(classIndex: 0, centerX: (244 + 90) * scale, centerY: (5 + 51) * scale + Float(geometry[0].offsetY),
                                     width: 180 * scale, height: 102 * scale)
        let trunkBefore = tuning.network.units[13]!.conv.weight.values
        let first = try tuning.step(input, targets: [[target]])
        var last = first
        for _ in 0..<4 { last = try tuning.step(input, targets: [[target]]) }
        XCTAssertLessThan(last.total.scalarValue, first.total.scalarValue)
        XCTAssertEqual(tuning.network.units[13]!.conv.weight.values, trunkBefore)
    }
}
