import FacemineBackends
import FacemineDevice
import Testing

/// A caller's wrong shape stops every backend with `OpContract`'s one message, so the checks
/// cannot drift apart between backends again (each backend kept its own copy before).
@Suite struct OpContractTests {
    static func message(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func theCPUBackendStopsWithTheContractsMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let backend = try! BackendChoice.cpu.makeBackend(threads: 1).backend
            backend.reluForward(try! backend.makeTensor([2, 3]), output: try! backend.makeTensor([5]))
        }
        #expect(Self.message(result).contains("relu [2, 3] -> [5]"), "\(Self.message(result))")
    }

    @Test func theOpenCLBackendStopsWithTheContractsMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let backend = try! BackendChoice.opencl.makeBackend(threads: nil).backend
            backend.reluForward(try! backend.makeTensor([2, 3]), output: try! backend.makeTensor([5]))
        }
        #expect(Self.message(result).contains("relu [2, 3] -> [5]"), "\(Self.message(result))")
    }
}
