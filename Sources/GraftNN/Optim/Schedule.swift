import Foundation

/// Learning-rate multiplier as a function of the step (0-based).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// Linear warm-up from 0 over `warmup` steps, then cosine decay to
    /// `floor` (a fraction of the peak) at `total`.
    case warmupCosine(warmup: Int, total: Int, floor: Float = 0)
    /// One-cycle (Smith): warm up to the peak over `pctStart` of the steps
    /// from peak/25, then cosine anneal to peak/1e4, as PyTorch's OneCycleLR.
    case oneCycle(total: Int, pctStart: Float = 0.3)

    public func factor(step: Int) -> Float {
        switch self {
        case .constant: return 1
        case let .warmupCosine(warmup, total, floor):
            if step < warmup { return Float(step + 1) / Float(max(warmup, 1)) }
            let progress = Float(step - warmup) / Float(max(total - warmup, 1))
            return floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * min(progress, 1)))
        case let .oneCycle(total, pctStart):
            let up = max(Float(total) * pctStart - 1, 1), start: Float = 1 / 25, end: Float = start / 1e4
            func anneal(_ a: Float, _ b: Float, _ p: Float) -> Float { b + (a - b) / 2 * (1 + cos(Float.pi * min(max(p, 0), 1))) }
            let s = Float(step)
            if s <= up { return anneal(start, 1, s / up) }
            return anneal(1, end, (s - up) / max(Float(total) - 1 - up, 1))
        }
    }
}
