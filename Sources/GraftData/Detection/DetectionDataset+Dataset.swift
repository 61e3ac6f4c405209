import Foundation

/// A detection set is a `Dataset` of images whose targets are their objects (`ItemTarget.boxes`), so the
/// job path's loaders, splits and evaluation read it like any other data. Its classes belong to objects,
/// not to images: `label(at:)` is only a stratum for splitting (the first object's class, 0 for an image
/// without objects) and `labelsAreClasses` is false.
extension DetectionDataset: Dataset {
    public var count: Int { items.count }
    public var kind: DataKind { .image }
    public var labelsAreClasses: Bool { false }
    public func label(at index: Int) -> Int { items[index].objects.first?.classIndex ?? 0 }
    public func sourceID(at index: Int) -> String { items[index].image.path }
    public func item(at index: Int) throws -> DataItem { .image(try ImageDecoder().decode(contentsOf: items[index].image)) }
    public func target(at index: Int) -> ItemTarget { .boxes(items[index].objects) }
}
