import GraftDistributed
import GraftNN
import GraftTensor

/// What `Trainer` asks when it trains data-parallel over the ranks of a
/// communicator: which items this rank loads, and the gradient average after
/// each backward pass. Each global batch of `batchSize` items (the single
/// process's batch, in the single process's shuffled order) is cut into
/// `size` contiguous parts, part `rank` for this rank, so N ranks with
/// B/N items each take exactly the steps one process with B takes.
///
/// Only rank 0 writes checkpoints; every rank evaluates the whole validation
/// split (same weights, same result, so early stopping agrees). Batch-norm
/// statistics are not synchronised: layers that train batch norm see only
/// their rank's part of the batch (frozen batch norm is exact).
public final class DistributedTraining {
    public let communicator: Communicator
    public var bucketBytes: Int
    public var overlap: Bool
    public private(set) var dataParallel: DataParallel?
    /// (this rank's first item in the global batch, its items, the global batch's items) for each
    /// step of the current epoch.
    var shares: [(first: Int, local: Int, global: Int)] = []
    /// The model's dropout layers, told which rows of each global batch this rank holds.
    var dropoutLayers: [Dropout] = []
    var step = 0

    public init(communicator: Communicator = .world, bucketBytes: Int = 4 << 20, overlap: Bool = true) {
        self.communicator = communicator; self.bucketBytes = bucketBytes; self.overlap = overlap
    }

    public var isRoot: Bool { communicator.isRoot }

    /// Data-parallel training over `Communicator.world` when a launcher started this process with
    /// other ranks; nil (train alone) otherwise.
    public static func ifLaunched() -> DistributedTraining? {
        Communicator.world.isDistributed ? DistributedTraining() : nil
    }

    /// Broadcasts rank 0's model and hooks the gradient averaging onto `parameters`.
    public func attach(module: Module, parameters: [Tensor]) throws {
        dataParallel = try DataParallel(module: module, parameters: parameters, communicator: communicator,
                                        bucketBytes: bucketBytes, overlap: overlap)
        dropoutLayers = Trainer.dropoutLayers(in: module)
    }

    /// The items this rank loads in `epoch`, in order, and its batch size: the
    /// loader serves them unshuffled (the shuffle happened here, with the
    /// loader's own generator, so the global order equals a single process's).
    public func epochPlan(train: [Int], batchSize: Int, seed: UInt64, epoch: Int) throws -> (indices: [Int], batchSize: Int) {
        let n = communicator.size
        guard batchSize % n == 0 else {
            throw TransferError.unsupported("batch size \(batchSize) does not split evenly over \(n) ranks: use a multiple of \(n)")
        }
        var order = train
        var generator = SeededGenerator(seed: seed, epoch: epoch, index: -1)
        generator.shuffle(&order)
        var indices: [Int] = []
        shares = []
        var start = 0
        while start < order.count {
            let global = min(batchSize, order.count - start)
            // A last batch with fewer items than ranks would leave a rank without a step: dropped.
            if global < n { break }
            let (lower, upper) = Self.part(communicator.rank, of: n, count: global)
            indices += order[(start + lower)..<(start + upper)]
            shares.append((lower, upper - lower, global))
            start += global
        }
        step = 0
        setShare()
        return (indices, batchSize / n)
    }

    /// Part `rank` of `count` items cut into `n` contiguous parts whose sizes differ by at most one.
    static func part(_ rank: Int, of n: Int, count: Int) -> (Int, Int) {
        let base = count / n, extra = count % n
        let lower = rank * base + min(rank, extra)
        return (lower, lower + base + (rank < extra ? 1 : 0))
    }

    /// Called by `Trainer.trainStep` after `backward()`, before clipping and the step.
    public func afterBackward() throws {
        try dataParallel?.synchronizeGradients()
        step += 1
        setShare()
    }

    private func setShare() {
        guard step < shares.count else { return }
        let share = shares[step]
        dataParallel?.setShare(local: share.local, global: share.global)
        for dropout in dropoutLayers { dropout.batchShard = BatchShard(first: share.first, total: share.global) }
    }
}
