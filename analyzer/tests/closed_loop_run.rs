//! The closed loop inside `codex-analyzer run` (the real binary on the planted scenario):
//! `--format json` carries per-session signals and ranked friction clusters that match the
//! published schema, and the run log shows friction and delight, the clusters and the focus.

mod common;

use common::*;
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let text = include_str!("../../docs/analyzer-output.schema.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

fn scenario() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_scenario(dir.path(), &toolcall_lines());
    dir
}

/// The text of run-log heading `h` (up to the next `### `).
fn under<'a>(md: &'a str, h: &str) -> &'a str {
    let start = md
        .find(&format!("\n### {h}\n"))
        .unwrap_or_else(|| panic!("no {h}"));
    let rest = &md[start + h.len() + 6..];
    &rest[..rest.find("\n### ").unwrap_or(rest.len())]
}

#[test]
fn json_carries_sessions_and_ranked_clusters_matching_the_schema() {
    let dir = scenario();
    let json = run_json(dir.path(), NOW, &[]);
    let v = schema();
    let errors: Vec<String> = v
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // Signals over the rollup: the same calls the metrics count (s0 is older than 24h, s9
    // is after --now).
    let s = &json["sessions"];
    assert_eq!(s["window"], json["windows"]["rollup"]);
    assert_eq!(s["calls"], json["metrics"]["tool_calls"]["rollup"]["calls"]);
    assert_eq!(s["sessions"], 3);
    let ids: Vec<&str> = s["per_session"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["session_id"].as_str())
        .collect();
    assert_eq!(ids, vec!["s1", "s2", "s3"]);
    let cnf = s["by_error_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["error_type"] == "command_not_found")
        .unwrap();
    assert_eq!(cnf["count"], 3);
    assert!(s["friction"]["command_failures"].as_u64().unwrap() >= 5);
    assert_eq!(s["friction"]["timeouts"], 1);

    // Clusters: the canonical normalizer groups the three `cargo-nextest` installs (three
    // different paths) and the two `cat` of temporary files.
    let c = &json["clusters"];
    assert_eq!(c["algorithm"], "cluster-v2");
    let items = c["items"].as_array().unwrap();
    assert_eq!(c["total"].as_u64().unwrap() as usize, items.len());
    let find = |cmd: &str| {
        items
            .iter()
            .find(|i| i["command_template"] == cmd)
            .unwrap_or_else(|| panic!("no cluster {cmd}: {items:#?}"))
    };
    let nextest = find("<path> run --workspace");
    assert_eq!(
        (nextest["count"].as_u64(), nextest["error_type"].as_str()),
        (Some(3), Some("command_not_found"))
    );
    assert_eq!(nextest["error_template"], "bash: <path>: command not found");
    assert!(nextest["id"].as_str().unwrap().starts_with("cl2-"));
    assert_eq!(find("cat <path>")["count"], 2);
    let impacts: Vec<f64> = items
        .iter()
        .map(|i| i["impact"].as_f64().unwrap())
        .collect();
    assert!(
        impacts.windows(2).all(|w| w[0] >= w[1]),
        "ranked by impact: {impacts:?}"
    );
    // The cluster's command template is the command signature's template.
    let sigs = json["metrics"]["tool_calls"]["rollup"]["top_failing_commands"]
        .as_array()
        .unwrap();
    assert!(sigs
        .iter()
        .any(|s| s["template"] == "<path> run --workspace" && s["count"] == 3));
}

#[test]
fn run_log_shows_friction_delight_ranked_clusters_and_focus() {
    let dir = scenario();
    let json = run_json(dir.path(), NOW, &[]);
    let md = run_ok(dir.path(), NOW, &["--format", "md"]);
    assert_eq!(
        md.lines().filter(|l| l.starts_with("## ")).count(),
        1,
        "extras nest under the run's headings:\n{md}"
    );
    let tools = under(&md, "Tool Call Analysis");
    assert!(tools.contains("#### Friction and delight"), "{tools}");
    assert!(tools.contains("| command_failures |"), "{tools}");
    assert!(tools.contains("| fast completion (≤3 turns) |"), "{tools}");
    assert!(
        tools.contains("##### Sessions with the most friction"),
        "{tools}"
    );

    let clusters = under(&md, "Failure Clusters");
    assert!(
        clusters.contains("#### Top friction clusters"),
        "{clusters}"
    );
    let top = json["clusters"]["items"][0]["id"].as_str().unwrap();
    let row = clusters
        .lines()
        .find(|l| l.starts_with("| 1 | "))
        .unwrap_or_else(|| panic!("{clusters}"));
    assert!(row.contains(top), "the top-ranked cluster is row 1: {row}");

    let focus = under(&md, "Next 12h Focus");
    assert!(focus.contains("Friction to remove first"), "{focus}");
    assert!(
        focus.contains("/opt/tools-2/bin/cargo-nextest run --workspace"),
        "the last failing command of the top cluster: {focus}"
    );
}
