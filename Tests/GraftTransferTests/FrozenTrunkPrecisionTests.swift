import GraftData
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// `TrainingOptions.frozenTrunkPrecision` is checked before any work: int8 needs a backbone that quantizes
/// dynamically (an image network's int8 runs from a calibration file), bf16 a CPU with bf16. (The text path, where it
/// runs, is tested in GraftModelsTests' `FrozenTrunkTests` and as `graft finetune --frozen-precision` in GraftCLITests.)
final class FrozenTrunkPrecisionTests: XCTestCase {
    func testPrecisionsAFrozenTrunkCannotRunAreTypedErrors() throws {
        let network = try Backbones.load(.efficientNetLite0).network(outputs: 2, unfreeze: 1, seed: 0)
        var options = TrainingOptions()
        options.frozenTrunkPrecision = .int8
        XCTAssertThrowsError(try Trainer(network: network, options: options).requireFrozenTrunkPrecision()) { error in
            XCTAssertTrue("\(error)".contains("quantizes dynamically"), "\(error)")
        }
        options.frozenTrunkPrecision = .fp32
        XCTAssertNoThrow(try Trainer(network: network, options: options).requireFrozenTrunkPrecision())
        options.frozenTrunkPrecision = .bf16
        if Precision.bf16.isSupported {
            XCTAssertNoThrow(try Trainer(network: network, options: options).requireFrozenTrunkPrecision())
        } else {
            XCTAssertThrowsError(try Trainer(network: network, options: options).requireFrozenTrunkPrecision()) { error in
                guard case KernelError.unsupportedPrecision = error else { return XCTFail("\(error)") }
            }
        }
        // Old options files (no such key) decode to nil: frozen layers train as before.
        let decoded = try JSONDecoder().decode(TrainingOptions.self, from: JSONEncoder().encode(TrainingOptions()))
        XCTAssertNil(decoded.frozenTrunkPrecision)
    }
}
