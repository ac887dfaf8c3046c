import FacemineData
import Foundation

/// The safetensors format (the format of Hugging Face's `safetensors` package): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
/// an optional `__metadata__` map of strings, then the raw little-endian data.
///
/// Reading treats the file as hostile: sizes are bounded, every offset and shape is checked
/// against the data, and any inconsistency is a one-line `DataError` naming the file.
public struct SafeTensors: Equatable, Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32"
        case i64 = "I64"
        case f64 = "F64"
        case f16 = "F16"
        case bf16 = "BF16"
        case u8 = "U8"

        var byteSize: Int {
            switch self {
            case .f32: 4
            case .i64, .f64: 8
            case .f16, .bf16: 2
            case .u8: 1
            }
        }
    }

    public struct Entry: Equatable, Sendable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public var count: Int { shape.reduce(1, *) }

        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public init(floats: [Float], shape: [Int]) {
            precondition(floats.count == shape.reduce(1, *), "\(floats.count) values for shape \(shape)")
            self.init(dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
        }

        public init(int64: Int64) {
            self.init(int64s: [int64], shape: [])
        }

        public init(int64s: [Int64], shape: [Int]) {
            self.init(dtype: .i64, shape: shape, bytes: int64s.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } })
        }

        /// The values as Float32, converting from F64/F16/BF16 (torchvision weights may be any).
        public var floats: [Float] {
            switch dtype {
            case .f32: return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            case .f64: return bytes.withUnsafeBytes { $0.bindMemory(to: Double.self).map(Float.init) }
            case .i64: return bytes.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Float($0) } }
            case .u8: return bytes.map(Float.init)
            case .f16:
                return stride(from: 0, to: bytes.count, by: 2).map { i in
                    Float(Float16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8))
                }
            case .bf16:
                return stride(from: 0, to: bytes.count, by: 2).map { i in
                    Float(bitPattern: (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8) << 16)
                }
            }
        }
    }

    public var tensors: [String: Entry] = [:]
    public var metadata: [String: String] = [:]

    public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Largest header accepted: far above any real model's, far below memory trouble.
    static let maximumHeaderBytes = 100 << 20

    // MARK: writing

    public func encoded() throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            precondition(t.bytes.count == t.count * t.dtype.byteSize, "tensor \(name): bytes do not match its shape")
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]]
            offset += t.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad to 8 bytes, as the reference writer does
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        out.reserveCapacity(8 + json.count + offset)
        out += json
        for name in names { out += tensors[name]!.bytes }
        return out
    }

    /// Writes through a temporary file in the same folder and a rename: a crash or a full disk
    /// leaves the previous file intact.
    public func write(to url: URL) throws {
        let bytes = try encoded()
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DataError(
                folder.path,
                "cannot write the folder (\(folderCreationReason(folder, error))); any earlier file there is untouched")
        }
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw DataError(url.path, "cannot write the file (\(systemReason(error))); the previous version is untouched")
        }
    }

    // MARK: reading

    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw DataError(url.path, "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(bytes: [UInt8](data), name: url.path)
    }

    public init(bytes: [UInt8], name: String) throws {
        func fail(_ problem: String) -> DataError { DataError(name, "not a valid safetensors file: \(problem)") }
        guard bytes.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(min(SafeTensors.maximumHeaderBytes, bytes.count - 8)) else {
            throw fail("header length \(headerLength) exceeds the file")
        }
        let dataStart = 8 + Int(headerLength)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])),
            let header = object as? [String: Any]
        else {
            throw fail("the header is not a JSON object")
        }
        let dataLength = bytes.count - dataStart
        for (key, value) in header {
            if key == "__metadata__" {
                guard let map = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in map {
                    guard let s = v as? String else { throw fail("metadata \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any],
                let dtypeName = info["dtype"] as? String,
                let shapeValues = info["shape"] as? [Any],
                let offsets = info["data_offsets"] as? [Any], offsets.count == 2
            else {
                throw fail("tensor \(key) lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("tensor \(key) has unsupported dtype \(dtypeName)") }
            let shape = try shapeValues.map { v -> Int in
                guard let n = (v as? NSNumber)?.intValue, n >= 0, n <= 1 << 31 else {
                    throw fail("tensor \(key) has a bad shape")
                }
                return n
            }
            guard let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                begin >= 0, begin <= end, end <= dataLength
            else {
                throw fail("tensor \(key) has data offsets outside the file")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataLength else { throw fail("tensor \(key) is larger than the file") }
                count = product
            }
            guard count * dtype.byteSize == end - begin else {
                throw fail("tensor \(key): shape \(shape) needs \(count * dtype.byteSize) bytes, offsets give \(end - begin)")
            }
            tensors[key] = Entry(dtype: dtype, shape: shape, bytes: Array(bytes[(dataStart + begin)..<(dataStart + end)]))
        }
    }
}
