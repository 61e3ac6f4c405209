import ArgumentParser
import Foundation
import Graft
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// Results go to stdout (one JSON document with `--json`); logs, warnings and item errors to stderr.
/// (Both forward to `CLIOutput`, so every command shares one encoder.)
func printJSON<T: Encodable>(_ value: T) throws {
    try CLIOutput.printJSON(value)
}

func printError(_ line: String) {
    CLIOutput.log(line)
}

/// `--split`: which part of a built-in data set.
enum DataPart: String, CaseIterable, ExpressibleByArgument { case train, test }

extension FeaturePooling: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension HeadKind: ExpressibleByArgument, CaseIterable {
    public static var allCases: [HeadKind] { [.logisticRegression, .linearSVM, .prototype, .nearestNeighbors, .ridge, .oneVsRest] }
}
extension TaskKind: ExpressibleByArgument {
}
extension TrainingOptions.OptimizerKind: ExpressibleByArgument, CaseIterable {
    public static var allCases: [Self] { [.sgd, .adamw] }
}
extension TrainingOptions.ScheduleKind: ExpressibleByArgument, CaseIterable {
    public static var allCases: [Self] { [.cosine, .oneCycle, .constant] }
}

/// `--lr 5e-4` or `--lr auto` (a learning-rate range test after the probe picks the head's rate).
enum LearningRateArgument: ExpressibleByArgument, Equatable {
    case value(Float)
    case auto
    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let v = Float(argument), v > 0, v.isFinite else { return nil }
        self = .value(v)
    }
    var value: Float? { if case let .value(v) = self { v } else { nil } }
    /// Sets the overrides' rate, or asks for the range test.
    func apply(to t: inout TrainingOverrides) {
        switch self {
        case let .value(v): t.learningRate = v
        case .auto: t.findsLearningRate = true
        }
    }
}

/// `--strategies scratch,logreg,svm,finetune`: a comma list checked by the parser.
struct StrategyList: ExpressibleByArgument {
    var names: [String]
    init?(argument: String) {
        names = argument.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, names.allSatisfy(Strategy.shortNames.contains) else { return nil }
    }
    static var allValueStrings: [String] { Strategy.shortNames }
    var defaultValueDescription: String { names.joined(separator: ",") }
}
