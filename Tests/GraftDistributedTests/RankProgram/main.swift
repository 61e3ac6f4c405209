// The program GraftDistributedTests runs under `mpirun -np 2`: one scenario
// per first argument. Each rank checks its own results and exits non-zero
// with a message on a mismatch.
import Foundation
import GraftDistributed

let world = Communicator.world
let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    world.abort("check failed: \(message)")
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

do {
    switch arguments.first {
    case "collectives": try Scenarios.collectives(world)
    case "exit-early": try Scenarios.exitEarly(world)
    case "killed": try Scenarios.killed(world)
    case "throws": try Scenarios.throwsOnOneRank(world)
    case "data-parallel": try DataParallelScenario.run(world, arguments: Array(arguments.dropFirst()))
    case "extract": try ExtractionScenario.run(world, arguments: Array(arguments.dropFirst()))
    case "folds": try FoldsScenario.run(world, arguments: Array(arguments.dropFirst()))
    default: fail("unknown scenario \(arguments.first ?? "(none)")")
    }
    try world.finish()
} catch {
    FileHandle.standardError.write(Data("graft-mpi-ranks: rank \(world.rank): \(error)\n".utf8))
    exit(1)
}
