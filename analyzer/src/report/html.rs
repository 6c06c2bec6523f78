//! Rendering [`ReportData`] as one HTML page: inline CSS, one inline script, inline SVG.
//!
//! Self-contained by construction and by policy: nothing in the page has a `src`, the only
//! `href`s are in-page anchors and the ticket links from the state, and a
//! Content-Security-Policy (`default-src 'none'`, the style and the script allowed by their
//! SHA-256) stops the browser from loading anything even if a later change slipped in a
//! reference. Every text is escaped ([`esc`]); texts from the inputs were redacted by
//! [`super::gather`].
//!
//! Each chart is a `<figure>`: a `<figcaption>` title, the SVG (or "No data in this window."
//! when there is nothing to draw), and a sortable `<table>` with one row per mark.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::svg::{self, Bar, Diverging, Frame, Point, Segment, Stack};
use super::*;

use crate::numbers::pct;

const CSS: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/sort.js");

/// What an empty chart says instead of drawing an empty SVG.
pub const NO_DATA: &str = "No data in this window.";

/// A rendered page.
#[derive(Clone, Debug)]
pub struct Page {
    pub html: String,
    /// Figures with a chart drawn (not empty).
    pub charts: usize,
}

/// Escapes text for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Standard base64 (for the CSP hashes; no crate for twenty lines).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The CSP source of an inline element's content.
fn csp_hash(content: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(content.as_bytes())))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A table cell: markup (already escaped) and an optional sort key.
struct Cell {
    html: String,
    sort: Option<String>,
    class: &'static str,
}

impl Cell {
    fn text(s: &str) -> Cell {
        Cell {
            html: esc(s),
            sort: None,
            class: "",
        }
    }
    fn wrap(s: &str) -> Cell {
        Cell {
            class: "wrap",
            ..Cell::text(s)
        }
    }
    /// An identifier (error type, fingerprint, path): monospace, never broken.
    fn code(s: &str) -> Cell {
        Cell {
            html: format!("<code>{}</code>", esc(s)),
            sort: Some(s.to_string()),
            class: "nowrap",
        }
    }
    /// A run ID or other short label that must stay on one line.
    fn label(s: &str) -> Cell {
        Cell {
            class: "nowrap",
            ..Cell::text(s)
        }
    }
    /// An RFC 3339 UTC time shown to the minute (`2026-03-04 04:10`); sorts by the full
    /// time.
    fn time(iso: &str) -> Cell {
        let shown = if iso.len() >= 16 && iso.as_bytes()[10] == b'T' {
            format!("{} {}", &iso[..10], &iso[11..16])
        } else {
            iso.to_string()
        };
        Cell {
            html: format!("<time datetime=\"{}\">{}</time>", esc(iso), esc(&shown)),
            sort: Some(iso.to_string()),
            class: "nowrap",
        }
    }
    fn count(n: u64) -> Cell {
        Cell {
            html: n.to_string(),
            sort: None,
            class: "num",
        }
    }
    fn num(v: f64, shown: String) -> Cell {
        Cell {
            html: esc(&shown),
            sort: Some(format!("{v}")),
            class: "num",
        }
    }
    /// A number column's cell with no value: sorts last.
    fn none(shown: &str) -> Cell {
        Cell {
            html: esc(shown),
            sort: Some(String::new()),
            class: "num",
        }
    }
    fn markup(html: String, sort: String, class: &'static str) -> Cell {
        Cell {
            html,
            sort: Some(sort),
            class,
        }
    }
}

/// A column header; `num` columns are right-aligned and sort numerically.
struct Col(&'static str, bool);

fn table(out: &mut String, id: &str, caption: &str, cols: &[Col], rows: &[(Vec<Cell>, bool)]) {
    let _ = write!(
        out,
        "<div class=\"data\"><table class=\"sortable\" data-table=\"{}\"><caption>{}</caption><thead><tr>",
        esc(id),
        esc(caption)
    );
    for Col(name, num) in cols {
        let _ = write!(
            out,
            "<th scope=\"col\"{}>{}</th>",
            if *num { " class=\"num\"" } else { "" },
            esc(name)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for (cells, current) in rows {
        out.push_str(if *current {
            "<tr class=\"current\">"
        } else {
            "<tr>"
        });
        for c in cells {
            out.push_str("<td");
            if !c.class.is_empty() {
                let _ = write!(out, " class=\"{}\"", c.class);
            }
            if let Some(s) = &c.sort {
                let _ = write!(out, " data-sort=\"{}\"", esc(s));
            }
            let _ = write!(out, ">{}</td>", c.html);
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

/// One chart's figure. `chart` is `None` when there is no data.
struct Figure<'a> {
    id: &'a str,
    /// The table has long texts: it goes under the chart unless the screen is very wide.
    wide: bool,
    title: &'a str,
    sub: String,
    chart: Option<String>,
    caption: String,
    cols: Vec<Col>,
    rows: Vec<(Vec<Cell>, bool)>,
    after: String,
}

fn figure(out: &mut String, f: Figure) -> bool {
    let _ = write!(
        out,
        "<figure id=\"chart-{id}\" data-chart=\"{id}\"><figcaption><h2>{title}</h2><p class=\"sub\">{sub}</p></figcaption>",
        id = esc(f.id),
        title = esc(f.title),
        sub = f.sub,
    );
    let drawn = match &f.chart {
        Some(svg) => {
            out.push_str(if f.wide {
                "<div class=\"pair wide\"><div class=\"plot\">"
            } else {
                "<div class=\"pair\"><div class=\"plot\">"
            });
            out.push_str(svg);
            out.push_str("</div>");
            table(out, f.id, &f.caption, &f.cols, &f.rows);
            out.push_str("</div>");
            true
        }
        None => {
            let _ = write!(out, "<p class=\"empty\">{NO_DATA}</p>");
            false
        }
    };
    out.push_str(&f.after);
    out.push_str("</figure>\n");
    drawn
}

/// Renders the page (a pure function of the data).
pub fn render(d: &ReportData) -> Page {
    let mut body = String::new();
    header(&mut body, d);
    body.push_str("<main>\n");
    let mut charts = 0;
    charts += usize::from(figure(&mut body, failure_rate(d)));
    charts += usize::from(figure(&mut body, error_types(d)));
    charts += usize::from(figure(&mut body, friction_delight(d)));
    charts += usize::from(figure(&mut body, signatures(d)));
    charts += usize::from(figure(&mut body, hotspots(d)));
    charts += usize::from(figure(&mut body, finding_runs(d)));
    findings(&mut body, d);
    notes(&mut body, d);
    body.push_str("</main>\n");
    let _ = writeln!(
        body,
        "<footer><p>codex-analyzer {} · a dry run of <code>codex-analyzer run</code> at the \
         reference time: nothing was written besides this file. Every text from the logs is \
         redacted before it is shown. See <code>docs/report.md</code> for how each chart is \
         computed.</p></footer>",
        env!("CARGO_PKG_VERSION")
    );

    let title = format!(
        "Codex report: {}, run {}",
        if d.repo_name.is_empty() {
            "repository"
        } else {
            &d.repo_name
        },
        d.run_id
    );
    let mut html = String::with_capacity(body.len() + CSS.len() + SCRIPT.len() + 1024);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; \
         script-src {}; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"generator\" content=\"codex-analyzer {}\">\n<title>{}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        csp_hash(CSS),
        csp_hash(SCRIPT),
        env!("CARGO_PKG_VERSION"),
        esc(&title),
    );
    Page { html, charts }
}

fn header(out: &mut String, d: &ReportData) {
    let _ = write!(
        out,
        "<header>\n<h1>Codex improvement report <span class=\"repo\">{}</span></h1>\n<p class=\"meta\">Run <strong>{}</strong> · ",
        esc(&d.repo_name),
        esc(&d.run_id),
    );
    if d.now_is_clock {
        let _ = write!(
            out,
            "generated at {} (the clock: pass <code>--now</code> for a reproducible report)",
            esc(&d.now)
        );
    } else {
        let _ = write!(out, "reference time {}", esc(&d.now));
    }
    let _ = write!(
        out,
        " · the figures cover the window {} from {} to the reference time",
        esc(&d.window),
        esc(&d.window_start),
    );
    out.push_str("</p>\n<dl class=\"kpis\">");
    let t = &d.totals;
    let count = |n: u64| n.to_string();
    let statuses = |s: &str| d.findings.iter().filter(|f| f.status == s).count() as u64;
    let active = d.findings.len() as u64 - statuses("resolved");
    let kpis: Vec<(&str, String)> = vec![
        ("Tool calls", count(t.calls)),
        (
            "Failure rate",
            t.failure_rate.map_or_else(|| "–".to_string(), pct),
        ),
        ("Failed calls", count(t.failed)),
        ("No outcome", count(t.unknown)),
        ("Sessions", count(t.sessions)),
        ("CI failures", count(t.ci_failures)),
        ("Commits", count(t.commits)),
        ("Findings", count(active)),
        ("New", count(statuses("new"))),
        ("Resolved", count(statuses("resolved"))),
    ];
    for (k, v) in kpis {
        let _ = write!(out, "<div><dt>{}</dt><dd>{}</dd></div>", esc(k), esc(&v));
    }
    out.push_str("</dl>\n<nav aria-label=\"Sections\"><ul>");
    for (id, name) in [
        ("chart-failure-rate", "Failure rate"),
        ("chart-error-types", "Error types"),
        ("chart-friction-delight", "Friction vs delight"),
        ("chart-signatures", "Failure signatures"),
        ("chart-hotspots", "Hotspot files"),
        ("chart-finding-runs", "Findings per run"),
        ("findings", "Findings"),
    ] {
        let _ = write!(out, "<li><a href=\"#{id}\">{name}</a></li>");
    }
    out.push_str("</ul></nav>\n</header>\n");
}

fn failure_rate(d: &ReportData) -> Figure<'static> {
    let rated: Vec<&RunRow> = d.runs.iter().filter(|r| r.failure_rate.is_some()).collect();
    let chart = (!rated.is_empty()).then(|| {
        let points: Vec<Point> = d
            .runs
            .iter()
            .map(|r| Point {
                label: r.run_id.clone(),
                axis_label: axis_run_label(&r.run_id),
                value: r.failure_rate,
                value_text: r.failure_rate.map(pct).unwrap_or_default(),
                tooltip: match r.failure_rate {
                    Some(x) => format!(
                        "Run {}{}: {} of {} failed ({} failed, {} without an outcome)",
                        r.run_id,
                        if r.current { " (this report)" } else { "" },
                        pct(x),
                        plural(r.definite, "call with an outcome", "calls with an outcome"),
                        r.failed,
                        r.unknown
                    ),
                    None => format!("Run {}: no call with an outcome", r.run_id),
                },
                current: r.current,
            })
            .collect();
        let lo = rated
            .iter()
            .min_by(|a, b| a.failure_rate.partial_cmp(&b.failure_rate).expect("finite"))
            .expect("non-empty");
        let hi = rated
            .iter()
            .max_by(|a, b| a.failure_rate.partial_cmp(&b.failure_rate).expect("finite"))
            .expect("non-empty");
        let mut desc = format!(
            "Line chart of the tool failure rate over {} from {} to {}: lowest {} in run {}, highest {} in run {}.",
            plural(d.runs.len() as u64, "run", "runs"),
            d.runs.first().map_or("", |r| &r.run_id),
            d.runs.last().map_or("", |r| &r.run_id),
            pct(lo.failure_rate.unwrap_or(0.0)),
            lo.run_id,
            pct(hi.failure_rate.unwrap_or(0.0)),
            hi.run_id,
        );
        if let Some(cur) = d.runs.iter().find(|r| r.current) {
            let _ = write!(
                desc,
                " This run ({}): {}.",
                cur.run_id,
                cur.failure_rate
                    .map_or_else(|| "no call with an outcome".into(), pct)
            );
        }
        svg::line(
            &Frame {
                id: "failure-rate",
                title: "Tool failure rate across runs",
                desc: &desc,
            },
            &points,
            true,
        )
    });
    let rows = d
        .runs
        .iter()
        .rev()
        .map(|r| {
            (
                vec![
                    run_cell(&r.run_id, r.current),
                    match r.failure_rate {
                        Some(x) => Cell::num(x, pct(x)),
                        None => Cell::none("–"),
                    },
                    Cell::count(r.failed),
                    Cell::count(r.definite),
                    Cell::count(r.unknown),
                ],
                r.current,
            )
        })
        .collect();
    Figure {
        id: "failure-rate",
        wide: false,
        title: "Tool failure rate across runs",
        sub: format!(
            "Failed ÷ tool calls with an outcome, in each run's {} window (from the state); \
             the last point is this report's run, computed now. Calls without an outcome are \
             not counted as successes.",
            esc(&d.run_window)
        ),
        chart,
        caption: "Runs, most recent first".into(),
        cols: vec![
            Col("Run", false),
            Col("Failure rate", true),
            Col("Failed", true),
            Col("With outcome", true),
            Col("No outcome", true),
        ],
        rows,
        after: String::new(),
    }
}

/// A run ID; the report's own run is marked on a second line (keeps the column narrow).
fn run_cell(run_id: &str, current: bool) -> Cell {
    let mut html = esc(run_id);
    if current {
        html.push_str("<br><span class=\"this\">this report</span>");
    }
    Cell::markup(html, run_id.to_string(), "nowrap")
}

/// `2026-03-04-AM` → `03-04 AM`: the axis needs the day and the half; the year is in the
/// table and the tooltip.
fn axis_run_label(run_id: &str) -> String {
    match (run_id.get(5..10), run_id.get(11..)) {
        (Some(day), Some(half)) if run_id.len() == 13 => format!("{day} {half}"),
        _ => run_id.to_string(),
    }
}

fn error_types(d: &ReportData) -> Figure<'static> {
    let chart = (!d.error_types.is_empty()).then(|| {
        let items: Vec<Bar> = d
            .error_types
            .iter()
            .map(|e| Bar {
                label: e.name.clone(),
                value: e.count as f64,
                value_text: e.count.to_string(),
                tooltip: format!(
                    "{}: {} ({} from failing calls){}",
                    e.name,
                    plural(e.count, "occurrence", "occurrences"),
                    e.calls,
                    tools_text(&e.tools)
                        .map(|t| format!("; tools: {t}"))
                        .unwrap_or_default()
                ),
            })
            .collect();
        let top = &d.error_types[0];
        let desc = format!(
            "Bar chart of {} by occurrences in the last {}; the most frequent is {} with {}.",
            plural(d.error_types.len() as u64, "error type", "error types"),
            d.window,
            top.name,
            top.count
        );
        svg::bars(
            &Frame {
                id: "error-types",
                title: "Error types by count",
                desc: &desc,
            },
            &items,
            180.0,
            svg::Clip::End,
            "bar",
        )
    });
    let rows = d
        .error_types
        .iter()
        .map(|e| {
            (
                vec![
                    Cell::code(&e.name),
                    Cell::count(e.count),
                    Cell::count(e.calls),
                    Cell::text(&tools_text(&e.tools).unwrap_or_default()),
                    Cell::time(&e.last_seen),
                    Cell::wrap(e.sample.as_deref().unwrap_or("")),
                ],
                false,
            )
        })
        .collect();
    Figure {
        id: "error-types",
        wide: true,
        title: "Error types by count",
        sub: format!(
            "Failing tool calls and session error events in the last {}, by the contract's \
             error taxonomy.",
            esc(&d.window)
        ),
        chart,
        caption: "Error types".into(),
        cols: vec![
            Col("Error type", false),
            Col("Count", true),
            Col("Failing calls", true),
            Col("Tools", false),
            Col("Last seen (UTC)", false),
            Col("Sample (redacted)", false),
        ],
        rows,
        after: String::new(),
    }
}

fn tools_text(tools: &[(String, u64)]) -> Option<String> {
    (!tools.is_empty()).then(|| {
        tools
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn kinds_text(kinds: &[(String, u32)]) -> String {
    kinds
        .iter()
        .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn friction_delight(d: &ReportData) -> Figure<'static> {
    let chart = (!d.sessions.is_empty()).then(|| {
        let rows: Vec<Diverging> = d
            .sessions
            .iter()
            .map(|s| Diverging {
                label: s.session.clone(),
                left: f64::from(s.friction),
                right: f64::from(s.delight),
                tooltip: format!(
                    "Session {}: friction {}{}; delight {}{}; {} calls, {} failed, {} turns",
                    s.session,
                    s.friction,
                    paren(&kinds_text(&s.friction_kinds)),
                    s.delight,
                    paren(&kinds_text(&s.delight_kinds)),
                    s.calls,
                    s.failures,
                    s.turns
                ),
            })
            .collect();
        let friction: u32 = d.sessions.iter().map(|s| s.friction).sum();
        let delight: u32 = d.sessions.iter().map(|s| s.delight).sum();
        let worst = &d.sessions[0];
        let desc = format!(
            "Diverging bar chart of friction (left) and delight (right) for {}: {} friction \
             and {} delight events in total; the session with the most friction is {} ({} \
             friction, {} delight).",
            plural(d.sessions.len() as u64, "session", "sessions"),
            friction,
            delight,
            worst.session,
            worst.friction,
            worst.delight
        );
        svg::diverging(
            &Frame {
                id: "friction-delight",
                title: "Friction vs delight per session",
                desc: &desc,
            },
            &rows,
            150.0,
            ("bar-friction", "friction"),
            ("bar-delight", "delight"),
        )
    });
    let rows = d
        .sessions
        .iter()
        .map(|s| {
            (
                vec![
                    Cell::code(&s.session),
                    Cell::count(u64::from(s.friction)),
                    Cell::count(u64::from(s.delight)),
                    Cell::count(u64::from(s.calls)),
                    Cell::count(u64::from(s.failures)),
                    Cell::count(u64::from(s.turns)),
                    Cell::text(&kinds_text(&s.friction_kinds)),
                    Cell::text(&kinds_text(&s.delight_kinds)),
                ],
                false,
            )
        })
        .collect();
    let after = if d.sessions_omitted > 0 {
        format!(
            "<p class=\"sub\">{} with less friction not shown.</p>",
            plural(d.sessions_omitted as u64, "more session", "more sessions")
        )
    } else {
        String::new()
    };
    Figure {
        id: "friction-delight",
        wide: true,
        title: "Friction vs delight per session",
        sub: format!(
            "Per session in the last {}: friction events (failures, denials, hook blocks, \
             timeouts, retry loops, aborted turns, negative feedback, …) against delight \
             (a fast completion, no denials, turns whose calls all succeeded first time, \
             positive feedback), as defined in <code>docs/closed-loop.md</code>. Most friction first.",
            esc(&d.window)
        ),
        chart,
        caption: "Sessions".into(),
        cols: vec![
            Col("Session", false),
            Col("Friction", true),
            Col("Delight", true),
            Col("Calls", true),
            Col("Failed", true),
            Col("Turns", true),
            Col("Friction kinds", false),
            Col("Delight kinds", false),
        ],
        rows,
        after,
    }
}

fn paren(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}

fn signatures(d: &ReportData) -> Figure<'static> {
    let chart = (!d.signatures.is_empty()).then(|| {
        let items: Vec<Bar> = d
            .signatures
            .iter()
            .map(|s| Bar {
                label: s.label.clone(),
                value: s.count as f64,
                value_text: s.count.to_string(),
                tooltip: format!(
                    "{} → {} ({}): {}{}",
                    s.label,
                    s.template,
                    s.error_type,
                    plural(s.count, "failure", "failures"),
                    s.sessions
                        .map(|n| format!(" in {}", plural(u64::from(n), "session", "sessions")))
                        .unwrap_or_default()
                ),
            })
            .collect();
        let top = &d.signatures[0];
        let desc = format!(
            "Bar chart of the {} most frequent failure signatures in the last {}; the top one \
             is {} ({}) with {}.",
            d.signatures.len(),
            d.window,
            top.label,
            top.error_type,
            plural(top.count, "failure", "failures")
        );
        svg::bars(
            &Frame {
                id: "signatures",
                title: "Top failure signatures",
                desc: &desc,
            },
            &items,
            250.0,
            svg::Clip::Middle,
            "bar",
        )
    });
    let rows = d
        .signatures
        .iter()
        .map(|s| {
            (
                vec![
                    Cell::text(if s.kind == "ci" { "CI" } else { "command" }),
                    Cell::wrap(&s.label),
                    Cell::code(&s.error_type),
                    Cell::count(s.count),
                    match s.sessions {
                        Some(n) => Cell::count(u64::from(n)),
                        None => Cell::none("–"),
                    },
                    match s.impact {
                        Some(x) => Cell::num(x, format!("{x:.2}")),
                        None => Cell::none("–"),
                    },
                    Cell::wrap(&s.template),
                    Cell::code(&s.id),
                ],
                false,
            )
        })
        .collect();
    let after = if d.signatures_omitted > 0 {
        format!(
            "<p class=\"sub\">{} not shown.</p>",
            plural(
                d.signatures_omitted as u64,
                "more signature",
                "more signatures"
            )
        )
    } else {
        String::new()
    };
    Figure {
        id: "signatures",
        wide: true,
        title: "Top failure signatures",
        sub: format!(
            "Failing tool calls grouped by tool, normalized command, error type and normalized \
             error (clusters; impact weighs count, severity, sessions and recency), and CI \
             failure signatures, in the last {}. Most failures first.",
            esc(&d.window)
        ),
        chart,
        caption: "Failure signatures".into(),
        cols: vec![
            Col("Kind", false),
            Col("Signature", false),
            Col("Error type", false),
            Col("Failures", true),
            Col("Sessions", true),
            Col("Impact", true),
            Col("Normalized error", false),
            Col("ID", false),
        ],
        rows,
        after,
    }
}

fn hotspots(d: &ReportData) -> Figure<'static> {
    let chart = (!d.hotspots.is_empty()).then(|| {
        let items: Vec<Bar> = d
            .hotspots
            .iter()
            .map(|h| Bar {
                label: h.path.clone(),
                value: h.commits as f64,
                value_text: h.commits.to_string(),
                tooltip: format!(
                    "{}: {} (+{} −{}) by {}",
                    h.path,
                    plural(h.commits, "commit", "commits"),
                    h.lines_added,
                    h.lines_removed,
                    h.authors.join(", ")
                ),
            })
            .collect();
        let top = &d.hotspots[0];
        let desc = format!(
            "Bar chart of the {} most changed files in the last {}; the top one is {} with {}.",
            d.hotspots.len(),
            d.window,
            top.path,
            plural(top.commits, "commit", "commits")
        );
        svg::bars(
            &Frame {
                id: "hotspots",
                title: "Hotspot files",
                desc: &desc,
            },
            &items,
            220.0,
            svg::Clip::Start,
            "bar",
        )
    });
    let rows = d
        .hotspots
        .iter()
        .map(|h| {
            (
                vec![
                    Cell::code(&h.path),
                    Cell::count(h.commits),
                    Cell::count(h.lines_added),
                    Cell::count(h.lines_removed),
                    Cell::text(&h.authors.join(", ")),
                    Cell::time(&h.last_changed),
                ],
                false,
            )
        })
        .collect();
    let sub = if d.git_available {
        format!(
            "Files by the number of commits that changed them in the last {} (merge and bulk \
             commits, bot commits and the analyzer's own files left out).",
            esc(&d.window)
        )
    } else {
        "The git history could not be read (see the notes below).".to_string()
    };
    Figure {
        id: "hotspots",
        wide: true,
        title: "Hotspot files",
        sub,
        chart,
        caption: "Files".into(),
        cols: vec![
            Col("File", false),
            Col("Commits", true),
            Col("Added", true),
            Col("Removed", true),
            Col("Authors", false),
            Col("Last changed (UTC)", false),
        ],
        rows,
        after: String::new(),
    }
}

fn finding_runs(d: &ReportData) -> Figure<'static> {
    // Runs without a single finding draw nothing: that is no data, not a chart.
    let any = d
        .finding_runs
        .iter()
        .any(|r| r.new + r.persisting + r.recurring + r.resolved > 0);
    let chart = any.then(|| {
        let stacks: Vec<Stack> = d
            .finding_runs
            .iter()
            .map(|r| {
                let active = r.new + r.persisting + r.recurring;
                Stack {
                    label: r.run_id.clone(),
                    segments: vec![
                        Segment {
                            class: "s-new",
                            value: r.new as f64,
                            tooltip: format!("{}: {} new", r.run_id, r.new),
                        },
                        Segment {
                            class: "s-persisting",
                            value: r.persisting as f64,
                            tooltip: format!("{}: {} persisting", r.run_id, r.persisting),
                        },
                        Segment {
                            class: "s-recurring",
                            value: r.recurring as f64,
                            tooltip: format!("{}: {} recurring", r.run_id, r.recurring),
                        },
                        Segment {
                            class: "s-resolved",
                            value: r.resolved as f64,
                            tooltip: format!("{}: {} resolved", r.run_id, r.resolved),
                        },
                    ],
                    total_text: format!("{active} active, {} resolved", r.resolved),
                    tooltip: format!(
                        "Run {}{}: {} new, {} persisting, {} recurring, {} resolved",
                        r.run_id,
                        if r.current { " (this report)" } else { "" },
                        r.new,
                        r.persisting,
                        r.recurring,
                        r.resolved
                    ),
                }
            })
            .collect();
        let desc = format!(
            "Stacked bar chart of the findings of {}, each compared with the run before it: \
             {} new, {} persisting, {} recurring and {} resolved in total.",
            plural(d.finding_runs.len() as u64, "run", "runs"),
            d.finding_runs.iter().map(|r| r.new).sum::<u64>(),
            d.finding_runs.iter().map(|r| r.persisting).sum::<u64>(),
            d.finding_runs.iter().map(|r| r.recurring).sum::<u64>(),
            d.finding_runs.iter().map(|r| r.resolved).sum::<u64>(),
        );
        svg::stacked(
            &Frame {
                id: "finding-runs",
                title: "Findings per run",
                desc: &desc,
            },
            &stacks,
            110.0,
            &[
                ("s-new", "new"),
                ("s-persisting", "persisting"),
                ("s-recurring", "recurring"),
                ("s-resolved", "resolved"),
            ],
        )
    });
    let rows = d
        .finding_runs
        .iter()
        .rev()
        .map(|r| {
            (
                vec![
                    run_cell(&r.run_id, r.current),
                    Cell::count(r.new),
                    Cell::count(r.persisting),
                    Cell::count(r.recurring),
                    Cell::count(r.resolved),
                ],
                r.current,
            )
        })
        .collect();
    Figure {
        id: "finding-runs",
        wide: false,
        title: "Findings per run",
        sub: "Each run's findings compared with the run before it: new, persisting (the \
              previous run had it), recurring (seen before, absent from the previous run) and \
              resolved (the previous run had it, this one does not)."
            .into(),
        chart,
        caption: "Runs, most recent first".into(),
        cols: vec![
            Col("Run", false),
            Col("New", true),
            Col("Persisting", true),
            Col("Recurring", true),
            Col("Resolved", true),
        ],
        rows,
        after: String::new(),
    }
}

/// Escapes `text`, showing its Markdown code spans (titles are written for Markdown) as
/// `<code>`.
fn inline_code(text: &str) -> String {
    if !text.matches('`').count().is_multiple_of(2) {
        return esc(text);
    }
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", esc(part))
            } else {
                esc(part)
            }
        })
        .collect()
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// A ticket link. Only `http(s)` URLs become links (a state file is data, and a
/// `javascript:` URL in it must not become something clickable).
fn ticket_cell(f: &FindingRow) -> Cell {
    let Some(t) = &f.ticket else {
        return Cell::none("–");
    };
    let url = t.url.trim();
    let safe = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    let label = format!("#{}", t.number);
    let mut html = if safe {
        format!(
            "<a href=\"{}\" rel=\"noreferrer noopener\">{}</a>",
            esc(url),
            esc(&label)
        )
    } else {
        esc(&label)
    };
    if let Some(s) = &t.state {
        let _ = write!(html, " {}", esc(s));
    }
    Cell::markup(html, t.number.to_string(), "num")
}

fn findings(out: &mut String, d: &ReportData) {
    out.push_str(
        "<section class=\"panel\" id=\"findings\"><h2>Findings</h2><p class=\"sub\">This run's \
         findings and the ones the previous run had that are now resolved, with their tickets. \
         <em>Previous</em> is the count in the run compared with",
    );
    match &d.previous_run {
        Some(p) => {
            let _ = write!(out, " ({})", esc(p));
        }
        None => out.push_str(" (none: this is the first run)"),
    }
    out.push_str("; <em>Since ticket</em> is the count when the ticket was created, then now.</p>");
    if d.findings.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">{NO_DATA}</p></section>");
        return;
    }
    let rows: Vec<(Vec<Cell>, bool)> = d
        .findings
        .iter()
        .map(|f| {
            let change = match f.previous {
                Some(p) => {
                    let c = f.count as i64 - p as i64;
                    let (class, text) = match c.cmp(&0) {
                        std::cmp::Ordering::Greater => ("up", format!("+{c}")),
                        std::cmp::Ordering::Less => ("down", format!("−{}", -c)),
                        std::cmp::Ordering::Equal => ("", "0".to_string()),
                    };
                    Cell::markup(
                        format!("<span class=\"{class}\">{}</span>", esc(&text)),
                        c.to_string(),
                        "num",
                    )
                }
                None => Cell::none("–"),
            };
            let baseline = match &f.baseline {
                Some(b) => Cell::markup(
                    format!(
                        "{} → {}<br><span class=\"this\">since {}</span>",
                        b.count,
                        f.count,
                        esc(&b.run_id)
                    ),
                    (f.count as i64 - b.count as i64).to_string(),
                    "num",
                ),
                None => Cell::none("–"),
            };
            (
                vec![
                    Cell::code(&f.fingerprint),
                    Cell::label(&f.rule),
                    // The title says what the finding is in words; under the subject it
                    // costs no column.
                    Cell::markup(
                        format!(
                            "{}<br><span class=\"this\">{}</span>",
                            esc(&f.subject),
                            inline_code(&f.title)
                        ),
                        f.subject.clone(),
                        "wrap",
                    ),
                    if f.severity.is_empty() {
                        Cell::none("–")
                    } else {
                        Cell::markup(
                            format!("<span class=\"badge sev-{0}\">{0}</span>", esc(&f.severity)),
                            severity_rank(&f.severity).to_string(),
                            "",
                        )
                    },
                    Cell::markup(
                        format!("<span class=\"badge st-{0}\">{0}</span>", esc(&f.status)),
                        f.status.clone(),
                        "",
                    ),
                    Cell::count(f.count),
                    match f.previous {
                        Some(p) => Cell::count(p),
                        None => Cell::none("–"),
                    },
                    change,
                    ticket_cell(f),
                    baseline,
                    Cell::label(f.first_seen_run.as_deref().unwrap_or("")),
                ],
                false,
            )
        })
        .collect();
    let cols = [
        Col("Fingerprint", false),
        Col("Rule", false),
        Col("Subject", false),
        Col("Severity", true),
        Col("Status", false),
        Col("Count", true),
        Col("Previous", true),
        Col("Change", true),
        Col("Ticket", true),
        Col("Since ticket", true),
        Col("First seen", false),
    ];
    table(out, "findings", "Findings", &cols, &rows);
    out.push_str("</section>\n");
}

fn notes(out: &mut String, d: &ReportData) {
    if d.warnings.is_empty() {
        return;
    }
    out.push_str("<section class=\"panel notes\" id=\"notes\"><h2>Notes</h2><ul>");
    for w in &d.warnings {
        let _ = write!(out, "<li>{}</li>", esc(w));
    }
    out.push_str("</ul></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_show_code_spans_and_run_labels_are_short() {
        assert_eq!(
            inline_code("`a<b>` failed `x`"),
            "<code>a&lt;b&gt;</code> failed <code>x</code>"
        );
        assert_eq!(inline_code("odd ` tick"), "odd ` tick");
        assert_eq!(axis_run_label("2026-03-04-AM"), "03-04 AM");
        assert_eq!(axis_run_label("other"), "other");
    }

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o, "{i}");
        }
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    fn data() -> ReportData {
        ReportData {
            repo_name: "demo".into(),
            run_id: "2026-03-02-AM".into(),
            now: "2026-03-02T13:10:00.000Z".into(),
            window: "24h".into(),
            window_start: "2026-03-01T13:10:00.000Z".into(),
            window_end: "2026-03-02T13:10:00.000Z".into(),
            run_window: "12h".into(),
            ..ReportData::default()
        }
    }

    #[test]
    fn empty_data_says_so_for_every_chart() {
        let page = render(&data());
        assert_eq!(page.charts, 0);
        assert!(!page.html.contains("<svg"));
        // Six charts and the findings table.
        assert_eq!(page.html.matches(NO_DATA).count(), 7);
        assert_eq!(page.html.matches("<figure ").count(), 6);
        assert_eq!(page.html.matches("<figcaption>").count(), 6);
    }

    #[test]
    fn csp_hashes_match_the_inline_style_and_script() {
        let html = render(&data()).html;
        let style = &html[html.find("<style>").unwrap() + 7..html.find("</style>").unwrap()];
        let script = &html[html.find("<script>").unwrap() + 8..html.find("</script>").unwrap()];
        assert!(html.contains(&format!("style-src {};", csp_hash(style))));
        assert!(html.contains(&format!("script-src {};", csp_hash(script))));
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn texts_are_escaped_and_unsafe_ticket_urls_are_not_links() {
        let mut d = data();
        d.repo_name = "<script>alert(1)</script>".into();
        d.findings = vec![
            FindingRow {
                fingerprint: "f1".into(),
                rule: "error_type_repeat".into(),
                subject: "\"><img src=x onerror=alert(1)>".into(),
                status: "new".into(),
                severity: "high".into(),
                ticket: Some(TicketRef {
                    number: 3,
                    url: "javascript:alert(1)".into(),
                    state: None,
                }),
                ..FindingRow::default()
            },
            FindingRow {
                fingerprint: "f2".into(),
                status: "persisting".into(),
                ticket: Some(TicketRef {
                    number: 4,
                    url: "https://github.com/o/r/issues/4".into(),
                    state: Some("open".into()),
                }),
                ..FindingRow::default()
            },
        ];
        let html = render(&d).html;
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("href=\"javascript"));
        assert!(html.contains("<td class=\"num\" data-sort=\"3\">#3</td>"));
        assert!(html.contains(
            "<a href=\"https://github.com/o/r/issues/4\" rel=\"noreferrer noopener\">#4</a> open"
        ));
    }

    #[test]
    fn same_data_same_bytes() {
        let mut d = data();
        d.runs = (0..5)
            .map(|i| RunRow {
                run_id: format!("2026-03-0{}-AM", i + 1),
                failure_rate: Some(0.1 * f64::from(i)),
                definite: 10,
                current: i == 4,
                ..RunRow::default()
            })
            .collect();
        assert_eq!(render(&d).html, render(&d.clone()).html);
        assert_eq!(render(&d).charts, 1);
        assert!(!render(&d).html.contains("generated at"));
        d.now_is_clock = true;
        assert_eq!(render(&d).html.matches("generated at").count(), 1);
    }
}
