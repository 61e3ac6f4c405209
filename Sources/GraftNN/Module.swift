import GraftTensor

/// A node of a network with named parameters, buffers and children.
///
/// Keys are the published ones (PyTorch `state_dict`, Hugging Face), so
/// loading pretrained weights is a name lookup. Subclasses list their
/// pieces once, in `keyedChildren` / `keyedParameters` / `keyedBuffers`;
/// dotted paths (`_blocks.3._bn1.weight`) are derived from those lists.
///
/// `@unchecked` (restated by every subclass, which adds its own layers): a module's
/// parameters and flags mutate only in the task that trains or loads it; inference from several
/// tasks only reads them (the folded and packed caches below them are behind `Mutex`es).
open class Module: @unchecked Sendable {
    /// When true, batch norm inside keeps its running statistics even in
    /// training mode (frozen layers behave as at inference: the Keras rule).
    public var isFrozen = false

    public init() {}

    open var keyedChildren: [(String, Module)] { [] }
    open var keyedParameters: [(String, Tensor)] { [] }
    /// State that is loaded and saved but not trained (BN running statistics).
    open var keyedBuffers: [(String, Tensor)] { [] }

    /// Every parameter under its dotted path, depth-first in declaration order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        keyedParameters.map { (prefix + $0.0, $0.1) }
            + keyedChildren.flatMap { $0.1.namedParameters(prefix: prefix + $0.0 + ".") }
    }

    public func namedBuffers(prefix: String = "") -> [(String, Tensor)] {
        keyedBuffers.map { (prefix + $0.0, $0.1) }
            + keyedChildren.flatMap { $0.1.namedBuffers(prefix: prefix + $0.0 + ".") }
    }

    /// Parameters and buffers together: what PyTorch calls the state dict.
    public func stateDict() -> [(String, Tensor)] {
        // Keep PyTorch's order within a module: parameters, then buffers, then children.
        func walk(_ m: Module, _ prefix: String) -> [(String, Tensor)] {
            m.keyedParameters.map { (prefix + $0.0, $0.1) } + m.keyedBuffers.map { (prefix + $0.0, $0.1) }
                + m.keyedChildren.flatMap { walk($0.1, prefix + $0.0 + ".") }
        }
        return walk(self, "")
    }

    public func namedModules(prefix: String = "") -> [(String, Module)] {
        [(prefix, self)] + keyedChildren.flatMap { $0.1.namedModules(prefix: prefix.isEmpty ? $0.0 : prefix + "." + $0.0) }
    }

    /// The child at a dotted path ("" is self).
    public func module(at path: String) -> Module? {
        namedModules().first { $0.0 == path }?.1
    }

    public var trainableParameters: [(String, Tensor)] { namedParameters().filter { $0.1.requiresGrad } }

    /// Whether any parameter below requires a gradient.
    public var hasTrainableParameters: Bool { namedParameters().contains { $0.1.requiresGrad } }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Stops gradients for every parameter below and freezes batch-norm statistics.
    public func freeze() {
        for (_, m) in namedModules() { m.isFrozen = true }
        for (_, p) in namedParameters() { p.requiresGrad = false; p.grad = nil }
    }

    public func unfreeze() {
        for (_, m) in namedModules() { m.isFrozen = false }
        for (_, p) in namedParameters() { p.requiresGrad = true }
    }

    public func zeroGrad() { for (_, p) in namedParameters() { p.grad = nil } }
}

/// A module that maps one tensor to one tensor.
public protocol UnaryLayer: Module {
    /// `training` selects batch statistics and active dropout; frozen
    /// modules keep inference behaviour for batch norm regardless.
    func forward(_ x: Tensor, training: Bool) throws -> Tensor
}

extension UnaryLayer {
    public func callAsFunction(_ x: Tensor, training: Bool = false) throws -> Tensor { try forward(x, training: training) }
}
