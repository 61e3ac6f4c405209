import GraftNN
import GraftTensor
@testable import GraftModels
import XCTest

/// `FrozenTrunk.runsAsInference` (fine-tuning's `frozenTrunkPrecision`): in training mode BERT's frozen embeddings and
/// leading layers compute exactly their inference states (no dropout, packed, in `ComputePrecision.current`), and the
/// trainable layers train on those in fp32 with a tape, on the real tokens only (packed rows, attention padded).
/// Off (the default), frozen layers keep dropout.
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

    /// `layer` in training mode on x's real tokens (packed), back in the padded layout with zero padding rows.
    func packedTraining(_ layer: BertLayer, _ x: Tensor, mask additive: Tensor) throws -> Tensor {
        let packing = PackedTokens(batch: lengths.count, length: lengths.max()!, counts: lengths)
        return try packing.unpack(layer.forward(packed: packing.pack(x), packing, mask: additive))
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
        // The trainable layer: its own packed training forward (dropout drawn from the same streams) of the frozen output.
        for (d, s) in zip(dropouts, streams) { d.generator = s }
        let trained = try packedTraining(model.layers.items[2], inference[2], mask: additive)
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
        let trained = try packedTraining(model.layers.items[2], states[2], mask: additive)
        XCTAssertEqual(states[3].values, trained.values)
        XCTAssertTrue(states[3].needsGrad)
    }

    /// A layer trained on packed rows (attention on the padded layout) gives the padded training forward's values on
    /// the real tokens and the same parameter gradients for a loss over real tokens (dropout off: the two draw
    /// different masks), within float rounding of the different matmul shapes.
    func testPackedTrainingEqualsPaddedTraining() throws {
        let (model, dropouts) = try model()
        for d in dropouts { d.isFrozen = true }
        let (ids, mask, additive) = try batch()
        let x = try withNoGrad { try model.hiddenStates(ids: ids, mask: mask)[2] }
        let layer = model.layers.items[2]
        var g = SeededGenerator(seed: 4)
        let l = lengths.max()!, h = config.hiddenSize
        let weights = try Tensor(shape: x.shape, values: (0..<x.count).map { i in
            (i / h) % l < lengths[i / (l * h)] ? Float.random(in: -1...1, using: &g) : 0
        })
        func run(_ forward: () throws -> Tensor) throws -> (values: [Float], grads: [[Float]]) {
            model.zeroGrad()
            let y = try forward()
            try (y * weights).sum().backward()
            let real = (0..<y.count).filter { ($0 / h) % l < lengths[$0 / (l * h)] }
            return (real.map { y.values[$0] }, layer.namedParameters().map { $0.1.grad?.values ?? [] })
        }
        let padded = try run { try layer.forward(x, mask: additive, keyCounts: lengths, training: true) }
        let packed = try run { try packedTraining(layer, x, mask: additive) }
        for (a, b) in zip(packed.values, padded.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(packed.grads.count, padded.grads.count)
        // Relative to the largest gradient: the key bias's is zero in exact arithmetic (a softmax ignores a shift
        // shared by a row's scores), so both sides hold float noise there (~1e-8).
        let scale = padded.grads.flatMap { $0 }.map(abs).max() ?? 0
        XCTAssertGreaterThan(scale, 0)
        for (i, (a, b)) in zip(packed.grads, padded.grads).enumerated() {
            XCTAssertEqual(a.count, b.count, "parameter \(i)")
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * scale, "parameter \(i)") }
        }
    }
}
