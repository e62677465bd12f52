import Foundation
import ModelIO
import SentenceModels
import TensorCore
import XCTest

/// `--weights bf16|q8` and `sentencevae convert` end to end on the tiny fixtures: greedy outputs
/// against the PyTorch goldens, what q8 changes, the converted file's layout and in-place load,
/// and clear errors for broken files.
final class WeightStorageTests: XCTestCase {
    private var fixtures: String { CommandRunner.fixture("") }

    private func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CommandRunner.fixture(name)))) as! [String: Any]
    }

    private func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "weights-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// The greedy token sequences of `llm` (one per prompt), `svae` (one per sentence) and `sllm`
    /// (one per prompt, its sentences joined) on the golden fixtures' inputs, with `--weights format`.
    private func greedyOutputs(_ format: String, checkpoints: [String: String] = [:]) throws -> [String: [[Int]]] {
        var out: [String: [[Int]]] = [:]
        let llm = try expected("llm-expected.json")
        out["llm"] = try (llm["cases"] as! [[String: Any]]).map { want in
            var args = ["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", want["input"] as! String,
                        "--max-new-tokens", String((llm["max_new_tokens"] as! NSNumber).intValue), "--json", "--weights", format]
            if let c = checkpoints["llm"] { args += ["--checkpoint", c] }
            let r = try CommandRunner.run(args)
            XCTAssertEqual(r.status, 0, r.err)
            return try CommandRunner.json(r.out)["output_ids"] as! [Int]
        }
        let svae = try expected("svae-expected.json")["entries"] as! [[String: Any]]
        let r = try CommandRunner.run(["svae", "-c", "svae-tiny.yaml", "--checkpoint", checkpoints["svae"] ?? "svae-tiny.pth", "--json", "--weights", format]
                                      + svae.flatMap { ["--input", $0["input"] as! String] }, in: fixtures)
        XCTAssertEqual(r.status, 0, r.err)
        out["svae"] = (try CommandRunner.json(r.out)["results"] as! [[String: Any]]).map { $0["output_ids"] as! [Int] }
        let sllm = try expected("sllm-expected.json")
        out["sllm"] = try (sllm["prompts"] as! [[String: Any]]).map { want in
            let r = try CommandRunner.run(["sllm", "-c", "sllm-tiny.yaml", "--checkpoint", checkpoints["sllm"] ?? "sllm-tiny.pth",
                                           "--input", want["input"] as! String, "--split-mode", "original",
                                           "--max-sentences", String((sllm["max_new_sentences"] as! NSNumber).intValue), "--json", "--weights", format],
                                          in: fixtures)
            XCTAssertEqual(r.status, 0, r.err)
            return (try CommandRunner.json(r.out)["sentences"] as! [[String: Any]]).flatMap { $0["ids"] as! [Int] }
        }
        return out
    }

    /// The PyTorch goldens in the shape of `greedyOutputs`.
    private func goldens() throws -> [String: [[Int]]] {
        [
            "llm": (try expected("llm-expected.json")["cases"] as! [[String: Any]]).map { $0["output_ids"] as! [Int] },
            "svae": (try expected("svae-expected.json")["entries"] as! [[String: Any]]).map { $0["output_ids"] as! [Int] },
            "sllm": (try expected("sllm-expected.json")["prompts"] as! [[String: Any]]).map {
                ($0["sentences"] as! [[String: Any]]).flatMap { $0["ids"] as! [Int] }
            },
        ]
    }

    /// Compared with the goldens: sequences identical, and golden tokens reproduced before each
    /// sequence's first divergence.
    private func agreement(_ got: [[Int]], _ want: [[Int]]) -> (identical: Int, sequences: Int, prefix: Int, tokens: Int) {
        var identical = 0, prefix = 0, tokens = 0
        for (g, w) in zip(got, want) {
            if g == w { identical += 1 }
            prefix += zip(g, w).prefix { $0 == $1 }.count
            tokens += w.count
        }
        return (identical, want.count, prefix, tokens)
    }

    /// Greedy outputs with compact weights against the goldens (printed: the figures the README
    /// quotes), and against fp32 compute on the very same rounded weights (a bf16/q8 file loaded
    /// with `--weights f32`), which they must equal: the compact kernels add no error of their own.
    func testGreedyOutputsWithCompactWeights() throws {
        let dir = try temporaryDirectory()
        let want = try goldens()
        for format in ["bf16", "q8"] {
            var files: [String: String] = [:]
            for (command, source) in [("llm", CommandRunner.fixture("tiny-opt")), ("svae", CommandRunner.fixture("svae-tiny.pth")),
                                      ("sllm", CommandRunner.fixture("sllm-tiny.pth"))] {
                files[command] = dir + "/\(command)-\(format).safetensors"
                let r = try CommandRunner.run(["convert", source, files[command]!, "--weights", format])
                XCTAssertEqual(r.status, 0, r.err)
            }
            let atLoad = try greedyOutputs(format), fromFile = try greedyOutputs(format, checkpoints: files)
            let widened = try greedyOutputs("f32", checkpoints: files)
            for command in ["llm", "svae", "sllm"] {
                XCTAssertEqual(atLoad[command]!, fromFile[command]!, "\(command) \(format): converted at load vs read from the converted file")
                XCTAssertEqual(fromFile[command]!, widened[command]!, "\(command) \(format): compact kernels vs fp32 on the same rounded weights")
                let a = agreement(atLoad[command]!, want[command]!)
                print("\(format) \(command): \(a.identical) of \(a.sequences) greedy sequences identical to the fp32 PyTorch goldens; "
                      + "\(a.prefix) of \(a.tokens) golden tokens reproduced before the first divergence")
                if command == "llm" {
                    XCTAssertEqual(a.identical, a.sequences, "llm \(format)")
                } else {
                    // The tiny SVAE/SLLM decoders have near-ties (see testLogitErrorsOfCompactWeights):
                    // rounding the weights flips some of them. Loose bound.
                    XCTAssertGreaterThanOrEqual(Double(a.prefix), 0.5 * Double(a.tokens), "\(command) \(format)")
                }
            }
        }
    }

    /// Logit errors of bf16/q8 against fp32 along the goldens' greedy paths (teacher forcing), in
    /// process, printed for the report: the tiny OPT, and the tiny SVAE's decoder, where a flipped
    /// greedy token happens exactly where fp32's top-2 margin is of the size of the error.
    func testLogitErrorsOfCompactWeights() throws {
        func top2(_ p: UnsafePointer<Float>, _ n: Int) -> (best: Int, margin: Float) {
            var best = 0
            for i in 1..<n where p[i] > p[best] { best = i }
            var second = -Float.infinity
            for i in 0..<n where i != best { second = max(second, p[i]) }
            return (best, p[best] - second)
        }
        let dir = CommandRunner.fixture("tiny-opt")
        let reference = try ModelFactory.opt(path: dir, weights: .checkpoint(dir))
        let llm = try expected("llm-expected.json")
        let yaml = CommandRunner.fixture("svae-tiny.yaml"), pth = CommandRunner.fixture("svae-tiny.pth")
        let svaeReference = try ModelFactory.svae(SVAEConfig(path: yaml), configFile: yaml, weights: .checkpoint(pth))
        let entries = try expected("svae-expected.json")["entries"] as! [[String: Any]]
        let vocabulary = reference.config.vocabSize, width = svaeReference.model.config.hiddenSize
        for format in [WeightFormat.bf16, .q8] {
            // OPT: the prompts, then the golden tokens one at a time.
            let compact = try ModelFactory.opt(path: dir, weights: .checkpoint(dir), storage: format)
            var worst: Float = 0, largest: Float = 0
            for want in llm["cases"] as! [[String: Any]] {
                let a = OPTGenerator(model: reference.model, weights: reference.weights), b = OPTGenerator(model: compact.model, weights: compact.weights)
                var tokens = want["input_ids"] as! [Int]
                for next in want["output_ids"] as! [Int] {
                    let la = try a(tokens), lb = try b(tokens)
                    for i in 0..<vocabulary { worst = max(worst, abs(la[i] - lb[i])); largest = max(largest, abs(la[i])) }
                    tokens = [next]
                }
            }
            print("\(format.rawValue) llm: max |logit error| \(worst) (largest |logit| \(largest))")
            XCTAssertLessThan(worst, (format == .bf16 ? 0.01 : 0.03) * largest, "\(format) llm")

            // SVAE: each golden sentence encoded, then decoded along its golden output.
            let svae = try ModelFactory.svae(SVAEConfig(path: yaml), configFile: yaml, weights: .checkpoint(pth), storage: format)
            let (encodeA, encodeB) = (SentenceEncoderStep(encoder: svaeReference.model.encoder, weights: svaeReference.weights),
                                      SentenceEncoderStep(encoder: svae.model.encoder, weights: svae.weights))
            let decodeA = SentenceDecoderGenerator(decoder: svaeReference.model.decoder, weights: svaeReference.weights)
            let decodeB = SentenceDecoderGenerator(decoder: svae.model.decoder, weights: svae.weights)
            worst = 0; largest = 0
            var flips = 0, flipMargin: Float = 0, steps = 0
            for entry in entries {
                let ids = entry["input_ids"] as! [Int]
                var ma = [Float](repeating: 0, count: width), mb = ma
                try encodeA.encode([ids], into: &ma)
                try encodeB.encode([ids], into: &mb)
                ma.withUnsafeBufferPointer { decodeA.begin(memory: $0.baseAddress!) }
                mb.withUnsafeBufferPointer { decodeB.begin(memory: $0.baseAddress!) }
                var token = svaeReference.model.config.bosId
                for next in entry["output_ids"] as! [Int] {
                    let la = try decodeA(token: token), lb = try decodeB(token: token)
                    for i in 0..<vocabulary { worst = max(worst, abs(la[i] - lb[i])); largest = max(largest, abs(la[i])) }
                    let (ta, margin) = top2(la, vocabulary)
                    if ta != top2(lb, vocabulary).best { flips += 1; flipMargin = max(flipMargin, margin) }
                    steps += 1
                    token = next
                }
            }
            print("\(format.rawValue) svae decoder: max |logit error| \(worst) (largest |logit| \(largest)); greedy choice differs at \(flips) of \(steps) "
                  + "teacher-forced steps, where fp32's top-2 margin was at most \(flipMargin)")
            XCTAssertLessThan(worst, (format == .bf16 ? 0.01 : 0.03) * largest, "\(format) svae")
            XCTAssertLessThanOrEqual(flipMargin, 2 * worst, "\(format): a flip needs a margin below the error")
        }
    }

    func testConvertedFileLoadsInPlaceWithTheSameBits() throws {
        let dir = try temporaryDirectory()
        let model = CommandRunner.fixture("tiny-opt")
        for format in [WeightFormat.bf16, .q8] {
            let file = dir + "/opt-\(format.rawValue).safetensors"
            let r = try CommandRunner.run(["convert", model, file, "--weights", format.rawValue])
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertTrue(r.out.contains("13 matrices as \(format.rawValue)"), r.out)

            // The layout the README documents.
            let st = try SafetensorsFile(path: file)
            XCTAssertEqual(st.metadata[StoredMatrices.metadataKey], format.rawValue)
            let q = try st.tensors.tensor("model.decoder.layers.0.self_attn.q_proj.weight")
            XCTAssertEqual(q.dtype, format == .q8 ? .i8 : .bf16)
            XCTAssertEqual(q.shape, [32, 32])
            if format == .q8 {
                let scales = try st.tensors.tensor("model.decoder.layers.0.self_attn.q_proj.weight.scales")
                XCTAssertEqual(scales.dtype, .f16)
                XCTAssertEqual(scales.shape, [32, 1])
            }
            XCTAssertEqual(try st.tensors.tensor("model.decoder.layers.0.self_attn.q_proj.bias").dtype, .f32)
            XCTAssertEqual(try st.tensors.tensor("model.decoder.final_layer_norm.weight").dtype, .f32)

            // Loading the file in its format reads every matrix in place; converting the original
            // at load gives the same bits.
            let mapped = try ModelFactory.opt(path: model, weights: .checkpoint(file), storage: format)
            XCTAssertEqual(mapped.weights.storedCount, 13)
            XCTAssertEqual(mapped.weights.mappedCount, 13)
            let converted = try ModelFactory.opt(path: model, weights: .checkpoint(model), storage: format)
            XCTAssertEqual(converted.weights.mappedCount, 0)
            for ((name, a), (_, b)) in zip(mapped.model.parameters(), converted.model.parameters()) {
                XCTAssertEqual(mapped.weights.isStored(a), converted.weights.isStored(b), name)
                if mapped.weights.isStored(a) {
                    XCTAssertEqual(bytes(mapped.weights.matrix(a)), bytes(converted.weights.matrix(b)), name)
                } else {
                    XCTAssertEqual(a.values, b.values, name)
                }
            }
            // Converting the converted file again changes nothing.
            let again = dir + "/again-\(format.rawValue).safetensors"
            XCTAssertEqual(try CommandRunner.run(["convert", file, again, "--weights", format.rawValue]).status, 0)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again)), try Data(contentsOf: URL(fileURLWithPath: file)))
        }
        // A q8 file loaded as f32 gives the dequantised weights.
        let q8 = try ModelFactory.opt(path: model, weights: .checkpoint(dir + "/opt-q8.safetensors"), storage: .q8)
        let widened = try ModelFactory.opt(path: model, weights: .checkpoint(dir + "/opt-q8.safetensors"))
        let fc1 = widened.model.layers[1].fc1.weight
        var row = [Float](repeating: 0, count: 32)
        row.withUnsafeMutableBufferPointer { q8.weights.matrix(q8.model.layers[1].fc1.weight).row(5, into: $0.baseAddress!) }
        XCTAssertEqual(Array(fc1.values[(5 * 32)..<(6 * 32)]), row)
        XCTAssertEqual(widened.weights.storedCount, 0)
    }

    /// q8 files converted before fp16 scales hold F32 ones (the shipped models among them): they
    /// still load in place, and scales of equal value give the same output bit for bit.
    func testQ8FilesWithFP32ScalesLoadInPlace() throws {
        let dir = try temporaryDirectory()
        let model = CommandRunner.fixture("tiny-opt"), file = dir + "/q8.safetensors", old = dir + "/q8-f32-scales.safetensors"
        XCTAssertEqual(try CommandRunner.run(["convert", model, file, "--weights", "q8"]).status, 0)
        var tensors = try SafetensorsFile(path: file).tensors
        var widened = 0
        for t in tensors.all where t.name.hasSuffix(StoredMatrices.scalesSuffix) {
            XCTAssertEqual(t.dtype, .f16)
            tensors[t.name] = try TensorData(name: t.name, shape: t.shape, floats: t.floats())
            widened += 1
        }
        XCTAssertEqual(widened, 13)
        try SafetensorsWriter.write(tensors, metadata: [StoredMatrices.metadataKey: "q8"], to: old)

        let loaded = try ModelFactory.opt(path: model, weights: .checkpoint(old), storage: .q8)
        XCTAssertEqual(loaded.weights.mappedCount, 13)
        let fc1 = loaded.weights.matrix(loaded.model.layers[1].fc1.weight)
        guard case let .q8(_, scales) = fc1.storage else { return XCTFail("fc1 is not q8") }
        XCTAssertFalse(scales.half)
        XCTAssertEqual(fc1.byteCount, 64 * 32 + 64 * 4)   // [64, 32]: one fp32 scale a row

        let args = ["--model", model, "--input", "Hello there", "--weights", "q8", "--max-length", "8"]
        let a = try CommandRunner.run(["llm", "--checkpoint", file] + args), b = try CommandRunner.run(["llm", "--checkpoint", old] + args)
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssertEqual(b.status, 0, b.err)
        XCTAssertEqual(a.out.split(separator: "\n").first, b.out.split(separator: "\n").first)   // the text; then timings
        // Converting it as q8 again keeps its scales (no second rounding).
        let again = dir + "/again.safetensors"
        XCTAssertEqual(try CommandRunner.run(["convert", old, again, "--weights", "q8"]).status, 0)
        XCTAssertEqual(try SafetensorsFile(path: again).tensors.tensor("model.decoder.layers.1.fc1.weight.scales").dtype, .f32)
    }

    private func bytes(_ m: WeightMatrix) -> [UInt8] {
        switch m.storage {
        case let .f32(p): return Array(UnsafeRawBufferPointer(start: p, count: m.byteCount))
        case let .bf16(p): return Array(UnsafeRawBufferPointer(start: p, count: m.byteCount))
        case let .q8(values, scales):
            return Array(UnsafeRawBufferPointer(start: values, count: m.rows * m.columns))
                + Array(UnsafeRawBufferPointer(start: scales.base, count: m.rows * m.columns / 32 * scales.bytesPerScale))
        }
    }

    func testBrokenQ8FilesAndBadOptionsAreClearErrors() throws {
        let dir = try temporaryDirectory()
        let model = CommandRunner.fixture("tiny-opt"), file = dir + "/q8.safetensors"
        XCTAssertEqual(try CommandRunner.run(["convert", model, file, "--weights", "q8"]).status, 0)
        let tensors = try SafetensorsFile(path: file).tensors
        let scales = "model.decoder.layers.1.fc2.weight.scales"

        func run(_ broken: StateDict, _ expect: String) throws {
            let path = dir + "/broken.safetensors"
            try SafetensorsWriter.write(broken, to: path)
            for weights in ["q8", "f32"] {
                let r = try CommandRunner.run(["llm", "--model", model, "--checkpoint", path, "--input", "Hello", "--weights", weights])
                XCTAssertNotEqual(r.status, 0)
                XCTAssertTrue(r.err.contains(expect), r.err)
                XCTAssertFalse(r.err.contains("Fatal error"), r.err)
            }
        }
        var missing = tensors
        missing[scales] = nil
        try run(missing, "\(scales) is missing")
        var misShaped = tensors
        misShaped[scales] = try TensorData(name: scales, shape: [32, 1], floats: [Float](repeating: 1, count: 32))
        try run(misShaped, "needs F16 (or F32) scales [32, 2]")
        var infinite = tensors
        let shape = try tensors.tensor(scales).shape
        var halves = [UInt16](repeating: 0x2000, count: shape[0] * shape[1])
        halves[3] = 0x7C00
        infinite[scales] = try TensorData(name: scales, dtype: .f16, shape: shape, bytes: halves.withUnsafeBytes { Array($0) })
        try run(infinite, "\(scales) holds inf at element 3")

        let unknown = try CommandRunner.run(["llm", "--model", model, "--input", "Hello", "--weights", "q4"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("'f32', 'bf16' or 'q8'"), unknown.err)
        let bench = try CommandRunner.run(["bench", "opt", "--weights", "f32,q4"])
        XCTAssertNotEqual(bench.status, 0)
        XCTAssertTrue(bench.err.contains("--weights"), bench.err)

        let same = try CommandRunner.run(["convert", file, file, "--weights", "bf16"])
        XCTAssertNotEqual(same.status, 0)
        XCTAssertTrue(same.err.contains("is the input checkpoint"), same.err)
        let plain = dir + "/plain.safetensors"
        try SafetensorsWriter.write([try TensorData(name: "ln.weight", shape: [4], floats: [1, 1, 1, 1])], to: plain)
        let nothing = try CommandRunner.run(["convert", plain, dir + "/out.safetensors", "--weights", "q8"])
        XCTAssertNotEqual(nothing.status, 0)
        XCTAssertTrue(nothing.err.contains("no weight matrices"), nothing.err)
    }

    func testTrainingRefusesCompactWeights() throws {
        let file = CommandRunner.fixture("svae-tiny.yaml")
        XCTAssertThrowsError(try ModelFactory.svae(SVAEConfig(path: file), configFile: file, weights: .training(seed: 0), storage: .q8)) {
            XCTAssertTrue("\($0)".contains("training keeps its weights in fp32"), "\($0)")
        }
    }
}
