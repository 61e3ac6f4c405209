/// Children keyed "0", "1", ... (PyTorch's `nn.ModuleList`), with no forward of its own.
public final class ModuleList<Element: Module>: Module, @unchecked Sendable {  // unchecked: as Module
    public let items: [Element]
    public init(_ items: [Element]) { self.items = items }
    public override var keyedChildren: [(String, Module)] { items.enumerated().map { (String($0.offset), $0.element) } }
    public var count: Int { items.count }
    public subscript(_ i: Int) -> Element { items[i] }
}
