import Foundation
import Synchronization

/// How much the kernels layer keeps between calls. Every new input shape builds new oneDNN
/// primitives (and, for convolutions and weight-prepacked products, a reordered copy of the weights);
/// a server that sees many shapes (text of every length) would otherwise grow without end.
/// Least recently used entries go first; an evicted plan or weight copy is freed as soon as no
/// running call holds it.
public struct KernelCacheLimits: Sendable, Equatable {
    /// Primitives kept per kind of kernel (convolution, Winograd, matmul, pooling, batch norm,
    /// layer norm, softmax, eltwise). 256 holds every layer of the zoo's networks at a few batch
    /// sizes, training passes included.
    public var plansPerKind: Int
    /// Bytes of weights reordered into the layouts primitives chose.
    public var weightBytes: Int

    public init(plansPerKind: Int, weightBytes: Int) {
        self.plansPerKind = plansPerKind
        self.weightBytes = weightBytes
    }

    /// 256 plans per kind and 1 GiB of reordered weights, or `GRAFT_PLAN_CACHE` (plans) and
    /// `GRAFT_WEIGHT_CACHE_MB` when set.
    public static let `default` = KernelCacheLimits(
        plansPerKind: ProcessInfo.processInfo.environment["GRAFT_PLAN_CACHE"].flatMap(Int.init).map { max(1, $0) } ?? 256,
        weightBytes: (ProcessInfo.processInfo.environment["GRAFT_WEIGHT_CACHE_MB"].flatMap(Int.init) ?? 1024) << 20)

    static let planCapacity = Atomic<Int>(KernelCacheLimits.default.plansPerKind)
}

/// What the kernels layer holds now (see `Kernels.cacheUsage`).
public struct KernelCacheUsage: Sendable, Equatable {
    /// Primitives cached, all kinds together.
    public var plans: Int
    /// Bytes of reordered weights cached.
    public var weightBytes: Int
    /// Bytes of scratch held by idle execution contexts (one per concurrent caller, each as large as
    /// the largest call it ran).
    public var scratchBytes: Int
}

extension Kernels {
    /// The bounds on cached primitives and reordered weights; lowering them evicts at once (weights)
    /// or on the next new shape (plans).
    public static var cacheLimits: KernelCacheLimits {
        get {
            KernelCacheLimits(plansPerKind: KernelCacheLimits.planCapacity.load(ordering: .relaxed),
                              weightBytes: WeightCache.shared.capacityBytes)
        }
        set {
            KernelCacheLimits.planCapacity.store(max(1, newValue.plansPerKind), ordering: .relaxed)
            WeightCache.shared.capacityBytes = max(0, newValue.weightBytes)
        }
    }

    /// What the caches hold now.
    public static var cacheUsage: KernelCacheUsage {
        KernelCacheUsage(plans: PlanCaches.count, weightBytes: WeightCache.shared.totalBytes,
                         scratchBytes: ExecutionContext.pooledBytes)
    }
}
