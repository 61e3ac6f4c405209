import ArgumentParser
import Foundation
import Graft
import GraftData
import GraftDistributed
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

@main
struct GraftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Deep transfer learning: pretrained models, feature extraction, fine-tuning.",
        version: GraftVersion.current,
        subcommands: [DoctorCommand.self, ModelsCommand.self, PredictCommand.self, DetectCommand.self, EmbedCommand.self,
                      SimilarCommand.self,
                      NeighborsCommand.self, ExtractCommand.self, FitCommand.self, EvaluateCommand.self, FinetuneCommand.self,
                      TrainCommand.self, CompareCommand.self, ServeCommand.self, InspectCommand.self, ConvertCommand.self,
                      ExportCommand.self, QuantizeCommand.self])

    /// ArgumentParser's main, plus the end of an MPI job (docs/DISTRIBUTED.md): under mpirun every
    /// rank runs the command, only rank 0 prints to stdout, and the ranks finish together; a rank
    /// that fails ends the whole job. Without a launcher this is ArgumentParser's main.
    static func main() async {
        if Launch.isLaunchedByMPI && !Communicator.world.isRoot { _ = dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
            try Communicator.world.finish()
        } catch {
            if exitCode(for: error).isSuccess { try? Communicator.world.finish() }   // --help, --version
            exit(withError: error)
        }
    }
}
