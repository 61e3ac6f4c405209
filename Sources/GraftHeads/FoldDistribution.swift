/// Who computes which cross-validation folds. Alone (nil in the options) every fold runs here;
/// data-parallel jobs (GraftTransfer's `RankFolds`) give fold f to rank f mod N and then hand every
/// rank every fold's scores. Folds are independent (a fold's warm start runs over the C grid inside
/// the fold), so the chosen C and the fitted head are the ones one process gets.
public protocol FoldDistribution: Sendable {
    /// Whether this process computes fold `fold`.
    func computesFold(_ fold: Int) -> Bool
    /// `scores[g][f]` for every grid point g and fold f, from this process's entries (nil where
    /// another process computed the fold).
    func exchange(_ scores: [[Double?]]) throws -> [[Double]]
}

extension FoldDistribution {
    /// `exchange` with its failure as a `HeadsError`.
    func exchangeScores(_ scores: [[Double?]]) throws(HeadsError) -> [[Double]] {
        do { return try exchange(scores) } catch let error as HeadsError { throw error } catch {
            throw .foldExchange(reason: String(describing: error))
        }
    }
}

/// Runs `score(fold)` for the folds this process computes (all of them when `distribution` is nil)
/// and returns every fold's scores per grid point, `[grid][fold]`.
func crossValidationScores(folds: Int, grid: Int, distribution: (any FoldDistribution)?,
                           score: (Int) throws(HeadsError) -> [Double]) throws(HeadsError) -> [[Double]] {
    var scores = [[Double?]](repeating: [Double?](repeating: nil, count: folds), count: grid)
    for f in 0..<folds where distribution?.computesFold(f) ?? true {
        for (g, value) in try score(f).enumerated() { scores[g][f] = value }
    }
    guard let distribution else { return scores.map { $0.map { $0! } } }
    return try distribution.exchangeScores(scores)
}
