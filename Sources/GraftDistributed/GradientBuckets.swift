import Foundation

/// Averages gradients over the ranks in buckets, the way PyTorch's DDP reducer
/// does: parameters are packed into buckets of about `bucketBytes` in reverse
/// order (the last layer's gradients are ready first in backward), and a
/// bucket's allreduce starts as soon as all its gradients are in, while the
/// backward pass computes the rest.
///
/// Buckets start strictly in index order, so every rank issues the same
/// collectives in the same order even when gradients arrive in another one.
/// Works on flat float buffers; `GraftTransfer`'s `DataParallel` feeds it tensors.
public final class GradientBuckets {
    public let communicator: Communicator
    /// Start buckets during backward (DDP) or only in `finish` (for measuring).
    public var overlap: Bool

    /// Where parameter `i`'s gradient lives: bucket and offset in it.
    let slots: [(bucket: Int, offset: Int)]
    let counts: [Int]
    let buckets: [Bucket]
    var nextToStart = 0
    /// Gradients are multiplied by this before the sum (1/size for a plain mean).
    var scale: Float = 1

    /// Time spent waiting for reductions in `finish` (communication not hidden behind backward).
    public private(set) var exposedSeconds = 0.0
    /// Buckets started before `finish`, summed over steps.
    public private(set) var bucketsStartedEarly = 0
    public private(set) var steps = 0
    public var bucketCount: Int { buckets.count }
    public var totalBytes: Int { counts.reduce(0, +) * MemoryLayout<Float>.size }

    final class Bucket {
        let parameters: [Int]
        let storage: UnsafeMutableBufferPointer<Float>
        var missing: Int
        var pending: PendingReduction?
        var filled: Set<Int> = []
        init(parameters: [Int], count: Int) {
            self.parameters = parameters
            storage = .allocate(capacity: count)
            storage.initialize(repeating: 0)
            missing = parameters.count
        }
        deinit { storage.deallocate() }
    }

    /// - Parameter counts: element counts of the parameters, in the model's order.
    public init(communicator: Communicator, counts: [Int], bucketBytes: Int = 4 << 20, overlap: Bool = true) {
        self.communicator = communicator
        self.counts = counts
        self.overlap = overlap
        var groups: [[Int]] = [], current: [Int] = [], bytes = 0
        for index in counts.indices.reversed() {
            current.append(index); bytes += counts[index] * MemoryLayout<Float>.size
            if bytes >= bucketBytes { groups.append(current); current = []; bytes = 0 }
        }
        if !current.isEmpty { groups.append(current) }
        var slots = [(bucket: Int, offset: Int)](repeating: (0, 0), count: counts.count)
        buckets = groups.enumerated().map { b, members in
            var offset = 0
            for index in members { slots[index] = (b, offset); offset += counts[index] }
            return Bucket(parameters: members, count: offset)
        }
        self.slots = slots
        scale = 1 / Float(communicator.size)
    }

    /// Sets what each rank's gradient is weighted by before the sum (its share
    /// of the global batch; `1/size` when the shares are equal).
    public func setWeight(_ weight: Float) { scale = weight }

    /// Parameter `index`'s gradient for this step is final (nil: it got none,
    /// counted as zeros). Starts every bucket that is now complete, in order.
    public func gradientReady(_ index: Int, _ gradient: UnsafeBufferPointer<Float>?) throws {
        let (b, offset) = slots[index]
        let bucket = buckets[b]
        guard bucket.filled.insert(index).inserted else { return }
        let destination = UnsafeMutableBufferPointer(rebasing: bucket.storage[offset..<(offset + counts[index])])
        if let gradient, let source = gradient.baseAddress {
            precondition(gradient.count == counts[index], "gradient of parameter \(index) has \(gradient.count) values, expected \(counts[index])")
            let s = scale
            for i in 0..<gradient.count { destination[i] = source[i] * s }
        } else {
            destination.update(repeating: 0)
        }
        bucket.missing -= 1
        if overlap { try startCompleteBuckets() }
        // Open MPI moves a non-blocking collective forward only inside MPI calls.
        for started in buckets[..<nextToStart] { try started.pending?.test() }
    }

    private func startCompleteBuckets() throws {
        while nextToStart < buckets.count, buckets[nextToStart].missing == 0 {
            buckets[nextToStart].pending = try communicator.iallreduce(buckets[nextToStart].storage)
            nextToStart += 1
            bucketsStartedEarly += 1
        }
    }

    /// Completes the step: parameters without a gradient count as zeros,
    /// the remaining buckets start, and `write` receives each parameter's
    /// averaged gradient. Resets for the next step.
    public func finish(_ write: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        for (index, _) in counts.enumerated() where !buckets[slots[index].bucket].filled.contains(index) {
            try gradientReady(index, nil)
        }
        let started = Date()
        while nextToStart < buckets.count {
            buckets[nextToStart].pending = try communicator.iallreduce(buckets[nextToStart].storage)
            nextToStart += 1
        }
        for bucket in buckets { try bucket.pending?.wait() }
        exposedSeconds += Date().timeIntervalSince(started)
        for (index, count) in counts.enumerated() {
            let (b, offset) = slots[index]
            try write(index, UnsafeBufferPointer(rebasing: buckets[b].storage[offset..<(offset + count)]))
        }
        for bucket in buckets { bucket.missing = bucket.parameters.count; bucket.filled.removeAll(keepingCapacity: true); bucket.pending = nil }
        nextToStart = 0
        steps += 1
    }
}
