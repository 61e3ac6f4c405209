// YOLOv3-tiny throughput in images/s at 416x416 (issue 16), batch 1 and 8, the real weights.
// Two rows per batch: "forward" (the network on a letterboxed input: what OpenCV DNN and ONNX
// Runtime run in peer.py) and "detect" (what `graft detect` does per decoded image: letterbox,
// forward, decode, NMS, boxes back to the image). Photos: scikit-image's, cycled.
// Then the fine-tune step (DetectionFineTuning: new one-class heads, heads only and heads + last 4
// convolutions, batch 8 at 416, AdamW) in steps/s, and the YOLO loss of deterministic raw outputs that
// step_peer.py's PyTorch loss must equal ("loss" line).
// Prints "row<TAB>name<TAB>rate"; bench/detect/run.sh joins them with the peers' rows.
// Env: BENCH_REPEATS (timed runs, median; 7; steps use at most 5), GRAFT_THREADS, BENCH_STEPS (0: skip steps),
// BENCH_INT8 (0: skip the int8 rows and their accuracy lines).
import Foundation
import GraftData
import GraftHeads
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

// int8 (issue 19): `graft quantize`'s calibration (PostTrainingQuantization, min/max) on the faces set's 120 training
// images, as peer.py calibrates ONNX Runtime's static quantization. Rows forward-int8-bN / detect-int8-b8; then on
// held-out images (faces val + test, the photos), both stretched to 416 as calibration saw them: the raw head outputs'
// relative L1 error against fp32 ("rawerr" line, peer.py prints ONNX Runtime's on the same files) and, letterboxed
// as `graft detect` runs, how the int8 detections agree with fp32's ("agreement" line).
if env["BENCH_INT8"] != "0" {
    let faces = try DetectionSets.make("faces")
    func files(_ part: String) throws -> [URL] {
        let dir = faces.appendingPathComponent("\(part)/images")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { dir.appendingPathComponent($0) }
    }
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bench-detect-\(getpid())")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    let table = work.appendingPathComponent("calibration.csv"), quantized = work.appendingPathComponent("yolov3-tiny.int8.safetensors")
    try ("path,label\n" + files("train").map { "\($0.path),image\n" }.joined()).write(to: table, atomically: true, encoding: .utf8)
    let calibration = try TableDataset(csv: table)
    _ = try PostTrainingQuantization(items: calibration.count).run(spec: .detector(), dataset: calibration, to: quantized)
    let int8 = try YoloDetector.quantized(quantized)
    for batch in [1, 8] {
        let (input, _) = try int8.prepare(Array(images.prefix(batch)))
        let forward = try withPrecision(.int8) { try median { _ = try withNoGrad { try int8.network.forward(input) } } }
        print("row\tforward-int8-b\(batch)\t\(String(format: "%.2f", Double(batch) / forward))")
    }
    let detect = try withPrecision(.int8) { try median { _ = try int8.detect(images) } }
    print("row\tdetect-int8-b8\t\(String(format: "%.2f", 8 / detect))")

    let heldOut = try files("val") + files("test") + names.map { photos.appendingPathComponent($0) }
    let stretch = Preprocessing(inputSize: 416, crop: .stretch, normalization: .unit)
    var difference = 0.0, magnitude = 0.0
    var fp32Boxes = 0, int8Boxes = 0, matched = 0, scoreChange = 0.0, iouSum = 0.0
    var objects: [DetectionEvaluation.Object] = [], predictions: [DetectionEvaluation.Prediction] = []
    func box(_ b: BoundingBox) -> DetectionEvaluation.Box { .init(x: Double(b.x), y: Double(b.y), width: Double(b.width), height: Double(b.height)) }
    for (index, file) in heldOut.enumerated() {
        let image = try ImageDecoder().decode(contentsOf: file)
        let x = try Tensor(shape: [1, 416, 416, 3], values: stretch.apply(image))
        let a = try withNoGrad { try detector.network.forward(x) }
        let b = try withPrecision(.int8) { try withNoGrad { try int8.network.forward(x) } }
        for (p, q) in zip(a, b) {
            for i in 0..<p.count { difference += Double(abs(p.pointer[i] - q.pointer[i])); magnitude += Double(abs(p.pointer[i])) }
        }
        // Each fp32 box is matched by the best unmatched int8 box of its class with IoU >= 0.5.
        let truth = try detector.detect([image])[0], found = try withPrecision(.int8) { try int8.detect([image])[0] }
        fp32Boxes += truth.count; int8Boxes += found.count
        var used = Set<Int>()
        for t in truth {
            let best = found.indices.filter { !used.contains($0) && found[$0].classIndex == t.classIndex }
                .map { ($0, found[$0].box.iou(t.box)) }.max { $0.1 < $1.1 }
            guard let (j, iou) = best, iou >= 0.5 else { continue }
            used.insert(j); matched += 1; iouSum += Double(iou); scoreChange += Double(abs(found[j].score - t.score))
        }
        // COCO mAP of int8's ranked boxes (threshold 0.005) with fp32's boxes as the ground truth: 1.0 is full agreement.
        objects += truth.map { .init(image: index, classID: $0.classIndex, box: box($0.box)) }
        predictions += try withPrecision(.int8) { try int8.detect([image], threshold: 0.005)[0] }
            .map { .init(image: index, classID: $0.classIndex, score: Double($0.score), box: box($0.box)) }
    }
    let map = DetectionEvaluation.evaluate(objects: objects, predictions: predictions)
    print("rawerr\tgraft\t\(String(format: "%.4f", difference / magnitude))\t\(heldOut.count)")
    print("agreement\t\(heldOut.count)\t\(fp32Boxes)\t\(int8Boxes)\t\(matched)\t"
          + String(format: "%.4f\t%.4f\t%.4f\t%.4f", iouSum / Double(max(matched, 1)), scoreChange / Double(max(matched, 1)), map.map50, map.map5095))
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
