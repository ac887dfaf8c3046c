import ArgumentParser
import FacemineBackends

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the backends and devices facemine can train on here.")

    func run() throws {
        for device in DeviceInventory.list() {
            print("\(device.backend.rawValue) #\(device.index): \(device.name)")
            for (key, value) in device.details {
                print("    \(key.padding(toLength: 8, withPad: " ", startingAt: 0)) \(value)")
            }
        }
        for (backend, reason) in DeviceInventory.unavailable() {
            print("\(backend.rawValue): \(reason)")
        }
    }
}
