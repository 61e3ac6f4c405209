import Foundation

/// An object in a training image: its class and its box relative to the image (0...1, top-left corner).
public struct LabeledBox: Sendable, Equatable, Codable {
    public var classIndex: Int
    public var box: BoundingBox
    public init(classIndex: Int, box: BoundingBox) { self.classIndex = classIndex; self.box = box }
}

/// Images with labelled boxes, from YOLO txt folders or COCO JSON, validated while reading.
public struct DetectionDataset: Sendable {
    public struct Item: Sendable, Equatable {
        public var image: URL
        public var objects: [LabeledBox]
    }

    public var classNames: [String]
    public var items: [Item]

    /// Boxes may overhang the image by this much (relative) before they count as outside it.
    public static let tolerance: Float = 1e-3

    /// YOLO layout: `images/NAME.jpg|png` and `labels/NAME.txt` (one `class cx cy w h` line per object,
    /// relative coordinates; a missing or empty file is an image without objects), class names in
    /// `classes.txt` (one per line) or `names`.
    public static func yolo(_ root: URL, classNames: [String]? = nil) throws -> DetectionDataset {
        let fm = FileManager.default
        let images = root.appendingPathComponent("images"), labels = root.appendingPathComponent("labels")
        let names: [String]
        if let classNames { names = classNames } else {
            let file = ["classes.txt", "names", "obj.names"].map { root.appendingPathComponent($0) }.first { fm.fileExists(atPath: $0.path) }
            guard let file, let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw DetectionDataError.unreadable(path: root.path, reason: "no classes.txt (one class name per line)")
            }
            names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard !names.isEmpty else { throw DetectionDataError.unreadable(path: root.path, reason: "no class names") }
        guard let files = try? fm.contentsOfDirectory(atPath: images.path) else {
            throw DetectionDataError.unreadable(path: images.path, reason: "not a folder of images")
        }
        var items: [Item] = []
        for file in files.sorted() where ["jpg", "jpeg", "png"].contains((file as NSString).pathExtension.lowercased()) {
            let label = labels.appendingPathComponent((file as NSString).deletingPathExtension + ".txt")
            let objects = fm.fileExists(atPath: label.path) ? try yoloLabels(label, classes: names.count) : []
            items.append(Item(image: images.appendingPathComponent(file), objects: objects))
        }
        guard !items.isEmpty else { throw DetectionDataError.unreadable(path: images.path, reason: "no .jpg or .png images") }
        return DetectionDataset(classNames: names, items: items)
    }

    /// One YOLO label file: `class cx cy w h` per line, blank lines and `#` comments allowed.
    public static func yoloLabels(_ url: URL, classes: Int) throws -> [LabeledBox] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw DetectionDataError.unreadable(path: url.path, reason: "not UTF-8 text")
        }
        var out: [LabeledBox] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            func fail(_ reason: String) -> DetectionDataError { .label(path: url.path, line: n + 1, reason: reason) }
            guard fields.count == 5 else { throw fail("expected 'class cx cy w h', found \(fields.count) fields") }
            guard let c = Int(fields[0]) else { throw fail("class '\(fields[0].prefix(20))' is not an integer") }
            guard (0..<classes).contains(c) else { throw fail("class \(c) is not one of the \(classes) classes (0...\(classes - 1))") }
            let v = fields[1...].map { Float($0) }
            guard v.allSatisfy({ $0?.isFinite == true }) else { throw fail("coordinates must be finite numbers") }
            let (cx, cy, w, h) = (v[0]!, v[1]!, v[2]!, v[3]!)
            guard w > 0, h > 0 else { throw fail("box of size \(w) x \(h): width and height must be positive") }
            let box = BoundingBox(centerX: cx, centerY: cy, width: w, height: h)
            guard box.x >= -tolerance, box.y >= -tolerance, box.maxX <= 1 + tolerance, box.maxY <= 1 + tolerance else {
                throw fail("box (cx \(cx), cy \(cy), w \(w), h \(h)) is outside the image (relative coordinates 0...1)")
            }
            out.append(LabeledBox(classIndex: c, box: box.clipped(width: 1, height: 1)))
        }
        return out
    }

    /// COCO detection JSON (`images` with id/file_name/width/height, `annotations` with image_id,
    /// category_id and bbox [x, y, w, h] in pixels, `categories` with id/name); image files are looked
    /// up under `images` (default: the JSON's folder). Crowd annotations are skipped.
    public static func coco(_ json: URL, images: URL? = nil) throws -> DetectionDataset {
        struct File: Decodable {
            struct Image: Decodable { let id: Int; let file_name: String; let width: Int; let height: Int }
            struct Annotation: Decodable { let id: Int?; let image_id: Int; let category_id: Int; let bbox: [Double]; let iscrowd: Int? }
            struct Category: Decodable { let id: Int; let name: String }
            let images: [Image]; let annotations: [Annotation]; let categories: [Category]
        }
        let path = json.path
        guard let data = try? Data(contentsOf: json) else { throw DetectionDataError.unreadable(path: path, reason: "cannot read the file") }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw DetectionDataError.coco(path: path, entry: "the file", reason: "not COCO detection JSON: \(error)")
        }
        let categories = file.categories.sorted { $0.id < $1.id }
        var classOf: [Int: Int] = [:]
        for (i, c) in categories.enumerated() {
            guard classOf.updateValue(i, forKey: c.id) == nil else {
                throw DetectionDataError.coco(path: path, entry: "categories", reason: "id \(c.id) appears twice")
            }
        }
        var imageIndex: [Int: Int] = [:]
        let folder = images ?? json.deletingLastPathComponent()
        var items: [Item] = []
        for (i, im) in file.images.enumerated() {
            guard im.width > 0, im.height > 0 else {
                throw DetectionDataError.coco(path: path, entry: "images[\(i)] (id \(im.id))", reason: "size \(im.width)x\(im.height)")
            }
            guard imageIndex.updateValue(items.count, forKey: im.id) == nil else {
                throw DetectionDataError.coco(path: path, entry: "images[\(i)]", reason: "image id \(im.id) appears twice")
            }
            items.append(Item(image: folder.appendingPathComponent(im.file_name), objects: []))
        }
        for (i, a) in file.annotations.enumerated() {
            let entry = "annotations[\(i)]" + (a.id.map { " (id \($0))" } ?? "")
            guard let item = imageIndex[a.image_id] else { throw DetectionDataError.coco(path: path, entry: entry, reason: "unknown image_id \(a.image_id)") }
            guard let c = classOf[a.category_id] else { throw DetectionDataError.coco(path: path, entry: entry, reason: "unknown category_id \(a.category_id)") }
            guard a.bbox.count == 4, a.bbox.allSatisfy(\.isFinite) else { throw DetectionDataError.coco(path: path, entry: entry, reason: "bbox must be 4 finite numbers") }
            if a.iscrowd == 1 { continue }
            let im = file.images[item]
            let (W, H) = (Double(im.width), Double(im.height))
            let (x, y, w, h) = (a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3])
            guard w > 0, h > 0 else { throw DetectionDataError.coco(path: path, entry: entry, reason: "bbox size \(w) x \(h) is not positive") }
            let tol = Double(tolerance)
            guard x >= -tol * W, y >= -tol * H, x + w <= W * (1 + tol), y + h <= H * (1 + tol) else {
                throw DetectionDataError.coco(path: path, entry: entry, reason: "bbox \(a.bbox) is outside the \(im.width)x\(im.height) image")
            }
            let box = BoundingBox(x: Float(x / W), y: Float(y / H), width: Float(w / W), height: Float(h / H)).clipped(width: 1, height: 1)
            items[item].objects.append(LabeledBox(classIndex: c, box: box))
        }
        return DetectionDataset(classNames: categories.map(\.name), items: items)
    }
}
