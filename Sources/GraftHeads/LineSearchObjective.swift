/// A smooth objective that L-BFGS minimises from its current point. Moving along a line is split
/// from the full gradient so an objective can make line-search trials cheap (the multinomial loss
/// evaluates them from cached logits without touching the feature matrix).
protocol LineSearchObjective: AnyObject {
    /// Length of the parameter vector.
    var parameterCount: Int { get }
    /// Value at the current point; writes the gradient there.
    func valueAndGradient(into gradient: inout [Float]) throws(HeadsError) -> Double
    /// Fixes the search direction for the following `valueAndSlope(step:)` calls.
    func setDirection(_ direction: [Float]) throws(HeadsError)
    /// Value and directional derivative at `current + step * direction`.
    func valueAndSlope(step: Double) -> (value: Double, slope: Double)
    /// Moves the current point to `current + step * direction`.
    func advance(step: Double)
}
