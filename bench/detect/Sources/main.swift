// YOLOv3-tiny throughput in images/s at 416x416 (issue 16), batch 1 and 8, the real weights.
// Two rows per batch: "forward" (the network on a letterboxed input: what OpenCV DNN and ONNX
// Runtime run in peer.py) and "detect" (what `graft detect` does per decoded image: letterbox,
// forward, decode, NMS, boxes back to the image). Photos: scikit-image's, cycled.
// Prints "row<TAB>name<TAB>img/s"; bench/detect/run.sh joins them with peer.py's rows.
// Env: BENCH_REPEATS (timed runs, median; 7), GRAFT_THREADS.
import Foundation
import GraftData
import GraftModels
import GraftTensor

let env = ProcessInfo.processInfo.environment
let repeats = Int(env["BENCH_REPEATS"] ?? "") ?? 7
let home = env["GRAFT_HOME"].map { URL(fileURLWithPath: $0) }
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
let photos = home.appendingPathComponent("packages/scikit-image/skimage/data")

func median(_ body: () throws -> Void) rethrows -> Double {
    try body()  // warm-up: primitives, folded weights
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

let detector = try YoloDetector.pretrained("yolov3-tiny")
let names = ["coffee.png", "motorcycle_left.png", "camera.png", "astronaut.png", "chelsea.png", "rocket.jpg", "horse.png", "coins.png"]
let images = try names.map { try ImageDecoder().decode(contentsOf: photos.appendingPathComponent($0)) }
print("# graft threads \(env["GRAFT_THREADS"] ?? "all"), repeats \(repeats), load \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")
for batch in [1, 8] {
    let chunk = Array(images.prefix(batch))
    let (input, _) = try detector.prepare(chunk)
    let forward = try median { _ = try withNoGrad { try detector.network.forward(input) } }
    print("row\tforward-b\(batch)\t\(String(format: "%.2f", Double(batch) / forward))")
    let detect = try median { _ = try detector.detect(chunk) }
    print("row\tdetect-b\(batch)\t\(String(format: "%.2f", Double(batch) / detect))")
}
