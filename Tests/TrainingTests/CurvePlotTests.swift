import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Training

final class CurvePlotTests: XCTestCase {
    /// A small run: training lines with extra keys, evaluations, a line re-logged by a resumed run,
    /// wrong-typed values, and a last line torn by a kill.
    static let metrics = """
        {"iter": 0, "loss": 10.5, "lr": 3e-7, "tokens_per_s": 1200.5, "grad_norm": 3.2}
        {"iter": 10, "loss": 8.25, "lr": 3e-5, "tokens_per_s": 1300}
        {"iter": 20, "loss": 6.0, "lr": 6e-5}
        {"iter": 20, "eval_ppl": 5000.0, "eval_loss": 8.5, "eval_ppl_original": 5100}
        {"iter": 30, "loss": 9.99, "lr": 9e-5}
        {"iter": 30, "loss": 5.5, "lr": 9e-5, "note": "resumed"}
        {"iter": 40, "loss": true, "lr": "fast"}
        {"iter": 40, "loss": 4.0, "lr": 1.2e-4}
        {"iter": 40, "eval_ppl": 60.0}
        {"loss": 1.0}
        {"iter": 50, "loss": 3.5, "lr": 1.5e-4}
        {"iter": 50, "eval_p
        """

    func testMetricsLogKeepsWhatItPlots() {
        let log = MetricsLog(text: Self.metrics, source: "m.jsonl")
        XCTAssertEqual(log.training.map(\.iter), [0, 10, 20, 30, 40, 50])
        XCTAssertEqual(log.training.map(\.loss), [10.5, 8.25, 6.0, 5.5, 4.0, 3.5])  // the resumed run's 30, not 9.99
        XCTAssertEqual(log.training[0].lr, 3e-7)
        XCTAssertEqual(log.evaluation, [.init(iter: 20, ppl: 5000), .init(iter: 40, ppl: 60)])
        XCTAssertEqual(log.notes.count, 2, "\(log.notes)")
        XCTAssertTrue(log.notes[0].contains("line 10 has no integer 'iter'"), log.notes[0])
        XCTAssertTrue(log.notes[1].contains("m.jsonl: line 12 is cut short"), log.notes[1])
    }

    func testCleanFileHasNoNotesAndBadMiddleLineIsNamed() {
        let clean = MetricsLog(text: "{\"iter\": 1, \"loss\": 2}\n\n{\"iter\": 2, \"eval_ppl\": 3}\n")
        XCTAssertEqual(clean.notes, [])
        XCTAssertEqual(clean.training.count, 1); XCTAssertEqual(clean.evaluation.count, 1)
        let bad = MetricsLog(text: "{\"iter\": 1, \"loss\": 2}\nnot json\n[1, 2]\n", source: "x")
        XCTAssertEqual(bad.notes, ["x: line 2 is not a JSON object; skipped", "x: line 3 is not a JSON object; skipped"])
        XCTAssertTrue(MetricsLog(text: "").isEmpty)
        XCTAssertTrue(MetricsLog(text: "{\"iter\": 3, \"tokens_per_s\": 5}\n").isEmpty)
    }

    func testMissingFileIsAnErrorNamingIt() {
        XCTAssertThrowsError(try MetricsLog(contentsOf: "/nonexistent/metrics.jsonl")) { error in
            XCTAssertEqual((error as? LoggingError)?.path, "/nonexistent/metrics.jsonl")
        }
    }

    /// The SVG parses as XML and holds the three panels, the curves and the log-scale eval axis.
    func testSVGIsWellFormedWithThreePanels() throws {
        let log = MetricsLog(text: Self.metrics)
        let svg = CurvePlot.svg(for: log, title: "run <1> & co", width: 900, height: 700)
        let doc = try parseXML(svg)
        XCTAssertEqual(doc.root, "svg")
        XCTAssertEqual(doc.attributes["svg"]?["width"], "900")
        for id in ["panel-loss", "panel-lr", "panel-eval-ppl"] { XCTAssertTrue(doc.ids.contains(id), "missing \(id)") }
        XCTAssertEqual(doc.count("polyline"), 4)  // raw loss, smoothed loss, lr, eval PPL
        XCTAssertEqual(doc.count("circle"), 2)    // one marker per evaluation
        XCTAssertTrue(doc.text.contains("run <1> & co"))
        XCTAssertTrue(doc.text.contains("eval PPL (log scale)"))  // 60 … 5000 spans > 10×
        XCTAssertTrue(doc.text.contains("best 60 at iter 40"), doc.text)
        XCTAssertTrue(doc.text.contains("1.5e-4"), doc.text)        // lr tick labels in exponent form
    }

    func testNarrowPPLIsLinearAndMissingCurvesSaySo() throws {
        let log = MetricsLog(text: "{\"iter\": 100, \"eval_ppl\": 30}\n{\"iter\": 200, \"eval_ppl\": 25}\n")
        let doc = try parseXML(CurvePlot.svg(for: log, title: "t"))
        XCTAssertFalse(doc.text.contains("log scale"))
        XCTAssertTrue(doc.text.contains("no training loss logged yet"))
        XCTAssertTrue(doc.text.contains("no learning rate logged yet"))
        XCTAssertEqual(doc.count("polyline"), 1)
        // A single point is drawn as a marker.
        let one = try parseXML(CurvePlot.svg(for: MetricsLog(text: "{\"iter\": 5, \"loss\": 2, \"lr\": 0.001}\n"), title: "t"))
        XCTAssertEqual(one.count("circle"), 3)  // raw and smoothed loss, lr
        XCTAssertTrue(one.text.contains("no evaluation yet"))
    }

    /// Long runs plot as a per-pixel envelope: the file stays small, the extremes stay in.
    func testLongRunsAreThinnedToThePixelGrid() throws {
        var text = ""
        for i in 0..<50_000 { text += "{\"iter\": \(i * 6), \"loss\": \(i == 12_345 ? 99.0 : 2 + Double(i % 7) * 0.1), \"lr\": 0.0003}\n" }
        let log = MetricsLog(text: text)
        XCTAssertEqual(log.training.count, 50_000)
        let svg = CurvePlot.svg(for: log, title: "long")
        XCTAssertLessThan(svg.utf8.count, 200_000)
        let doc = try parseXML(svg)
        XCTAssertTrue(doc.text.contains("\n250k\n"), doc.text)  // x tick label
        XCTAssertTrue(doc.text.contains("last 2.5, smoothed"), doc.text)  // 2 + (49 999 mod 7) · 0.1
        let axis = PlotAxis(dataLow: 0, dataHigh: 10, pixels: (0, 100), widenToTicks: false)
        let points = (0..<10_000).map { (Double($0) / 1000, $0 == 4321 ? 50.0 : 1.0) }
        let thin = CurvePlot.thin(points, xAxis: axis)
        XCTAssertLessThanOrEqual(thin.count, 2 * 101)
        XCTAssertTrue(thin.contains { $0.1 == 50 })
        XCTAssertEqual(thin.map(\.0), thin.map(\.0).sorted())
    }

    func testAxisTicksAndLabels() {
        XCTAssertEqual(PlotAxis.niceStep(0.7), 1); XCTAssertEqual(PlotAxis.niceStep(1.3), 2)
        XCTAssertEqual(PlotAxis.niceStep(2.2), 2.5); XCTAssertEqual(PlotAxis.niceStep(420), 500)
        XCTAssertEqual(PlotAxis.label(0.0003), "3e-4"); XCTAssertEqual(PlotAxis.label(2.5e-5), "2.5e-5")
        XCTAssertEqual(PlotAxis.label(20000), "20k"); XCTAssertEqual(PlotAxis.label(1_500_000), "1.5M")
        XCTAssertEqual(PlotAxis.label(2.5), "2.5"); XCTAssertEqual(PlotAxis.label(1000), "1000"); XCTAssertEqual(PlotAxis.label(0), "0")
        let linear = PlotAxis(dataLow: 1.3, dataHigh: 9.6, pixels: (200, 0))
        XCTAssertEqual(linear.ticks(), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(linear.pixel(0), 200); XCTAssertEqual(linear.pixel(10), 0)
        let log = PlotAxis(dataLow: 13.4, dataHigh: 349, pixels: (100, 0), logarithmic: true)
        XCTAssertEqual(log.low, 10); XCTAssertEqual(log.high, 500)
        XCTAssertEqual(log.ticks(), [10, 20, 50, 100, 200, 500])
        XCTAssertEqual(log.pixel(10), 100, accuracy: 1e-9); XCTAssertEqual(log.pixel(500), 0, accuracy: 1e-9)
        // A constant curve still gets a range.
        let flat = PlotAxis(dataLow: 5, dataHigh: 5, pixels: (0, 1))
        XCTAssertLessThan(flat.low, 5); XCTAssertGreaterThan(flat.high, 5)
        XCTAssertEqual(CurvePlot.smoothed([4, 4, 4], weight: 0.9), [4, 4, 4].map { _ in 4.0 })
        XCTAssertEqual(CurvePlot.smoothed([1, 3], weight: 0.5)[1], (0.5 * 0.5 + 0.5 * 3) / 0.75, accuracy: 1e-12)
    }
}

/// What the XML parser saw: root element, element counts, `id`s, attributes by element, all text.
struct ParsedXML {
    var root = ""
    var counts: [String: Int] = [:]
    var ids: Set<String> = []
    var attributes: [String: [String: String]] = [:]
    var text = ""
    func count(_ element: String) -> Int { counts[element] ?? 0 }
}

func parseXML(_ s: String) throws -> ParsedXML {
    final class Delegate: NSObject, XMLParserDelegate {
        var result = ParsedXML()
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if result.root.isEmpty { result.root = name }
            result.counts[name, default: 0] += 1
            if let id = attributes["id"] { result.ids.insert(id) }
            result.attributes[name] = result.attributes[name] ?? attributes
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { result.text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if !result.text.hasSuffix("\n") { result.text += "\n" }
        }
    }
    let parser = XMLParser(data: Data(s.utf8))
    let delegate = Delegate()
    parser.delegate = delegate
    guard parser.parse() else {
        throw TestFailure("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
    }
    return delegate.result
}
