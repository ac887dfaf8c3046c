import FacemineBackends
import Foundation
import Testing

/// A GPU driver library that no ICD file names is found and reported; one that is registered,
/// or absent, is not.
@Suite struct UnregisteredDriverTests {
    func folders() throws -> (lib: URL, vendors: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("icd-\(UUID().uuidString)")
        let lib = root.appendingPathComponent("lib64"), vendors = root.appendingPathComponent("vendors")
        for folder in [lib, vendors] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try "pocl".write(to: vendors.appendingPathComponent("pocl.icd"), atomically: true, encoding: .utf8)
        return (lib, vendors)
    }

    @Test func anUnregisteredLibraryIsNamedWithTheWayToRegisterIt() throws {
        let (lib, vendors) = try folders()
        #expect(UnregisteredDriver.find(in: [lib.path], vendors: vendors.path) == nil)  // nothing installed
        try Data().write(to: lib.appendingPathComponent("libnvidia-opencl.so.1"))
        let found = UnregisteredDriver.find(in: ["/nonexistent", lib.path], vendors: vendors.path)
        #expect(found == lib.appendingPathComponent("libnvidia-opencl.so.1").path)
        #expect(UnregisteredDriver.hint(found ?? "").contains("OCL_ICD_VENDORS"))

        let icd = vendors.appendingPathComponent("nvidia.icd")
        try "\(found ?? "")\n".write(to: icd, atomically: true, encoding: .utf8)
        #expect(UnregisteredDriver.find(in: [lib.path], vendors: vendors.path) == nil)
        #expect(UnregisteredDriver.find(in: [lib.path], vendors: icd.path) == nil)  // OCL_ICD_VENDORS may name one file
    }
}
