import Foundation
import TensorCore
import XCTest
@testable import Training

/// The learning-rate curve equals mmengine's (LinearLR × CosineAnnealingLR, stepped per
/// iteration), and the EMA equals mmengine's `ExponentialMovingAverage`. Fixtures:
/// `Tools/reference/make_schedule_goldens.py`.
final class ScheduleTests: XCTestCase {
    func fixture(_ name: String) throws -> [String: Any] {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")!
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func testMMEngineCurve() throws {
        let cases = try fixture("lr_schedule")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let (w, t, base) = (c["warmup_iters"] as! Int, c["tmax"] as! Int, c["base_lr"] as! Double)
            let iters = c["iters"] as! [Int], lrs = c["lrs"] as! [Double]
            let factors = LRSchedule.mmengine(warmupIters: w, cosineTMax: t).factors(count: iters.max()! + 1)
            for (i, lr) in zip(iters, lrs) {
                XCTAssertEqual(base * factors[i], lr, accuracy: 1e-9 * base + 1e-12 * abs(lr), "W=\(w) T=\(t) iteration \(i)")
            }
        }
    }

    func testPlainWarmupCosine() {
        let f = LRSchedule.warmupCosine(warmupIters: 4, totalIters: 14).factors(count: 15)
        XCTAssertEqual(Array(f.prefix(4)), [0.25, 0.5, 0.75, 1])
        XCTAssertEqual(f[4], 1, accuracy: 1e-12)
        XCTAssertEqual(f[9], 0.5, accuracy: 1e-12)
        XCTAssertEqual(f[14], 0, accuracy: 1e-12)
    }

    func testEMAEqualsMMEngine() throws {
        for c in try fixture("ema")["cases"] as! [[String: Any]] {
            let m = Float(c["momentum"] as! Double)
            let thetas = (c["thetas"] as! [[Double]]).map { $0.map(Float.init) }
            let emas = (c["emas"] as! [[Double]]).map { $0.map(Float.init) }
            let p = try Tensor(shape: [thetas[0].count], values: thetas[0])
            let ema = EMA(parameters: [p], momentum: m)
            for (theta, expected) in zip(thetas, emas) {
                p.data.update(from: theta, count: theta.count)
                ema.update(from: [p])
                for (a, e) in zip(ema.averages[0].values, expected) { XCTAssertEqual(a, e, accuracy: 1e-6, "momentum \(m)") }
            }
        }
    }
}
