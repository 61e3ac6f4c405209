/// What a collective can fail with: a typed error naming the call and the rank,
/// never a hang or a crash.
public enum DistributedError: Error, CustomStringConvertible, Sendable {
    /// An MPI call returned an error (the error handler is MPI_ERRORS_RETURN).
    case mpi(call: String, code: Int32, message: String, rank: Int)
    /// Ranks passed buffers of different lengths to one collective.
    case mismatchedLength(call: String, expected: Int, got: Int, rank: Int)
    /// A buffer too large for MPI's Int32 counts.
    case tooLarge(call: String, count: Int)

    public var description: String {
        switch self {
        case let .mpi(call, code, message, rank): "\(call) failed on rank \(rank) (MPI error \(code)): \(message)"
        case let .mismatchedLength(call, expected, got, rank):
            "\(call) on rank \(rank): rank 0 has \(expected) values, this rank \(got) (ranks disagree on the model or batch)"
        case let .tooLarge(call, count): "\(call): \(count) elements exceed MPI's 2^31-1 count limit"
        }
    }
}
