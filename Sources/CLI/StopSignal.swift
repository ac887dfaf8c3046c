import Dispatch
import Foundation

/// SIGINT (Ctrl-C) and SIGTERM as a flag the training loop polls between steps, so a stopped
/// run saves where it stands instead of dying mid-write. A second signal stops at once.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var sources: [DispatchSourceSignal] = []

    var received: Bool {
        lock.lock(); defer { lock.unlock() }
        return count > 0
    }

    static func install() -> StopSignal {
        let flag = StopSignal()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                flag.lock.lock()
                flag.count += 1
                let again = flag.count > 1
                flag.lock.unlock()
                if again { exit(130) }
                note("stopping after this step (signal again to stop at once)...")
            }
            source.resume()
            flag.sources.append(source)
        }
        return flag
    }
}
