/// The compute kernels: oneDNN primitives (cached per shape) behind plain
/// functions over raw Float32 pointers. Activations are NHWC, convolution
/// weights OIHW and linear weights [out, in], as in PyTorch checkpoints.
/// Callers validate shapes; a configuration oneDNN rejects, or memory it cannot get, throws a
/// `KernelError`. Caches are bounded (`cacheLimits`).
public enum Kernels {
    /// Drops every cached primitive, scratch buffer and reordered weight.
    public static func clearCaches() {
        PlanCaches.removeAll()
        WeightCache.shared.removeAll()
        ExecutionContext.drain()
    }

    /// Forgets the reordered copies of one weight (call when its storage is freed).
    public static func forgetWeight(id: Int) { WeightCache.shared.forget(id: id) }
}
