// Multi-rank costs and throughput (issue 17), run by bench/mpi/run.sh under mpirun.
//
//   graft-bench-mpi allreduce                 float allreduce time and bandwidth at 0.25-16 MiB
//   graft-bench-mpi finetune MODEL UNFREEZE   `Trainer.trainStep` data-parallel: a global batch of
//                                             BENCH_BATCH (32) split over the ranks; step time,
//                                             gradient bytes, allreduce time left exposed after backward
//   graft-bench-mpi extract MODEL ITEMS       `FeatureExtraction` of ITEMS seeded images, sharded by rank
//
// Env: BENCH_STEPS (timed steps, 6), BENCH_WARMUP (2), BENCH_BUCKET_KB (4096), BENCH_OVERLAP (1: buckets start during
// backward, DDP; 0: all after backward), GRAFT_THREADS. Random weights and images: time does
// not depend on the values. Rank 0 prints "row<TAB>..." lines.
import Foundation
import GraftData
import GraftDistributed
import GraftKernels
import GraftModels
import GraftTensor
import GraftTransfer

let env = ProcessInfo.processInfo.environment
let world = Communicator.world
let steps = Int(env["BENCH_STEPS"] ?? "") ?? 6
let warmup = Int(env["BENCH_WARMUP"] ?? "") ?? 2

func fail(_ message: String) -> Never { world.abort("graft-bench-mpi: \(message)") }
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func report(_ fields: [String]) { if world.isRoot { print((["row"] + fields).joined(separator: "\t")) } }

func header() {
    report(["# ranks \(world.size), threads per rank \(Runtime.threads), oneDNN \(Runtime.oneDNNVersion), isa \(Runtime.isa)"])
}

/// Median seconds of `body` over `steps` runs after `warmup`, all ranks in step.
func timed(_ body: () throws -> Void) throws -> Double {
    for _ in 0..<warmup { try body() }
    var times: [Double] = []
    for _ in 0..<steps {
        try world.barrier()
        let start = now()
        try body()
        times.append(now() - start)
    }
    return times.sorted()[times.count / 2]
}

func allreduce() throws {
    header()
    for mib in [0.25, 1, 4, 16] {
        let count = Int(mib * 1024 * 1024) / 4
        var buffer = [Float](repeating: 1, count: count)
        let seconds = try timed { try buffer.withUnsafeMutableBufferPointer { try world.allreduce($0) } }
        let bytes = Double(count * 4)
        // Ring allreduce moves 2(N-1)/N of the buffer through every link ("bus bandwidth").
        let bus = 2 * Double(world.size - 1) / Double(world.size) * bytes / seconds / 1e9
        report(["allreduce", String(format: "%.2f MiB", mib), String(format: "%.3f ms", seconds * 1e3), String(format: "%.2f GB/s bus", bus)])
    }
}

func finetune(_ name: String, _ unfreeze: String) throws {
    let globalBatch = Int(env["BENCH_BATCH"] ?? "") ?? 32
    guard globalBatch % world.size == 0 else { fail("BENCH_BATCH \(globalBatch) must divide by \(world.size) ranks") }
    let batchSize = globalBatch / world.size
    let backbone = CNNBackbone(try ImageModels.make(name, seed: 1), spec: BackboneSpec(input: .image, model: name, architecture: name))
    let network = try backbone.network(outputs: 10, unfreeze: Int(unfreeze), seed: 1)
    let trainer = Trainer(network: network, options: TrainingOptions())
    let optimizer = trainer.makeOptimizer()
    let bucketBytes = (Int(env["BENCH_BUCKET_KB"] ?? "") ?? 4096) * 1024
    let distribution = DistributedTraining(communicator: world, bucketBytes: bucketBytes, overlap: env["BENCH_OVERLAP"] != "0")
    try distribution.attach(module: network.module, parameters: optimizer.groups.flatMap(\.parameters))
    trainer.distribution = distribution
    let size = backbone.cnn.preprocessing.inputSize
    var g = SeededGenerator(seed: UInt64(2 + world.rank))
    let pixels = Tensor.uniform([batchSize, size, size, 3], low: -1, high: 1, generator: &g).values
    let batch = Batch(number: 0, inputs: .images(pixels: pixels, height: size, width: size), labels: (0..<batchSize).map { $0 % 10 },
                      ids: [], indices: [])
    optimizer.learningRate = 1e-3
    let buckets = distribution.dataParallel!.buckets
    var exposedBefore = 0.0
    var exposed: [Double] = []
    let step = try timed {
        exposedBefore = buckets.exposedSeconds
        try trainer.trainStep(batch, optimizer: optimizer)
        exposed.append(buckets.exposedSeconds - exposedBefore)
    }
    let exposedMedian = exposed.suffix(steps).sorted()[steps / 2]
    header()
    report(["finetune", name, unfreeze, "global batch \(globalBatch)", String(format: "%.3f s/step", step),
            String(format: "%.1f img/s", Double(globalBatch) / step), "\(buckets.totalBytes / 1024) KiB gradients in \(buckets.bucketCount) buckets",
            String(format: "%.1f ms allreduce exposed", exposedMedian * 1e3), "overlap \(buckets.overlap ? 1 : 0)"])
}

func extract(_ name: String, _ items: Int) throws {
    let backbone = CNNBackbone(try ImageModels.make(name, seed: 1), spec: BackboneSpec(input: .image, model: name, architecture: name))
    let extractor = try FeatureExtractor(backbone: backbone)
    var g = SeededGenerator(seed: 5)
    let side = 64
    let pixels = (0..<(items * side * side * 3)).map { _ in UInt8(g.next() & 0xFF) }
    let data = try InMemoryImageDataset(width: side, height: side, channels: 3, pixels: pixels, labels: (0..<items).map { $0 % 10 },
                                        classNames: (0..<10).map { "c\($0)" }, idPrefix: "bench")
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bench-mpi-store")
    let batch = Int(env["BENCH_BATCH"] ?? "") ?? 32
    var extraction = FeatureExtraction(batchSize: batch, shardSize: batch * 2, overwrite: true)
    extraction.communicator = world
    // One warm-up shard-sized run primes oneDNN's primitives on every rank.
    if world.isRoot { try? FileManager.default.removeItem(at: store) }
    try world.barrier()
    try extraction.run(extractor: extractor, dataset: data, indices: Array(0..<min(items, batch * 2 * world.size)), to: store)
    if world.isRoot { try? FileManager.default.removeItem(at: store) }
    try world.barrier()
    let start = now()
    let result = try extraction.run(extractor: extractor, dataset: data, to: store)
    let seconds = now() - start
    header()
    report(["extract", name, "\(result.count) images", String(format: "%.2f s", seconds), String(format: "%.1f img/s", Double(items) / seconds)])
    if world.isRoot { try? FileManager.default.removeItem(at: store) }
}

do {
    let args = Array(CommandLine.arguments.dropFirst())
    switch args.first {
    case "allreduce": try allreduce()
    case "finetune" where args.count == 3: try finetune(args[1], args[2])
    case "extract" where args.count == 3: try extract(args[1], Int(args[2]) ?? 256)
    default: fail("usage: graft-bench-mpi allreduce | finetune MODEL UNFREEZE | extract MODEL ITEMS")
    }
    try world.finish()
} catch {
    fail("\(error)")
}
