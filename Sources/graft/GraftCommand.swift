import ArgumentParser
import Graft
import GraftData
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
                      TrainCommand.self, CompareCommand.self, ServeCommand.self, InspectCommand.self, ConvertCommand.self])
}
