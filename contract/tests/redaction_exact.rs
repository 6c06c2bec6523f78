//! Redaction replaces exactly the secret: for every family, `prefix + secret + suffix`
//! redacts to `prefix + [REDACTED:<label>] + suffix` for realistic prefixes and suffixes
//! (URLs, env assignments, JSON strings, headers, command flags, line continuations), so the
//! host of a clone URL, the query keys and the quotes around a value all survive.
//!
//! A deterministic generator: every family's secret is drawn fresh (seeded xorshift) for
//! every context, 8 rounds, so shapes vary (lengths, alphabets) without flaky runs.

use codex_contract::redact::{families, redact};

mod common;
use common::Rng;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &str = "0123456789abcdef";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// One secret of a self-identifying family, and text that must be somewhere in the input
/// for the family to be looked for (Discord bot tokens and Twilio keys have no prefix).
fn secret(family: &str, r: &mut Rng) -> Option<(String, &'static str)> {
    let s = match family {
        "github-fine-grained" => format!("github_pat_{}_{}", r.pick(ALNUM, 22), r.pick(ALNUM, 59)),
        "github-token" => format!(
            "gh{}_{}",
            ["p", "o", "u", "s", "r"][r.below(5)],
            r.pick(ALNUM, 36)
        ),
        "gitlab-token" => format!("glpat-{}", r.pick(B64URL, 20)),
        "slack-token" => format!(
            "xoxb-{}-{}-{}",
            r.pick("0123456789", 12),
            r.pick("0123456789", 13),
            r.pick(ALNUM, 24)
        ),
        "anthropic-key" => format!("sk-ant-api03-{}AA", r.pick(B64URL, 93)),
        "openai-key" => format!(
            "sk-proj-{}T3BlbkFJ{}",
            r.pick(B64URL, 74),
            r.pick(B64URL, 74)
        ),
        "aws-access-key" => format!("AKIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        "google-api-key" => format!("AIza{}", r.pick(B64URL, 35)),
        "google-oauth" => format!("GOCSPX-{}", r.pick(B64URL, 28)),
        "stripe-key" => {
            let n = 24 + r.below(60);
            format!("{}k_live_{}", ["s", "r"][r.below(2)], r.pick(ALNUM, n))
        }
        "npm-token" => format!("npm_{}", r.pick(ALNUM, 36)),
        "pypi-token" => format!("pypi-AgEIcHlwaS5vcmc{}", r.pick(B64URL, 70)),
        "huggingface-token" if r.below(2) == 0 => format!("hf_{}", r.pick(LETTERS, 34)),
        "huggingface-token" => format!("api_org_{}", r.pick(LETTERS, 34)),
        "sendgrid-key" => format!("SG.{}.{}", r.pick(B64URL, 22), r.pick(B64URL, 43)),
        "twilio-key" => return Some((format!("SK{}", r.pick(HEX, 32)), "twilio ")),
        "digitalocean-token" => format!("dop_v1_{}", r.pick(HEX, 64)),
        "shopify-token" => format!(
            "shp{}_{}",
            ["at", "ss", "ca", "pa"][r.below(4)],
            r.pick(HEX, 32)
        ),
        "grafana-token" => format!("glsa_{}_{}", r.pick(ALNUM, 32), r.pick(HEX, 8)),
        "docker-hub-token" => format!("dckr_pat_{}", r.pick(B64URL, 27)),
        "discord-token" => {
            let id = r.pick("0123456789", 18);
            let first = b64(id.as_bytes());
            return Some((
                format!("{first}.{}.{}", r.pick(B64URL, 6), r.pick(B64URL, 27)),
                "discord ",
            ));
        }
        "telegram-bot-token" => format!("{}:AA{}", r.pick("0123456789", 10), r.pick(ALNUM, 33)),
        "sourcegraph-token" => format!("sgp_{}_{}", r.pick(HEX, 16), r.pick(HEX, 40)),
        "vercel-token" => format!(
            "vc{}_{}",
            ["p", "i", "a", "r", "k"][r.below(5)],
            r.pick(ALNUM, 24)
        ),
        "tailscale-key" => format!("tskey-auth-{}-{}", r.pick(ALNUM, 12), r.pick(ALNUM, 32)),
        "vault-token" => format!("hvs.{}", r.pick(ALNUM, 95)),
        "facebook-token" => format!("EAAB{}", r.pick(ALNUM, 150)),
        "square-token" => format!("sq0csp-{}", r.pick(ALNUM, 43)),
        "notion-token" => format!("ntn_{}{}", r.pick("0123456789", 11), r.pick(ALNUM, 35)),
        "flyio-token" => format!("fm2_{}", r.pick(ALNUM, 120)),
        "cloudflare-token" => format!("cfut_{}{}", r.pick(ALNUM, 40), r.pick(HEX, 8)),
        "heroku-key" => format!("HRKU-AA{}", r.pick(ALNUM, 58)),
        "sentry-token" => format!("sntryu_{}", r.pick(HEX, 64)),
        "databricks-token" => format!("dapi{}", r.pick(HEX, 32)),
        "1password-token" => format!(
            "A3-{}-{}-{}-{}-{}",
            r.pick(UPPER_DIGITS, 6),
            r.pick(UPPER_DIGITS, 11),
            r.pick(UPPER_DIGITS, 5),
            r.pick(UPPER_DIGITS, 5),
            r.pick(UPPER_DIGITS, 5)
        ),
        "azure-client-secret" => {
            format!("{}{}Q~{}", r.pick(ALNUM, 3), r.below(10), r.pick(ALNUM, 34))
        }
        "figma-token" => format!("figd_{}", r.pick(B64URL, 40)),
        "groq-key" => format!("gsk_{}", r.pick(ALNUM, 52)),
        "linear-key" => format!("lin_api_{}", r.pick(ALNUM, 40)),
        "pulumi-token" => format!("pul-{}", r.pick(HEX, 40)),
        "prefect-key" => format!("pnu_{}", r.pick(ALNUM, 36)),
        "postman-key" => format!("PMAK-{}-{}", r.pick(HEX, 24), r.pick(HEX, 34)),
        "doppler-token" => format!("dp.pt.{}", r.pick(ALNUM, 43)),
        "rubygems-key" => format!("rubygems_{}", r.pick(HEX, 48)),
        "age-secret-key" => format!(
            "AGE-SECRET-KEY-1{}",
            r.pick("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
        ),
        "planetscale-token" => format!("pscale_tkn_{}", r.pick(ALNUM, 43)),
        "jwt" => format!(
            "{}.{}.{}",
            b64(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64(format!(r#"{{"sub":"{}"}}"#, r.pick("0123456789", 10)).as_bytes()),
            r.pick(B64URL, 43)
        ),
        _ => return None,
    };
    Some((s, ""))
}

fn b64(data: &[u8]) -> String {
    let a = B64URL.as_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=chunk.len() {
            out.push(a[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Where secrets sit in tool calls. The first four are "home" contexts: there the label
/// must be the family's own; elsewhere a context family may name the span (a password in a
/// URL is `url-credentials`), but it must still be exactly the secret.
const CONTEXTS: &[(&str, &str)] = &[
    ("export API_TOKEN=", "\nexport PATH=/usr/bin\n"),
    ("{\"auth\": {\"token\": \"", "\", \"scope\": \"repo\"}}"),
    ("deployctl push --token ", " --region iad"),
    ("echo ", " | tool login --with-token"),
    (
        "git clone https://x-access-token:",
        "@github.com/acme/api.git",
    ),
    (
        "git push https://oauth2:",
        "@gitlab.com/group/project.git HEAD:main",
    ),
    (
        "curl https://api.example.com/v1/items?api_key=",
        "&page=2&per_page=50",
    ),
    (
        "curl -sS -H \"Authorization: Bearer ",
        "\" https://api.example.com/v1/me",
    ),
    ("Authorization: token ", "\r\nAccept: application/json\r\n"),
    (
        "curl -X POST \\\n  -H \"X-Api-Key: ",
        "\" \\\n  -d @body.json \\\n  https://api.example.com/v1/jobs",
    ),
    ("tool login --api-key=", " --quiet"),
    ("api_token: '", "'\nregion: us-east-1\n"),
    ("API_TOKEN=\"", "\" ./deploy.sh"),
    ("<entry key=\"token\" value=\"", "\" />"),
    ("<ClientSecret>", "</ClientSecret>"),
    ("client = Client(credential=\"", "\", timeout=30)"),
    ("docker run -e SERVICE_TOKEN=", " acme/api:1.4"),
    ("warning: rejected credential ", " (expired)\n"),
];
const HOME: usize = 4;

#[test]
fn every_family_replaces_exactly_the_secret() {
    let mut r = Rng(0x0E8A_C75E_C2E7);
    let mut failures = Vec::new();
    let mut checked = 0;
    for fam in families() {
        for round in 0..8 {
            for (ci, (prefix, suffix)) in CONTEXTS.iter().enumerate() {
                let Some((secret, mention)) = secret(fam, &mut r) else {
                    continue;
                };
                let prefix = format!("{mention}{prefix}");
                let input = format!("{prefix}{secret}{suffix}");
                let out = redact(&input);
                checked += 1;
                let label = out
                    .strip_prefix(prefix.as_str())
                    .and_then(|rest| rest.strip_suffix(suffix))
                    .filter(|l| l.starts_with("[REDACTED:") && l.ends_with(']') && l.len() > 11);
                let ok = match label {
                    Some(l) if ci < HOME => *l == format!("[REDACTED:{fam}]"),
                    Some(_) => true,
                    None => false,
                };
                if !ok && failures.len() < 40 {
                    failures.push(format!(
                        "{fam} (round {round}):\n  in:  {input:?}\n  out: {out:?}"
                    ));
                }
            }
        }
    }
    assert!(checked > 2000, "{checked} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Families found by context: the context itself (user, host, flag, key, header) survives.
#[test]
fn context_families_keep_their_context() {
    let cases: &[(&str, &str)] = &[
        ("psql postgres://admin:S3cr3t!pw@db.internal:5432/app", "psql postgres://admin:[REDACTED:url-credentials]@db.internal:5432/app"),
        ("curl -u admin:S3cr3t!pw https://ci.example.com/api", "curl -u admin:[REDACTED:curl-user] https://ci.example.com/api"),
        ("curl -sS \\\n  -u admin:S3cr3t!pw \\\n  https://ci.example.com/api", "curl -sS \\\n  -u admin:[REDACTED:curl-user] \\\n  https://ci.example.com/api"),
        ("curl -X PUT \\\r\n  --user svc:Zq9!x7Lm2 \\\r\n  -T a.zip https://f.example.com", "curl -X PUT \\\r\n  --user svc:[REDACTED:curl-user] \\\r\n  -T a.zip https://f.example.com"),
        ("-H 'Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA'", "-H 'Authorization: Bearer [REDACTED:bearer-auth]'"),
        ("Authorization: Basic YWRtaW46aHVudGVyMjIy\r\n", "Authorization: Basic [REDACTED:basic-auth]\r\n"),
        ("mysql -h db -u root -pS3cr3t!pw app", "mysql -h db -u root -p[REDACTED:password-flag] app"),
        ("docker run -e POSTGRES_PASSWORD=S3cr3t!pw postgres:16", "docker run -e POSTGRES_PASSWORD=[REDACTED:env-assignment] postgres:16"),
        ("password = \"tulip anchor 42 stone!\"\n", "password = \"[REDACTED:generic-secret]\"\n"),
        ("config.api_key = 'a8F3kq0ZrT5mW2xQ9pLs'", "config.api_key = '[REDACTED:generic-secret]'"),
        ("aws_secret_access_key = Zq9x7Lm2Pw4Rt6Yu8Io0As2Df4Gh6Jk8Lz0Xc2Vb", "aws_secret_access_key = [REDACTED:aws-secret-key]"),
        ("AccountName=acme;AccountKey=Zq9x7Lm2Pw4Rt6Yu8Io0As2Df4Gh6Jk8Lz0Xc2Vb==;EndpointSuffix=core.windows.net", "AccountName=acme;AccountKey=[REDACTED:azure-storage-key];EndpointSuffix=core.windows.net"),
        ("SLACK=https://hooks.slack.com/services/T0123ABCD/B0123456789/Zq9x7Lm2Pw4Rt6Yu8Io0As2D rest", "SLACK=https://hooks.slack.com/services/[REDACTED:slack-webhook] rest"),
        ("https://discord.com/api/webhooks/123456789012345678/Zq9x7Lm2Pw4Rt6Yu8Io0As2Df4Gh6Jk8Lz0Xc2Vb_-abcdefghijklmnopqrstuvwxyz12 ok", "https://discord.com/api/webhooks/123456789012345678/[REDACTED:discord-webhook] ok"),
        ("cloudflare_global: \"0574b9f43978174cc2cb9a1068681225433c4\"\n", "cloudflare_global: \"[REDACTED:service-secret]\"\n"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq9x7Lm2Pw4Rt6Yu8Io0As2Df4Gh6Jk8Lz0Xc2Vb\n-----END RSA PRIVATE KEY-----\nnext", "[REDACTED:private-key]\nnext"),
    ];
    let mut seen: Vec<&str> = Vec::new();
    for (input, want) in cases {
        assert_eq!(redact(input), *want, "for {input:?}");
        let l = want
            .split("[REDACTED:")
            .nth(1)
            .and_then(|t| t.split(']').next())
            .unwrap();
        seen.push(l);
    }
    // Every family is covered here or by the generator above.
    let mut r = Rng(1);
    for fam in families() {
        assert!(
            *fam == "json-secret-key" || seen.contains(fam) || secret(fam, &mut r).is_some(),
            "family {fam} has no exactness test"
        );
    }
}
