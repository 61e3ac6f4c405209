import Foundation
import GraftData
import GraftWeights

/// Built-in detection sets, made deterministically from packaged data on first use (docs/DETECTION.md).
///
/// `faces`: scikit-image's `lfw_subset` (100 grey 25x25 face crops, then 100 non-face crops) pasted at
/// random sizes (24 to 88 pixels) and places onto random crops of scikit-image's photos without people
/// (brick, grass, gravel, coffee, rocket, coins, ...), 256x256. Each image holds 1 to 3 faces, labelled
/// with their exact boxes (class `face`), and 0 to 2 non-face crops as unlabelled distractors, so a
/// detector must tell faces from other grey patches. Pasted crops do not overlap. Splits use disjoint
/// crops: train 120 images (faces 0-69), val 30 (faces 70-84), test 50 (faces 85-99). Seeded: the same
/// bytes on every machine. Written as YOLO folders `train/`, `val/`, `test/` under `$GRAFT_HOME/datasets/faces-v1`.
public enum DetectionSets {
    public static let builtinNames = ["faces"]

    /// The folder of built-in set `name`, made first when missing (atomically: a partial set is never seen).
    public static func make(_ name: String, home: URL = GraftHome.url, packages: URL = GraftHome.packages) throws -> URL {
        guard name == "faces" else { throw TransferError.emptyData("no built-in detection set '\(name)' (\(builtinNames.joined(separator: ", ")))") }
        let root = home.appendingPathComponent("datasets/faces-v1")
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("test/classes.txt").path) { return root }
        let skimage = packages.appendingPathComponent("scikit-image/skimage/data")
        try AtomicDirectory.write(root) { try writeFaces(into: $0, skimage: skimage) }
        return root
    }

    /// Photos of `skimage/data` used as backgrounds (none shows a person's face).
    static let backgrounds = ["brick.png", "grass.png", "gravel.png", "coffee.png", "rocket.jpg", "coins.png", "moon.png",
                              "text.png", "motorcycle_left.png", "retina.jpg", "hubble_deep_field.jpg", "page.png", "clock_motion.png", "color.png"]

    struct Part { var name: String; var images: Int; var faces: Range<Int>; var distractors: Range<Int> }
    static let parts = [Part(name: "train", images: 120, faces: 0..<70, distractors: 100..<170),
                        Part(name: "val", images: 30, faces: 70..<85, distractors: 170..<185),
                        Part(name: "test", images: 50, faces: 85..<100, distractors: 185..<200)]
    static let side = 256

    static func writeFaces(into root: URL, skimage: URL) throws {
        let crops = try Npy.read(skimage.appendingPathComponent("lfw_subset.npy"))
        guard crops.shape == [200, 25, 25] else {
            throw TransferError.emptyData("\(skimage.path)/lfw_subset.npy has shape \(crops.shape), not [200, 25, 25] (make setup installs scikit-image 0.25.2)")
        }
        let values = try crops.floats()
        func crop(_ i: Int) -> RGBImage {
            let grey = values[(i * 625)..<((i + 1) * 625)].map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
            return RGBImage(width: 25, height: 25, grey: grey)!
        }
        let decoder = ImageDecoder()
        let photos = try backgrounds.map { try decoder.decode(contentsOf: skimage.appendingPathComponent($0)) }
        let fm = FileManager.default
        for (p, part) in parts.enumerated() {
            let dir = root.appendingPathComponent(part.name)
            try fm.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
            try fm.createDirectory(at: dir.appendingPathComponent("labels"), withIntermediateDirectories: true)
            try Data("face\n".utf8).write(to: dir.appendingPathComponent("classes.txt"))
            for n in 0..<part.images {
                var g = SeededGenerator(seed: 0xFACE5, epoch: p, index: n)
                let photo = photos[g.below(photos.count)]
                // A random square crop of at least half the photo's shorter side.
                let short = min(photo.width, photo.height)
                let cropSide = short / 2 + g.below(short - short / 2 + 1)
                let region = PixelRect(x: g.below(photo.width - cropSide + 1), y: g.below(photo.height - cropSide + 1), width: cropSide, height: cropSide)
                var canvas = Resampler.resize(photo, region: region, width: side, height: side)
                var placed: [PixelRect] = [], labels = ""
                let faces = 1 + g.below(3), distractors = g.below(3)
                for k in 0..<(faces + distractors) {
                    let isFace = k < faces
                    let pool = isFace ? part.faces : part.distractors
                    let source = crop(pool.lowerBound + g.below(pool.count))
                    let size = 24 + g.below(65)
                    // Up to 20 tries at a place that overlaps no earlier crop.
                    var spot: PixelRect?
                    for _ in 0..<20 {
                        let r = PixelRect(x: g.below(side - size + 1), y: g.below(side - size + 1), width: size, height: size)
                        if !placed.contains(where: { overlaps($0, r) }) { spot = r; break }
                    }
                    guard let spot else { continue }
                    placed.append(spot)
                    paste(Resampler.resize(source, width: size, height: size), at: spot, into: &canvas)
                    if isFace {
                        let s = Double(side)
                        labels += String(format: "0 %.6f %.6f %.6f %.6f\n", (Double(spot.x) + Double(size) / 2) / s,
                                         (Double(spot.y) + Double(size) / 2) / s, Double(size) / s, Double(size) / s)
                    }
                }
                let stem = String(format: "%@-%03d", part.name, n)
                guard let png = PNGEncoder.encode(canvas) else { throw TransferError.emptyData("could not encode \(stem).png") }
                try png.write(to: dir.appendingPathComponent("images/\(stem).png"))
                try Data(labels.utf8).write(to: dir.appendingPathComponent("labels/\(stem).txt"))
            }
        }
    }

    static func overlaps(_ a: PixelRect, _ b: PixelRect) -> Bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    static func paste(_ patch: RGBImage, at r: PixelRect, into canvas: inout RGBImage) {
        for y in 0..<patch.height {
            for x in 0..<patch.width {
                for c in 0..<3 { canvas.pixels[((r.y + y) * canvas.width + r.x + x) * 3 + c] = patch.pixels[(y * patch.width + x) * 3 + c] }
            }
        }
    }
}
