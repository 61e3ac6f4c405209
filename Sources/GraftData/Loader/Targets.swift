/// What one labelled item is trained to predict. A data set gives class indices
/// (`Dataset.label(at:)`) unless it says otherwise (`Dataset.target(at:)`):
/// regression and multi-label data wrap a data set with a target per item.
public enum ItemTarget: Sendable, Equatable {
    /// An index into the data set's `classNames` (single-label classification).
    case classIndex(Int)
    /// A 0/1 indicator per label (multi-label classification).
    case labelVector([Float])
    /// One number per target (regression).
    case values([Float])
    /// The item's objects, boxes relative to the image (detection).
    case boxes([LabeledBox])
}

/// The targets of a batch's items, in item order, one case for the whole batch.
public enum BatchTargets: Sendable, Equatable {
    case classes([Int])
    /// `[count, width]` row-major 0/1 indicators.
    case labelVectors([Float], width: Int)
    /// `[count, width]` row-major values.
    case values([Float], width: Int)
    /// Each item's objects (detection), boxes relative to the item's image.
    case boxes([[LabeledBox]])

    /// Items the targets cover.
    public var count: Int {
        switch self {
        case let .classes(c): c.count
        case let .labelVectors(v, w), let .values(v, w): w > 0 ? v.count / w : 0
        case let .boxes(b): b.count
        }
    }

    /// Gathers per-item targets, which must all be of one kind and width.
    public init(_ items: [ItemTarget]) throws {
        guard let first = items.first else { self = .classes([]); return }
        switch first {
        case .classIndex:
            self = .classes(try items.map { item in
                guard case let .classIndex(c) = item else { throw BatchError.mixedTargets }
                return c
            })
        case let .labelVector(v0), let .values(v0):
            let isLabels: Bool = if case .labelVector = first { true } else { false }
            var flat: [Float] = []
            flat.reserveCapacity(items.count * v0.count)
            for item in items {
                switch item {
                case let .labelVector(v) where isLabels && v.count == v0.count: flat += v
                case let .values(v) where !isLabels && v.count == v0.count: flat += v
                default: throw BatchError.mixedTargets
                }
            }
            self = isLabels ? .labelVectors(flat, width: v0.count) : .values(flat, width: v0.count)
        case .boxes:
            self = .boxes(try items.map { item in
                guard case let .boxes(b) = item else { throw BatchError.mixedTargets }
                return b
            })
        }
    }

    /// These targets followed by `other`'s (the same kind and width).
    public func appending(_ other: BatchTargets) throws -> BatchTargets {
        switch (self, other) {
        case let (.classes(a), .classes(b)): return .classes(a + b)
        case let (.labelVectors(a, w), .labelVectors(b, w2)) where w == w2 || a.isEmpty: return .labelVectors(a + b, width: w2)
        case let (.values(a, w), .values(b, w2)) where w == w2 || a.isEmpty: return .values(a + b, width: w2)
        case let (.boxes(a), .boxes(b)): return .boxes(a + b)
        case (.classes([]), _): return other
        default: throw BatchError.mixedTargets
        }
    }
}
