// Kernel throughput in GFLOP/s (issue 2). Prints one tab-separated line per
// row ("row<TAB>name<TAB>gflops<TAB>detail"); bench/kernels/run.sh joins them
// with the PyTorch peer's lines into the table.
import CGraftBenchPeak
import Foundation
import GraftKernels

/// Median seconds of `repeats` timed calls after `warmup` untimed ones.
func median(warmup: Int = 3, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

func randomBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
    var state: UInt32 = 12345
    for i in 0..<count {
        state = state &* 1_664_525 &+ 1_013_904_223
        p[i] = Float(state >> 8) / Float(1 << 24) - 0.5
    }
    return p
}

func report(_ name: String, flops: Double, seconds: Double, detail: String = "") {
    print("row\t\(name)\t\(String(format: "%.1f", flops / seconds / 1e9))\t\(detail)")
}

let repeats = Int(ProcessInfo.processInfo.environment["BENCH_REPEATS"] ?? "") ?? 15
print("# oneDNN \(Runtime.oneDNNVersion), isa \(Runtime.isa), threads \(Runtime.threads)")

// What the cores deliver now: independent AVX-512 FMAs on every thread.
if graft_bench_has_avx512() != 0 {
    let iterations = 20_000_000, threads = Runtime.threads
    let seconds = median(warmup: 1, repeats: 5) {
        Kernels.parallelFor(threads) { range in
            for _ in range { if graft_bench_fma_probe(iterations) == 1 { print("") } }
        }
    }
    print("# FMA peak now: \(String(format: "%.0f", Double(iterations * 384 * threads) / seconds / 1e9)) GFLOP/s")
}

func benchConv(_ name: String, _ g: Conv2DGeometry, backwardWeights: Bool = false, backwardData: Bool = false) throws {
    let src = randomBuffer(g.srcCount), w = randomBuffer(g.weightCount), dy = randomBuffer(g.dstCount)
    let dst = UnsafeMutablePointer<Float>.allocate(capacity: max(g.dstCount, g.srcCount))
    let dw = UnsafeMutablePointer<Float>.allocate(capacity: g.weightCount)
    let key = WeightKey(id: 1, version: 0)
    let seconds = try median(repeats: repeats) {
        if backwardWeights {
            try Kernels.conv2dBackwardWeights(g, src: src, diffDst: dy, diffWeight: dw, diffBias: nil)
        } else if backwardData {
            try Kernels.conv2dBackwardData(g, weight: w, weightKey: key, diffDst: dy, diffSrc: dst)
        } else {
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: key, bias: nil, dst: dst)
        }
    }
    report(name, flops: g.flops, seconds: seconds, detail: try Kernels.conv2dImplementation(g, pass: backwardWeights ? .backwardWeights : backwardData ? .backwardData : .forward).name)
}

let conv = Conv2DGeometry(batch: 32, inChannels: 64, outChannels: 64, height: 56, width: 56, kernelH: 3, kernelW: 3,
                          padTop: 1, padBottom: 1, padLeft: 1, padRight: 1)
let depthwise = Conv2DGeometry(batch: 32, inChannels: 144, outChannels: 144, height: 56, width: 56, kernelH: 3, kernelW: 3,
                               padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, groups: 144)
try benchConv("conv3x3_fwd", conv)
try benchConv("conv3x3_bwd_data", conv, backwardData: true)
try benchConv("conv3x3_bwd_weights", conv, backwardWeights: true)
try benchConv("depthwise3x3_fwd", depthwise)

do {
    let n = 1024
    let a = randomBuffer(n * n), b = randomBuffer(n * n), c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let seconds = try median(repeats: repeats) { try Kernels.matmul(m: n, n: n, k: n, a: a, b: b, c: c) }
    report("matmul1024", flops: 2 * Double(n * n * n), seconds: seconds)
}

// Fixed cost of one small primitive call (plan lookup, memory objects, stream),
// reported as a note rather than a table row.
do {
    let n = 1024
    let x = randomBuffer(n), y = UnsafeMutablePointer<Float>.allocate(capacity: n)
    let seconds = try median(warmup: 100, repeats: 2001) { try Kernels.eltwiseForward(.relu, count: n, src: x, dst: y) }
    print("# relu on 1024 floats: \(String(format: "%.1f", seconds * 1e6)) us per call")
    let big = 1 << 22
    let a = randomBuffer(big), b = randomBuffer(big), c = UnsafeMutablePointer<Float>.allocate(capacity: big)
    let add = median(repeats: 21) { Vector.add(a, b, into: c, count: big) }
    print("# Vector.add on 4M floats: \(String(format: "%.2f", add * 1e3)) ms (\(String(format: "%.1f", 12 * Double(big) / add / 1e9)) GB/s)")
}
