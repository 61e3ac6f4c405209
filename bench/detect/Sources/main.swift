// YOLOv3-tiny throughput in images/s at 416x416 (issue 16), batch 1 and 8, the real weights.
// Two rows per batch: "forward" (the network on a letterboxed input: what OpenCV DNN and ONNX
// Runtime run in peer.py) and "detect" (what `graft detect` does per decoded image: letterbox,
// forward, decode, NMS, boxes back to the image). Photos: scikit-image's, cycled.
// Then the fine-tune step (DetectionFineTuning: new one-class heads, heads only and heads + last 4
// convolutions, batch 8 at 416, AdamW) in steps/s, and the YOLO loss of deterministic raw outputs that
// step_peer.py's PyTorch loss must equal ("loss" line).
// Prints "row<TAB>name<TAB>rate"; bench/detect/run.sh joins them with the peers' rows.
// Env: BENCH_REPEATS (timed runs, median; 7; steps use at most 5), GRAFT_THREADS, BENCH_STEPS (0: skip steps).
import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftTransfer

let env = ProcessInfo.processInfo.environment
let repeats = Int(env["BENCH_REPEATS"] ?? "") ?? 7
let home = env["GRAFT_HOME"].map { URL(fileURLWithPath: $0) }
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
let photos = home.appendingPathComponent("packages/scikit-image/skimage/data")

func median(runs: Int = repeats, _ body: () throws -> Void) rethrows -> Double {
    try body()  // warm-up: primitives, folded weights
    var times: [Double] = []
    for _ in 0..<runs {
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

// The loss on the raw outputs step_peer.py also builds: 2 sin(0.37 i + head) at NHWC flat index i.
let (oneClass, _) = try detector.network.withNewHeads(classes: 1)
/// Three objects per image, in input pixels: the same as step_peer.py's `targets_of`.
func targets(_ batch: Int) -> [[DetectionTarget]] {
    var all: [[DetectionTarget]] = []
    for b in 0..<batch {
        let first = DetectionTarget(classIndex: 0, centerX: Float(60 + 7 * b), centerY: 80, width: 40, height: 52)
        let second = DetectionTarget(classIndex: 0, centerX: 210, centerY: Float(150 + 5 * b), width: 96, height: 120)
        let third = DetectionTarget(classIndex: 0, centerX: 330, centerY: 300, width: 150, height: 170)
        all.append([first, second, third])
    }
    return all
}
var raw: [Tensor] = []
for (head, grid) in [13, 26].enumerated() {
    let values = (0..<(2 * grid * grid * 18)).map { i -> Float in Float(2 * sin(0.37 * Double(i) + Double(head))) }
    raw.append(try Tensor(shape: [2, grid, grid, 18], values: values))
}
let parts = try YoloLoss(network: oneClass)(raw, targets: targets(2))
print("loss\t\(String(format: "%.6f\t%.6f\t%.6f", parts.box, parts.objectness, parts.classes))")

if env["BENCH_STEPS"] != "0" {
    // Throughput does not depend on pixel values: any fixed values in [0, 1].
    let pixels = (0..<(8 * 416 * 416 * 3)).map { i -> Float in Float(0.5 + 0.5 * sin(0.001 * Double(i))) }
    let input = try Tensor(shape: [8, 416, 416, 3], values: pixels)
    for (name, unfreeze) in [("heads", 0), ("last4", 4)] {
        let tuning = try DetectionFineTuning(pretrained: detector.network, classes: 1, unfreeze: unfreeze)
        let step = try median(runs: min(repeats, 5)) { try tuning.step(input, targets: targets(8)) }
        print("row\tstep-\(name)-b8\t\(String(format: "%.4f", 1 / step))")
    }
}
