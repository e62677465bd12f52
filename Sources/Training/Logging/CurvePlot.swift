import Foundation

/// Draws a run's curves as a self-contained SVG: three panels stacked against the iteration —
/// training loss (raw and smoothed), learning rate, and eval PPL (log scale when it spans more than
/// 10×). Plain string building, so a plot needs nothing but the binary; any browser shows it.
public enum CurvePlot {
    /// The SVG for `log`. `smoothing` is the weight of TensorBoard's debiased exponential moving
    /// average for the smoothed loss (0 = none, 0.99 = heavy).
    public static func svg(for log: MetricsLog, title: String, width: Int = 900, height: Int = 700,
                           smoothing: Double = 0.9) -> String {
        let w = Double(max(width, 300)), h = Double(max(height, 300))
        let left = 78.0, right = w - 24, header = 40.0, footer = 30.0
        let panelHeight = (h - header - footer) / 3

        let iters = log.training.map(\.iter) + log.evaluation.map(\.iter)
        let xLow = Double(iters.min() ?? 0), xHigh = Double(iters.max() ?? 1)
        let xAxis = PlotAxis(dataLow: xLow, dataHigh: xHigh, pixels: (left, right), widenToTicks: false,
                             tickTarget: Int(w / 110))

        func frame(_ i: Int) -> Frame {
            let top = header + Double(i) * panelHeight
            return Frame(left: left, top: top + 26, right: right, bottom: top + panelHeight - 24, titleY: top + 18)
        }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" \
            font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#222">
            <rect x="0" y="0" width="\(Int(w))" height="\(Int(h))" fill="white"/>
            <text x="\(fmt(w / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

            """

        // Training loss: raw (light) and smoothed (dark).
        let loss = log.training.compactMap { p in p.loss.map { (Double(p.iter), $0) } }
        var lossTitle = "training loss"
        var lossSeries: [Series] = []
        if let last = loss.last {
            let smooth = zip(loss.map(\.0), smoothed(loss.map(\.1), weight: smoothing)).map { ($0, $1) }
            lossTitle += "   last \(short(last.1)), smoothed \(short(smooth.last!.1)), lowest smoothed \(short(smooth.map(\.1).min()!))"
            lossSeries = [Series(points: loss, color: "#9ecae1", width: 1, legend: "raw"),
                          Series(points: smooth, color: "#08519c", width: 2, legend: "smoothed (EMA \(short(smoothing)))")]
        }
        svg += panel(id: "panel-loss", title: lossTitle, frame: frame(0), xAxis: xAxis, series: lossSeries,
                     empty: "no training loss logged yet")

        // Learning rate.
        let lr = log.training.compactMap { p in p.lr.map { (Double(p.iter), $0) } }
        var lrTitle = "learning rate"
        if let last = lr.last { lrTitle += "   last \(short(last.1)), peak \(short(lr.map(\.1).max()!))" }
        svg += panel(id: "panel-lr", title: lrTitle, frame: frame(1), xAxis: xAxis,
                     series: lr.isEmpty ? [] : [Series(points: lr, color: "#d95f02", width: 1.5)],
                     empty: "no learning rate logged yet")

        // Eval PPL, on a log scale when it spans more than a factor of 10 (early PPLs are huge).
        let ppl = log.evaluation.map { (Double($0.iter), $0.ppl) }
        let positive = ppl.allSatisfy { $0.1 > 0 }
        let spread = (ppl.map(\.1).max() ?? 1) / max(ppl.map(\.1).min() ?? 1, .leastNormalMagnitude)
        let logScale = !ppl.isEmpty && positive && spread > 10
        var pplTitle = "eval PPL" + (logScale ? " (log scale)" : "")
        if let best = ppl.min(by: { $0.1 < $1.1 }), let last = ppl.last {
            pplTitle += "   last \(short(last.1)), best \(short(best.1)) at iter \(Int(best.0))"
        }
        svg += panel(id: "panel-eval-ppl", title: pplTitle, frame: frame(2), xAxis: xAxis,
                     series: ppl.isEmpty ? [] : [Series(points: ppl, color: "#1b9e77", width: 1.5, markers: true)],
                     empty: "no evaluation yet", logScale: logScale)

        svg += "<text x=\"\(fmt((left + right) / 2))\" y=\"\(fmt(h - 8))\" text-anchor=\"middle\">iteration</text>\n"
        return svg + "</svg>\n"
    }

    /// TensorBoard's smoothing: an exponential moving average divided by `1 - weight^n` so the first
    /// points are not pulled towards zero.
    static func smoothed(_ values: [Double], weight: Double) -> [Double] {
        let w = min(max(weight, 0), 0.999)
        var ema = 0.0, correction = 1.0
        return values.map { v in
            ema = ema * w + (1 - w) * v
            correction *= w
            return ema / (1 - correction)
        }
    }

    struct Frame {
        let left: Double, top: Double, right: Double, bottom: Double, titleY: Double
    }

    struct Series {
        let points: [(Double, Double)]
        let color: String
        let width: Double
        var legend: String? = nil
        var markers = false
    }

    /// One panel: title, frame, grid, tick labels, the series clipped to the frame, a legend.
    static func panel(id: String, title: String, frame f: Frame, xAxis: PlotAxis, series: [Series],
                      empty: String, logScale: Bool = false) -> String {
        var out = "<g id=\"\(id)\">\n"
        out += "<text x=\"\(fmt(f.left))\" y=\"\(fmt(f.titleY))\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>\n"
        out += "<clipPath id=\"clip-\(id)\"><rect x=\"\(fmt(f.left))\" y=\"\(fmt(f.top))\" width=\"\(fmt(f.right - f.left))\" "
            + "height=\"\(fmt(f.bottom - f.top))\"/></clipPath>\n"
        let values = series.flatMap { $0.points.map(\.1) }
        // x ticks and grid (shared by all panels).
        for t in xAxis.ticks() {
            let x = xAxis.pixel(t)
            out += line(x, f.top, x, f.bottom, stroke: "#e8e8e8")
            out += "<text x=\"\(fmt(x))\" y=\"\(fmt(f.bottom + 15))\" text-anchor=\"middle\">\(PlotAxis.label(t))</text>\n"
        }
        if values.isEmpty {
            out += "<rect x=\"\(fmt(f.left))\" y=\"\(fmt(f.top))\" width=\"\(fmt(f.right - f.left))\" height=\"\(fmt(f.bottom - f.top))\" "
                + "fill=\"none\" stroke=\"#888\"/>\n"
            out += "<text x=\"\(fmt((f.left + f.right) / 2))\" y=\"\(fmt((f.top + f.bottom) / 2))\" text-anchor=\"middle\" "
                + "fill=\"#888\">\(escape(empty))</text>\n"
            return out + "</g>\n"
        }
        let yAxis = PlotAxis(dataLow: values.min()!, dataHigh: values.max()!, pixels: (f.bottom, f.top), logarithmic: logScale)
        for t in yAxis.ticks() {
            let y = yAxis.pixel(t)
            out += line(f.left, y, f.right, y, stroke: "#e8e8e8")
            out += "<text x=\"\(fmt(f.left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(PlotAxis.label(t))</text>\n"
        }
        out += "<rect x=\"\(fmt(f.left))\" y=\"\(fmt(f.top))\" width=\"\(fmt(f.right - f.left))\" height=\"\(fmt(f.bottom - f.top))\" "
            + "fill=\"none\" stroke=\"#888\"/>\n"
        out += "<g clip-path=\"url(#clip-\(id))\">\n"
        for s in series {
            let pts = thin(s.points, xAxis: xAxis).map { (xAxis.pixel($0.0), yAxis.pixel($0.1)) }
            if pts.count > 1 {
                out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(fmt(s.width))\" stroke-linejoin=\"round\" points=\""
                    + pts.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ") + "\"/>\n"
            }
            if s.markers || pts.count == 1 {
                for p in pts { out += "<circle cx=\"\(fmt(p.0))\" cy=\"\(fmt(p.1))\" r=\"3\" fill=\"\(s.color)\"/>\n" }
            }
        }
        out += "</g>\n"
        // Legend, top right inside the frame, for series that name themselves.
        let named = series.filter { $0.legend != nil }
        if !named.isEmpty {
            let boxWidth = 24.0 + 7 * Double(named.map { $0.legend!.count }.max()!)
            let x = f.right - boxWidth - 8
            out += "<rect x=\"\(fmt(x - 6))\" y=\"\(fmt(f.top + 6))\" width=\"\(fmt(boxWidth + 8))\" height=\"\(fmt(Double(named.count) * 16 + 6))\" "
                + "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
            for (i, s) in named.enumerated() {
                let y = f.top + 18 + Double(i) * 16
                out += line(x, y - 4, x + 18, y - 4, stroke: s.color, width: max(s.width, 2))
                out += "<text x=\"\(fmt(x + 24))\" y=\"\(fmt(y))\">\(escape(s.legend!))</text>\n"
            }
        }
        return out + "</g>\n"
    }

    /// At most two points (the lowest and highest) per pixel column, in order: a 300 000-iteration
    /// run plots the same envelope in a file of a few hundred kilobytes.
    static func thin(_ points: [(Double, Double)], xAxis: PlotAxis) -> [(Double, Double)] {
        let columns = Int(abs(xAxis.pixelHigh - xAxis.pixelLow)) + 1
        guard points.count > 2 * columns else { return points }
        var out: [(Double, Double)] = []
        var column = Int.min
        var lo = points[0], hi = points[0], loIndex = 0, hiIndex = 0
        func flush() {
            guard column != Int.min else { return }
            if loIndex == hiIndex { out.append(lo) } else if loIndex < hiIndex { out += [lo, hi] } else { out += [hi, lo] }
        }
        for (i, p) in points.enumerated() {
            let c = Int(xAxis.pixel(p.0))
            if c != column {
                flush()
                column = c; lo = p; hi = p; loIndex = i; hiIndex = i
            } else {
                if p.1 < lo.1 { lo = p; loIndex = i }
                if p.1 > hi.1 { hi = p; hiIndex = i }
            }
        }
        flush()
        return out
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1) -> String {
        "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\"/>\n"
    }

    /// A coordinate with one decimal, without a trailing ".0".
    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    /// A value for a title: four significant digits, small ones in exponent form (`2.561e-4`).
    static func short(_ v: Double) -> String {
        v != 0 && abs(v) < 1e-3 ? String(format: "%.3e", v).replacingOccurrences(of: "e-0", with: "e-") : String(format: "%.4g", v)
    }

    /// Text made safe for SVG.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // Control characters are not allowed in XML 1.0 at all.
                if c.value < 0x20, c != "\t", c != "\n" { out += "?" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
