import Dispatch
import Foundation
import GraftWeights
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps atomic writes from leaving temporary files behind. Graft's atomic writes
/// (GraftWeights' `writeAtomically`: safetensors, .npy) write `.<name>.<pid>.<random>.tmp` beside the
/// target, then rename it over the target. A kill between the two leaves that file, so:
/// - on SIGINT/SIGTERM (and SIGHUP) this process removes its own temporary files for every guarded
///   target, then dies of the same signal;
/// - SIGKILL cannot be caught: the next run writing the same target removes temporary files whose
///   process no longer exists (a live writer's file is left alone).
enum TemporaryFiles {
    /// Call before writing `target`: sweeps stale temporary files beside it and registers it for
    /// clean-up if this process is interrupted.
    static func guardOutput(_ target: URL) {
        for stale in AtomicFile.removeStaleTemporaries(in: target.deletingLastPathComponent(), for: target.lastPathComponent) {
            CLIOutput.log("removed stale temporary file \(stale.path)")
        }
        SignalCleanup.shared.register(target)
    }
}

/// The signal handlers behind `TemporaryFiles.guardOutput`, installed once per process.
private final class SignalCleanup: Sendable {
    static let shared = SignalCleanup()
    /// The outputs whose temporary files to remove, and the signal sources (kept alive here).
    private let state = Mutex<(targets: [URL], sources: [DispatchSourceSignal])>(([], []))

    func register(_ target: URL) {
        state.withLock { state in
            state.targets.append(target)
            guard state.sources.isEmpty else { return }
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                // Dispatch sees the signal only once its default action (terminate) is off.
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { [self] in self.cleanUpAndDie(sig) }
                source.resume()
                state.sources.append(source)
            }
        }
    }

    private func cleanUpAndDie(_ sig: Int32) {
        // A target registered after this snapshot is swept by the next run (its files carry this pid).
        let targets = state.withLock { $0.targets }
        let mine = getpid()
        for target in targets {
            for file in AtomicFile.temporaryFiles(in: target.deletingLastPathComponent(), for: target.lastPathComponent, ownedBy: { $0 == mine }) {
                unlink(file.path)
            }
        }
        // Die of the signal itself, so the parent sees why (exit status 128 + signal in a shell).
        // Dispatch keeps the signal blocked in its threads: unblock it here or raise() only queues it.
        signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(sig)
        _exit(128 + sig)
    }
}
