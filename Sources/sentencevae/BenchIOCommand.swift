import ArgumentParser
import Foundation
import ModelIO

/// `sentencevae bench io FILE`: how fast weights load: open + map + parse + convert every tensor to
/// contiguous Float32 arrays, from the page cache (the first, cold pass is not counted).
struct BenchIOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "io",
        abstract: "Measure checkpoint load speed (GB/s from the page cache).",
        discussion: "With --create-mb N, first writes FILE as an N-MB random f32 safetensors file (never commit it)."
    )

    @Argument(help: "A checkpoint (.safetensors, .pth, .bin or HF directory).")
    var file: String

    @Option(help: "Create FILE first: a safetensors file of this many MB of f32 tensors (4096×4096 each).")
    var createMb: Int?

    @Option(help: "Timed repetitions.")
    var repeats = 5

    func run() throws {
        if let mb = createMb {
            let perTensor = 4096 * 4096
            let count = max(1, (mb * 1_000_000 + perTensor * 4 - 1) / (perTensor * 4))  // at least N MB
            var values = [Float](repeating: 0, count: perTensor)
            var g = SystemRandomNumberGenerator()
            for i in values.indices { values[i] = Float(UInt32.random(in: 0...UInt32.max, using: &g)) / 4e9 - 0.5 }
            let tensors = try (0..<count).map { try TensorData(name: "layers.\($0).weight", shape: [4096, 4096], floats: values) }
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: file)
            print("wrote \(file): \(count) tensors, \(count * perTensor * 4) bytes")
        }
        func pass() throws -> (seconds: Double, bytes: Int) {
            let start = DispatchTime.now().uptimeNanoseconds
            let dict = try loadStateDict(path: file)
            var bytes = 0
            var check: Float = 0
            for t in dict.all where t.dtype.isFloatingPoint {
                let f = try t.floats()
                bytes += t.byteCount
                check += f.first ?? 0
            }
            let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if check.isNaN { print("", terminator: "") }
            return (s, bytes)
        }
        do {
            _ = try pass()  // warm the page cache
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<max(1, repeats) {
                let r = try pass()
                times.append(r.seconds); bytes = r.bytes
            }
            let gb = Double(bytes) / 1e9, best = times.min()!, middle = median(times)
            print(String(format: "%@: %.1f MB of float tensors → [Float]: best %.3f s (%.2f GB/s), median %.3f s (%.2f GB/s)",
                         file, Double(bytes) / 1e6, best, gb / best, middle, gb / middle))
        } catch let e as ModelIOError {
            throw CLIError(e)
        }
    }
}
