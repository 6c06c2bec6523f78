//! `codex-shim redact`: a streaming, binary-safe filter.

use std::process::Command;

use e2e::bins::{run_piped, shim};

fn filter(input: &[u8], args: &[&str]) -> (Vec<u8>, String) {
    let o = run_piped(Command::new(shim()).arg("redact").args(args), input);
    assert!(o.status.success());
    (o.stdout, String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn secrets_are_replaced_and_everything_else_passes_byte_for_byte() {
    let token = format!("ghp_{}", "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2");
    let mut input = b"\xff\xfe binary prefix\n".to_vec();
    input.extend_from_slice(format!("export GITHUB_TOKEN={token}\n").as_bytes());
    input.extend_from_slice(b"commit 0123456789abcdef0123456789abcdef01234567\n\x00\x01tail");
    let (out, err) = filter(&input, &["--stats"]);
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains(&token));
    assert!(text.contains("[REDACTED:github-token]"), "{text}");
    assert!(out.starts_with(b"\xff\xfe binary prefix\n"));
    assert!(out.ends_with(b"commit 0123456789abcdef0123456789abcdef01234567\n\x00\x01tail"));
    assert!(err.contains("1 secrets redacted"), "{err}");
}

#[test]
fn large_input_streams_through_with_a_secret_across_every_chunk_size() {
    // 40 MiB of log lines with a secret every ~1 MiB: the output is the input with exactly
    // those secrets replaced, in constant memory.
    let secret = format!(
        "xoxb-{}-{}-{}",
        "1234567890", "1234567890123", "AbCdEfGhIjKlMnOpQrStUvWx"
    );
    let line = "test integration::case ... ok (0.01s) checksum 9f86d081884c7d659a2feaa0c55ad015\n";
    let mut input = Vec::with_capacity(41 << 20);
    let mut planted = 0;
    while input.len() < 40 << 20 {
        for _ in 0..(1 << 20) / line.len() {
            input.extend_from_slice(line.as_bytes());
        }
        input.extend_from_slice(format!("SLACK={secret}\n").as_bytes());
        planted += 1;
    }
    let (out, err) = filter(&input, &["--stats"]);
    let want = String::from_utf8(input)
        .unwrap()
        .replace(&format!("SLACK={secret}"), "SLACK=[REDACTED:slack-token]");
    assert!(
        out == want.as_bytes(),
        "output differs from the expected redaction"
    );
    assert!(
        err.contains(&format!("{planted} secrets redacted")),
        "{err}"
    );
}

#[test]
fn only_the_secret_is_replaced_and_its_context_survives() {
    // Issue 15: the host and path after a token in a clone URL used to be lost.
    let ghp = "ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2";
    let dckr = "dckr_pat_Q2x9LmZ7pW4rT6yU8iO0aS2dF4g";
    let hook = "Zq9x7Lm2Pw4Rt6Yu8Io0As2Df4Gh6Jk8Lz0Xc2Vb_-abcdefghijklmnopqrstuvwxyz12";
    let input = format!(
        "git clone https://x-access-token:{ghp}@github.com/acme/api.git\n\
         echo {dckr} | docker login -u octocat --password-stdin\n\
         curl -sS \\\n  -u admin:S3cr3t!pw \\\n  https://ci.example.com/api\n\
         curl -d @msg.json https://discord.com/api/webhooks/123456789012345678/{hook}\n\
         implementation 'io.jsonwebtoken:jjwt-jackson:0.11.2'\n\
         export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
    );
    let (out, err) = filter(input.as_bytes(), &["--stats"]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "git clone https://x-access-token:[REDACTED:github-token]@github.com/acme/api.git\n\
         echo [REDACTED:docker-hub-token] | docker login -u octocat --password-stdin\n\
         curl -sS \\\n  -u admin:[REDACTED:curl-user] \\\n  https://ci.example.com/api\n\
         curl -d @msg.json https://discord.com/api/webhooks/123456789012345678/[REDACTED:discord-webhook]\n\
         implementation 'io.jsonwebtoken:jjwt-jackson:0.11.2'\n\
         export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
    );
    assert!(err.contains("4 secrets redacted"), "{err}");
}
