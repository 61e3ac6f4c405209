import Foundation

/// How this process was started: by an MPI launcher (mpirun, mpiexec, srun)
/// or on its own. Only a launched process initialises MPI, so a single
/// `graft` run never needs mpirun.
public enum Launch {
    /// Environment variables a launcher sets on every rank: Open MPI's
    /// mpirun, PMIx (srun --mpi=pmix, Open MPI 4+), and PMI-1/2 (MPICH, srun --mpi=pmi2).
    static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]

    /// True when a launcher started this process and `GRAFT_DISTRIBUTED` is not `0`.
    public static var isLaunchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        if env["GRAFT_DISTRIBUTED"] == "0" { return false }
        return launcherVariables.contains { env[$0] != nil }
    }
}
