import Foundation
import GraftData
import GraftDistributed
import GraftNN
import GraftTensor
import GraftTransfer

/// A small CNN (conv, frozen batch norm, ReLU, pool, dropout, linear head) trained by
/// `Trainer` for 20 steps on seeded 8x8 images. Run alone with batch B it is
/// the reference; under mpirun each rank trains on B/N of every batch through
/// `DistributedTraining`. Rank 0 writes the final parameters (float32, in
/// state-dict order) to the path given; every rank checks that it holds
/// exactly rank 0's parameters.
enum DataParallelScenario {
    /// Only its preprocessing matters here (the network below is built by hand).
    final class PixelsBackbone: Backbone {
        let spec = BackboneSpec(input: .image, model: "pixels", architecture: "pixels", pretrained: false)
        let preprocessing: Preprocessing? = Preprocessing(inputSize: 8)
        let cutPoints = ["pixels"], headCut = "pixels", headDimension = 6, blockCount = 0

        /// Per channel mean and root mean square: 6 features per image.
        func features(_ batch: Batch, at cut: String, pool: FeaturePooling, paddedTo rows: Int) throws -> Tensor {
            if let killAt = ExtractionScenario.killAt, Communicator.world.rank == killAt.rank,
               batch.ids.contains("synthetic#\(killAt.item)") {
                kill(getpid(), SIGKILL)
            }
            let plane = batch.height * batch.width
            var out: [Float] = []
            for i in 0..<batch.count {
                for c in 0..<3 {
                    var sum: Float = 0, squares: Float = 0
                    for p in 0..<plane { let v = batch.pixels[(i * plane + p) * 3 + c]; sum += v; squares += v * v }
                    out += [sum / Float(plane), (squares / Float(plane)).squareRoot()]
                }
            }
            return try Tensor(shape: [batch.count, 6], values: out)
        }
        func featureDimension(at cut: String, pool: FeaturePooling) throws -> Int { 6 }
        func network(outputs: Int, unfreeze: Int?, seed: UInt64) throws -> TaskNetwork { SmallNetwork(classes: outputs, seed: seed) }
        func defaultOptions(for strategy: Strategy) -> TrainingOptions { TrainingOptions() }
    }

    final class SmallNetwork: LinearHeadNetwork {
        let backbone: any Backbone = PixelsBackbone()
        let body: Sequential
        let head: Linear
        let module: Module

        init(classes: Int, seed: UInt64) {
            var g = SeededGenerator(seed: seed)
            let conv = Conv2d(3, 16, kernel: 3, padding: 1, generator: &g)
            let norm = BatchNorm2d(16)
            for (i, (_, buffer)) in norm.namedBuffers().enumerated() {
                for j in 0..<buffer.count { buffer.pointer[j] = i % 2 == 0 ? 0.1 * Float(j % 5) : 1 + 0.05 * Float(j % 3) }
            }
            norm.freeze()
            // Dropout before the head: its masks must be the rows one process would draw.
            body = Sequential([conv, norm, ActivationLayer(.relu), GlobalAvgPool(), Dropout(0.3, seed: 5)])
            head = Linear(16, classes, generator: &g)
            module = Sequential([body, head])
        }

        func headInput(_ batch: Batch, training: Bool) throws -> Tensor {
            let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
            return try body.forward(x, training: training)
        }
    }

    static func dataset(count: Int, classes: Int) throws -> InMemoryImageDataset {
        var g = SeededGenerator(seed: 7)
        let labels = (0..<count).map { $0 % classes }
        var pixels = [UInt8](repeating: 0, count: count * 8 * 8 * 3)
        for i in 0..<count {
            for p in 0..<(8 * 8 * 3) {
                // Class-dependent brightness per channel plus noise, so the loss falls.
                let channel = p % 3
                let base = labels[i] % 3 == channel ? 170 : 60
                pixels[i * 192 + p] = UInt8(max(0, min(255, base + Int(g.nextUniform() * 80) - 40)))
            }
        }
        return try InMemoryImageDataset(width: 8, height: 8, channels: 3, pixels: pixels, labels: labels,
                                        classNames: (0..<classes).map { "c\($0)" }, idPrefix: "synthetic")
    }

    /// Arguments: output path, then optional `--steps N --batch B --items M --no-overlap --seed-offset-on-rank1`.
    static func run(_ world: Communicator, arguments: [String]) throws {
        guard let output = arguments.first else { fail("data-parallel needs an output path") }
        func value(_ flag: String, _ fallback: Int) -> Int {
            arguments.firstIndex(of: flag).flatMap { Int(arguments[$0 + 1]) } ?? fallback
        }
        let batch = value("--batch", 16), items = value("--items", 160), steps = value("--steps", 20)
        let classes = 4
        let data = try dataset(count: items, classes: classes)
        // A different seed on rank 1: the broadcast from rank 0 must make the replicas equal anyway.
        let seed: UInt64 = arguments.contains("--seed-offset-on-rank1") && world.rank == 1 ? 99 : 3
        let network = SmallNetwork(classes: classes, seed: seed)
        var options = TrainingOptions()
        options.batchSize = batch
        options.epochs = (steps * batch + items - 1) / items
        options.learningRate = 0.05
        options.augment = true
        options.patience = 0
        let trainer = Trainer(network: network, options: options)
        if world.isDistributed {
            trainer.distribution = DistributedTraining(communicator: world, overlap: !arguments.contains("--no-overlap"))
        }
        _ = try trainer.fit(dataset: data, train: Array(0..<items), validation: [])

        var flat: [Float] = []
        for (_, tensor) in network.module.stateDict() { flat += tensor.values }
        // Every replica must hold rank 0's parameters bit for bit.
        let rootValues = try flat.withUnsafeBytes { raw in try world.broadcast(bytes: Array(raw), root: 0) }
        expect(rootValues == flat.withUnsafeBytes { Array($0) }, "rank \(world.rank)'s parameters differ from rank 0's")
        if world.isRoot {
            try flat.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: output))
            if let buckets = trainer.distribution?.dataParallel?.buckets {
                print(String(format: "buckets %d, %d bytes, %d steps, %.4f s exposed allreduce",
                             buckets.bucketCount, buckets.totalBytes, buckets.steps, buckets.exposedSeconds))
            }
        }
        print("rank \(world.rank) of \(world.size): data-parallel ok, \(flat.count) parameters")
    }
}
