import GraftNN
import GraftTensor
@testable import GraftModels
import XCTest

/// `FrozenTrunk.runsAsInference` (fine-tuning's `frozenTrunkPrecision`): in training mode BERT's frozen embeddings and
/// leading layers compute exactly their inference states (no dropout, packed, in `ComputePrecision.current`), and the
/// trainable layers run on those in training mode, in fp32, with a tape. Off (the default), frozen layers keep dropout.
final class FrozenTrunkTests: XCTestCase {
    let config = BERT.Config(vocabSize: 60, hiddenSize: 32, numHiddenLayers: 3, numAttentionHeads: 2, intermediateSize: 64)
    let lengths = [9, 4, 6]

    func batch() throws -> (ids: IndexTensor, mask: IndexTensor, additive: Tensor) {
        var g = SeededGenerator(seed: 8)
        let l = lengths.max()!
        let ids = try IndexTensor(shape: [lengths.count, l], values: (0..<(lengths.count * l)).map { _ in Int32.random(in: 0..<60, using: &g) })
        let flags = lengths.flatMap { n in (0..<l).map { Int32($0 < n ? 1 : 0) } }
        let additive = try Tensor(shape: [lengths.count, 1, 1, l], values: flags.map { $0 != 0 ? 0 : -1e9 })
        return (ids, try IndexTensor(shape: [lengths.count, l], values: flags), additive)
    }

    /// The last layer trains; the embeddings and layers 0-1 are frozen.
    func model() throws -> (BERT, [Dropout]) {
        let model = try BERT(config, seed: 3)
        model.freeze()
        model.layers.items[2].unfreeze()
        // Dropout layers are stored properties, not keyed children (no parameters): found as the trainer finds them.
        let dropouts = model.namedModules().flatMap { Mirror(reflecting: $0.1).children.compactMap { $0.value as? Dropout } }
        return (model, dropouts)
    }

    func testFrozenLayersComputeTheirInferenceStatesAndTheLastTrains() throws {
        let (model, dropouts) = try model()
        let (ids, mask, additive) = try batch()
        let inference = try withNoGrad { try model.hiddenStates(ids: ids, mask: mask) }
        let streams = dropouts.map(\.generator)
        let states = try FrozenTrunk.$runsAsInference.withValue(true) { try model.hiddenStates(ids: ids, mask: mask, training: true) }
        XCTAssertEqual(states.count, 4)
        for i in 0..<3 { XCTAssertEqual(states[i].values, inference[i].values, "state \(i): the frozen part as at inference") }
        // The trainable layer: its own training-mode forward (dropout drawn from the same streams) of the frozen output.
        for (d, s) in zip(dropouts, streams) { d.generator = s }
        let trained = try model.layers.items[2].forward(inference[2], mask: additive, keyCounts: lengths, training: true)
        XCTAssertEqual(states[3].values, trained.values)
        XCTAssertNotEqual(states[3].values, inference[3].values, "dropout is on in the trainable layer")
        // The last state alone is the same, and gradients reach the trainable layer only.
        for (d, s) in zip(dropouts, streams) { d.generator = s }
        let last = try FrozenTrunk.$runsAsInference.withValue(true) { try model.lastHiddenState(ids: ids, mask: mask, training: true) }
        XCTAssertEqual(last.values, states[3].values)
        try last.sum().backward()
        XCTAssertNotNil(model.layers.items[2].query.weight.grad)
        XCTAssertNil(model.layers.items[1].query.weight.grad)

        // Off, the frozen layers run in training mode: dropout changes their states.
        let plain = try model.hiddenStates(ids: ids, mask: mask, training: true)
        XCTAssertNotEqual(plain[1].values, inference[1].values)
    }

    /// Under int8 the frozen layers compute in int8 (close to fp32, not equal) and the trainable one still in fp32 on
    /// their output, bit for bit its own training-mode forward.
    func testTheTrunkTakesThePrecisionAndTheTrainableLayerStaysFP32() throws {
        try Precision.int8.requireSupport()
        let (model, dropouts) = try model()
        let (ids, mask, additive) = try batch()
        let fp32 = try withNoGrad { try model.hiddenStates(ids: ids, mask: mask) }
        let streams = dropouts.map(\.generator)
        let states = try withPrecision(.int8) {
            try FrozenTrunk.$runsAsInference.withValue(true) { try model.hiddenStates(ids: ids, mask: mask, training: true) }
        }
        XCTAssertNotEqual(states[2].values, fp32[2].values, "the frozen layers ran int8")
        let h = lengths.max()! * config.hiddenSize
        for (row, n) in lengths.enumerated() {
            let a = Array(states[2].values[(row * h)..<(row * h + n * config.hiddenSize)])
            let b = Array(fp32[2].values[(row * h)..<(row * h + n * config.hiddenSize)])
            let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            let cosine = dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
            XCTAssertGreaterThan(cosine, 0.99, "row \(row)")
        }
        for (d, s) in zip(dropouts, streams) { d.generator = s }
        let trained = try model.layers.items[2].forward(states[2], mask: additive, keyCounts: lengths, training: true)
        XCTAssertEqual(states[3].values, trained.values)
        XCTAssertTrue(states[3].needsGrad)
    }
}
