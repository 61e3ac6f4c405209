import Foundation
import GraftCore
import GraftDistributed
import GraftHeads
import GraftTransfer

/// `graft fit`'s cross-validation under mpirun: logistic regression and the linear SVM choose C
/// with their folds spread over the ranks (`HeadChoice` does that by itself when launched). Every
/// rank must hold rank 0's heads and fold scores; rank 0 writes them (text, exact decimal floats)
/// to the path given, for the test to compare with the same program run alone.
enum FoldsScenario {
    static func run(_ world: Communicator, arguments: [String]) throws {
        guard let output = arguments.first else { fail("folds needs an output path") }
        // Three overlapping Gaussian classes in 8 dimensions: C matters, folds disagree a little.
        var g = SeededGenerator(seed: 11)
        var rows: [[Float]] = [], labels: [Int] = []
        for i in 0..<150 {
            let label = i % 3
            rows.append((0..<8).map { d in (d % 3 == label ? 0.8 : 0) + g.nextNormal() })
            labels.append(label)
        }
        let x = try FeatureMatrix(rows)
        var text = ""
        for choice in [HeadChoice.logisticRegression(), .linearSVM()] {
            let fit = try choice.fit(x, labels: labels, seed: 5)
            guard let cv = fit.summary.crossValidation else { fail("\(choice.name): no cross-validation ran") }
            text += "\(choice.name) C \(fit.head.C)\n"
            text += "folds \(cv.foldAccuracy.map { $0.map { String($0.bitPattern, radix: 16) } })\n"
            text += "weights \(fit.head.weights.map { String($0.bitPattern, radix: 16) }) \(fit.head.bias.map { String($0.bitPattern, radix: 16) })\n"
        }
        let root = try world.broadcast(bytes: Array(text.utf8), root: 0)
        expect(root == Array(text.utf8), "rank \(world.rank)'s heads differ from rank 0's")
        if world.isRoot { try text.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8) }
        print("rank \(world.rank) of \(world.size): folds ok")
    }
}
