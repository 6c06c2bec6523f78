//! `codex-analyzer report` end to end, rendered by headless Chromium.
//!
//! The scenario is real: a git repository with churn, a tool-call log with failures across
//! sessions and half-days, and a state file built by running the real binary
//! (`codex-analyzer run --apply`) at four successive run IDs, with two findings ticketed in
//! between (as the publisher does, through `FindingHistory::set_ticket`). The report is then
//! written for the fifth run and opened in Chromium (Debian's `chromium`; `scripts/test`
//! installs it): the DOM after scripts ran is checked chart by chart against the planted
//! numbers, a probe measures the rendered charts and their colours in the light and the dark
//! scheme, the sorting script is exercised, and screenshots are saved to
//! `target/report-screenshot.png` and `target/report-screenshot-dark.png`.
//!
//! Planted per 12h window (10 Bash calls each, all with an outcome):
//!
//! | run (window end) | failures | error types |
//! |---|---|---|
//! | 2026-03-02-AM | 1 (10%) | command_not_found |
//! | 2026-03-02-PM | 4 (40%) | command_not_found ×2, file_not_found ×2 |
//! | 2026-03-03-AM | 2 (20%) | file_not_found ×2 |
//! | 2026-03-03-PM | 5 (50%) | command_not_found ×3, permission_denied ×2 |
//! | 2026-03-04-AM (report) | 3 (30%) | command_not_found ×2, file_not_found ×1 |
//!
//! Each window has a session `…a` with the failures plus one success (no prompt, never
//! ended) and a session `…b` with the other successes, a prompt and a `stop` (delight).
//! Git: `src/hot.rs` in 4 commits in the 2026-03-03-PM window and 1 in the last one,
//! `src/warm.rs` in 2 and `docs/guide.md` in 1 commit in the last windows.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Duration as Dur, Utc};
use codex_contract::record::{parse_ts, Excerpt, Phase, Record, Source, Status};
use codex_contract::state::{State, TicketRef};
use e2e::bins::git_at;
use serde_json::Value;

/// The report's reference time: 06:10 Phoenix, run 2026-03-04-AM.
const NOW: &str = "2026-03-04T13:10:00Z";
const RUN_ID: &str = "2026-03-04-AM";
/// The four earlier scheduled runs, applied before the report.
const EARLIER: [(&str, &str); 4] = [
    ("2026-03-02T13:10:00Z", "2026-03-02-AM"),
    ("2026-03-03T01:10:00Z", "2026-03-02-PM"),
    ("2026-03-03T13:10:00Z", "2026-03-03-AM"),
    ("2026-03-04T01:10:00Z", "2026-03-03-PM"),
];
const TICKET_CNF: &str = "https://github.com/acme/demo/issues/42";
const TICKET_FNF: &str = "https://github.com/acme/demo/issues/43";
/// A fake credential in one failure's output: whatever the redactor masks must not reach
/// the report.
const SECRET_LINE: &str = "error: AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn ts(s: &str) -> DateTime<Utc> {
    parse_ts(s).unwrap()
}

/// `target/` of this build (screenshots and the scenario live there, to be looked at).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

// ---------------------------------------------------------------------------------------
// The scenario.

fn commit(repo: &Path, rel: &str, content: &str, when: DateTime<Utc>, author: &str) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    git_at(repo, &["add", "--", rel], None, author);
    git_at(
        repo,
        &["commit", "-q", "-m", &format!("change {rel}")],
        Some(when),
        author,
    );
}

fn build_git(repo: &Path) {
    git_at(repo, &["init", "-q"], None, "alice");
    commit(
        repo,
        "README.md",
        "# demo\n",
        ts("2026-02-20T10:00:00Z"),
        "alice",
    );
    let last = ts(NOW);
    let prev = ts(EARLIER[3].0);
    for i in 0..4 {
        commit(
            repo,
            "src/hot.rs",
            &format!("fn hot() {{ {i} }}\n"),
            prev - Dur::hours(10 - 2 * i),
            if i % 2 == 0 { "alice" } else { "bob" },
        );
    }
    commit(
        repo,
        "docs/guide.md",
        "# guide\n",
        prev - Dur::hours(1),
        "carol",
    );
    commit(
        repo,
        "src/hot.rs",
        "fn hot() { 9 }\n",
        last - Dur::hours(9),
        "bob",
    );
    for i in 0..2 {
        commit(
            repo,
            "src/warm.rs",
            &format!("fn warm() {{ {i} }}\n"),
            last - Dur::hours(7 - 3 * i),
            "carol",
        );
    }
}

/// One call: a hook `pre` record and an authoritative rollout `outcome`.
#[allow(clippy::too_many_arguments)]
fn call(
    out: &mut Vec<Record>,
    at: DateTime<Utc>,
    session: &str,
    id: &str,
    input: &str,
    status: Status,
    exit: i32,
    output: &str,
) {
    let mut pre = rec(at, Source::CodexHook, Phase::Pre, session);
    pre.call_id = Some(id.into());
    pre.tool = Some("Bash".into());
    pre.input = Some(input.into());
    out.push(pre);
    let mut o = rec(
        at + Dur::milliseconds(400),
        Source::Rollout,
        Phase::Outcome,
        session,
    );
    o.call_id = Some(id.into());
    o.status = Some(status);
    o.exit_code = Some(exit);
    o.output = Some(Excerpt::new(output, 4000));
    out.push(o);
}

fn rec(at: DateTime<Utc>, source: Source, phase: Phase, session: &str) -> Record {
    let mut r = Record::at(at, source, phase);
    r.session_id = Some(session.into());
    r
}

fn event(out: &mut Vec<Record>, at: DateTime<Utc>, session: &str, name: &str) {
    let mut r = rec(at, Source::CodexHook, Phase::Session, session);
    r.event = Some(name.into());
    if name == "user_prompt" {
        r.prompt_len = Some(42);
    }
    out.push(r);
}

/// The failures of one window, as (input, exit, output).
fn failures(window: usize) -> Vec<(String, i32, String)> {
    let cnf = |i: usize| {
        (
            format!("/opt/tools-{window}{i}/bin/cargo-nextest run --workspace"),
            127,
            format!("bash: /opt/tools-{window}{i}/bin/cargo-nextest: command not found"),
        )
    };
    let fnf = |i: usize| {
        (
            format!("cat /tmp/build-{window}{i}/out.txt"),
            1,
            format!("cat: /tmp/build-{window}{i}/out.txt: No such file or directory"),
        )
    };
    let pd = |_: usize| {
        (
            "cat /srv/app/.env".to_string(),
            1,
            "cat: /srv/app/.env: Permission denied".to_string(),
        )
    };
    match window {
        0 => vec![cnf(0)],
        1 => vec![cnf(0), cnf(1), fnf(0), fnf(1)],
        2 => vec![fnf(0), fnf(1)],
        3 => vec![cnf(0), cnf(1), cnf(2), pd(0), pd(1)],
        4 => {
            let mut f = fnf(0);
            f.2 = format!("{}\n{SECRET_LINE}", f.2);
            vec![cnf(0), cnf(1), f]
        }
        _ => unreachable!(),
    }
}

/// Session IDs as agents write them (long), so the chart has to shorten them.
fn session(window: usize, which: char) -> String {
    format!("0199a1f2-7c3e-4b6a-9d10-00000000{window:02}{which}")
}

fn build_log(path: &Path) {
    let ends: Vec<DateTime<Utc>> = EARLIER
        .iter()
        .map(|(t, _)| ts(t))
        .chain([ts(NOW)])
        .collect();
    let mut v = Vec::new();
    for (w, end) in ends.iter().enumerate() {
        let start = *end - Dur::hours(11);
        let a = session(w, 'a');
        let b = session(w, 'b');
        let fails = failures(w);
        let mut n = 0;
        let mut t = start;
        let mut next = |t: &mut DateTime<Utc>| {
            n += 1;
            *t += Dur::minutes(40);
            format!("call_w{w}_{n:02}")
        };
        for (input, exit, output) in &fails {
            let id = next(&mut t);
            call(&mut v, t, &a, &id, input, Status::Failed, *exit, output);
        }
        let id = next(&mut t);
        call(&mut v, t, &a, &id, "ls", Status::Ok, 0, "Cargo.toml\nsrc");
        event(&mut v, t + Dur::minutes(1), &b, "user_prompt");
        for i in 0..(9 - fails.len()) {
            let id = next(&mut t);
            call(
                &mut v,
                t,
                &b,
                &id,
                &format!("cargo test -p demo t{i}"),
                Status::Ok,
                0,
                "test result: ok. 1 passed",
            );
        }
        event(&mut v, t + Dur::minutes(5), &b, "stop");
    }
    v.sort_by(|x, y| x.ts.cmp(&y.ts));
    let text: String = v
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn analyzer(repo: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(e2e::bins::analyzer())
        .args(args)
        .current_dir(repo)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run codex-analyzer");
    assert!(
        out.status.success(),
        "codex-analyzer {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn state_path(repo: &Path) -> PathBuf {
    repo.join(".codex/improvement-state.json")
}

/// The publisher's part, done by hand: ticket two findings after the third run.
fn ticket(repo: &Path, run_id: &str) {
    let p = state_path(repo);
    let mut s = State::from_bytes(&std::fs::read(&p).unwrap()).unwrap();
    let mut done = 0;
    for h in s.findings.values_mut() {
        let (number, url) = match (h.rule.as_str(), h.subject.as_str()) {
            ("error_type_repeat", "command_not_found") => (42, TICKET_CNF),
            ("error_type_repeat", "file_not_found") => (43, TICKET_FNF),
            _ => continue,
        };
        h.set_ticket(
            TicketRef {
                number,
                url: url.into(),
                state: Some("open".into()),
            },
            run_id,
        );
        done += 1;
    }
    assert_eq!(done, 2, "both findings exist after {run_id}");
    std::fs::write(&p, s.to_bytes()).unwrap();
}

struct Scenario {
    repo: PathBuf,
    report: PathBuf,
    html: String,
    stdout: String,
}

/// Built once per test binary under `target/report-e2e/` (kept for a person to open).
fn scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        let root = target_dir().join("report-e2e");
        let _ = std::fs::remove_dir_all(&root);
        let repo = root.join("demo");
        std::fs::create_dir_all(&repo).unwrap();
        build_git(&repo);
        build_log(&repo.join(".codex/toolcalls.ndjson"));
        for (now, run_id) in EARLIER {
            analyzer(&repo, &["run", "--apply", "--now", now, "--format", "json"]);
            if run_id == "2026-03-03-AM" {
                ticket(&repo, run_id);
            }
        }
        let before = std::fs::read(state_path(&repo)).unwrap();
        let report = root.join("out/report.html");
        let out = analyzer(
            &repo,
            &["report", "--now", NOW, "--out", report.to_str().unwrap()],
        );
        assert_eq!(
            std::fs::read(state_path(&repo)).unwrap(),
            before,
            "a report writes no state"
        );
        Scenario {
            html: std::fs::read_to_string(&report).unwrap(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            repo,
            report,
        }
    })
}

// ---------------------------------------------------------------------------------------
// Chromium.

fn chromium() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "headless Chromium is required by the report tests and was not found at \
         /usr/bin/chromium: install Debian's `chromium` package (`apt-get install chromium`; \
         scripts/test does it when run as root)"
    );
}

/// Runs headless Chromium on `page` with `extra` flags; returns stdout.
fn run_chromium(page: &Path, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let out = e2e::codex::run_bounded(cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn scheme(dark: bool) -> String {
    // Blink's preferredColorScheme: 0 = dark, 1 = light.
    format!(
        "--blink-settings=preferredColorScheme={}",
        if dark { 0 } else { 1 }
    )
}

fn dump_dom(page: &Path, dark: bool) -> String {
    run_chromium(page, &["--dump-dom".into(), scheme(dark)])
}

const PROBE: &str = include_str!("report_probe.js");

/// A copy of a report at `path` with `script` appended. The copy drops the report's
/// Content-Security-Policy, which (rightly) blocks any script but the report's own.
fn with_script(html: &str, path: &Path, script: &str) -> PathBuf {
    let csp_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("the report has a CSP");
    let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
    let body_end = html.rfind("</body>").unwrap();
    let page = format!(
        "{}{}<script>{script}</script>{}",
        &html[..csp_start],
        &html[csp_end..body_end],
        &html[body_end..]
    );
    std::fs::write(path, page).unwrap();
    path.to_path_buf()
}

/// The text of `<pre id="{id}">` in a dumped DOM (JSON: no markup characters in it but
/// the ones the serializer escapes).
fn pre(dom: &str, id: &str) -> Value {
    let open = format!("<pre id=\"{id}\">");
    // The last one: the scripts that write it may mention it too.
    let start = dom
        .rfind(&open)
        .unwrap_or_else(|| panic!("no #{id} in {dom}"))
        + open.len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

// ---------------------------------------------------------------------------------------
// DOM helpers (the report's markup is regular enough for plain string search).

/// The `<figure>` of a chart.
fn figure<'a>(dom: &'a str, id: &str) -> &'a str {
    let open = format!("<figure id=\"chart-{id}\"");
    let start = dom.find(&open).unwrap_or_else(|| panic!("no figure {id}"));
    let end = start + dom[start..].find("</figure>").unwrap();
    &dom[start..end]
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let start = s.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let end = start
        + s[start..]
            .find(close)
            .unwrap_or_else(|| panic!("no {close}"));
    &s[start..end]
}

/// The value of attribute `name` in the first tag starting with `tag`.
fn attr(s: &str, tag: &str, name: &str) -> Option<String> {
    let start = s.find(tag)?;
    let end = start + s[start..].find('>')?;
    let t = &s[start..end];
    let key = format!(" {name}=\"");
    let a = t.find(&key)? + key.len();
    Some(t[a..a + t[a..].find('"')?].to_string())
}

/// Every value of attribute `name` in `s`, in order.
fn attrs(s: &str, name: &str) -> Vec<String> {
    let key = format!(" {name}=\"");
    s.match_indices(&key)
        .map(|(i, _)| {
            let v = &s[i + key.len()..];
            v[..v.find('"').unwrap()].to_string()
        })
        .collect()
}

/// The rows of the figure's (or section's) table body: each row's cell texts.
fn rows(s: &str) -> Vec<Vec<String>> {
    let body = between(s, "<tbody>", "</tbody>");
    body.split("</tr>")
        .filter(|r| r.contains("<td"))
        .map(|r| {
            r.split("</td>")
                .filter_map(|c| c.find("<td").map(|i| &c[i..]))
                .map(|c| strip_tags(&c[c.find('>').unwrap() + 1..]))
                .collect()
        })
        .collect()
}

/// The text of some markup; a `<br>` becomes a line break.
fn strip_tags(s: &str) -> String {
    let s = s.replace("<br>", "\n");
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// What each chart must show for the planted data: its ID, the number of marks, and the
/// marks' `data-label` and `data-value` in drawing order.
fn expected() -> Vec<(&'static str, Vec<(String, String)>)> {
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    vec![
        (
            "failure-rate",
            vec![
                s("2026-03-02-AM", "0.1"),
                s("2026-03-02-PM", "0.4"),
                s("2026-03-03-AM", "0.2"),
                s("2026-03-03-PM", "0.5"),
                s(RUN_ID, "0.3"),
            ],
        ),
        (
            "error-types",
            vec![
                s("command_not_found", "5"),
                s("permission_denied", "2"),
                s("file_not_found", "1"),
            ],
        ),
        (
            "friction-delight",
            vec![
                s(&session(3, 'a'), ""),
                s(&session(4, 'a'), ""),
                s(&session(3, 'b'), ""),
                s(&session(4, 'b'), ""),
            ],
        ),
        (
            "signatures",
            vec![
                // Cluster templates come from signature.rs (cluster-v2): every path is
                // `<path>`, so the error type tells the two `cat` clusters apart.
                s("Bash: <path> run --workspace · command_not_found", "5"),
                s("Bash: cat <path> · permission_denied", "2"),
                s("Bash: cat <path> · file_not_found", "1"),
            ],
        ),
        (
            "hotspots",
            vec![
                s("src/hot.rs", "5"),
                s("src/warm.rs", "2"),
                s("docs/guide.md", "1"),
            ],
        ),
        (
            "finding-runs",
            vec![
                s("2026-03-02-AM", "0"),
                s("2026-03-02-PM", "3"),
                s("2026-03-03-AM", "3"),
                s("2026-03-03-PM", "4"),
                s(RUN_ID, "4"),
            ],
        ),
    ]
}

fn unescape_attr(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn every_chart_renders_with_its_title_text_alternative_and_table() {
    let s = scenario();
    assert_eq!(s.stdout.trim(), s.report.display().to_string());
    let dom = dump_dom(&s.report, false);
    assert!(dom.contains("<title>Codex report: demo, run 2026-03-04-AM</title>"));

    for (id, marks) in expected() {
        let fig = figure(&dom, id);
        // A title: the figcaption's heading.
        let caption = strip_tags(between(fig, "<figcaption>", "</figcaption>"));
        assert!(caption.len() > 10, "{id}: caption {caption:?}");
        assert!(!fig.contains("No data in this window"), "{id}");
        // The SVG: sized, an accessible image with a label, a title and a description.
        let w: f64 = attr(fig, "<svg", "width").unwrap().parse().unwrap();
        let h: f64 = attr(fig, "<svg", "height").unwrap().parse().unwrap();
        assert!(w > 0.0 && h > 0.0, "{id}: {w}x{h}");
        assert_eq!(attr(fig, "<svg", "role").as_deref(), Some("img"), "{id}");
        let label = attr(fig, "<svg", "aria-label").unwrap();
        assert!(caption.contains(&label), "{id}: {label:?} vs {caption:?}");
        let desc = between(fig, "<desc", "</desc>");
        assert!(desc.len() > 40, "{id}: desc {desc:?}");
        assert!(fig.contains(&format!("<title id=\"{id}-title\">")), "{id}");
        // One mark per data point, with the planted values, in order.
        let got_labels: Vec<String> = attrs(fig, "data-label")
            .iter()
            .map(|l| unescape_attr(l))
            .collect();
        let want_labels: Vec<String> = marks.iter().map(|(l, _)| l.clone()).collect();
        assert_eq!(got_labels, want_labels, "{id}: labels");
        assert_eq!(
            fig.matches("<g class=\"mark").count(),
            marks.len(),
            "{id}: marks"
        );
        if marks.iter().all(|(_, v)| !v.is_empty()) {
            let want: Vec<String> = marks.iter().map(|(_, v)| v.clone()).collect();
            assert_eq!(attrs(fig, "data-value"), want, "{id}: values");
        }
        // The table beside it: the same number of rows, enhanced by the script.
        let table_rows = rows(fig);
        assert_eq!(table_rows.len(), marks.len(), "{id}: rows {table_rows:?}");
        assert!(
            fig.contains("class=\"sortable js-sortable\""),
            "{id}: the sorting script did not run"
        );
        assert_eq!(
            between(fig, "<thead>", "</thead>")
                .matches("<button")
                .count(),
            between(fig, "<thead>", "</thead>").matches("<th").count(),
            "{id}: every header is a sort button"
        );
    }

    // Table contents that the planted data fixes.
    let runs = rows(figure(&dom, "failure-rate"));
    assert_eq!(runs[0][0], format!("{RUN_ID}\nthis report"));
    assert_eq!(runs[0][1..4], ["30.0%", "3", "10"]);
    assert_eq!(runs[1][0..2], ["2026-03-03-PM", "50.0%"]);
    assert!(figure(&dom, "failure-rate").contains("<g class=\"mark current\""));
    let fd = figure(&dom, "friction-delight");
    assert_eq!(
        attrs(fd, "data-left")[2..],
        ["0", "0"],
        "b sessions: no friction"
    );
    assert!(attrs(fd, "data-left")[..2].iter().all(|v| v != "0"));
    assert!(
        attrs(fd, "data-right")[2..].iter().all(|v| v != "0"),
        "b sessions: delight"
    );
    let sigs = rows(figure(&dom, "signatures"));
    assert_eq!(
        sigs.iter().map(|r| r[2].as_str()).collect::<Vec<_>>(),
        ["command_not_found", "permission_denied", "file_not_found"]
    );
    let hot = rows(figure(&dom, "hotspots"));
    assert_eq!(hot[0][..2], ["src/hot.rs", "5"]);
    assert_eq!(hot[0][4], "alice, bob");
    let fr = rows(figure(&dom, "finding-runs"));
    assert_eq!(
        fr[0],
        [
            format!("{RUN_ID}\nthis report"),
            "0".into(),
            "3".into(),
            "0".into(),
            "1".into()
        ]
    );
    assert_eq!(fr[1][..3], ["2026-03-03-PM", "1", "3"]);

    // The findings: three persisting, one resolved, with tickets and before/after.
    let section = between(
        &dom,
        "<section class=\"panel\" id=\"findings\">",
        "</section>",
    );
    let f = rows(section);
    // `src/hot.rs` (5 one-line tweaks) is in the hotspot chart but no finding: it is not
    // rework by the file_hotspot rule's defaults.
    assert_eq!(f.len(), 4, "{f:?}");
    // The subject cell: the subject, then the title on a second line.
    let by_subject = |subj: &str| {
        f.iter()
            .find(|r| r[2].lines().next() == Some(subj))
            .unwrap_or_else(|| panic!("no finding {subj}: {f:?}"))
            .clone()
    };
    let cnf = by_subject("command_not_found");
    assert_eq!(cnf[4], "persisting");
    assert_eq!(cnf[5..8], ["5", "3", "+2"]);
    assert_eq!(cnf[8], "#42 open");
    assert_eq!(cnf[9], "2 → 5\nsince 2026-03-03-AM");
    assert!(
        cnf[2].contains("happened 5 times"),
        "the title: {:?}",
        cnf[2]
    );
    let fnf = by_subject("file_not_found");
    assert_eq!(fnf[4], "resolved");
    assert_eq!(fnf[5..8], ["0", "2", "−2"]);
    assert_eq!(fnf[8], "#43 open");
    assert_eq!(
        f.iter().filter(|r| r[4] == "persisting").count(),
        3,
        "{f:?}"
    );
    assert!(section.contains(&format!("<a href=\"{TICKET_CNF}\"")));

    // Self-contained: nothing to fetch. The only absolute URLs are the ticket links.
    for banned in [
        "src=", "<link", "<iframe", "<img", "<object", "<embed", "url(", "@import",
    ] {
        assert!(!dom.contains(banned), "the report references {banned}");
    }
    for (i, _) in dom.match_indices("://") {
        let before = &dom[dom[..i].rfind('"').map_or(0, |q| q + 1)..i];
        let url = &dom[i - before.len()..i + dom[i..].find('"').unwrap_or(0)];
        assert!(
            [TICKET_CNF, TICKET_FNF].contains(&url)
                && dom[..i - before.len()].ends_with("<a href=\""),
            "unexpected URL {url:?}"
        );
    }
    assert!(s.html.contains("default-src 'none'"));
}

/// Probes a page in both colour schemes at 1280px: rendered sizes, contrast, overlaps.
/// Returns the number of marks per chart ID.
fn check_rendering(page: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut marks = std::collections::BTreeMap::new();
    for dark in [false, true] {
        let dom = run_chromium(
            page,
            &[
                "--dump-dom".into(),
                "--window-size=1280,2000".into(),
                scheme(dark),
            ],
        );
        let v = pre(&dom, "probe");
        let scheme = if dark { "dark" } else { "light" };
        assert_eq!(v["dark"], dark, "{scheme}: prefers-color-scheme");
        let bg_lum = v["bg_luminance"].as_f64().unwrap();
        if dark {
            assert!(bg_lum < 0.05, "{scheme}: background {bg_lum}");
        } else {
            assert!(bg_lum > 0.9, "{scheme}: background {bg_lum}");
        }
        assert!(
            v["text_contrast"].as_f64().unwrap() >= 7.0,
            "{scheme}: body text {v}"
        );
        let charts = v["charts"].as_array().unwrap();
        assert_eq!(charts.len(), 6, "{scheme}: {v}");
        for c in charts {
            let id = c["id"].as_str().unwrap();
            let (w, h) = (c["width"].as_f64().unwrap(), c["height"].as_f64().unwrap());
            assert!(w >= 600.0 && h >= 80.0, "{scheme} {id}: rendered {w}x{h}");
            assert!(
                c["marks"].as_u64().unwrap() > 0 && c["visible_marks"] == c["marks"],
                "{scheme} {id}: {c}"
            );
            // WCAG: text 4.5:1, graphical marks 3:1 against the page.
            assert!(
                c["min_text_contrast"].as_f64().unwrap() >= 4.5,
                "{scheme} {id}: {c}"
            );
            let fills = c["fill_contrasts"].as_array().unwrap();
            assert!(!fills.is_empty(), "{scheme} {id}");
            for f in fills {
                assert!(f.as_f64().unwrap() >= 3.0, "{scheme} {id}: {c}");
            }
            // No label overlaps another, and none leaves the chart.
            assert_eq!(c["overlaps"], serde_json::json!([]), "{scheme} {id}");
            assert_eq!(c["outside"], serde_json::json!([]), "{scheme} {id}");
            marks.insert(id.to_string(), c["marks"].as_u64().unwrap());
        }
        // Wide tables scroll inside their frame; the page itself never scrolls sideways.
        assert_eq!(v["page_overflow"], false, "{scheme}: page scrolls sideways");
    }
    marks
}

#[test]
fn charts_are_sized_readable_and_unclipped_in_light_and_dark() {
    let s = scenario();
    let page = with_script(&s.html, &s.report.with_file_name("probe.html"), PROBE);
    let marks = check_rendering(&page);
    for (id, want) in expected() {
        assert_eq!(marks[id], want.len() as u64, "{id}");
    }
}

#[test]
fn a_long_history_with_long_labels_stays_readable() {
    use codex_analyzer::report::*;
    let long = |i: usize| {
        format!("Bash: /home/runner/work/some-repository/some-repository/target/debug/deps/integration_suite-{i:04} --exact very::long::test::path::{i}")
    };
    let d = ReportData {
        repo_name: "a-repository-with-a-long-name".into(),
        run_id: "2026-04-30-PM".into(),
        now: "2026-05-01T01:10:00.000Z".into(),
        window: "24h".into(),
        window_start: "2026-04-30T01:10:00.000Z".into(),
        window_end: "2026-05-01T01:10:00.000Z".into(),
        run_window: "12h".into(),
        runs: (0..60)
            .map(|i| RunRow {
                run_id: format!(
                    "2026-04-{:02}-{}",
                    i / 2 + 1,
                    if i % 2 == 0 { "AM" } else { "PM" }
                ),
                definite: 100,
                failed: (i * 37 % 100) as u64,
                failure_rate: (i % 7 != 3 || i == 59).then(|| (i * 37 % 100) as f64 / 100.0),
                current: i == 59,
                ..RunRow::default()
            })
            .collect(),
        error_types: (0..15)
            .map(|i| ErrorTypeRow {
                name: format!("an_unusually_long_error_type_name_{i}"),
                count: 1000 - i as u64 * 60,
                calls: 900,
                ..ErrorTypeRow::default()
            })
            .collect(),
        sessions: (0..25)
            .map(|i| SessionRow {
                session: format!("0199a1f2-7c3e-4b6a-9d10-{i:012}"),
                friction: 40 - i as u32,
                delight: (i as u32 * 7) % 13,
                ..SessionRow::default()
            })
            .collect(),
        signatures: (0..15)
            .map(|i| SignatureRow {
                kind: "command".into(),
                id: format!("cl1-{i:016x}"),
                label: long(i),
                error_type: "test_failure".into(),
                template: long(i),
                count: 5000 - i as u64 * 300,
                ..SignatureRow::default()
            })
            .collect(),
        hotspots: (0..15)
            .map(|i| HotspotRow {
                path: format!(
                    "crates/some-deeply-nested-crate/src/module_{i}/submodule/file_{i}.rs"
                ),
                commits: 30 - i as u64,
                ..HotspotRow::default()
            })
            .collect(),
        git_available: true,
        finding_runs: (0..14)
            .map(|i| FindingRunRow {
                run_id: format!("2026-04-{:02}-AM", i + 10),
                new: i % 4,
                persisting: 20 + i,
                recurring: i % 3,
                resolved: i % 5,
                current: i == 13,
            })
            .collect(),
        ..ReportData::default()
    };
    let dir = target_dir().join("report-e2e-long");
    std::fs::create_dir_all(&dir).unwrap();
    let html = render(&d).html;
    let page = with_script(&html, &dir.join("probe.html"), PROBE);
    let marks = check_rendering(&page);
    let want: Vec<(&str, u64)> = vec![
        ("error-types", 15),
        ("failure-rate", 52),
        ("finding-runs", 14),
        ("friction-delight", 25),
        ("hotspots", 15),
        ("signatures", 15),
    ];
    assert_eq!(
        marks
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        want,
        "one mark per value (runs without a rate are gaps)"
    );
}

#[test]
fn screenshots_light_and_dark() {
    let s = scenario();
    let mut shots = Vec::new();
    for (dark, name) in [
        (false, "report-screenshot.png"),
        (true, "report-screenshot-dark.png"),
    ] {
        let png = target_dir().join(name);
        let _ = std::fs::remove_file(&png);
        run_chromium(
            &s.report,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,2000".into(),
                scheme(dark),
            ],
        );
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        let img = decode_png(&bytes);
        assert_eq!((img.width, img.height), (1280, 2000), "{name}");
        // An empty page of one colour compresses to a few KB; charts and tables do not.
        assert!(bytes.len() > 60_000, "{name}: only {} bytes", bytes.len());
        let bg = img.pixel(2, 2);
        let lum = luminance(bg);
        if dark {
            assert!(lum < 0.05, "{name}: background {bg:?}");
        } else {
            assert!(lum > 0.9, "{name}: background {bg:?}");
        }
        // Many colours: text antialiasing, bars of several series.
        let colours = img.distinct_colours();
        assert!(colours > 200, "{name}: {colours} colours");
        shots.push(bytes);
    }
    assert_ne!(shots[0], shots[1]);
}

#[test]
fn the_sort_function_orders_numbers_text_and_missing_values() {
    let s = scenario();
    let script = between(&s.html, "<script>", "</script>");
    let tests = r#"
      var S = window.codexReport, out = {};
      out.numAsc = S.sortOrder(["10", "9", "", "2.5", "x"], true, false);
      out.numDesc = S.sortOrder(["10", "9", "", "2.5", "x"], true, true);
      out.textAsc = S.sortOrder(["beta", "Alpha", "alpha", "gamma", ""], false, false);
      out.textDesc = S.sortOrder(["beta", "Alpha", "alpha", "gamma", ""], false, true);
      out.stable = S.sortOrder(["1", "1", "0", "1"], true, true);
      out.negative = S.sortOrder(["-3", "2", "-10"], true, false);
      var pre = document.createElement("pre");
      pre.id = "out";
      pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
    "#;
    let page = s.report.with_file_name("sort-unit.html");
    std::fs::write(
        &page,
        format!("<!doctype html><html><body><script>{script}</script><script>{tests}</script></body></html>"),
    )
    .unwrap();
    let v = pre(&dump_dom(&page, false), "out");
    let j = |x: &[u64]| serde_json::json!(x);
    assert_eq!(v["numAsc"], j(&[3, 1, 0, 2, 4]), "{v}");
    assert_eq!(
        v["numDesc"],
        j(&[0, 1, 3, 2, 4]),
        "missing values stay last: {v}"
    );
    assert_eq!(v["textAsc"], j(&[1, 2, 0, 3, 4]), "{v}");
    assert_eq!(v["textDesc"], j(&[3, 0, 2, 1, 4]), "{v}");
    assert_eq!(v["stable"], j(&[0, 1, 3, 2]), "{v}");
    assert_eq!(v["negative"], j(&[2, 0, 1]), "{v}");
}

#[test]
fn clicking_a_header_sorts_the_table() {
    let s = scenario();
    // Click "Failures", "Failures" again, then "Error type" of the signatures table, and
    // record the first column after each click.
    let clicks = r#"
      var t = document.querySelector('table[data-table="signatures"]');
      var heads = t.tHead.rows[0].cells, out = {};
      function col(i) { return Array.prototype.map.call(t.tBodies[0].rows, function (r) { return r.cells[i].textContent; }); }
      out.initial = col(2);
      heads[3].querySelector("button").click();
      out.failuresFirst = col(3); out.sortFirst = heads[3].getAttribute("aria-sort");
      heads[3].querySelector("button").click();
      out.failuresSecond = col(3); out.sortSecond = heads[3].getAttribute("aria-sort");
      heads[2].querySelector("button").click();
      out.typeFirst = col(2); out.sortType = heads[2].getAttribute("aria-sort");
      out.failuresAfter = heads[3].getAttribute("aria-sort");
      var pre = document.createElement("pre"); pre.id = "out"; pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
    "#;
    let page = with_script(&s.html, &s.report.with_file_name("sort-click.html"), clicks);
    let v = pre(&dump_dom(&page, false), "out");
    let j = |x: &[&str]| serde_json::json!(x);
    assert_eq!(
        v["initial"],
        j(&["command_not_found", "permission_denied", "file_not_found"])
    );
    assert_eq!(
        v["failuresFirst"],
        j(&["5", "2", "1"]),
        "numbers: largest first"
    );
    assert_eq!(v["sortFirst"], "descending");
    assert_eq!(v["failuresSecond"], j(&["1", "2", "5"]));
    assert_eq!(v["sortSecond"], "ascending");
    assert_eq!(
        v["typeFirst"],
        j(&["command_not_found", "file_not_found", "permission_denied"]),
        "text: A to Z first"
    );
    assert_eq!(v["sortType"], "ascending");
    assert_eq!(
        v["failuresAfter"],
        Value::Null,
        "one sorted column at a time"
    );
}

#[test]
fn same_inputs_give_the_same_bytes_and_secrets_stay_out() {
    let s = scenario();
    let again = s.report.with_file_name("again.html");
    analyzer(
        &s.repo,
        &["report", "--now", NOW, "--out", again.to_str().unwrap()],
    );
    assert!(
        std::fs::read_to_string(&again).unwrap() == s.html,
        "two reports of the same inputs differ"
    );
    assert!(!s.html.contains("generated at"), "no wall clock with --now");
    // Whatever the redactor masks in the planted credential line never reaches the page.
    let redacted = codex_contract::redact::redact(SECRET_LINE);
    if !redacted.contains(SECRET) {
        assert!(!s.html.contains(SECRET), "the planted secret leaked");
    }
    // Default output: report.html in the current directory; the clock appears once.
    let cwd = s.report.with_file_name("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let out = Command::new(e2e::bins::analyzer())
        .args(["report", "--repo"])
        .arg(&s.repo)
        .current_dir(&cwd)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "report.html\n");
    let html = std::fs::read_to_string(cwd.join("report.html")).unwrap();
    assert_eq!(html.matches("generated at").count(), 1);
}

#[test]
fn an_empty_repository_says_no_data_for_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    analyzer(
        dir.path(),
        &[
            "report",
            "--now",
            NOW,
            "--out",
            out.to_str().unwrap(),
            "--window",
            "6h",
        ],
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(!html.contains("<svg"), "no empty SVGs");
    assert_eq!(html.matches("<figure ").count(), 6);
    // Six charts and the findings table.
    assert_eq!(html.matches("No data in this window.").count(), 7);
    assert!(
        html.contains("window 6h"),
        "the --window is the report's window"
    );
    assert!(html.contains("no tool-call log"), "the reason is shown");
    assert!(
        !dir.path().join(".codex").exists(),
        "a report writes nothing else"
    );
}

// ---------------------------------------------------------------------------------------
// A minimal PNG reader (8-bit RGB/RGBA, non-interlaced: what Chromium writes), to look at
// the screenshots' pixels.

struct Image {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<u8>,
}

impl Image {
    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * self.channels;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    fn distinct_colours(&self) -> usize {
        let mut set = std::collections::HashSet::new();
        for y in (0..self.height).step_by(3) {
            for x in (0..self.width).step_by(3) {
                set.insert(self.pixel(x, y));
            }
        }
        set.len()
    }
}

fn decode_png(bytes: &[u8]) -> Image {
    use std::io::Read;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut pos, mut idat) = (8, Vec::new());
    let (mut width, mut height, mut channels) = (0, 0, 0);
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let body = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!(body[8], 8, "bit depth");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("colour type {t}"),
                };
                assert_eq!(body[12], 0, "interlaced");
            }
            b"IDAT" => idat.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1), "decoded size");
    let mut data = vec![0u8; height * stride];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                data[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 { data[(y - 1) * stride + x] } else { 0 };
            let c = if x >= channels && y > 0 {
                data[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("filter {f}"),
            };
            data[y * stride + x] = line[x].wrapping_add(pred);
        }
    }
    Image {
        width,
        height,
        channels,
        data,
    }
}

/// WCAG relative luminance.
fn luminance(c: [u8; 3]) -> f64 {
    let ch = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2])
}
