import FacemineData
import Foundation
import SwiftProtobuf

typealias Event = Facemine_Tensorboard_Event
typealias Summary = Facemine_Tensorboard_Summary

/// TensorBoard event files in a run folder (`events.out.tfevents.<time>.<host>.<pid>`), one per
/// process that trains the run: `tensorboard --logdir runs` shows every run's curves while it
/// trains. Each write appends whole records and closes the file, so a killed run keeps what it
/// logged; a resumed run starts a file of its own, as TensorBoard expects.
public final class TensorBoardLog {
    public let url: URL

    public init(folder: URL, now: Date = Date()) throws {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        url = folder.appendingPathComponent("events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(getpid())")
        var first = Event()
        first.wallTime = now.timeIntervalSince1970
        first.fileVersion = "brain.Event:2"
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try TFRecord.frame(try first.serializedData()).write(to: url)
        } catch {
            throw DataError(url.path, "cannot write the TensorBoard log (\(systemReason(error)))")
        }
    }

    /// Appends one event holding `values` (tag, value) at `step`.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int, now: Date = Date()) throws {
        var event = Event()
        event.wallTime = now.timeIntervalSince1970
        event.step = Int64(step)
        event.summary.value = values.map { tag, value in
            var v = Summary.Value()
            v.tag = tag
            v.simpleValue = Float(value)
            return v
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: TFRecord.frame(try event.serializedData()))
        } catch {
            throw DataError(url.path, "cannot append to the TensorBoard log (\(systemReason(error)))")
        }
    }
}

/// One event of a log, read back: its step, the file version (first event) or scalar values.
public struct TensorBoardEvent: Equatable, Sendable {
    public var step: Int64
    public var fileVersion: String?
    public var values: [String: Float]

    /// Decodes one record's data.
    public init(record: Data) throws {
        let event = try Event(serializedBytes: record)
        step = event.step
        fileVersion = event.fileVersion.isEmpty ? nil : event.fileVersion
        values = Dictionary(event.summary.value.map { ($0.tag, $0.simpleValue) }, uniquingKeysWith: { $1 })
    }

    /// Every event of a log file; nil when its records are torn or fail their CRCs.
    public static func read(_ url: URL) throws -> [TensorBoardEvent]? {
        try TFRecord.records(try Data(contentsOf: url))?.map { try TensorBoardEvent(record: $0) }
    }
}

/// TFRecord framing, as TensorBoard reads it: the data's length (8 bytes, little-endian), a
/// masked CRC-32C of those 8 bytes, the data, and a masked CRC-32C of the data.
public enum TFRecord {
    public static func frame(_ data: Data) -> Data {
        var length = UInt64(data.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Data($0) }
        var out = lengthBytes
        out.append(littleEndian: maskedCRC(lengthBytes))
        out.append(data)
        out.append(littleEndian: maskedCRC(data))
        return out
    }

    /// The records of a file, each checked against both CRCs; nil when the bytes are not a
    /// whole, intact sequence of records.
    public static func records(_ bytes: Data) -> [Data]? {
        var records: [Data] = []
        var at = bytes.startIndex
        func uint32(_ i: Int) -> UInt32 { bytes[i..<(i + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        while at < bytes.endIndex {
            guard bytes.endIndex - at >= 12 else { return nil }
            let lengthBytes = bytes[at..<(at + 8)]
            let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard uint32(at + 8) == maskedCRC(Data(lengthBytes)), length <= UInt64(bytes.endIndex - at - 16) else { return nil }
            let data = Data(bytes[(at + 12)..<(at + 12 + Int(length))])
            guard uint32(at + 12 + Int(length)) == maskedCRC(data) else { return nil }
            records.append(data)
            at += 16 + Int(length)
        }
        return records
    }

    /// TensorFlow's masking: rotate right by 15 bits and add a constant, so a CRC stored inside
    /// checksummed data does not checksum to a fixed value.
    static func maskedCRC(_ data: Data) -> UInt32 {
        let crc = crc32c(data)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

extension TFRecord {
    static let crcTable: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord files.
    public static func crc32c(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func append(littleEndian value: UInt32) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}
