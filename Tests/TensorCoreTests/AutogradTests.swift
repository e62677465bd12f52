import XCTest
@testable import TensorCore

/// The tape's contract: accumulation, graph release, no-grad scopes, frozen parameters.
final class AutogradTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = try Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        try (x * 2).sum().backward()
        try (x * x).sum().backward()
        XCTAssertEqual(x.grad!.values, [2 + 2, 2 + 4, 2 + 6])
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testReusedInputSumsItsGradients() throws {
        let x = try Tensor(shape: [2], values: [3, -1], requiresGrad: true)
        // y = x·x + x  →  dy/dx = 2x + 1; both uses of x must add up.
        try (x * x + x).sum().backward()
        XCTAssertEqual(x.grad!.values, [7, -1])
    }

    func testAddBackwardDoesNotAliasGradients() throws {
        let a = try Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let b = try Tensor(shape: [2], values: [3, 4], requiresGrad: true)
        try (a + b).sum().backward()
        try (a * 5).sum().backward()
        XCTAssertEqual(a.grad!.values, [6, 6])
        XCTAssertEqual(b.grad!.values, [1, 1], "accumulating into a must not change b's gradient")
    }

    func testGraphIsFreedAfterBackward() throws {
        let x = try Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let hidden = x * 3
        weak var weakHidden: Tensor? = hidden
        let loss = hidden.sum()
        XCTAssertFalse(loss.isLeaf)
        try loss.backward()
        XCTAssertTrue(loss.isLeaf, "backward releases the graph")
        XCTAssertTrue(hidden.isLeaf)
        _ = hidden
        XCTAssertNotNil(weakHidden)
    }

    func testNoGradRecordsNothing() throws {
        let w = try Tensor(shape: [2, 2], values: [1, 2, 3, 4], requiresGrad: true)
        let y = try withNoGrad { try w.matmul(w).relu().sum() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
        XCTAssertThrowsError(try y.backward())
        XCTAssertTrue(GradMode.isEnabled, "the scope ends with the closure")
    }

    func testFrozenParameterGetsNoGradient() throws {
        let frozen = try Tensor(shape: [2], values: [1, 2])
        let trained = try Tensor(shape: [2], values: [3, 4], requiresGrad: true)
        frozen.requiresGrad = false
        try (frozen * trained).sum().backward()
        XCTAssertNil(frozen.grad)
        XCTAssertEqual(trained.grad!.values, [1, 2])
    }

    func testBackwardNeedsScalarOrGradient() throws {
        let x = try Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let y = x * 2
        XCTAssertThrowsError(try y.backward()) { error in
            XCTAssertEqual(error as? TensorError, .notScalar(shape: [2]))
        }
        try y.backward(gradient: try Tensor(shape: [2], values: [1, 10]))
        XCTAssertEqual(x.grad!.values, [2, 20])
    }

    func testDeepGraphDoesNotOverflowTheStack() throws {
        let x = try Tensor(shape: [1], values: [1], requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        try y.sum().backward()
        XCTAssertEqual(x.grad!.values[0], Float(pow(1.0001, 20_000.0)), accuracy: 1e-2)
    }
}
