//! Configuration files as key paths → canonical values, so config churn is judged on what a
//! setting *is*, not on which lines moved.
//!
//! Why key level: a line diff cannot tell a reformatted `Cargo.toml` from a changed edition,
//! nor a dependency added once from a toolchain pin flipped back and forth. Flattening both
//! sides of a change to `key path → value` makes formatting, reordering and comments
//! disappear, and leaves the settings that changed, with their old and new values.
//!
//! - **TOML** (`toml`), **JSON** (`serde_json`) and **YAML** (`yaml-rust2`: pure Rust, kept up,
//!   no `unsafe-libyaml`; `serde_yaml` is deprecated) become one tree, flattened to dotted
//!   paths (`toolchain.channel`, `jobs.test.runs-on`). A list of scalars is one value (the
//!   whole list, `["a","b"]`); a list of tables is keyed by each item's identity — its `name`,
//!   `id`, or the action it `uses` (without the `@ref`) — so a workflow step dropped and
//!   restored is the same key coming back, and inserting a step does not renumber the others.
//! - **Everything else** is read line by line (see [`flatten`]): requirement-like files are
//!   keyed by package name, `key = value` lines by key, Dockerfile `FROM` by image, single-value
//!   files (`.nvmrc`, legacy `rust-toolchain`) by `value`; any other line is its own key.
//! - **Semver-ish forward moves** ([`is_version_bump`]) are how version bumps are told from
//!   churn: `1.80` → `1.81`, `^1.0.3` → `^1.0.4`, `actions/checkout@v3` → `@v4`.
//!
//! All functions are pure; the git collector feeds them blob contents.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// Key path → canonical value of one configuration file.
pub type KeyMap = BTreeMap<String, String>;

/// Which reader a path gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
    Yaml,
    /// `name<spec>` lines: the package name is the key.
    Requirements,
    Dockerfile,
    /// The whole file is one value (`.nvmrc`, `.python-version`, legacy `rust-toolchain`).
    SingleValue,
    /// `name value` lines (`.tool-versions`, `go.mod`, `.gitattributes`).
    Words,
    /// `[section]` and `key = value` / `key: value` lines; other lines are their own key.
    Lines,
    /// Prose (`AGENTS.md`): every line is its own key.
    Prose,
}

impl Format {
    /// The reader for a repository-relative path, from its name.
    pub fn of(path: &str) -> Format {
        let name = path.rsplit('/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if ext == "toml" || lower == "pipfile" || path.ends_with(".cargo/config") {
            Format::Toml
        } else if ext == "json" {
            Format::Json
        } else if ext == "yml" || ext == "yaml" {
            Format::Yaml
        } else if (lower.starts_with("requirements") || lower.starts_with("constraints"))
            && (ext == "txt" || ext == "in")
        {
            Format::Requirements
        } else if lower == "dockerfile" || lower.starts_with("dockerfile.") || ext == "dockerfile" {
            Format::Dockerfile
        } else if matches!(
            lower.as_str(),
            ".nvmrc" | ".node-version" | ".python-version" | ".ruby-version" | "rust-toolchain"
        ) {
            Format::SingleValue
        } else if matches!(
            lower.as_str(),
            ".tool-versions" | "go.mod" | "go.work" | ".gitattributes"
        ) {
            Format::Words
        } else if ext == "md" || ext == "markdown" || ext == "txt" {
            Format::Prose
        } else {
            Format::Lines
        }
    }
}

/// Flattens `content` (the file at `path`) to key paths and canonical values.
///
/// `Err` when a structured file does not parse (a broken commit): the caller then does not
/// compare that side key by key, rather than report every key as removed and restored.
pub fn flatten(path: &str, content: &str) -> Result<KeyMap, String> {
    let mut out = KeyMap::new();
    match Format::of(path) {
        Format::Toml => {
            let value: toml::Table =
                toml::from_str(content).map_err(|e| e.message().to_string())?;
            flatten_value("", &toml_to_json(toml::Value::Table(value)), &mut out);
        }
        Format::Json => {
            let value: Value = serde_json::from_str(content).map_err(|e| e.to_string())?;
            flatten_value("", &value, &mut out);
        }
        Format::Yaml => {
            let docs = yaml_rust2::YamlLoader::load_from_str(content).map_err(|e| e.to_string())?;
            for (i, doc) in docs.iter().enumerate() {
                let prefix = if i == 0 {
                    String::new()
                } else {
                    format!("---{i}")
                };
                flatten_value(&prefix, &yaml_to_json(doc), &mut out);
            }
        }
        Format::Requirements => lines(content, &mut out, requirement_line),
        Format::Dockerfile => lines(content, &mut out, docker_line),
        Format::SingleValue => {
            let values: Vec<&str> = content_lines(content).collect();
            match values.as_slice() {
                [] => {}
                [one] => {
                    out.insert("value".to_string(), one.to_string());
                }
                many => lines(&many.join("\n"), &mut out, ini_line),
            }
        }
        Format::Words => lines(content, &mut out, |_, line| word_line(line)),
        Format::Lines => lines(content, &mut out, ini_line),
        Format::Prose => lines(content, &mut out, |_, line| {
            (line.to_string(), String::new())
        }),
    }
    Ok(out)
}

/// How one key changed over the window's commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyHistory {
    pub key: String,
    /// The value before the window's first change of the key (redacted; `None`: absent).
    pub before: Option<String>,
    /// Each commit that changed the key, oldest first.
    pub changes: Vec<KeyChange>,
}

/// One commit's change of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub sha: String,
    /// The value after the commit (redacted; `None`: removed).
    pub value: Option<String>,
    /// Which of the key's distinct values in the window this is, counted on the real values
    /// (0 is the value before the window): equal states are equal values, so a flip back is
    /// seen even when redaction shows two different secrets alike.
    pub state: u32,
    /// The value moved forward as a version (`1.80` → `1.81`).
    pub version_bump: bool,
    /// The commit is a revert.
    pub revert: bool,
}

/// One commit's change of a config file, both sides flattened.
pub struct FileEvent<'a> {
    pub sha: &'a str,
    pub before: &'a KeyMap,
    pub after: &'a KeyMap,
    pub revert: bool,
}

impl KeyHistory {
    /// The value a state stands for: `before`, or the value of the first change that
    /// reached it.
    pub fn value_of(&self, state: u32) -> Option<&str> {
        if state == 0 {
            return self.before.as_deref();
        }
        self.changes
            .iter()
            .find(|c| c.state == state)
            .and_then(|c| c.value.as_deref())
    }
}

/// The history of every key that `events` (oldest first) changed, sorted by key. Values
/// are redacted and bounded on the way out; states are counted on the real values.
pub fn key_histories(events: &[FileEvent<'_>]) -> Vec<KeyHistory> {
    struct Acc<'e> {
        history: KeyHistory,
        seen: Vec<Option<&'e str>>,
    }
    let mut keys: BTreeMap<&str, Acc<'_>> = BTreeMap::new();
    for event in events {
        let changed = event
            .before
            .iter()
            .filter(|(k, v)| event.after.get(*k) != Some(v))
            .map(|(k, _)| k)
            .chain(
                event
                    .after
                    .keys()
                    .filter(|k| !event.before.contains_key(*k)),
            );
        for key in changed {
            let old = event.before.get(key).map(String::as_str);
            let new = event.after.get(key).map(String::as_str);
            let acc = keys.entry(key.as_str()).or_insert_with(|| Acc {
                history: KeyHistory {
                    key: key.clone(),
                    before: old.map(|v| shown_value(key, v)),
                    changes: Vec::new(),
                },
                seen: vec![old],
            });
            let state = match acc.seen.iter().position(|v| *v == new) {
                Some(i) => i,
                None => {
                    acc.seen.push(new);
                    acc.seen.len() - 1
                }
            };
            acc.history.changes.push(KeyChange {
                sha: event.sha.to_string(),
                value: new.map(|v| shown_value(key, v)),
                state: state as u32,
                version_bump: matches!((old, new), (Some(o), Some(n)) if is_version_bump(o, n)),
                revert: event.revert,
            });
        }
    }
    keys.into_values().map(|a| a.history).collect()
}

/// A value as it may be shown: secrets redacted (also plain ones under a secret-looking
/// key, as `password = "hunter2"`), one line, bounded.
pub fn shown_value(key: &str, value: &str) -> String {
    let name = key
        .rsplit(['.', '[', ' '])
        .next()
        .unwrap_or(key)
        .trim_matches(['"', ']']);
    let mut probe = serde_json::json!({ name: value });
    codex_contract::redact::redact_json(&mut probe);
    let value = match probe.get(name).and_then(Value::as_str) {
        Some(v) if v != value => v.to_string(),
        _ => value.to_string(),
    };
    crate::finding::sample(&value, 120)
}

/// Whether `new` is `old` with a greater version: the same text around the numbers, and the
/// numbers compare greater (`1.80` → `1.81`, `^0.9` → `^0.10`, `v3` → `v4`). Pre-release
/// suffixes and anything else that changes the text around the numbers is not a bump.
pub fn is_version_bump(old: &str, new: &str) -> bool {
    let (old_text, old_nums) = version_parts(old);
    let (new_text, new_nums) = version_parts(new);
    if old_nums.is_empty() || old_text != new_text {
        return false;
    }
    // Compare numerically, the shorter one padded with zeros (`1.8` < `1.8.1`).
    let len = old_nums.len().max(new_nums.len());
    let pad = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    for i in 0..len {
        match pad(&new_nums, i).cmp(&pad(&old_nums, i)) {
            std::cmp::Ordering::Greater => return true,
            std::cmp::Ordering::Less => return false,
            std::cmp::Ordering::Equal => {}
        }
    }
    false
}

/// The text with digit runs and their separating dots removed, and the numbers.
fn version_parts(value: &str) -> (String, Vec<u64>) {
    let mut text = String::new();
    let mut nums = Vec::new();
    let mut digits = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            nums.push(digits.parse().unwrap_or(u64::MAX));
            digits.clear();
            if c == '.' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                continue;
            }
        }
        text.push(c);
    }
    if !digits.is_empty() {
        nums.push(digits.parse().unwrap_or(u64::MAX));
    }
    (text, nums)
}

fn flatten_value(prefix: &str, value: &Value, out: &mut KeyMap) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten_value(&join(prefix, &quote_key(k)), v, out);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object()) => {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                let id = item_identity(item).unwrap_or_else(|| format!("#{i}"));
                let n = seen.entry(id.clone()).or_insert(0);
                *n += 1;
                let id = if *n > 1 { format!("{id}#{n}") } else { id };
                flatten_value(&format!("{prefix}[{id}]"), item, out);
            }
        }
        _ => {
            insert_unique(out, prefix.to_string(), canonical(value));
        }
    }
}

/// The identity of a table in a list: what a maintainer calls it.
fn item_identity(item: &Value) -> Option<String> {
    let map = item.as_object()?;
    for field in ["name", "id", "uses", "package", "path"] {
        if let Some(Value::String(s)) = map.get(field) {
            let s = if field == "uses" {
                s.split('@').next().unwrap_or(s)
            } else {
                s.as_str()
            };
            return Some(s.trim().to_string());
        }
    }
    None
}

fn canonical(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Keys with separators in them are quoted, as TOML writes them (`"serde.x"`).
fn quote_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '*' | '@' | '$'))
    {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

fn insert_unique(out: &mut KeyMap, key: String, value: String) {
    use std::collections::btree_map::Entry;
    let key = match out.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            return;
        }
        Entry::Occupied(taken) => taken.key().clone(),
    };
    let mut n = 2;
    while out.contains_key(&format!("{key}#{n}")) {
        n += 1;
    }
    out.insert(format!("{key}#{n}"), value);
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

fn yaml_to_json(value: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match value {
        Yaml::Real(s) | Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (canonical(&yaml_to_json(k)), yaml_to_json(v)))
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

/// Non-empty, non-comment lines, trimmed.
fn content_lines(content: &str) -> impl Iterator<Item = &str> {
    content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
}

/// Reads `content` line by line; `parse(section, line)` gives a key and a value. Sections
/// (`[name]`) prefix the keys that follow them.
fn lines(content: &str, out: &mut KeyMap, parse: impl Fn(&str, &str) -> (String, String)) {
    let mut section = String::new();
    for line in content_lines(content) {
        if line.starts_with('[') && line.ends_with(']') && line.len() > 2 {
            section = line[1..line.len() - 1].trim().to_string();
            continue;
        }
        let (key, value) = parse(&section, line);
        insert_unique(out, join(&section, &key), value);
    }
}

/// `key = value` or `key: value` with a simple key; anything else is its own key.
fn ini_line(_section: &str, line: &str) -> (String, String) {
    let split = line.find(['=', ':']);
    if let Some(at) = split {
        let key = line[..at].trim();
        if !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@' | ' '))
        {
            return (key.to_string(), line[at + 1..].trim().to_string());
        }
    }
    (line.to_string(), String::new())
}

/// `name value...`: the first word is the key.
fn word_line(line: &str) -> (String, String) {
    match line.split_once(char::is_whitespace) {
        Some((k, v)) => (k.to_string(), v.trim().to_string()),
        None => (line.to_string(), String::new()),
    }
}

/// `name[extras] <spec> ; marker`: the normalized package name is the key (PEP 503).
fn requirement_line(_section: &str, line: &str) -> (String, String) {
    let line = line.split(" #").next().unwrap_or(line).trim();
    if line.starts_with('-') {
        return (line.to_string(), String::new());
    }
    let end = line
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    if end == 0 {
        return (line.to_string(), String::new());
    }
    let name = line[..end].to_ascii_lowercase().replace(['_', '.'], "-");
    (name, line[end..].trim().to_string())
}

/// Dockerfile instructions: `FROM image:tag` is keyed by image, `ARG`/`ENV`/`LABEL` by
/// name; other instructions are their own key.
fn docker_line(_section: &str, line: &str) -> (String, String) {
    let (instr, rest) = word_line(line);
    let upper = instr.to_ascii_uppercase();
    match upper.as_str() {
        "FROM" => {
            let image = rest.split_whitespace().next().unwrap_or("");
            let (name, tag) = match image.rsplit_once(':') {
                Some((n, t)) if !t.contains('/') => (n, t),
                _ => (image, ""),
            };
            let stage = rest
                .split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ");
            (
                format!("FROM {name} {stage}").trim().to_string(),
                tag.to_string(),
            )
        }
        "ARG" | "ENV" | "LABEL" => {
            let at = rest.find(['=', ' ']).unwrap_or(rest.len());
            (
                format!("{upper} {}", &rest[..at]),
                rest[at..].trim_start_matches(['=', ' ']).to_string(),
            )
        }
        _ => (line.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &str, content: &str) -> Vec<(String, String)> {
        flatten(path, content).unwrap().into_iter().collect()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn toml_flattens_to_dotted_keys_and_ignores_formatting() {
        let a = "[toolchain]\nchannel = \"1.80\"\ncomponents = [\"clippy\", \"rustfmt\"]\n";
        assert_eq!(
            keys("rust-toolchain.toml", a),
            kv(&[
                ("toolchain.channel", "1.80"),
                ("toolchain.components", "[\"clippy\",\"rustfmt\"]")
            ])
        );
        // Reordered, re-spaced, commented, inline table: the same settings.
        let b =
            "# pinned\ntoolchain = { components = [ \"clippy\",\"rustfmt\" ], channel='1.80' }\n";
        assert_eq!(
            flatten("rust-toolchain.toml", a),
            flatten("x/rust-toolchain.toml", b)
        );
        let deps = keys(
            "crates/a/Cargo.toml",
            "[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n\"a.b\" = \"2\"\n[[bin]]\nname = \"x\"\npath = \"src/x.rs\"\n",
        );
        assert_eq!(
            deps,
            kv(&[
                ("bin[x].name", "x"),
                ("bin[x].path", "src/x.rs"),
                ("dependencies.\"a.b\"", "2"),
                ("dependencies.serde.features", "[\"derive\"]"),
                ("dependencies.serde.version", "1"),
            ])
        );
        assert!(flatten("Cargo.toml", "[package\nname=").is_err());
    }

    #[test]
    fn json_and_yaml_flatten_the_same_way() {
        let json = keys(
            "package.json",
            "{\"name\":\"x\",\"engines\":{\"node\":\">=18\"},\"private\":true,\"n\":1}",
        );
        assert_eq!(
            json,
            kv(&[
                ("engines.node", ">=18"),
                ("n", "1"),
                ("name", "x"),
                ("private", "true")
            ])
        );
        let yaml = keys(
            ".github/workflows/ci.yml",
            "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - name: Test\n        run: cargo test\n      - run: echo done\n",
        );
        assert_eq!(
            yaml,
            kv(&[
                ("jobs.test.runs-on", "ubuntu-latest"),
                ("jobs.test.steps[#2].run", "echo done"),
                ("jobs.test.steps[Test].name", "Test"),
                ("jobs.test.steps[Test].run", "cargo test"),
                (
                    "jobs.test.steps[actions/checkout].uses",
                    "actions/checkout@v4"
                ),
                ("on", "[\"push\"]"),
            ])
        );
        assert!(flatten("a.json", "{").is_err());
        assert!(flatten("a.yml", "a: [").is_err());
    }

    #[test]
    fn a_dropped_step_leaves_the_other_keys_alone() {
        let with =
            "steps:\n  - name: Lint\n    run: cargo clippy\n  - name: Test\n    run: cargo test\n";
        let without = "steps:\n  - name: Test\n    run: cargo test\n";
        let a = flatten("ci.yml", with).unwrap();
        let b = flatten("ci.yml", without).unwrap();
        assert_eq!(a["steps[Test].run"], b["steps[Test].run"]);
        assert!(a.contains_key("steps[Lint].run") && !b.contains_key("steps[Lint].run"));
    }

    #[test]
    fn line_based_fallbacks() {
        assert_eq!(
            keys(
                "requirements-dev.txt",
                "# tools\nRequests[socks]>=2.31 ; python_version > '3.8'\nzope.interface==6.0  # pin\n-r base.txt\n"
            ),
            kv(&[
                ("-r base.txt", ""),
                ("requests", "[socks]>=2.31 ; python_version > '3.8'"),
                ("zope-interface", "==6.0"),
            ])
        );
        assert_eq!(keys(".nvmrc", "20.11.0\n"), kv(&[("value", "20.11.0")]));
        assert_eq!(keys("rust-toolchain", "1.80\n"), kv(&[("value", "1.80")]));
        assert_eq!(
            keys(
                "docker/Dockerfile",
                "FROM rust:1.80 AS build\nARG FEATURES=default\nRUN cargo build\n"
            ),
            kv(&[
                ("ARG FEATURES", "default"),
                ("FROM rust AS build", "1.80"),
                ("RUN cargo build", ""),
            ])
        );
        assert_eq!(
            keys(".editorconfig", "root = true\n[*.rs]\nindent_size = 4\n"),
            kv(&[("*.rs.indent_size", "4"), ("root", "true")])
        );
        assert_eq!(
            keys(".tool-versions", "nodejs 20.1.0\npython 3.12.1\n"),
            kv(&[("nodejs", "20.1.0"), ("python", "3.12.1")])
        );
        assert_eq!(
            keys("AGENTS.md", "# Rules\n- run tests\n- run tests\n"),
            kv(&[("- run tests", ""), ("- run tests#2", "")])
        );
    }

    #[test]
    fn histories_track_values_and_returns() {
        let m = |pairs: &[(&str, &str)]| -> KeyMap {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (a, b, c) = (
            m(&[("channel", "1.80"), ("db.password", "s3cr3t-Hunter2")]),
            m(&[("channel", "1.81"), ("db.password", "0ther-Pass99")]),
            m(&[
                ("channel", "1.80"),
                ("db.password", "0ther-Pass99"),
                ("new", "x"),
            ]),
        );
        let events = [
            FileEvent {
                sha: "s1",
                before: &a,
                after: &b,
                revert: false,
            },
            FileEvent {
                sha: "s2",
                before: &b,
                after: &c,
                revert: true,
            },
        ];
        let h = key_histories(&events);
        let keys: Vec<_> = h.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["channel", "db.password", "new"]);
        let channel = &h[0];
        assert_eq!(channel.before.as_deref(), Some("1.80"));
        let states: Vec<_> = channel
            .changes
            .iter()
            .map(|c| (c.sha.as_str(), c.state, c.version_bump, c.revert))
            .collect();
        assert_eq!(states, [("s1", 1, true, false), ("s2", 0, false, true)]);
        assert_eq!(channel.value_of(1), Some("1.81"));
        // Secrets never leave as values, whatever their key.
        let pw = &h[1];
        assert!(!pw.before.as_deref().unwrap().contains("Hunter2"), "{pw:?}");
        assert!(
            !pw.changes[0].value.as_deref().unwrap().contains("Pass99"),
            "{pw:?}"
        );
        assert_eq!(pw.changes[0].state, 1);
        // A key added once: absent before.
        assert_eq!(h[2].before, None);
        assert_eq!(h[2].changes[0].value.as_deref(), Some("x"));
        // A reformatted file changes nothing.
        assert!(key_histories(&[FileEvent {
            sha: "s3",
            before: &a,
            after: &a.clone(),
            revert: false
        }])
        .is_empty());
    }

    #[test]
    fn version_bumps_only_move_forward() {
        for (old, new) in [
            ("1.80", "1.81"),
            ("0.9.0", "0.10.0"),
            ("^1.0.3", "^1.0.4"),
            ("actions/checkout@v3", "actions/checkout@v4"),
            ("==2.31", "==2.32.1"),
            ("1.8", "1.8.1"),
        ] {
            assert!(is_version_bump(old, new), "{old} -> {new}");
        }
        for (old, new) in [
            ("1.81", "1.80"),
            ("1.80", "1.80"),
            ("stable", "nightly"),
            ("1.2.3", "1.2.4-beta.1"),
            ("2021", "2024-x"),
            (">=1.0", "<2.0"),
        ] {
            assert!(!is_version_bump(old, new), "{old} -> {new}");
        }
    }
}
