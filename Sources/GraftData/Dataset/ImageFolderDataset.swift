import Foundation

/// Images in one subfolder per class (the torchvision `ImageFolder` / Keras /
/// Create ML convention): `root/<class>/**/<file>`.
///
/// Class names are the subfolder names sorted by code point; files are listed
/// recursively in sorted order, hidden files (dot files) skipped. Every other
/// file counts as an item, whatever its extension: the format is detected when
/// it is loaded, and unreadable files surface as `ImageError`s at load time
/// (the loader lists and skips them, or stops in strict mode).
public struct ImageFolderDataset: Dataset {
    public let root: URL
    public let classNames: [String]
    /// Paths relative to `root`, e.g. `cat/001.jpg`.
    public let relativePaths: [String]
    private let labelsByIndex: [Int]
    public let decoder: ImageDecoder

    public var count: Int { relativePaths.count }
    public var kind: DataKind { .image }

    /// Scans `root`. Throws `DatasetError.emptyClass` naming the first empty class
    /// folder, `.noClasses` when there are no subfolders.
    public init(root: URL, decoder: ImageDecoder = ImageDecoder()) throws(DatasetError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory) else {
            throw .unreadable(path: root.path, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw .notADirectory(path: root.path) }
        let entries: [String]
        do {
            entries = try fm.contentsOfDirectory(atPath: root.path)
        } catch {
            throw .unreadable(path: root.path, reason: ImageDecoder.whyUnreadable(root, error))
        }
        let classes = entries.filter { name in
            var dir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &dir)
                && dir.boolValue
        }
        guard !classes.isEmpty else { throw .noClasses(root: root.path) }
        let names = classes.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        var paths: [String] = []
        var labels: [Int] = []
        for (label, name) in names.enumerated() {
            let folder = root.appendingPathComponent(name)
            var visited: Set<String> = []
            let files = try Self.listFiles(in: folder, relativeTo: name, visited: &visited)
            guard !files.isEmpty else { throw .emptyClass(name: name, path: folder.path) }
            paths += files
            labels += [Int](repeating: label, count: files.count)
        }
        self.root = root
        self.classNames = names
        self.relativePaths = paths
        self.labelsByIndex = labels
        self.decoder = decoder
    }

    /// Non-hidden files under `folder`, recursively, sorted by relative path. Linked
    /// folders are followed once (`visited` holds resolved paths), so link cycles end.
    private static func listFiles(in folder: URL, relativeTo prefix: String,
                                  visited: inout Set<String>) throws(DatasetError) -> [String] {
        let fm = FileManager.default
        guard visited.insert(folder.resolvingSymlinksInPath().path).inserted else { return [] }
        let entries: [String]
        do {
            entries = try fm.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .unreadable(path: folder.path, reason: ImageDecoder.whyUnreadable(folder, error))
        }
        var out: [String] = []
        for name in entries.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })
        where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            var dir: ObjCBool = false
            let exists = fm.fileExists(atPath: url.path, isDirectory: &dir)
            if exists && dir.boolValue {
                out += try listFiles(in: url, relativeTo: prefix + "/" + name, visited: &visited)
            } else {
                out.append(prefix + "/" + name)   // broken links too: they fail, named, at load time
            }
        }
        return out
    }

    public func label(at index: Int) -> Int { labelsByIndex[index] }
    public func sourceID(at index: Int) -> String { relativePaths[index] }
    public func url(at index: Int) -> URL { root.appendingPathComponent(relativePaths[index]) }

    public func item(at index: Int) throws -> DataItem {
        .image(try image(at: index))
    }

    /// Decodes item `index`.
    public func image(at index: Int) throws(ImageError) -> RGBImage {
        try decoder.decode(contentsOf: url(at: index))
    }
}
