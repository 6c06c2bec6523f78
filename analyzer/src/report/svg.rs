//! Small inline-SVG chart builders: horizontal bars, a line over runs, stacked bars and
//! diverging bars. No chart crate: the report needs four shapes, and writing them keeps the
//! output byte-for-byte deterministic (fixed geometry, one decimal per coordinate) and free
//! of anything the page would have to fetch.
//!
//! Every chart is an accessible image: `role="img"`, an `aria-label` (the title), and
//! `<title>` + `<desc>` (the text alternative) as its first children. Every data mark is a
//! `<g class="mark">` with its own `<title>` (a tooltip naming the exact value), so a test
//! or a screen reader can count and read the marks. Colours are never written into the SVG:
//! marks carry classes (`bar`, `bar-friction`, `s-new`, ...) that the page's CSS colours from
//! `prefers-color-scheme` variables, and text uses `currentColor` through CSS.

use std::fmt::Write as _;

use super::html::esc;

/// The width of every chart, in CSS pixels (charts scale down with `max-width: 100%`).
pub const WIDTH: f64 = 640.0;
/// Height of one row of a horizontal chart.
const ROW: f64 = 26.0;
/// Height of a bar inside its row.
const BAR: f64 = 16.0;
/// Room under horizontal charts for the axis tick labels.
const AXIS: f64 = 26.0;
/// Room for a legend line at the top.
const LEGEND: f64 = 26.0;

/// What every chart has: an ID prefix for its `<title>`/`<desc>` IDs, a title and a text
/// alternative.
pub struct Frame<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
}

/// One bar of a horizontal bar chart.
pub struct Bar {
    /// The label shown left of the bar (shortened to fit; the tooltip has it in full).
    pub label: String,
    pub value: f64,
    /// The value as shown at the end of the bar.
    pub value_text: String,
    /// The full description of the bar (its `<title>`).
    pub tooltip: String,
}

/// One point of a line chart. `value: None` is a gap (no data for that run).
pub struct Point {
    pub label: String,
    /// The label under the axis (short: the full one is in the tooltip and the table).
    pub axis_label: String,
    pub value: Option<f64>,
    pub value_text: String,
    pub tooltip: String,
    /// Drawn emphasized (the run this report is about).
    pub current: bool,
}

/// One segment of a stacked bar.
pub struct Segment {
    /// The CSS class that colours it (one per series).
    pub class: &'static str,
    pub value: f64,
    pub tooltip: String,
}

/// One row of a stacked bar chart.
pub struct Stack {
    pub label: String,
    pub segments: Vec<Segment>,
    pub total_text: String,
    pub tooltip: String,
}

/// One row of a diverging chart: `left` grows leftwards from the centre, `right` rightwards.
pub struct Diverging {
    pub label: String,
    pub left: f64,
    pub right: f64,
    pub tooltip: String,
}

/// Which part of a long label to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clip {
    /// Keep the start (names, commands).
    End,
    /// Keep the end (paths: the file name matters).
    Start,
    /// Keep both ends (IDs: time-ordered UUIDs share their start, so the end tells them
    /// apart).
    Middle,
}

impl Clip {
    fn apply(self, s: &str, max: usize) -> String {
        match self {
            Clip::End => clip_end(s, max),
            Clip::Start => clip_start(s, max),
            Clip::Middle => clip_middle(s, max),
        }
    }
}

/// The characters of a 12px label that fit in `width` pixels. 7.2px is the advance of the
/// widest common characters (digits, lower-case letters) in the usual sans-serif fonts, so
/// labels never run past their column.
fn fit(width: f64) -> usize {
    (width / 7.2) as usize
}

/// A legend entry: the class of its swatch and its name.
pub type Legend<'a> = &'a [(&'static str, &'a str)];

/// A coordinate, rounded to one decimal: stable text, enough precision for a screen.
fn n(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Shortens `s` to at most `max` characters, keeping the start (`…` at the end).
pub fn clip_end(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Shortens `s` to at most `max` characters, keeping the end (paths: the file name matters).
pub fn clip_start(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_string();
    }
    let skip = count - max.saturating_sub(1);
    let mut out = String::from("…");
    out.extend(s.chars().skip(skip));
    out
}

/// Shortens `s` to at most `max` characters, keeping its start and its end.
pub fn clip_middle(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let head = keep / 2;
    let tail = keep - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(count - tail));
    out
}

/// Axis ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10^k, about four of them.
pub fn ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let count = (max / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Tick values for counts: whole numbers only (a step below 1 would repeat labels).
fn count_ticks(max: f64) -> Vec<f64> {
    if max <= 4.0 {
        let top = max.ceil().max(1.0) as usize;
        return (0..=top).map(|i| i as f64).collect();
    }
    ticks(max)
}

/// Formats a tick value without float noise.
fn tick_text(v: f64, percent: bool) -> String {
    if percent {
        let p = v * 100.0;
        if (p - p.round()).abs() < 1e-9 {
            format!("{}%", p.round() as i64)
        } else {
            format!("{p:.1}%")
        }
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

fn open(out: &mut String, f: &Frame, height: f64) {
    let _ = write!(
        out,
        "<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{title}\" aria-describedby=\"{id}-desc\" data-chart=\"{id}\">\
         <title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{desc}</desc>",
        w = n(WIDTH),
        h = n(height),
        id = esc(f.id),
        title = esc(f.title),
        desc = esc(f.desc),
    );
}

fn legend(out: &mut String, entries: Legend, x0: f64) {
    let mut x = x0;
    out.push_str("<g class=\"legend\" aria-hidden=\"true\">");
    for (class, name) in entries {
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{}\" y=\"6\" width=\"12\" height=\"12\" rx=\"2\"></rect>\
             <text x=\"{}\" y=\"16\">{}</text>",
            n(x),
            n(x + 16.0),
            esc(name)
        );
        // Legend names are short; 7px per character is a safe over-estimate at 12px.
        x += 16.0 + name.chars().count() as f64 * 7.0 + 18.0;
    }
    out.push_str("</g>");
}

/// Vertical grid lines and tick labels under a horizontal chart whose value axis runs from
/// `x0` (value 0) to `x1` (value `top`).
#[allow(clippy::too_many_arguments)]
fn x_axis(out: &mut String, ticks: &[f64], x0: f64, x1: f64, y0: f64, y1: f64, percent: bool) {
    let top = ticks.last().copied().unwrap_or(1.0);
    out.push_str("<g class=\"axis\" aria-hidden=\"true\">");
    for t in ticks {
        let x = x0 + (x1 - x0) * t / top;
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{x}\" y1=\"{y0}\" x2=\"{x}\" y2=\"{y1}\"></line>\
             <text class=\"tick\" x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\">{}</text>",
            tick_text(*t, percent),
            x = n(x),
            y0 = n(y0),
            y1 = n(y1),
            ty = n(y1 + 16.0),
        );
    }
    out.push_str("</g>");
}

/// A horizontal bar chart: one row per bar, labels on the left, values at the bar ends.
/// `label_width` is the room for labels (labels are clipped to it); `class` colours the bars.
pub fn bars(f: &Frame, items: &[Bar], label_width: f64, clip: Clip, class: &str) -> String {
    let x0 = label_width + 8.0;
    let x1 = WIDTH - 64.0;
    let top_pad = 8.0;
    let y_end = top_pad + items.len() as f64 * ROW;
    let height = y_end + AXIS;
    let max = items.iter().map(|b| b.value).fold(0.0, f64::max);
    let ts = count_ticks(max);
    let top = ts.last().copied().unwrap_or(1.0);
    let chars = fit(label_width);
    let mut out = String::new();
    open(&mut out, f, height);
    x_axis(&mut out, &ts, x0, x1, top_pad - 4.0, y_end, false);
    for (i, b) in items.iter().enumerate() {
        let y = top_pad + i as f64 * ROW;
        let w = ((x1 - x0) * b.value / top).max(if b.value > 0.0 { 2.0 } else { 0.0 });
        let _ = write!(
            out,
            "<g class=\"mark\" data-label=\"{label}\" data-value=\"{value}\"><title>{tip}</title>\
             <text class=\"label\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{short}</text>\
             <rect class=\"bar {class}\" x=\"{x0}\" y=\"{by}\" width=\"{w}\" height=\"{bh}\" rx=\"2\"></rect>\
             <text class=\"value\" x=\"{vx}\" y=\"{ty}\">{vt}</text></g>",
            label = esc(&b.label),
            value = n(b.value),
            tip = esc(&b.tooltip),
            lx = n(label_width),
            ty = n(y + ROW / 2.0 + 4.0),
            short = esc(&clip.apply(&b.label, chars)),
            x0 = n(x0),
            by = n(y + (ROW - BAR) / 2.0),
            w = n(w),
            bh = n(BAR),
            vx = n(x0 + w + 6.0),
            vt = esc(&b.value_text),
        );
    }
    out.push_str("</svg>");
    out
}

/// A line chart over an ordered series (runs), with a point per value and gaps where a
/// value is missing. Values are fractions shown as percentages when `percent`.
pub fn line(f: &Frame, points: &[Point], percent: bool) -> String {
    let (left, right, top_pad, bottom) = (56.0, 40.0, 22.0, 44.0);
    let height = 280.0;
    let (x0, x1) = (left, WIDTH - right);
    let (y0, y1) = (top_pad, height - bottom);
    let max = points.iter().filter_map(|p| p.value).fold(0.0, f64::max);
    let ts = if percent {
        ticks(max.max(0.01))
    } else {
        count_ticks(max)
    };
    let top = ts.last().copied().unwrap_or(1.0);
    let x_of = |i: usize| {
        if points.len() <= 1 {
            (x0 + x1) / 2.0
        } else {
            x0 + (x1 - x0) * i as f64 / (points.len() - 1) as f64
        }
    };
    let y_of = |v: f64| y1 - (y1 - y0) * v / top;
    let mut out = String::new();
    open(&mut out, f, height);
    out.push_str("<g class=\"axis\" aria-hidden=\"true\">");
    for t in &ts {
        let y = y_of(*t);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"></line>\
             <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            n(x0),
            n(x1),
            n(x0 - 8.0),
            n(y + 4.0),
            tick_text(*t, percent),
            y = n(y),
        );
    }
    // X labels, centred under their points: every k-th one (always the last) so that
    // neighbours keep a gap. The widest label decides k.
    let spacing = if points.len() > 1 {
        (x1 - x0) / (points.len() - 1) as f64
    } else {
        x1 - x0
    };
    let widest = points
        .iter()
        .map(|p| p.axis_label.chars().count())
        .max()
        .unwrap_or(0) as f64
        * 7.2;
    let step = (((widest + 16.0) / spacing).ceil() as usize).max(1);
    let last = points.len().saturating_sub(1);
    for (i, p) in points.iter().enumerate() {
        let shown = i == last || (i % step == 0 && last - i >= step);
        if !shown {
            continue;
        }
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            n(x_of(i)),
            n(y1 + 20.0),
            esc(&p.axis_label)
        );
    }
    out.push_str("</g>");
    // The line: one path segment per run of consecutive values.
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{} {}",
                    if pen_down { " L" } else { " M" },
                    n(x_of(i)),
                    n(y_of(v))
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !d.is_empty() {
        let _ = write!(
            out,
            "<path class=\"series\" d=\"{}\"></path>",
            d.trim_start()
        );
    }
    let labels = points.len() <= 16;
    for (i, p) in points.iter().enumerate() {
        let Some(v) = p.value else { continue };
        let (x, y) = (x_of(i), y_of(v));
        let _ = write!(
            out,
            "<g class=\"mark{cur}\" data-label=\"{label}\" data-value=\"{value}\"><title>{tip}</title>\
             <circle class=\"point\" cx=\"{x}\" cy=\"{y}\" r=\"{r}\"></circle>",
            cur = if p.current { " current" } else { "" },
            label = esc(&p.label),
            value = v,
            tip = esc(&p.tooltip),
            x = n(x),
            y = n(y),
            r = if p.current { 6 } else { 4 },
        );
        if labels {
            let _ = write!(
                out,
                "<text class=\"value\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                n(x),
                n(y - 10.0),
                esc(&p.value_text)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A horizontal stacked bar chart with a legend: one row per stack.
pub fn stacked(f: &Frame, stacks: &[Stack], label_width: f64, legend_entries: Legend) -> String {
    let x0 = label_width + 8.0;
    let x1 = WIDTH - 140.0;
    let top_pad = LEGEND + 6.0;
    let y_end = top_pad + stacks.len() as f64 * ROW;
    let height = y_end + AXIS;
    let max = stacks
        .iter()
        .map(|s| s.segments.iter().map(|g| g.value).sum::<f64>())
        .fold(0.0, f64::max);
    let ts = count_ticks(max);
    let top = ts.last().copied().unwrap_or(1.0);
    let chars = fit(label_width);
    let mut out = String::new();
    open(&mut out, f, height);
    legend(&mut out, legend_entries, x0);
    x_axis(&mut out, &ts, x0, x1, top_pad - 4.0, y_end, false);
    for (i, s) in stacks.iter().enumerate() {
        let y = top_pad + i as f64 * ROW;
        let total: f64 = s.segments.iter().map(|g| g.value).sum();
        let _ = write!(
            out,
            "<g class=\"mark\" data-label=\"{}\" data-value=\"{}\"><title>{}</title>\
             <text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            esc(&s.label),
            n(total),
            esc(&s.tooltip),
            n(label_width),
            n(y + ROW / 2.0 + 4.0),
            esc(&clip_end(&s.label, chars)),
        );
        let mut x = x0;
        for g in s.segments.iter().filter(|g| g.value > 0.0) {
            let w = (x1 - x0) * g.value / top;
            let _ = write!(
                out,
                "<rect class=\"seg {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
                g.class,
                n(x),
                n(y + (ROW - BAR) / 2.0),
                n(w),
                n(BAR),
                esc(&g.tooltip)
            );
            x += w;
        }
        let _ = write!(
            out,
            "<text class=\"value\" x=\"{}\" y=\"{}\">{}</text></g>",
            n(x + 6.0),
            n(y + ROW / 2.0 + 4.0),
            esc(&s.total_text)
        );
    }
    out.push_str("</svg>");
    out
}

/// A diverging bar chart: a centre axis, `left` values drawn leftwards, `right` values
/// rightwards, on one shared scale so the two sides compare.
pub fn diverging(
    f: &Frame,
    rows: &[Diverging],
    label_width: f64,
    left: (&'static str, &str),
    right: (&'static str, &str),
) -> String {
    let value_room = 30.0;
    let cx = label_width + 8.0 + (WIDTH - label_width - 8.0) / 2.0;
    let half = (WIDTH - label_width - 8.0) / 2.0 - value_room;
    let top_pad = LEGEND + 6.0;
    let y_end = top_pad + rows.len() as f64 * ROW;
    let height = y_end + AXIS;
    let max = rows.iter().map(|r| r.left.max(r.right)).fold(0.0, f64::max);
    let ts = count_ticks(max);
    let top = ts.last().copied().unwrap_or(1.0);
    let chars = fit(label_width);
    let mut out = String::new();
    open(&mut out, f, height);
    // Legend: the left series' name left of the centre, the right one's right of it.
    let _ = write!(
        out,
        "<g class=\"legend\" aria-hidden=\"true\">\
         <rect class=\"{lc}\" x=\"{lx}\" y=\"6\" width=\"12\" height=\"12\" rx=\"2\"></rect>\
         <text x=\"{ltx}\" y=\"16\" text-anchor=\"end\">◀ {ln}</text>\
         <rect class=\"{rc}\" x=\"{rx}\" y=\"6\" width=\"12\" height=\"12\" rx=\"2\"></rect>\
         <text x=\"{rtx}\" y=\"16\">{rn} ▶</text></g>",
        lc = left.0,
        lx = n(cx - 20.0),
        ltx = n(cx - 26.0),
        ln = esc(left.1),
        rc = right.0,
        rx = n(cx + 8.0),
        rtx = n(cx + 26.0),
        rn = esc(right.1),
    );
    out.push_str("<g class=\"axis\" aria-hidden=\"true\">");
    for t in &ts {
        for side in [-1.0, 1.0] {
            if *t == 0.0 && side > 0.0 {
                continue;
            }
            let x = cx + side * half * t / top;
            let _ = write!(
                out,
                "<line class=\"grid{}\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"></line>\
                 <text class=\"tick\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                if *t == 0.0 { " zero" } else { "" },
                n(top_pad - 4.0),
                n(y_end),
                n(y_end + 16.0),
                tick_text(*t, false),
                x = n(x),
            );
        }
    }
    out.push_str("</g>");
    for (i, r) in rows.iter().enumerate() {
        let y = top_pad + i as f64 * ROW;
        let by = y + (ROW - BAR) / 2.0;
        let ty = y + ROW / 2.0 + 4.0;
        let lw = half * r.left / top;
        let rw = half * r.right / top;
        let _ = write!(
            out,
            "<g class=\"mark\" data-label=\"{label}\" data-left=\"{l}\" data-right=\"{rv}\"><title>{tip}</title>\
             <text class=\"label\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{short}</text>\
             <rect class=\"bar {lc}\" x=\"{lbx}\" y=\"{by}\" width=\"{lw}\" height=\"{bh}\" rx=\"2\"></rect>\
             <text class=\"value\" x=\"{lvx}\" y=\"{ty}\" text-anchor=\"end\">{l}</text>\
             <rect class=\"bar {rc}\" x=\"{cx}\" y=\"{by}\" width=\"{rw}\" height=\"{bh}\" rx=\"2\"></rect>\
             <text class=\"value\" x=\"{rvx}\" y=\"{ty}\">{rv}</text></g>",
            label = esc(&r.label),
            l = n(r.left),
            rv = n(r.right),
            tip = esc(&r.tooltip),
            lx = n(label_width),
            ty = n(ty),
            short = esc(&clip_middle(&r.label, chars)),
            lc = left.0,
            lbx = n(cx - lw),
            by = n(by),
            lw = n(lw),
            bh = n(BAR),
            lvx = n(cx - lw - 5.0),
            rc = right.0,
            cx = n(cx),
            rw = n(rw),
            rvx = n(cx + rw + 5.0),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame<'static> {
        Frame {
            id: "c",
            title: "T <&>",
            desc: "D \"q\"",
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_max() {
        assert_eq!(ticks(0.37), vec![0.0, 0.1, 0.2, 0.30000000000000004, 0.4]);
        assert_eq!(count_ticks(3.0), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(count_ticks(17.0), vec![0.0, 5.0, 10.0, 15.0, 20.0]);
        assert_eq!(tick_text(0.30000000000000004, true), "30%");
        assert_eq!(tick_text(0.025, true), "2.5%");
        for max in [0.0, 1.0, 7.0, 99.0, 1234.0] {
            let t = count_ticks(max);
            assert!(*t.last().unwrap() >= max, "{max}: {t:?}");
            assert!(t.len() <= 6, "{max}: {t:?}");
        }
    }

    #[test]
    fn clipping_keeps_the_meaningful_end() {
        assert_eq!(clip_end("abcdef", 4), "abc…");
        assert_eq!(clip_start("src/deep/file.rs", 8), "…file.rs");
        assert_eq!(clip_start("short", 8), "short");
        assert_eq!(clip_middle("0199a1f2-7c3e-00a", 9), "0199…-00a");
    }

    #[test]
    fn bars_are_accessible_escaped_and_counted() {
        let items: Vec<Bar> = (0..3)
            .map(|i| Bar {
                label: format!("<b{i}>"),
                value: i as f64,
                value_text: i.to_string(),
                tooltip: format!("tip {i}"),
            })
            .collect();
        let svg = bars(&frame(), &items, 200.0, Clip::End, "bar-x");
        assert!(svg.starts_with("<svg class=\"chart\" width=\"640\" height=\"112\""));
        assert!(svg.contains("role=\"img\" aria-label=\"T &lt;&amp;&gt;\""));
        assert!(svg.contains("<desc id=\"c-desc\">D &quot;q&quot;</desc>"));
        assert_eq!(svg.matches("class=\"mark\"").count(), 3);
        assert!(!svg.contains("<b0>"));
        assert!(svg.contains("&lt;b0&gt;"));
        // A zero value draws no bar; the largest reaches the axis end.
        assert!(svg.contains("width=\"0\" height=\"16\""));
    }

    #[test]
    fn line_breaks_at_gaps_and_marks_the_current_point() {
        let pts: Vec<Point> = [Some(0.1), None, Some(0.3), Some(0.2)]
            .into_iter()
            .enumerate()
            .map(|(i, v)| Point {
                label: format!("r{i}"),
                axis_label: format!("r{i}"),
                value: v,
                value_text: String::new(),
                tooltip: String::new(),
                current: i == 3,
            })
            .collect();
        let svg = line(&frame(), &pts, true);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("class=\"mark current\"").count(), 1);
        let path = svg.split("class=\"series\" d=\"").nth(1).unwrap();
        let d = &path[..path.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
    }

    #[test]
    fn diverging_and_stacked_share_one_scale() {
        let rows = [
            Diverging {
                label: "a".into(),
                left: 4.0,
                right: 1.0,
                tooltip: String::new(),
            },
            Diverging {
                label: "b".into(),
                left: 0.0,
                right: 4.0,
                tooltip: String::new(),
            },
        ];
        let svg = diverging(&frame(), &rows, 150.0, ("l", "L"), ("r", "R"));
        // Both 4s are drawn the same length on their side.
        let widths: Vec<&str> = svg
            .match_indices(" width=\"")
            .map(|(i, _)| {
                let s = &svg[i + 8..];
                &s[..s.find('"').unwrap()]
            })
            .collect();
        assert!(
            widths.iter().filter(|w| **w == "211").count() >= 2,
            "{widths:?}"
        );
        let st = stacked(
            &frame(),
            &[Stack {
                label: "x".into(),
                segments: vec![
                    Segment {
                        class: "s-a",
                        value: 1.0,
                        tooltip: String::new(),
                    },
                    Segment {
                        class: "s-b",
                        value: 0.0,
                        tooltip: String::new(),
                    },
                ],
                total_text: "1".into(),
                tooltip: String::new(),
            }],
            100.0,
            &[("s-a", "A"), ("s-b", "B")],
        );
        // Zero segments are not drawn; the legend still names both series.
        assert_eq!(st.matches("class=\"seg ").count(), 1);
        assert!(st.contains(">B</text>"));
    }
}
