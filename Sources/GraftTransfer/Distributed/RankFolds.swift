import GraftDistributed
import GraftHeads

/// Cross-validation folds spread over the ranks of a data-parallel job: fold f runs on rank
/// f mod N, then one allreduce (each rank's folds, zeros elsewhere; adding zeros is exact) gives
/// every rank every fold's scores, so all ranks choose the C one process chooses.
struct RankFolds: FoldDistribution {
    let communicator: Communicator

    /// Folds over `Communicator.world` when a launcher started this process with other ranks.
    static func ifLaunched() -> RankFolds? {
        Communicator.world.isDistributed ? RankFolds(communicator: .world) : nil
    }

    func computesFold(_ fold: Int) -> Bool { fold % communicator.size == communicator.rank }

    func exchange(_ scores: [[Double?]]) throws -> [[Double]] {
        let folds = scores.first?.count ?? 0
        let summed = try communicator.allreduce(scores.flatMap { $0.map { $0 ?? 0 } })
        return scores.indices.map { g in Array(summed[(g * folds)..<((g + 1) * folds)]) }
    }
}
