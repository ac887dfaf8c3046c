import Dispatch
@testable import FacemineCPU
import Testing

/// Every parallel loop of the CPU backend runs on `Parallel`'s worker pool (threads that keep
/// polling between jobs, chunks claimed one at a time). The backend's own tests see only its
/// results; these hold the pool to its contract directly, including the calls it must run
/// inline: from inside a chunk, and from a second thread while a job is running.
@Suite struct WorkerPoolTests {
    /// Each chunk of each job runs once, with the job's own range, across many back-to-back
    /// jobs of uneven length (the case where a worker still finishing one job meets the next).
    @Test func everyChunkRunsOnceWithItsRange() {
        let parallel = Parallel(threads: 3)
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        let ranges = UnsafeMutablePointer<Range<Int>>.allocate(capacity: 3)
        defer { runs.deallocate(); ranges.deallocate() }
        for job in 0..<3000 {
            let count = 3 + job % 50
            runs.initialize(repeating: 0, count: 3)
            parallel.forChunks(count) { chunk, range in
                runs[chunk] += 1
                ranges[chunk] = range
                if chunk == job % 3 { spin(microseconds: job % 7) }
            }
            #expect((0..<3).allSatisfy { runs[$0] == 1 }, "job \(job): chunk runs \((0..<3).map { runs[$0] })")
            #expect(
                ranges[0].lowerBound == 0 && ranges[0].upperBound == ranges[1].lowerBound
                    && ranges[1].upperBound == ranges[2].lowerBound && ranges[2].upperBound == count, "job \(job)")
        }
    }

    /// A loop inside a chunk runs inline on that thread and finishes (no waiting on the busy pool).
    @Test func nestedLoopsRunInline() {
        let parallel = Parallel(threads: 2)
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { sums.deallocate() }
        for _ in 0..<200 {
            sums.initialize(repeating: 0, count: 2)
            parallel.forChunks(2) { outer, _ in
                parallel.forRanges(100) { range in sums[outer] += range.reduce(0, +) }
            }
            #expect(sums[0] == 4950 && sums[1] == 4950)
        }
    }

    /// Two threads sharing one pool: whichever finds it busy runs its own chunks itself, and
    /// every job of both completes with each chunk run once.
    @Test func concurrentCallersBothComplete() {
        let parallel = Parallel(threads: 2)
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        failures.initialize(repeating: 0, count: 2)
        defer { failures.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            let runs = UnsafeMutablePointer<Int>.allocate(capacity: 2)
            defer { runs.deallocate() }
            for _ in 0..<2000 {
                runs.initialize(repeating: 0, count: 2)
                parallel.forChunks(2) { chunk, _ in runs[chunk] += 1 }
                if runs[0] != 1 || runs[1] != 1 { failures[caller] += 1 }
            }
        }
        #expect(failures[0] == 0 && failures[1] == 0)
    }

    private func spin(microseconds: Int) {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(microseconds) * 1000
        while DispatchTime.now().uptimeNanoseconds < end {}
    }
}
