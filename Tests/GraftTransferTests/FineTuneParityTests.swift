import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftTransfer
import XCTest

/// One fine-tuning step of EfficientNet-Lite0 as `graft finetune --unfreeze 2` runs it
/// (`freezeAllButLast(2)`, the trainer's parameter groups, optimizer and step), against the
/// reference package code in PyTorch (fixtures/models/make_finetune_step.py): the real
/// pretrained trunk, a seeded 5-way head stored in the fixture, 4 photos at 96x96, frozen
/// batch norm in inference mode. Loss before the step and every trainable tensor after one
/// SGD-with-momentum step and one AdamW step match within 1e-5 (gradients too, where stored);
/// frozen parameters and all batch-norm statistics stay bit-identical and get no gradient.
/// One exemption, AdamW only: elements whose reference gradient is nonzero but below 1e-6
/// (here 6 of the head's 6,400, features ~0 on every image) are checked on their gradient.
///
/// Dropout is set to 0 on both sides: it is the one random piece, and the two sides cannot
/// share a random stream.
final class FineTuneParityTests: XCTestCase {
    static let classes = 5
    static let tolerance: Float = 1e-5
    /// |gradient| below which AdamW's first step is ill-conditioned (100 x its epsilon).
    static let adamIllConditioned: Float = 1e-6

    func reference() throws -> [String: Tensor] {
        try loadTensors(FixturePaths.fixtures.appendingPathComponent("models/efficientnet/finetune_step.safetensors"))
    }

    /// The network and trainer `TransferJob` builds for `--unfreeze 2`, with the fixture's head.
    func makeTrainer(_ kind: TrainingOptions.OptimizerKind, _ ref: [String: Tensor]) throws -> (Trainer, EfficientNetLite) {
        var config = try EfficientNetLite.Config.lite(0)
        config.dropout = 0
        let backbone = EfficientNetLite(config)
        try backbone.load(contentsOf: try ModelZoo.entry("efficientnet-lite0").url)
        let network = try CNNBackbone(backbone, spec: .efficientNetLite0).network(outputs: Self.classes, unfreeze: nil, seed: 0)
        let w = try XCTUnwrap(ref["head.weight"]), b = try XCTUnwrap(ref["head.bias"])
        try XCTUnwrap(network.linearHead).load(["weight": w, "bias": b], source: "finetune_step.safetensors")
        backbone.freezeAllButLast(2)
        var options = TrainingOptions()
        options.optimizer = kind
        return (Trainer(network: network, options: options), backbone)
    }

    func batch(_ ref: [String: Tensor]) throws -> Batch {
        let pixels = try XCTUnwrap(ref["pixels"]), labels = try XCTUnwrap(ref["labels"])
        XCTAssertEqual(pixels.shape[0], labels.count)
        return Batch(number: 0, inputs: .images(pixels: pixels.values.map { ($0 - 127) / 128 }, height: pixels.shape[1], width: pixels.shape[2]),
                     labels: labels.values.map { Int($0) }, ids: [], indices: [])
    }

    func check(_ kind: TrainingOptions.OptimizerKind) throws {
        let ref = try reference()
        let (trainer, backbone) = try makeTrainer(kind, ref)
        let before = Dictionary(uniqueKeysWithValues: backbone.stateDict().map { ($0.0, $0.1.values) })
        let optimizer = trainer.makeOptimizer()
        let (loss, _) = try trainer.trainStep(try batch(ref), optimizer: optimizer)
        XCTAssertEqual(loss.scalarValue, try XCTUnwrap(ref["loss"]).scalarValue, accuracy: Self.tolerance, "loss before the step")

        // The trainable set is PyTorch's: the last MBConv block, the head conv stage, the new classifier.
        let prefix = "\(kind.rawValue)/"
        let expectedKeys = Set(ref.keys.filter { $0.hasPrefix(prefix) }.map { key -> String in
            var k = String(key.dropFirst(prefix.count))
            for suffix in [".idx", ".values", ".channel_delta_sums", ".sum"] where k.hasSuffix(suffix) { k = String(k.dropLast(suffix.count)) }
            return k
        })
        let trainable = backbone.trainableParameters
        XCTAssertEqual(Set(trainable.map(\.0)), expectedKeys)
        XCTAssertEqual(Set(optimizer.groups.flatMap(\.parameters).map(ObjectIdentifier.init)), Set(trainable.map { ObjectIdentifier($0.1) }))

        for (key, p) in trainable {
            XCTAssertNotNil(p.grad, "\(key) has no gradient")
            let after = p.values
            if let full = ref[prefix + key] {
                // Gradients (after clipping) first: well conditioned, the same for both optimizers.
                let g = try XCTUnwrap(p.grad).values, gRef = try XCTUnwrap(ref["grad/" + key]).values
                let gradDiff = zip(g, gRef).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThanOrEqual(gradDiff, Self.tolerance, "\(key): max abs gradient diff \(gradDiff)")
                // AdamW's first step is lr * g / (|g| + 1e-8): within a few hundred epsilons of a zero
                // gradient it turns a 1e-8 rounding difference into up to ~1e-4 of weight. Those few
                // elements are held to their gradient (1e-7 absolute) instead of their weight.
                let illConditioned = kind == .adamw ? Set(gRef.indices.filter { gRef[$0] != 0 && abs(gRef[$0]) < Self.adamIllConditioned }) : []
                XCTAssertLessThanOrEqual(illConditioned.count, max(1, after.count / 500), "\(key): too many near-zero gradients to exempt")
                var diff: Float = 0
                for i in after.indices {
                    if illConditioned.contains(i) {
                        XCTAssertEqual(g[i], gRef[i], accuracy: 1e-7, "\(key)[\(i)]: near-zero gradient")
                    } else {
                        diff = max(diff, abs(after[i] - full.values[i]))
                    }
                }
                XCTAssertLessThanOrEqual(diff, Self.tolerance, "\(kind) \(key): max abs diff \(diff)")
                continue
            }
            // Big tensors: seeded samples, per-output-channel sums of the change, total sum.
            let idx = try XCTUnwrap(ref[prefix + key + ".idx"]).values.map { Int($0) }
            let sampled = try XCTUnwrap(ref[prefix + key + ".values"]).values
            let diff = zip(idx, sampled).map { abs(after[$0] - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(diff, Self.tolerance, "\(kind) \(key): max abs diff at \(idx.count) samples \(diff)")
            let channelSums = try XCTUnwrap(ref[prefix + key + ".channel_delta_sums"]).values
            let old = try XCTUnwrap(before[key])
            let perChannel = after.count / channelSums.count
            var worst = 0.0
            for (c, expected) in channelSums.enumerated() {
                var s = 0.0
                for i in (c * perChannel)..<((c + 1) * perChannel) { s += Double(after[i]) - Double(old[i]) }
                worst = max(worst, abs(s - Double(expected)) / Double(perChannel))
            }
            XCTAssertLessThanOrEqual(worst, Double(Self.tolerance), "\(kind) \(key): mean abs diff of a channel's change \(worst)")
            let total = after.reduce(0.0) { $0 + Double($1) }
            let expectedTotal = Double(try XCTUnwrap(ref[prefix + key + ".sum"]).scalarValue)
            // Stored as Float32: about 3e-5 of rounding at these magnitudes (|sum| ~ 400); measured diff <= 5e-5.
            XCTAssertEqual(total, expectedTotal, accuracy: 1e-3, "\(kind) \(key): sum")
        }

        // Frozen parameters and every batch-norm statistic: bit-identical, no gradient memory.
        let trainableKeys = Set(trainable.map(\.0))
        var frozen = 0
        for (key, t) in backbone.stateDict() where !trainableKeys.contains(key) {
            XCTAssertEqual(t.values, before[key], "\(key) changed")
            frozen += 1
        }
        for (key, p) in backbone.namedParameters() where !trainableKeys.contains(key) { XCTAssertNil(p.grad, "\(key) allocated a gradient") }
        XCTAssertGreaterThan(frozen, 200)
    }

    func testSGDWithMomentumStepMatchesPyTorch() throws { try check(.sgd) }
    func testAdamWStepMatchesPyTorch() throws { try check(.adamw) }
}

