// Decode + preprocess throughput of GraftData, one JSON line per measurement.
// Run through bench/data/run.sh, which also runs the Pillow/numpy peer and prints ratios.
import Foundation
import GraftData

let args = CommandLine.arguments
guard args.count >= 2 else {
    print("usage: graft-bench-data FILE_LIST [seconds]")
    exit(2)
}
let files = (try? String(contentsOfFile: args[1], encoding: .utf8))?
    .split(separator: "\n").map(String.init) ?? []
let seconds = args.count > 2 ? Double(args[2]) ?? 2 : 2
let urls = files.map { URL(fileURLWithPath: $0) }
let blobs = urls.compactMap { try? Data(contentsOf: $0) }
let decoder = ImageDecoder()

/// CPU seconds used by this thread: other processes on the shared cores do not count.
func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs `body` over all images repeatedly for about `seconds` of CPU time;
/// images per CPU second (single thread).
func measure(_ name: String, _ body: (Int) throws -> Void) rethrows {
    var n = 0
    try body(0)   // warm-up
    let start = threadCPUTime()
    while threadCPUTime() - start < seconds {
        for i in 0..<blobs.count { try body(i); n += 1 }
    }
    let rate = Double(n) / (threadCPUTime() - start)
    print("{\"name\": \"\(name)\", \"images_per_s\": \(rate)}")
}

var sink: Float = 0
try measure("decode") { i in
    let image = try decoder.decode(blobs[i], source: files[i])
    sink += Float(image.pixels[0])
}
let imageNet = Preprocessing.imageNet()
try measure("decode+imagenet224") { i in
    let image = try decoder.decode(blobs[i], source: files[i])
    sink += imageNet.apply(image)[0]
}
let lite = Preprocessing.efficientNetLite()
try measure("decode+lite224") { i in
    let image = try decoder.decode(blobs[i], source: files[i])
    sink += lite.apply(image)[0]
}
// Preprocessing alone on decoded images (no decode).
let decoded = try blobs.enumerated().map { try decoder.decode($0.element, source: files[$0.offset]) }
measure("imagenet224-only") { i in sink += imageNet.apply(decoded[i])[0] }
measure("lite224-only") { i in sink += lite.apply(decoded[i])[0] }
var floatNet = imageNet
floatNet.precision = .float
try measure("decode+imagenet224-float") { i in
    let image = try decoder.decode(blobs[i], source: files[i])
    sink += floatNet.apply(image)[0]
}

// Fashion-MNIST items to 224x224 (the extraction path of the acceptance run).
let fashion = try BuiltinDatasets.fashionMNIST(.test)
let stretch = Preprocessing(inputSize: 224, crop: .stretch, normalization: .efficientNetLite)
do {
    var n = 0
    let start = threadCPUTime()
    while threadCPUTime() - start < seconds {
        sink += stretch.apply(fashion.image(at: n % fashion.count))[0]
        n += 1
    }
    print("{\"name\": \"fashion28->224\", \"images_per_s\": \(Double(n) / (threadCPUTime() - start))}")
}

// The loader over the photos, batch 32, 1 and 2 workers, reading the files (the
// consumer does nothing). Rate per CPU second of the whole process (all threads), which
// shows the loader's overhead over the inline path; the wall-clock rate depends on how
// busy the shared cores are and is printed alongside.
struct Photos: Dataset {
    let urls: [URL]
    var count: Int { urls.count * 8 }
    var classNames: [String] { ["photo"] }
    var kind: DataKind { .image }
    func label(at index: Int) -> Int { 0 }
    func sourceID(at index: Int) -> String { urls[index % urls.count].lastPathComponent }
    func item(at index: Int) throws -> DataItem { .image(try ImageDecoder().decode(contentsOf: urls[index % urls.count])) }
}

func processCPUTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}

for workers in [1, 2] {
    let loader = BatchLoader(dataset: Photos(urls: urls), preprocessing: imageNet,
                             options: .init(batchSize: 32, workers: workers))
    let start = Date(), cpu = processCPUTime()
    var n = 0
    while let batch = try loader.next() { n += batch.count }
    let wall = Date().timeIntervalSince(start), used = processCPUTime() - cpu
    print("{\"name\": \"loader-imagenet224-workers\(workers)\", \"images_per_s\": \(Double(n) / used), "
          + "\"wall_images_per_s\": \(Double(n) / wall)}")
}
if sink.isNaN { print("") }
