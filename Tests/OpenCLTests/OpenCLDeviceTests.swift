import FacemineBackends
import FacemineDevice
import FacemineOpenCL
import Testing

/// CI installs PoCL, a real OpenCL implementation on the CPU, so there is always a device:
/// finding none fails (it never skips into green).
@Suite struct OpenCLDeviceTests {
    @Test func theICDLoaderListsAtLeastOneDevice() throws {
        let devices = try OpenCLDevices.all()
        #expect(!devices.isEmpty)
        for (i, d) in devices.enumerated() {
            #expect(d.index == i)
            #expect(!d.name.isEmpty && !d.platform.isEmpty && !d.openCLVersion.isEmpty)
            #expect(d.computeUnits > 0 && d.globalMemoryBytes > 0)
        }
    }

    @Test func devicesCommandShowsThem() throws {
        let listings = DeviceInventory.list()
        #expect(listings.first?.backend == .cpu)
        #expect(listings.contains { $0.backend == .opencl && $0.details.contains { $0.0 == "units" } })
    }
}
