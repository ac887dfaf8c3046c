import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation
import FacemineFuzzSupport
import Testing

/// Faults a long training run meets: blow-ups, stop requests, and SIGKILL at any moment.
@Suite struct ReliabilityTests {
    static func trainer(
        epochs: Int = 2, learningRate: Float = 1e-3, optimizer: OptimizerKind = .adam,
        onNonFinite: NonFinitePolicy = .stop
    ) throws -> Trainer {
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.batchSize = 16
        c.learningRate = learningRate
        c.optimizer = optimizer
        c.onNonFinite = onNonFinite
        c.dropout = 0.3
        let faces = SyntheticFaces(count: 140, seed: 6).generate(threads: 2)
        let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 6)
        return try Trainer(
            configuration: c, backend: BackendChoice.cpu.makeBackend(threads: 2).backend, dataset: faces,
            trainIndices: split.train, validationIndices: split.validation)
    }

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("facemine-reliability-\(UUID().uuidString)")
    }

    /// A learning rate of 1e30 blows the weights up in one step. The next step is caught before
    /// its update, named, and the last checkpoint is left as it was.
    @Test func aBlowUpStopsWithinOneStepAndKeepsTheLastCheckpoint() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Self.trainer(epochs: 1)
        _ = try good.run(checkpoints: dir) { _ in }
        let checkpoint = dir.appendingPathComponent("last.safetensors")
        let before = try Data(contentsOf: checkpoint)

        let exploding = try Self.trainer(epochs: 2, learningRate: 1e30, optimizer: .sgd)
        try exploding.resume(from: SafeTensors(contentsOf: checkpoint), location: "last")
        do {
            _ = try exploding.run(checkpoints: dir) { _ in }
            Issue.record("a NaN loss must stop the run")
        } catch let bad as NonFiniteStep {
            #expect(bad.step <= exploding.stepsPerEpoch + 1, "caught at step \(bad.step), within one step of the blow-up")
            #expect(bad.firstParameter != nil || !bad.loss.isFinite)
            #expect(bad.description.contains("step \(bad.step + 1)"))
        }
        #expect(try Data(contentsOf: checkpoint) == before, "the last good checkpoint is untouched")
    }

    @Test func skippingNonFiniteStepsLeavesTheWeightsAlone() throws {
        let t = try Self.trainer(epochs: 1, learningRate: 1e30, optimizer: .sgd, onNonFinite: .skip)
        var skipped = 0
        _ = try t.run { if case .skipped = $0 { skipped += 1 } }
        #expect(skipped > 0 && skipped == t.state.skippedSteps)
        #expect(
            try t.model.parameters.allSatisfy { try t.backend.floats($0.value).allSatisfy(\.isFinite) },
            "no non-finite update was applied")
    }

    /// A stop request (what SIGINT and SIGTERM set) inside an epoch saves a mid-epoch checkpoint;
    /// resuming from it ends with exactly the weights of an uninterrupted run.
    @Test func stoppingMidEpochAndResumingIsExact() throws {
        let whole = try Self.trainer(epochs: 2)
        _ = try whole.run { _ in }
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var stops = 0
        var done = false
        var steps = 0
        while !done {
            let t = try Self.trainer(epochs: 2)
            let last = dir.appendingPathComponent("last.safetensors")
            if FileManager.default.fileExists(atPath: last.path) {
                try t.resume(from: SafeTensors(contentsOf: last), location: "last")
            }
            var local = 0
            t.shouldStop = {
                local += 1; return local >= 2
            }  // stop after every second step
            do {
                _ = try t.run(checkpoints: dir) { _ in }
                done = true
                #expect(
                    try t.model.parameters.map { try t.backend.floats($0.value) }
                        == whole.model.parameters.map { try whole.backend.floats($0.value) })
                #expect(t.state.history.map(\.trainLoss) == whole.state.history.map(\.trainLoss))
            } catch is TrainingInterrupted {
                stops += 1
            }
            steps += 1
            #expect(steps < 100, "no progress")
            if steps >= 100 { return }
        }
        #expect(stops >= 5)
    }

    /// The real thing: `facemine train` killed with SIGKILL at random moments, at least 20 times,
    /// and restarted with --resume until it finishes. After every kill each file in the run
    /// folder is either absent or whole, and the final weights equal those of a run never killed.
    @Test(.timeLimit(.minutes(10)))
    func sigkillAtRandomMomentsLosesNothing() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("facemine")
        #expect(
            FileManager.default.isExecutableFile(atPath: binary.path), "facemine must be built next to the tests: \(binary.path)")
        let work = Self.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        // 40 short epochs: each process gets through a few before its kill, so the run both
        // advances and is killed many times.
        let common = ["train", "--synthetic-count", "240", "--epochs", "40", "--batch-size", "16", "--threads", "2", "--quiet"]

        func launch(_ arguments: [String]) throws -> Process {
            let p = Process()
            p.executableURL = binary
            p.arguments = arguments
            p.currentDirectoryURL = work
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let reference = try launch(common + ["--name", "reference"])
        reference.waitUntilExit()
        #expect(reference.terminationStatus == 0)

        var kills = 0, attempts = 0
        var rng = SystemRandomNumberGenerator()
        let run = work.appendingPathComponent("runs/killed")
        while attempts < 400 {
            attempts += 1
            let resume = FileManager.default.fileExists(atPath: run.appendingPathComponent("last.safetensors").path)
            let p = try launch(common + ["--name", "killed"] + (resume ? ["--resume"] : []))
            // Most kills land early; some let an epoch or two finish, so the run moves on.
            let delay = kills < 25 ? Double.random(in: 0.05...0.6, using: &rng) : 120
            let deadline = Date().addingTimeInterval(delay)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                kills += 1
                for name in ["last.safetensors", "best.safetensors"]
                where FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path) {
                    #expect(throws: Never.self, "\(name) is whole after a kill") {
                        _ = try SafeTensors(contentsOf: run.appendingPathComponent(name))
                    }
                }
                continue
            }
            #expect(p.terminationStatus == 0)
            break
        }
        #expect(kills >= 20, "only \(kills) kills")
        let a = try SafeTensors(contentsOf: work.appendingPathComponent("runs/reference/last.safetensors"))
        let b = try SafeTensors(contentsOf: run.appendingPathComponent("last.safetensors"))
        let weights = a.tensors.keys.filter { !$0.hasPrefix("optimizer.") }
        #expect(!weights.isEmpty)
        for name in weights { #expect(a.tensors[name] == b.tensors[name], "\(name) differs after \(kills) kills") }
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("metrics.json")))
        #expect(metrics is [String: Any])
    }
}

/// Saving when the disk is full or the run folder cannot be written.
@Suite struct ResourceFaultTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "facemine")

    static func run(
        _ arguments: [String], in folder: URL, fileSizeLimitBlocks: Int? = nil,
        environment: [String: String] = [:]
    ) throws -> (Int32, String) {
        let p = Process()
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // `ulimit -f` caps the size of any file the process writes: a full disk, as far as the
        // writer can tell (EFBIG instead of ENOSPC), without touching the machine's disks.
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        let quoted = ([binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        p.arguments = ["-c", (fileSizeLimitBlocks.map { "ulimit -f \($0); " } ?? "") + "exec " + quoted]
        p.currentDirectoryURL = folder
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, output)
    }

    @Test func aFullDiskWhileSavingKeepsThePreviousCheckpointAndSaysSo() throws {
        let work = ReliabilityTests.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let common = ["train", "--synthetic-count", "120", "--batch-size", "16", "--threads", "2", "--quiet", "--name", "full"]
        let (first, _) = try Self.run(common + ["--epochs", "1"], in: work)
        #expect(first == 0)
        let last = work.appendingPathComponent("runs/full/last.safetensors")
        let before = try Data(contentsOf: last)
        // 1,000 blocks of 512 bytes: far less than a MyCNN checkpoint (about 14 MB).
        let (status, message) = try Self.run(common + ["--epochs", "2", "--resume"], in: work, fileSizeLimitBlocks: 1000)
        #expect(status != 0)
        #expect(message.contains("last.safetensors") && message.contains("previous version is untouched"), "message: \(message)")
        #expect(try Data(contentsOf: last) == before, "the previous checkpoint is intact")
        #expect(throws: Never.self) { _ = try SafeTensors(contentsOf: last) }
    }

    /// An OpenCL device that fails mid-run (injected: every kernel launch from the 1300th on
    /// reports CL_DEVICE_NOT_AVAILABLE, in epoch 2 of this run) stops the run with one line that
    /// names the intact checkpoint, and that checkpoint finishes the run on the CPU backend.
    /// Out of memory says which batch size to try instead.
    @Test func aLostOpenCLDeviceLeavesACheckpointTheCPUBackendFinishes() throws {
        let work = ReliabilityTests.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let common = ["train", "--synthetic-count", "240", "--batch-size", "16", "--epochs", "3", "--quiet", "--name", "gpu"]
        let (status, message) = try Self.run(
            common + ["--backend", "opencl"], in: work, environment: ["FACEMINE_OPENCL_FAULT": "lost@1300"])
        #expect(status != 0)
        let line = message.split(separator: "\n").last.map(String.init) ?? ""
        #expect(
            line.contains("device lost") && line.contains("last.safetensors (after epoch 1) is intact")
                && line.contains("--resume --backend cpu"), "message: \(message)")
        let (resumed, output) = try Self.run(common + ["--resume", "--backend", "cpu", "--threads", "2"], in: work)
        #expect(resumed == 0, "\(output)")
        let last = try SafeTensors(contentsOf: work.appendingPathComponent("runs/gpu/last.safetensors"))
        let (_, state) = try Checkpoint.describe(last, location: "last.safetensors")
        #expect(state.epochsDone == 3, "the run finished on the CPU")

        let (oom, advice) = try Self.run(
            common + ["--backend", "opencl", "--name", "oom"], in: work,
            environment: ["FACEMINE_OPENCL_FAULT": "oom@100"])
        #expect(oom != 0)
        #expect(advice.contains("out of device memory") && advice.contains("try --batch-size 8"), "message: \(advice)")
    }

    @Test func anUnwritableRunFolderIsReportedClearly() throws {
        let work = ReliabilityTests.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        // A file where the runs folder should be: no permission bits can stop root, this can.
        try Data("not a folder".utf8).write(to: work.appendingPathComponent("runs"))
        let (status, message) = try Self.run(
            ["train", "--synthetic-count", "60", "--batch-size", "16", "--epochs", "1", "--quiet"], in: work)
        #expect(status != 0)
        #expect(message.contains("runs/") && message.contains("cannot write"), "message: \(message)")
        #expect(message.split(separator: "\n").count <= 3, "a short, clear error, not a trace")
    }
}

@Suite struct HostileInputTests {
    /// 300 mutated files per reader on every CI run; `facemine-fuzz --seconds N` runs longer.
    @Test(arguments: InputFuzzer.Target.allCases)
    func mutatedInputsEndInAnErrorOrAValidResult(_ target: InputFuzzer.Target) throws {
        var fuzzer = try InputFuzzer(seed: 2026)
        var tally = InputFuzzer.Tally()
        fuzzer.run(target, cases: 300, tally: &tally)
        #expect(tally.cases == 300)
        #expect(tally.refused > 0, "the mutations must break some inputs, or the test tests nothing")
    }
}

@Suite struct SoakTests {
    /// Thousands of small steps: after the first epoch no device memory is allocated again
    /// (tensor caches, the gradient pool and workspaces are all reused).
    @Test func twoThousandStepsAllocateNothingAfterWarmUp() throws {
        var c = TrainingConfiguration()
        c.epochs = 125
        c.batchSize = 2
        c.dropout = 0.3
        let faces = SyntheticFaces(count: 32, seed: 9).generate(threads: 2)
        let backend = try BackendChoice.cpu.makeBackend(threads: 2).backend
        let trainer = try Trainer(
            configuration: c, backend: backend, dataset: faces,
            trainIndices: Array(0..<32), validationIndices: [])
        var afterWarmUp: MemoryStatistics?
        var steps = 0
        _ = try trainer.run { event in
            switch event {
            case .batch: steps += 1
            case .epoch(let r) where r.epoch == 1: afterWarmUp = backend.memoryStatistics
            default: break
            }
        }
        #expect(steps == 2000)
        #expect(backend.memoryStatistics == afterWarmUp, "memory grew: \(afterWarmUp!) -> \(backend.memoryStatistics)")
    }

    /// The whole process, not only the backend's own count: `facemine train` runs for over a
    /// thousand small steps (and a checkpoint per epoch) while its resident memory is sampled;
    /// after warm-up it stays flat. On OpenCL (PoCL: device memory is host memory) this also
    /// covers the buffer pool.
    @Test(arguments: [("cpu", 40), ("opencl", 10)])
    func residentMemoryStaysFlat(_ backend: String, _ epochs: Int) throws {
        let work = ReliabilityTests.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let p = Process()
        p.executableURL = ResourceFaultTests.binary
        p.arguments = [
            "train", "--synthetic-count", "90", "--batch-size", "2", "--epochs", "\(epochs)", "--quiet",
            "--backend", backend, "--threads", "2", "--name", "soak",
        ]
        p.currentDirectoryURL = work
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var samples: [Int] = []
        while p.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                samples.append(kb)
            }
            usleep(20_000)
        }
        #expect(p.terminationStatus == 0)
        #expect(samples.count >= 40, "too few samples (\(samples.count)) to judge")
        guard samples.count >= 40 else { return }
        // Median of the second quarter (warmed up) against the median of the last quarter.
        func median(_ part: ArraySlice<Int>) -> Int { part.sorted()[part.count / 2] }
        let q = samples.count / 4
        let warm = median(samples[q..<(2 * q)]), late = median(samples[(3 * q)...])
        print(
            "RSS \(backend): \(samples.count) samples, warm \(warm / 1024) MB, late \(late / 1024) MB, max \(samples.max()! / 1024) MB"
        )
        #expect(late - warm < 8 * 1024, "\(backend): resident memory grew from \(warm / 1024) MB to \(late / 1024) MB")
    }
}
