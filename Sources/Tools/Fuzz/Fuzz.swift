import ArgumentParser
import FacemineFuzzSupport
import Foundation

/// Long-run fuzzing of facemine's readers, for local use (CI runs a bounded number of cases in
/// the test suite). Stops at the time limit; a crash or hang is the finding.
@main
struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine-fuzz",
        abstract: "Fuzz the CSV, PNG, JPEG and safetensors readers with mutated inputs.")

    @Option(help: "How long to run, in seconds.") var seconds = 60.0
    @Option(help: "Seed of the mutations.") var seed: UInt64 = UInt64(Date().timeIntervalSince1970)

    func run() throws {
        var fuzzer = try InputFuzzer(seed: seed)
        var tallies: [InputFuzzer.Target: InputFuzzer.Tally] = [:]
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            for target in InputFuzzer.Target.allCases {
                var tally = tallies[target] ?? .init()
                fuzzer.run(target, cases: 50, tally: &tally)
                tallies[target] = tally
            }
        }
        print("seed \(seed), \(Int(seconds)) s, no crash or hang:")
        for target in InputFuzzer.Target.allCases {
            let t = tallies[target]!
            print("  \(target.rawValue): \(t.cases) cases, \(t.refused) refused with an error, \(t.accepted) accepted")
        }
    }
}
