import FacemineDevice
import FacemineRandom
import Testing

@Suite struct PoolingTests {
    static let cases: [PoolGeometry] = [
        PoolGeometry(batch: 2, channels: 3, height: 8, width: 8, kernel: 2, stride: 2),
        PoolGeometry(batch: 1, channels: 2, height: 7, width: 9, kernel: 3, stride: 2, padding: 1),
        PoolGeometry(batch: 2, channels: 2, height: 5, width: 5, kernel: 3, stride: 1, padding: 1),
        PoolGeometry(batch: 1, channels: 1, height: 7, width: 7, kernel: 2, stride: 2),
        // Wide enough for vectorised 2x2 paths (17 outputs per row: 2 vectors and a tail).
        PoolGeometry(batch: 2, channels: 3, height: 12, width: 35, kernel: 2, stride: 2),
        // The ResNet stem's pool on its 24x24 maps, and a row with two 8-output vectors and edges.
        PoolGeometry(batch: 2, channels: 3, height: 24, width: 24, kernel: 3, stride: 2, padding: 1),
        PoolGeometry(batch: 1, channels: 2, height: 5, width: 40, kernel: 3, stride: 2, padding: 1),
    ]

    @Test(arguments: BackendUnderTest.all, cases)
    func maxPoolMatchesReference(_ target: BackendUnderTest, _ g: PoolGeometry) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: UInt64(g.height * 100 + g.kernel))
        let x = rng.values(Tensor.elementCount(g.inputShape)), dy = rng.values(Tensor.elementCount(g.outputShape))
        let input = try backend.makeTensor(g.inputShape, values: x.floats)
        let output = try backend.makeTensor(g.outputShape), indices = try backend.makeTensor(g.outputShape, dtype: .int32)
        backend.maxPoolForward(g, input: input, output: output, indices: indices)
        let expected = Reference.maxPool(g, input: x)
        expectClose(try backend.floats(output), expected.output, tolerance: 0, "max pool output")
        #expect(try backend.int32s(indices) == expected.indices)

        let gradInput = try backend.makeTensor(g.inputShape)
        backend.fill(gradInput, with: 7)
        backend.maxPoolBackward(
            g, gradOutput: try backend.makeTensor(g.outputShape, values: dy.floats),
            indices: indices, gradInput: gradInput)
        expectClose(
            try backend.floats(gradInput), Reference.maxPoolBackward(g, gradOutput: dy, indices: expected.indices),
            "max pool grad input")
    }

    @Test(arguments: BackendUnderTest.all)
    func maxPoolTiesPickTheFirstPosition(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        let g = PoolGeometry(batch: 1, channels: 1, height: 4, width: 4, kernel: 2, stride: 2)
        let output = try backend.makeTensor(g.outputShape), indices = try backend.makeTensor(g.outputShape, dtype: .int32)
        backend.maxPoolForward(g, input: try backend.makeTensor(g.inputShape), output: output, indices: indices)
        #expect(try backend.int32s(indices) == [0, 2, 8, 10])
        // The same on a row long enough for vector code, with a NaN that must win its window.
        let wide = PoolGeometry(batch: 1, channels: 1, height: 2, width: 20, kernel: 2, stride: 2)
        var values = [Float](repeating: 1, count: 40)
        values[23] = .nan  // second row, window 1 (columns 2-3)
        let out = try backend.makeTensor(wide.outputShape), at = try backend.makeTensor(wide.outputShape, dtype: .int32)
        backend.maxPoolForward(wide, input: try backend.makeTensor(wide.inputShape, values: values), output: out, indices: at)
        #expect(try backend.int32s(at) == [0, 23, 4, 6, 8, 10, 12, 14, 16, 18])
        #expect(try backend.floats(out)[1].isNaN)

        // 3x3 / stride 2 / padding 1 on a constant row (vector path for outputs 1-8): every
        // window's first in-image position wins; then two NaNs in one window: the later wins.
        let stem = PoolGeometry(batch: 1, channels: 1, height: 2, width: 24, kernel: 3, stride: 2, padding: 1)
        let flat = try backend.makeTensor(stem.outputShape), flatAt = try backend.makeTensor(stem.outputShape, dtype: .int32)
        backend.maxPoolForward(stem, input: try backend.makeTensor(stem.inputShape), output: flat, indices: flatAt)
        #expect(try backend.int32s(flatAt) == [0] + (1..<12).map { Int32(2 * $0 - 1) })
        var rows = [Float](repeating: 1, count: 48)
        rows[6] = .nan  // output 3's window (columns 5-7), top row
        rows[24 + 5] = .nan  // the same window, bottom row: read later
        rows[10] = 5  // output 5's window (columns 9-11): a tie between columns 10 and 11
        rows[11] = 5
        let nanOut = try backend.makeTensor(stem.outputShape), nanAt = try backend.makeTensor(stem.outputShape, dtype: .int32)
        backend.maxPoolForward(stem, input: try backend.makeTensor(stem.inputShape, values: rows), output: nanOut, indices: nanAt)
        #expect(try backend.int32s(nanAt)[3] == 29)
        #expect(try backend.int32s(nanAt)[5] == 10)
        #expect(try backend.floats(nanOut)[3].isNaN)
    }

    @Test(arguments: BackendUnderTest.all)
    func globalAveragePool(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        let shape = [3, 5, 4, 3]
        var rng = SeededGenerator(seed: 9)
        let x = rng.values(Tensor.elementCount(shape)), dy = rng.values(15)
        let y = try backend.makeTensor([3, 5])
        backend.globalAvgPoolForward(try backend.makeTensor(shape, values: x.floats), output: y)
        expectClose(try backend.floats(y), Reference.globalAvgPool(x, shape: shape), "global average pool")
        let dx = try backend.makeTensor(shape)
        backend.globalAvgPoolBackward(try backend.makeTensor([3, 5], values: dy.floats), gradInput: dx)
        expectClose(try backend.floats(dx), (0..<x.count).map { dy[$0 / 12] / 12 }, "global average pool backward")
    }
}
