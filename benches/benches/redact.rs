//! Redaction throughput: `redact` on clean build/test output (the common case, target
//! ≥ 1 GB/s), on candidate-dense text (keywords everywhere, some real secrets), the
//! streaming redactor behind `codex-shim redact`, and one command line (`redact_short`; in
//! steady state, after the engine's direct-scan budget is spent, see `redact::engine`).
//!
//! Run: `cargo bench -p benches --bench redact -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::io;

use codex_contract::redact::{contains_secret, redact, redact_stream};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Deterministic xorshift so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| A[self.below(A.len() as u64) as usize] as char)
            .collect()
    }
}

const CRATES: &[&str] = &[
    "serde", "regex", "tokio", "hyper", "clap", "anyhow", "syn", "quote", "libc", "rand",
];
const WORDS: &[&str] = &[
    "parse", "build", "render", "fetch", "apply", "merge", "index", "query", "update", "reload",
];

/// ~`n` bytes of realistic tool output without secrets: cargo, test runners, compiler
/// diagnostics, git log, npm, structured logs, diffs, URLs.
fn clean_log(n: usize) -> String {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = String::with_capacity(n + 512);
    while s.len() < n {
        let line = match r.below(12) {
            0 | 1 => format!("   Compiling {} v1.{}.{}\n", r.pick(CRATES), r.below(30), r.below(10)),
            2 => format!("test {}::tests::{}_{} ... ok\n", r.pick(WORDS), r.pick(WORDS), r.below(100)),
            3 => format!(
                "warning: unused variable: `{w}`\n  --> src/{m}/mod.rs:{l}:{c}\n   |\n{l} |     let {w} = {f}(&ctx)?;\n   |         ^^^^ help: if this is intentional, prefix it with an underscore\n",
                w = r.pick(WORDS), m = r.pick(WORDS), l = r.below(400), c = r.below(80), f = r.pick(WORDS)
            ),
            4 => format!(
                "commit {:016x}{:016x}{:08x}\nAuthor: Dev Person <dev@example.org>\nDate:   Tue Mar {} 10:{:02}:00 2026 -0700\n\n    Fix {} in {} handling\n\n",
                r.below(u64::MAX), r.below(u64::MAX), r.below(1 << 32), r.below(28) + 1, r.below(60), r.pick(WORDS), r.pick(WORDS)
            ),
            5 => format!("npm http fetch GET 200 https://registry.npmjs.org/{w}/-/{w}-1.{}.0.tgz {}ms (cache hit)\n", r.below(20), r.below(300), w = r.pick(WORDS)),
            6 => format!("tests/test_{}.py::test_{}_{} PASSED                      [{:>3}%]\n", r.pick(WORDS), r.pick(WORDS), r.below(50), r.below(100)),
            7 => format!("diff --git a/src/{w}.rs b/src/{w}.rs\n@@ -{a},7 +{a},9 @@ impl {W} {{\n-        let x = self.{w}();\n+        let x = self.{w}().context(\"{w} failed\")?;\n", w = r.pick(WORDS), W = "Engine", a = r.below(500)),
            8 => format!("[2026-03-{:02}T12:{:02}:{:02}.{:03}Z INFO  app::{}] processed {} items in {}ms (queue depth {})\n", r.below(28) + 1, r.below(60), r.below(60), r.below(1000), r.pick(WORDS), r.below(10000), r.below(500), r.below(64)),
            9 => format!("{{\"level\":\"info\",\"ts\":\"2026-03-01T10:00:{:02}Z\",\"msg\":\"request done\",\"path\":\"/api/v1/{}\",\"status\":200,\"ms\":{}}}\n", r.below(60), r.pick(WORDS), r.below(900)),
            10 => format!("error[E0{}]: mismatched types\n   = note: expected struct `{}::Config`, found `Option<{}::Config>`\n", r.below(700) + 100, r.pick(CRATES), r.pick(CRATES)),
            _ => format!("test result: ok. {} passed; 0 failed; 0 ignored; 0 measured; {} filtered out; finished in 0.{:02}s\n", r.below(200), r.below(5), r.below(100)),
        };
        s.push_str(&line);
    }
    s
}

/// ~`n` bytes where nearly every line holds a keyword (`token`, `key=`, `Bearer`, `ghp_`,
/// `password`, URLs with `://`), about a quarter of them with a real-looking secret.
fn dense_log(n: usize) -> String {
    let mut r = Rng(0x0123_4567_89AB_CDEF);
    let mut s = String::with_capacity(n + 512);
    while s.len() < n {
        let line = match r.below(16) {
            0 => format!("export GITHUB_TOKEN=ghp_{}\n", r.alnum(36)),
            1 => "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/v1/items\n".to_owned(),
            2 => format!("curl -H \"Authorization: Bearer {}\" https://api.example.com/v1/items\n", r.alnum(40)),
            3 => "token = get_token()  # refresh the token when it expires\n".to_owned(),
            4 => format!("Original token count: {}; max_tokens: 4096; token_type: bearer\n", r.below(100_000)),
            5 => format!("api_key = \"{}\"\n", r.alnum(32)),
            6 => "password: ${DB_PASSWORD}\nsecret_key: ${{ secrets.SECRET_KEY }}\n".to_owned(),
            7 => format!("DB_PASSWORD={} psql -h db -U app\n", r.alnum(12)),
            8 => "git clone https://github.com/acme/api.git && cd api && cargo test -p api-key-store\n".to_owned(),
            9 => format!("origin https://ci:{}@git.example.com/acme/api.git (fetch)\n", r.alnum(14)),
            10 => "def send_password_reset_token(user): return user.password_reset_token\n".to_owned(),
            11 => "found ghp_ prefix in config; key=value pairs: mode=fast, cache_key=abc\n".to_owned(),
            12 => format!("AWS_ACCESS_KEY_ID=AKIA{}\n", "QWERTYUIOPASDFGH"),
            13 => "SSH_AUTH_SOCK=/tmp/ssh-agent.sock PWD=/home/dev TOKEN_LIMIT=4096\n".to_owned(),
            14 => format!("{{\"access_token\": \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI{}\", \"expires_in\": 3600}}\n", r.alnum(20)),
            _ => "Bearer authentication required; see https://docs.example.com/auth#tokens\n".to_owned(),
        };
        s.push_str(&line);
    }
    s
}

fn bench_redact(c: &mut Criterion) {
    let clean = clean_log(1 << 20);
    let dense = dense_log(1 << 20);
    assert!(
        matches!(redact(&clean), std::borrow::Cow::Borrowed(_)),
        "clean corpus has a false positive"
    );
    assert!(
        redact(&dense).len() != dense.len(),
        "dense corpus has secrets"
    );

    let mut g = c.benchmark_group("redact");
    g.throughput(Throughput::Bytes(clean.len() as u64));
    g.bench_function("clean_1MB", |b| b.iter(|| redact(black_box(&clean)).len()));
    g.bench_function("contains_secret_clean_1MB", |b| {
        b.iter(|| contains_secret(black_box(&clean)))
    });
    g.throughput(Throughput::Bytes(dense.len() as u64));
    g.bench_function("dense_1MB", |b| b.iter(|| redact(black_box(&dense)).len()));
    g.finish();

    let mut g = c.benchmark_group("redact_stream");
    let clean8 = clean_log(8 << 20);
    g.throughput(Throughput::Bytes(clean8.len() as u64));
    g.bench_function("clean_8MB", |b| {
        b.iter(|| redact_stream(black_box(clean8.as_bytes()), io::sink()).expect("in-memory I/O"))
    });
    g.throughput(Throughput::Bytes(dense.len() as u64));
    g.bench_function("dense_1MB", |b| {
        b.iter(|| redact_stream(black_box(dense.as_bytes()), io::sink()).expect("in-memory I/O"))
    });
    g.finish();

    let mut g = c.benchmark_group("redact_short");
    let cmd = "cargo test --workspace --all-features -- --nocapture --test-threads 2";
    g.throughput(Throughput::Bytes(cmd.len() as u64));
    g.bench_function("command_line", |b| b.iter(|| redact(black_box(cmd)).len()));
    g.finish();
}

criterion_group!(benches, bench_redact);
criterion_main!(benches);
