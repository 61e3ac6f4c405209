import XCTest
import GraftModels
@testable import GraftTransfer

/// An epoch replaces LP-FT's probe only when it beats the probe's validation accuracy by one standard error.
final class ProbeMarginTests: XCTestCase {
    func testAnEpochMustBeatTheProbeByOneStandardError() throws {
        let network = try CNNBackbone(EfficientNetLite(try .lite(0)), spec: .efficientNetLite0).network(outputs: 2, unfreeze: 0, seed: 0)
        let trainer = Trainer(network: network, options: TrainingOptions())
        var state = TrainingState(jobKey: "margin")
        XCTAssertEqual(trainer.startMargin(state, validation: 100), 0)   // no warm start: any gain counts
        // Issue 21's table, Fashion-MNIST 10 per class, seed 2: probe 0.74 on 100 images, an epoch 0.78 (test -6.2 points).
        state.startValidationScore = 0.74
        let margin = trainer.startMargin(state, validation: 100)
        XCTAssertEqual(margin, (0.74 * 0.26 / 100).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(margin, 0.0439, accuracy: 1e-4)
        XCTAssertLessThan(0.78, 0.74 + margin)
        // Session 7's 300 per class: probe 0.8533 on 600 images, best epoch 0.8717 (test +1.15 over the probe) still wins.
        state.startValidationScore = 0.8533
        XCTAssertGreaterThan(0.8717, 0.8533 + trainer.startMargin(state, validation: 600))
        // R^2 and F1 have no such error bar here: they compare plainly.
        let regression = Trainer(network: network, task: RegressionTask(targets: ["y"]), options: TrainingOptions())
        XCTAssertEqual(regression.startMargin(state, validation: 100), 0)
    }
}
