import ArgumentParser
import Foundation

// The enumerated options of `graft`. Each is `ExpressibleByArgument` + `CaseIterable` over its
// raw values, so `--help` lists the values and ArgumentParser rejects anything else with exit
// status 64 before `run()`. Declare them as, for instance:
//   @Option(help: "Head on the features.") var head: HeadOption = .logreg
//   @Option(help: "Strategies to run, comma separated.") var strategies = StrategyList.all
// (`--pool` is `FeaturePooling` itself, made `ExpressibleByArgument` in ExtractCommand.swift.)

/// `--head`: the linear model on frozen features.
enum HeadOption: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
    case logreg, svm
}

/// `--optimizer`.
enum OptimizerOption: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
    case sgd, adamw
}

/// `--schedule`: the learning-rate schedule.
enum ScheduleOption: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
    case cosine
    case oneCycle = "one-cycle"
    case constant
}

/// `--split`: which part of a built-in data set with an official test set.
enum SplitOption: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
    case train, test
}

/// One strategy of `graft compare`.
enum StrategyOption: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
    case scratch, logreg, svm, finetune
}

/// `--strategies scratch,logreg,...`: a comma list of `StrategyOption`, in the order given, without
/// repeats. An unknown or empty entry makes the whole value invalid (exit status 64).
struct StrategyList: ExpressibleByArgument, Equatable, Sendable {
    let strategies: [StrategyOption]

    static let all = StrategyList(StrategyOption.allCases)

    init(_ strategies: [StrategyOption]) { self.strategies = strategies }

    init?(argument: String) {
        var seen: [StrategyOption] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let s = StrategyOption(rawValue: String(part).trimmingCharacters(in: .whitespaces)) else { return nil }
            if !seen.contains(s) { seen.append(s) }
        }
        guard !seen.isEmpty else { return nil }
        strategies = seen
    }

    var defaultValueDescription: String { strategies.map(\.rawValue).joined(separator: ",") }

    static var allValueStrings: [String] { StrategyOption.allCases.map(\.rawValue) }
}

