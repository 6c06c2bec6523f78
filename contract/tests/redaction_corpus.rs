//! The labelled redaction corpus: positives for every family inside realistic tool-call
//! contexts (commands, outputs, env dumps, JSON, config files), and hard negatives that must
//! survive byte for byte. Prints recall and false positives per family, then asserts 100%
//! recall and no false positive.
//!
//! All secrets are generated here from a seeded PRNG with the right shape; none is real.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read};

use codex_contract::redact::{
    contains_secret, families, redact, redact_bytes, redact_json, redact_stream,
};
use serde_json::json;

mod common;

// ---------------------------------------------------------------------------------------
// Fake secret generation
// ---------------------------------------------------------------------------------------

use common::Rng;

const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

fn b64(data: &[u8], url: bool) -> String {
    let alphabet = if url { B64URL } else { B64 }.as_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=n {
            out.push(alphabet[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if !url {
            for _ in n..3 {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

struct Positive {
    family: &'static str,
    context: &'static str,
    text: String,
    /// Substrings that must be gone from the output.
    secrets: Vec<String>,
    /// Substrings that must still be there (kept context such as the user of a URL).
    kept: Vec<String>,
}

fn pos(family: &'static str, context: &'static str, text: String, secret: &str) -> Positive {
    Positive {
        family,
        context,
        text,
        secrets: vec![secret.to_owned()],
        kept: Vec::new(),
    }
}

fn pem_body(rng: &mut Rng, lines: usize, width: usize) -> String {
    let mut body: Vec<String> = (0..lines).map(|_| rng.pick(B64, width)).collect();
    let last = rng.pick(B64, width / 3);
    body.push(format!("{last}=="));
    body.join("\n")
}

fn positives() -> Vec<Positive> {
    let mut r = Rng(0x5EED_CAFE_F00D_0001);
    let mut v = Vec::new();

    // github-token
    let t = format!("ghp_{}", r.alnum(36));
    v.push(pos(
        "github-token",
        "env dump",
        format!("HOME=/home/dev\nGITHUB_TOKEN={t}\nSHELL=/bin/bash\n"),
        &t,
    ));
    let t = format!("gho_{}", r.alnum(36));
    v.push(pos(
        "github-token",
        "json",
        format!(r#"{{"oauth":{{"token":"{t}","scope":"repo"}}}}"#),
        &t,
    ));
    let t = format!("ghs_{}", r.alnum(36));
    v.push(pos(
        "github-token",
        "git remote url",
        format!("git clone https://x-access-token:{t}@github.com/acme/api.git"),
        &t,
    ));
    let t = format!("ghu_{}", r.alnum(36));
    v.push(pos(
        "github-token",
        "curl header",
        format!("curl -sS -H \"Authorization: token {t}\" https://api.github.com/user"),
        &t,
    ));
    let t = format!("ghr_{}", r.alnum(36));
    v.push(pos(
        "github-token",
        "command output",
        format!("refreshed credentials; new refresh token {t} expires in 180d"),
        &t,
    ));
    let t = format!("ghp_{}", r.alnum(36));
    v.push(pos(
        "github-token",
        "gh cli",
        format!("echo {t} | gh auth login --with-token"),
        &t,
    ));

    // github-fine-grained
    for (ctx, f) in [
        ("env export", "export GH_TOKEN={}" as &str),
        ("json", r#"{"github": {"pat": "{}"}}"#),
        (
            "docker login",
            "echo {} | docker login ghcr.io -u octocat --password-stdin",
        ),
        ("git credentials file", "https://octocat:{}@github.com"),
    ] {
        let t = format!("github_pat_{}_{}", r.alnum(22), r.alnum(59));
        v.push(pos("github-fine-grained", ctx, f.replace("{}", &t), &t));
    }

    // gitlab-token
    let t = format!("glpat-{}", r.pick(B64URL, 20));
    v.push(pos(
        "gitlab-token",
        "git remote url",
        format!("origin\thttps://oauth2:{t}@gitlab.com/group/project.git (fetch)"),
        &t,
    ));
    let t = format!("glpat-{}", r.alnum(20));
    v.push(pos(
        "gitlab-token",
        "curl header",
        format!("curl --header \"PRIVATE-TOKEN: {t}\" https://gitlab.example.com/api/v4/projects"),
        &t,
    ));
    let t = format!("glrt-{}", r.alnum(20));
    v.push(pos(
        "gitlab-token",
        "runner register",
        format!("gitlab-runner register --url https://gitlab.com --token {t} --executor docker"),
        &t,
    ));
    let t = format!("gldt-{}", r.alnum(20));
    v.push(pos(
        "gitlab-token",
        "env dump",
        format!("CI_DEPLOY_USER=gitlab+deploy-token-1\nCI_DEPLOY_PASSWORD={t}\n"),
        &t,
    ));

    // slack-webhook
    for (ctx, f) in [
        ("curl post", "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"deploy ok\"}' https://hooks.slack.com/services/{}"),
        ("env dump", "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{}"),
        ("json", r#"{"notify": {"slack": "https://hooks.slack.com/services/{}"}}"#),
    ] {
        let path = format!("T{}/B{}/{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8), r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10), r.alnum(24));
        v.push(pos("slack-webhook", ctx, f.replace("{}", &path), &path));
    }

    // slack-token
    let t = format!("xoxb-{}-{}-{}", r.digits(12), r.digits(13), r.alnum(24));
    v.push(pos(
        "slack-token",
        "env dump",
        format!("SLACK_BOT_TOKEN={t}"),
        &t,
    ));
    let t = format!(
        "xoxp-{}-{}-{}-{}",
        r.digits(11),
        r.digits(12),
        r.digits(13),
        r.hex(32)
    );
    v.push(pos(
        "slack-token",
        "curl bearer",
        format!("curl -s -H \"Authorization: Bearer {t}\" https://slack.com/api/auth.test"),
        &t,
    ));
    let t = format!("xoxe.xoxp-1-{}", r.alnum(140));
    v.push(pos(
        "slack-token",
        "json",
        format!(r#"{{"ok":true,"refresh_token":"{t}","expires_in":43200}}"#),
        &t,
    ));
    let t = format!(
        "xapp-1-A{}-{}-{}",
        r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
        r.digits(13),
        r.hex(64)
    );
    v.push(pos(
        "slack-token",
        "python source",
        format!("handler = SocketModeHandler(app, \"{t}\")"),
        &t,
    ));

    // anthropic-key
    for (ctx, f) in [
        ("env export", "export ANTHROPIC_API_KEY={}"),
        ("curl header", "curl https://api.anthropic.com/v1/messages -H \"x-api-key: {}\" -H \"anthropic-version: 2023-06-01\""),
        ("json", r#"{"env": {"ANTHROPIC_API_KEY": "{}"}}"#),
        ("command output", "Using API key sk-ant-... (from env): {}"),
    ] {
        let t = format!("sk-ant-api03-{}AA", r.pick(B64URL, 93));
        v.push(pos("anthropic-key", ctx, f.replace("{}", &t), &t));
    }

    // openai-key
    let t = format!(
        "sk-proj-{}T3BlbkFJ{}",
        r.pick(B64URL, 74),
        r.pick(B64URL, 74)
    );
    v.push(pos(
        "openai-key",
        "env export",
        format!("export OPENAI_API_KEY={t}"),
        &t,
    ));
    let t = format!("sk-{}T3BlbkFJ{}", r.alnum(20), r.alnum(20));
    v.push(pos(
        "openai-key",
        "curl bearer",
        format!("curl https://api.openai.com/v1/models -H \"Authorization: Bearer {t}\""),
        &t,
    ));
    let t = format!("sk-svcacct-{}", r.pick(B64URL, 120));
    v.push(pos(
        "openai-key",
        "python source",
        format!("client = OpenAI(api_key=\"{t}\")"),
        &t,
    ));
    let t = format!("sk-proj-{}", r.pick(B64URL, 156));
    v.push(pos(
        "openai-key",
        "json",
        format!(r#"{{"providers":[{{"name":"openai","key":"{t}"}}]}}"#),
        &t,
    ));

    // aws-access-key
    let k = format!("AKIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    v.push(pos(
        "aws-access-key",
        "credentials file",
        format!("[default]\naws_access_key_id = {k}\nregion = us-east-1\n"),
        &k,
    ));
    let k = format!("ASIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    v.push(pos(
        "aws-access-key",
        "json (sts output)",
        format!(
            r#"{{"Credentials": {{"AccessKeyId": "{k}", "Expiration": "2026-03-01T00:00:00Z"}}}}"#
        ),
        &k,
    ));
    let k = format!("AKIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    v.push(pos(
        "aws-access-key",
        "env dump",
        format!("AWS_ACCESS_KEY_ID={k}\nAWS_DEFAULT_REGION=eu-west-1"),
        &k,
    ));
    let k = format!("ABIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    v.push(pos(
        "aws-access-key",
        "command output",
        format!("ERROR: access denied for key {k} on s3://bucket/path"),
        &k,
    ));

    // aws-secret-key
    let s = r.pick(B64, 40);
    v.push(pos(
        "aws-secret-key",
        "credentials file",
        format!(
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {s}\n"
        ),
        &s,
    ));
    let s = r.pick(B64, 40);
    v.push(pos(
        "aws-secret-key",
        "env dump",
        format!("AWS_SECRET_ACCESS_KEY={s}\nAWS_REGION=us-west-2"),
        &s,
    ));
    let s = r.pick(B64, 40);
    v.push(pos(
        "aws-secret-key",
        "json (sts output)",
        format!(r#"{{"Credentials": {{"SecretAccessKey": "{s}", "SessionToken": "x"}}}}"#),
        &s,
    ));
    let s = r.pick(B64, 40);
    v.push(pos(
        "aws-secret-key",
        "aws configure",
        format!("aws configure set aws_secret_access_key {s} --profile ci"),
        &s,
    ));

    // google-api-key
    for (ctx, f) in [
        (
            "url query",
            "curl \"https://maps.googleapis.com/maps/api/geocode/json?address=Phoenix&key={}\"",
        ),
        ("env dump", "GOOGLE_API_KEY={}"),
        (
            "json",
            r#"{"firebase": {"apiKey": "{}", "projectId": "demo"}}"#,
        ),
        (
            "js source",
            "const firebaseConfig = { apiKey: \"{}\", authDomain: \"demo.firebaseapp.com\" };",
        ),
    ] {
        let k = format!("AIza{}", r.pick(B64URL, 35));
        v.push(pos("google-api-key", ctx, f.replace("{}", &k), &k));
    }

    // google-oauth
    let s = format!("GOCSPX-{}", r.pick(B64URL, 28));
    v.push(pos("google-oauth", "json (client secret file)", format!(r#"{{"installed":{{"client_id":"123-abc.apps.googleusercontent.com","client_secret":"{s}"}}}}"#), &s));
    let s = format!("ya29.{}", r.pick(B64URL, 120));
    v.push(pos(
        "google-oauth",
        "curl bearer",
        format!("curl -H \"Authorization: Bearer {s}\" https://www.googleapis.com/drive/v3/files"),
        &s,
    ));
    let s = format!("ya29.{}", r.pick(B64URL, 100));
    v.push(pos(
        "google-oauth",
        "command output",
        format!("$ gcloud auth print-access-token\n{s}\n"),
        &s,
    ));

    // stripe-key
    let k = format!("sk_live_{}", r.alnum(24));
    v.push(pos(
        "stripe-key",
        "curl basic",
        format!("curl https://api.stripe.com/v1/charges -u {k}: -d amount=2000"),
        &k,
    ));
    let k = format!("rk_live_{}", r.alnum(99));
    v.push(pos(
        "stripe-key",
        "env dump",
        format!("STRIPE_RESTRICTED_KEY={k}"),
        &k,
    ));
    let k = format!("sk_test_{}", r.alnum(99));
    v.push(pos(
        "stripe-key",
        "python source",
        format!("stripe.api_key = \"{k}\""),
        &k,
    ));
    let k = format!("whsec_{}", r.alnum(32));
    v.push(pos(
        "stripe-key",
        "stripe cli output",
        format!("> Ready! Your webhook signing secret is {k} (^C to quit)"),
        &k,
    ));

    // npm-token
    let t = format!("npm_{}", r.alnum(36));
    v.push(pos(
        "npm-token",
        ".npmrc line",
        format!("//registry.npmjs.org/:_authToken={t}"),
        &t,
    ));
    let t = format!("npm_{}", r.alnum(36));
    v.push(pos(
        "npm-token",
        "npm config",
        format!("npm config set //registry.npmjs.org/:_authToken {t}"),
        &t,
    ));
    let t = format!(
        "{}-{}-{}-{}-{}",
        r.hex(8),
        r.hex(4),
        r.hex(4),
        r.hex(4),
        r.hex(12)
    );
    v.push(pos(
        "npm-token",
        ".npmrc legacy uuid token",
        format!("registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={t}\n"),
        &t,
    ));
    let t = b64(format!("ci-bot:{}", r.alnum(16)).as_bytes(), false);
    v.push(pos(
        "npm-token",
        ".npmrc _auth",
        format!("_auth={t}\nalways-auth=true"),
        &t,
    ));

    // pypi-token
    for (ctx, f) in [
        ("twine upload", "twine upload -u __token__ -p {} dist/*"),
        (".pypirc", "[pypi]\nusername = __token__\npassword = {}\n"),
        ("env dump", "TWINE_PASSWORD={}"),
    ] {
        let t = format!("pypi-AgEIcHlwaS5vcmc{}", r.pick(B64URL, 160));
        v.push(pos("pypi-token", ctx, f.replace("{}", &t), &t));
    }

    // huggingface-token
    for (ctx, f) in [
        (
            "cli login",
            "huggingface-cli login --token {} --add-to-git-credential",
        ),
        ("env dump", "HF_TOKEN={}"),
        ("python source", "login(token=\"{}\")"),
        ("json", r#"{"hf": {"token": "{}"}}"#),
    ] {
        let t = format!(
            "hf_{}",
            r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
        );
        v.push(pos("huggingface-token", ctx, f.replace("{}", &t), &t));
    }

    // sendgrid-key
    for (ctx, f) in [
        ("env dump", "SENDGRID_API_KEY={}"),
        ("curl bearer", "curl --request POST --url https://api.sendgrid.com/v3/mail/send --header 'Authorization: Bearer {}'"),
        ("json", r#"{"mail": {"provider": "sendgrid", "key": "{}"}}"#),
    ] {
        let k = format!("SG.{}.{}", r.pick(B64URL, 22), r.pick(B64URL, 43));
        v.push(pos("sendgrid-key", ctx, f.replace("{}", &k), &k));
    }

    // twilio-key
    for (ctx, f) in [
        ("env dump", "TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000\nTWILIO_API_KEY={}\n"),
        ("cli output", "$ twilio api:core:keys:create --friendly-name ci\nSID                                 Friendly Name\n{}  ci\n"),
        ("json", "{\"twilio\": {\"api_key_sid\": \"{}\", \"region\": \"us1\"}}"),
    ] {
        let k = format!("SK{}", r.hex(32));
        v.push(pos("twilio-key", ctx, f.replace("{}", &k), &k));
    }

    // azure-storage-key
    let k = format!("{}==", r.pick(B64, 86));
    v.push(pos("azure-storage-key", "connection string", format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={k};EndpointSuffix=core.windows.net"), &k));
    let k = format!("{}==", r.pick(B64, 86));
    v.push(pos("azure-storage-key", "env dump", format!("AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={k}\""), &k));
    let k = format!("{}=", r.pick(B64, 43));
    v.push(pos("azure-storage-key", "service bus", format!("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={k}"), &k));

    // digitalocean-token
    for (ctx, f) in [
        ("doctl", "doctl auth init --access-token {}"),
        ("env dump", "DIGITALOCEAN_ACCESS_TOKEN={}"),
        ("json", r#"{"do": {"token": "{}"}}"#),
    ] {
        let prefix = ["dop_v1_", "doo_v1_", "dor_v1_"][(r.next() % 3) as usize];
        let t = format!("{prefix}{}", r.hex(64));
        v.push(pos("digitalocean-token", ctx, f.replace("{}", &t), &t));
    }

    // shopify-token
    for (ctx, f) in [
        ("curl header", "curl -H \"X-Shopify-Access-Token: {}\" https://shop.myshopify.com/admin/api/2024-01/products.json"),
        ("env dump", "SHOPIFY_ACCESS_TOKEN={}"),
        ("json", r#"{"shopify": {"admin_token": "{}"}}"#),
    ] {
        let prefix = ["shpat_", "shpca_", "shppa_", "shpss_"][(r.next() % 4) as usize];
        let t = format!("{prefix}{}", r.hex(32));
        v.push(pos("shopify-token", ctx, f.replace("{}", &t), &t));
    }

    // grafana-token
    let t = format!("glsa_{}_{}", r.alnum(32), r.hex(8));
    v.push(pos(
        "grafana-token",
        "curl bearer",
        format!(
            "curl -H \"Authorization: Bearer {t}\" https://grafana.example.com/api/dashboards/home"
        ),
        &t,
    ));
    let t = format!("glc_{}", r.pick(B64, 120));
    v.push(pos(
        "grafana-token",
        "env dump",
        format!("GRAFANA_CLOUD_TOKEN={t}"),
        &t,
    ));
    let t = format!("eyJrIjoi{}", r.alnum(70));
    v.push(pos(
        "grafana-token",
        "json",
        format!(r#"{{"grafana": {{"api_key": "{t}"}}}}"#),
        &t,
    ));

    // private-key
    let body = pem_body(&mut r, 25, 64);
    v.push(Positive {
        family: "private-key",
        context: "cat id_rsa",
        text: format!("$ cat ~/.ssh/id_rsa\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n$ ls\n"),
        secrets: body.lines().map(str::to_owned).collect(),
        kept: vec!["$ ls".into()],
    });
    let body = pem_body(&mut r, 6, 70);
    v.push(Positive {
        family: "private-key",
        context: "openssh key",
        text: format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
        ),
        secrets: body.lines().map(str::to_owned).collect(),
        kept: vec![],
    });
    let body = pem_body(&mut r, 20, 64);
    v.push(Positive {
        family: "private-key",
        context: "json service account",
        text: format!(
            r#"{{"type": "service_account", "private_key_id": "{}", "private_key": "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", "client_email": "ci@proj.iam.gserviceaccount.com"}}"#,
            r.hex(40),
            body.replace('\n', "\\n")
        ),
        secrets: body.lines().map(str::to_owned).collect(),
        kept: vec!["client_email".into()],
    });
    let body = pem_body(&mut r, 12, 64);
    let cut: String = body.lines().take(7).collect::<Vec<_>>().join("\n");
    let partial = format!("{}{}", cut, &body.lines().nth(7).unwrap()[..23]);
    v.push(Positive {
        family: "private-key",
        context: "truncated output excerpt",
        text: format!(
            "-----BEGIN EC PRIVATE KEY-----\n{cut}\n{}",
            &body.lines().nth(7).unwrap()[..23]
        ),
        secrets: partial
            .lines()
            .filter(|l| l.len() >= 16)
            .map(str::to_owned)
            .collect(),
        kept: vec![],
    });
    let body = pem_body(&mut r, 8, 64);
    v.push(Positive {
        family: "private-key",
        context: "env var with spaces",
        text: format!(
            "SSH_PRIVATE_KEY=-----BEGIN PRIVATE KEY----- {} -----END PRIVATE KEY-----",
            body.replace('\n', " ")
        ),
        secrets: body.lines().map(str::to_owned).collect(),
        kept: vec![],
    });
    let body = pem_body(&mut r, 10, 64);
    v.push(Positive {
        family: "private-key",
        context: "encrypted pem with headers",
        text: format!("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{body}\n-----END RSA PRIVATE KEY-----", r.hex(32).to_uppercase()),
        secrets: body.lines().map(str::to_owned).collect(),
        kept: vec![],
    });

    // jwt
    let jwt = |r: &mut Rng| {
        let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#, true);
        let payload = b64(
            format!(r#"{{"sub":"{}","iat":{}}}"#, r.digits(10), r.digits(10)).as_bytes(),
            true,
        );
        format!("{header}.{payload}.{}", r.pick(B64URL, 43))
    };
    let t = jwt(&mut r);
    v.push(pos(
        "jwt",
        "cookie header",
        format!("curl -b \"session={t}\" https://app.example.com/api/me"),
        &t,
    ));
    let t = jwt(&mut r);
    v.push(pos(
        "jwt",
        "json",
        format!(r#"{{"access_token": "{t}", "token_type": "Bearer", "expires_in": 3600}}"#),
        &t,
    ));
    let t = jwt(&mut r);
    v.push(pos(
        "jwt",
        "bearer header",
        format!("> GET /v1/items HTTP/1.1\n> Authorization: Bearer {t}\n> Accept: */*"),
        &t,
    ));
    let t = jwt(&mut r);
    v.push(pos(
        "jwt",
        "url query",
        format!("https://app.example.com/callback?id_token={t}&state=xyz"),
        &t,
    ));
    let t = jwt(&mut r);
    v.push(pos(
        "jwt",
        "log line",
        format!("[2026-03-01T10:00:00Z DEBUG auth] verified {t} for user 42"),
        &t,
    ));

    // url-credentials
    for (ctx, user, f) in [
        (
            "database url",
            "app",
            "DATABASE_URL=postgres://app:{}@db.internal:5432/app",
        ),
        (
            "git remote -v",
            "bob",
            "origin\thttps://bob:{}@git.example.com/team/repo.git (fetch)",
        ),
        (
            "mongodb srv",
            "admin",
            "mongosh \"mongodb+srv://admin:{}@cluster0.abcde.mongodb.net/test\"",
        ),
        (
            "pip index url",
            "ci",
            "pip install --index-url https://ci:{}@pypi.example.com/simple/ acme-lib",
        ),
        (
            "amqp",
            "guest",
            r#"{"broker": "amqp://guest:{}@rabbit:5672/vhost"}"#,
        ),
    ] {
        let p = r.alnum(14);
        let mut item = pos("url-credentials", ctx, f.replace("{}", &p), &p);
        item.kept
            .push(format!("{user}:[REDACTED:url-credentials]@"));
        v.push(item);
    }
    let p = r.alnum(12);
    v.push(pos(
        "url-credentials",
        "redis no user",
        format!("redis-cli -u redis://:{p}@localhost:6379/0 ping"),
        &p,
    ));
    let p = format!("p@ss{}", r.alnum(8));
    v.push(pos(
        "url-credentials",
        "password with @",
        format!("ftp://deploy:{p}@ftp.example.com/upload"),
        &p,
    ));

    // curl-user
    for (ctx, f) in [
        (
            "curl -u",
            "curl -u admin:{} https://jenkins.example.com/api/json",
        ),
        (
            "curl --user quoted",
            "curl -s --user \"deploy:{}\" -X POST https://ci.example.com/job/build",
        ),
        (
            "curl -u attached",
            "curl -uroot:{} http://localhost:9200/_cluster/health",
        ),
        (
            "curl --user=",
            "curl --fail --user=ci:{} https://nexus.example.com/repository/raw/",
        ),
    ] {
        let p = r.pick(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!%^*",
            12,
        );
        v.push(pos("curl-user", ctx, f.replace("{}", &p), &p));
    }

    // bearer-auth
    let t = r.alnum(40);
    v.push(pos(
        "bearer-auth",
        "curl header",
        format!("curl -H \"Authorization: Bearer {t}\" https://api.example.com/v2/items"),
        &t,
    ));
    let t = r.pick(B64URL, 32);
    v.push(pos(
        "bearer-auth",
        "http dump",
        format!(
            "> POST /graphql HTTP/2\n> authorization: bearer {t}\n> content-type: application/json"
        ),
        &t,
    ));
    let t = r.alnum(48);
    v.push(pos(
        "bearer-auth",
        "json headers",
        format!(
            r#"{{"headers": {{"Authorization": "Bearer {t}", "Accept": "application/json"}}}}"#
        ),
        &t,
    ));
    let t = r.alnum(36);
    v.push(pos(
        "bearer-auth",
        "wget header",
        format!("wget --header=\"Authorization: Bearer {t}\" https://files.example.com/a.tar.gz"),
        &t,
    ));
    let t = r.alnum(32);
    v.push(pos(
        "bearer-auth",
        "output",
        format!("request failed (401) with Bearer {t}: token expired"),
        &t,
    ));

    // basic-auth
    let cred = b64(format!("jenkins:{}", r.alnum(12)).as_bytes(), false);
    v.push(pos(
        "basic-auth",
        "curl header",
        format!("curl -H \"Authorization: Basic {cred}\" https://jenkins.example.com/api"),
        &cred,
    ));
    let cred = b64(format!("svc:{}", r.alnum(16)).as_bytes(), false);
    v.push(pos(
        "basic-auth",
        "http dump",
        format!("> GET / HTTP/1.1\n> Host: registry.example.com\n> Authorization: Basic {cred}\n"),
        &cred,
    ));
    let cred = b64(format!("octocat:{}", r.alnum(20)).as_bytes(), false);
    v.push(pos("basic-auth", "docker config.json", format!("{{\n  \"auths\": {{\n    \"ghcr.io\": {{\n      \"auth\": \"{cred}\"\n    }}\n  }}\n}}"), &cred));
    let cred = b64(format!("user:{}", r.alnum(10)).as_bytes(), false);
    v.push(pos(
        "basic-auth",
        "log without header name",
        format!("sending Basic {cred} to upstream"),
        &cred,
    ));

    // password-flag
    let p = r.alnum(12);
    v.push(pos(
        "password-flag",
        "mysql -p",
        format!("mysql -h db.internal -u root -p{p} app_production"),
        &p,
    ));
    let p = r.alnum(14);
    v.push(pos(
        "password-flag",
        "docker login -p",
        format!("docker login -u ci-bot -p {p} registry.example.com"),
        &p,
    ));
    let p = r.alnum(10);
    v.push(pos(
        "password-flag",
        "sshpass",
        format!("sshpass -p '{p}' ssh deploy@10.0.0.5 uptime"),
        &p,
    ));
    let p = r.alnum(11);
    v.push(pos(
        "password-flag",
        "--password",
        format!("mongodump --username backup --password {p} --out /backups"),
        &p,
    ));
    let p = r.alnum(11);
    v.push(pos(
        "password-flag",
        "--password=",
        format!("./manage.py createsuperuser --password={p} --noinput"),
        &p,
    ));
    let t = r.alnum(32);
    v.push(pos(
        "password-flag",
        "--api-key",
        format!("datadog-ci sourcemaps upload ./dist --api-key {t} --service web"),
        &t,
    ));
    let t = format!("{}{}", r.alnum(20), r.digits(4));
    v.push(pos(
        "password-flag",
        "--token=",
        format!("vault login --token={t} -method=token"),
        &t,
    ));
    let p = r.alnum(16);
    v.push(pos(
        "password-flag",
        "openssl -pass",
        format!("openssl enc -aes-256-cbc -in a.txt -out a.enc -pass pass:{p}"),
        &p,
    ));
    let p = format!("{} {}", r.alnum(6), r.alnum(6));
    v.push(pos(
        "password-flag",
        "mysqldump -p quoted with a space",
        format!("mysqldump -u backup -p\"{p}\" --all-databases > all.sql"),
        &p,
    ));
    let p = r.alnum(12);
    v.push(pos(
        "password-flag",
        "helm registry login",
        format!("helm registry login ghcr.io -u bot -p '{p}'"),
        &p,
    ));

    // env-assignment
    let p = r.alnum(10);
    v.push(pos(
        "env-assignment",
        "env dump",
        format!("PATH=/usr/bin:/bin\nDB_PASSWORD={p}\nLANG=C.UTF-8"),
        &p,
    ));
    let p = r.alnum(12);
    v.push(pos(
        "env-assignment",
        "PGPASSWORD",
        format!("PGPASSWORD={p} psql -h db -U app -c 'select 1'"),
        &p,
    ));
    let p = r.alnum(12);
    v.push(pos(
        "env-assignment",
        "docker run -e",
        format!("docker run -d -e POSTGRES_PASSWORD={p} -p 5432:5432 postgres:16"),
        &p,
    ));
    let s = r.alnum(40);
    v.push(pos(
        "env-assignment",
        ".env file quoted",
        format!("# app config\nSENTRY_AUTH_TOKEN=\"{s}\"\nDEBUG=false\n"),
        &s,
    ));
    let s = r.alnum(24);
    v.push(pos(
        "env-assignment",
        "export single quotes",
        format!("export CLIENT_SECRET='{s}'"),
        &s,
    ));
    let p = r.alnum(9);
    v.push(pos(
        "env-assignment",
        "MYSQL_PWD",
        format!("MYSQL_PWD={p} mysqldump app > dump.sql"),
        &p,
    ));
    let s = r.alnum(30);
    v.push(pos(
        "env-assignment",
        "build arg",
        format!("docker build --build-arg ARTIFACTORY_API_KEY={s} ."),
        &s,
    ));
    let p = "hunter2".to_owned();
    v.push(pos(
        "env-assignment",
        "low-entropy password",
        format!("SMTP_PASS={p}"),
        &p,
    ));

    // generic-secret
    let s = r.alnum(32);
    v.push(pos(
        "generic-secret",
        "python source",
        format!("api_key = \"{s}\""),
        &s,
    ));
    let s = format!("Tr0ub4dor&{}", r.digits(2));
    v.push(pos(
        "generic-secret",
        "yaml config",
        format!("database:\n  host: db\n  password: {s}\n"),
        &s,
    ));
    let s = r.pick(B64URL, 40);
    v.push(pos(
        "generic-secret",
        "json text",
        format!(r#"{{"client_id": "abc", "client_secret": "{s}"}}"#),
        &s,
    ));
    let s = r.alnum(28);
    v.push(pos(
        "generic-secret",
        "query string",
        format!("GET /oauth/callback?access_token={s}&expires=3600"),
        &s,
    ));
    let s = r.alnum(24);
    v.push(pos(
        "generic-secret",
        "js object",
        format!("const cfg = {{ apiKey: '{s}', region: 'us' }};"),
        &s,
    ));
    let s = format!("S3cr3t!{}", r.digits(3));
    v.push(pos(
        "generic-secret",
        "java properties",
        format!("spring.datasource.password={s}"),
        &s,
    ));
    let s = r.hex(40);
    v.push(pos(
        "generic-secret",
        "toml",
        format!("[registry]\ntoken = \"{s}\"\n"),
        &s,
    ));
    let s = r.alnum(26);
    v.push(pos(
        "generic-secret",
        "header",
        format!("X-API-Key: {s}"),
        &s,
    ));

    // json-secret-key (evaluated with `redact_json`: values under secret-looking keys go
    // whole, however short or plain)
    let p = r.alnum(5);
    v.push(pos(
        "json-secret-key",
        "short password in a config",
        format!(r#"{{"db": {{"user": "app", "password": "{p}"}}}}"#),
        &p,
    ));
    let p = format!("correct horse battery {}", r.alnum(5));
    v.push(pos(
        "json-secret-key",
        "passphrase with spaces",
        format!(r#"{{"gpg": {{"passphrase": "{p}"}}}}"#),
        &p,
    ));
    let p = r.digits(9);
    v.push(pos(
        "json-secret-key",
        "numeric api key",
        format!(r#"{{"headers": {{"X-Api-Key": {p}}}}}"#),
        &p,
    ));
    let p = r.alnum(7);
    v.push(pos(
        "json-secret-key",
        "hook payload tool input",
        format!(r#"{{"tool_input": {{"clientSecret": "{p}", "scope": "read"}}}}"#),
        &p,
    ));

    // The families of issue 15, three contexts each.
    let contexts = [
        ("env export", "export SERVICE_TOKEN={}"),
        ("command flag", "deployctl push --token {} --region iad"),
        ("json", r#"{"auth": {"value": "{}"}}"#),
    ];
    let up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    for (family, ctx, f) in contexts.iter().flat_map(|&(ctx, f)| {
        [
            "docker-hub-token",
            "telegram-bot-token",
            "sourcegraph-token",
            "vercel-token",
            "tailscale-key",
            "vault-token",
            "facebook-token",
            "square-token",
            "notion-token",
            "flyio-token",
            "cloudflare-token",
            "heroku-key",
            "sentry-token",
            "databricks-token",
            "1password-token",
            "azure-client-secret",
            "figma-token",
            "groq-key",
            "linear-key",
            "pulumi-token",
            "prefect-key",
            "postman-key",
            "doppler-token",
            "rubygems-key",
            "age-secret-key",
            "planetscale-token",
        ]
        .map(|fam| (fam, ctx, f))
    }) {
        let t = match family {
            "docker-hub-token" => format!("dckr_pat_{}", r.pick(b64url, 27)),
            "telegram-bot-token" => format!("{}:AA{}", r.digits(10), r.alnum(33)),
            "sourcegraph-token" => format!("sgp_{}_{}", r.hex(16), r.hex(40)),
            "vercel-token" => format!("vcp_{}", r.alnum(24)),
            "tailscale-key" => format!("tskey-auth-{}-{}", r.alnum(12), r.alnum(32)),
            "vault-token" => format!("hvs.{}", r.alnum(95)),
            "facebook-token" => format!("EAAG{}", r.alnum(150)),
            "square-token" => format!("sq0atp-{}", r.pick(b64url, 22)),
            "notion-token" => format!("ntn_{}{}", r.digits(11), r.alnum(35)),
            "flyio-token" => format!("fo1_{}", r.pick(b64url, 43)),
            "cloudflare-token" => format!("cfat_{}{}", r.alnum(40), r.hex(8)),
            "heroku-key" => format!("HRKU-AA{}", r.pick(b64url, 58)),
            "sentry-token" => format!("sntryu_{}", r.hex(64)),
            "databricks-token" => format!("dapi{}-2", r.hex(32)),
            "1password-token" => format!(
                "A3-{}-{}-{}-{}-{}-{}",
                r.pick(up, 6),
                r.pick(up, 6),
                r.pick(up, 5),
                r.pick(up, 5),
                r.pick(up, 5),
                r.pick(up, 5)
            ),
            "figma-token" => format!("figd_{}", r.pick(b64url, 43)),
            "groq-key" => format!("gsk_{}", r.alnum(52)),
            "linear-key" => format!("lin_api_{}", r.alnum(40)),
            "pulumi-token" => format!("pul-{}", r.hex(40)),
            "prefect-key" => format!("pnu_{}", r.alnum(36)),
            "postman-key" => format!("PMAK-{}-{}", r.hex(24), r.hex(34)),
            "doppler-token" => format!("dp.pt.{}", r.alnum(43)),
            "rubygems-key" => format!("rubygems_{}", r.hex(48)),
            "age-secret-key" => format!(
                "AGE-SECRET-KEY-1{}",
                r.pick("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
            ),
            "planetscale-token" => format!("pscale_pw_{}", r.alnum(43)),
            _ => format!("{}{}Q~{}", r.alnum(3), r.digits(1), r.alnum(34)),
        };
        v.push(pos(family, ctx, f.replace("{}", &t), &t));
    }
    for (ctx, f) in [
        ("discord.py", "import discord\nclient.run('{}')"),
        ("env dump", "DISCORD_BOT_TOKEN={}\nDISCORD_GUILD=123"),
        ("log", "discord: logged in with {} as Bot#1234"),
    ] {
        let t = format!(
            "MT{}.{}.{}",
            r.alnum(24),
            r.pick(b64url, 6),
            r.pick(b64url, 27)
        );
        v.push(pos("discord-token", ctx, f.replace("{}", &t), &t));
    }
    for (ctx, f) in [
        (
            "curl post",
            "curl -d '{\"content\":\"ok\"}' https://discord.com/api/webhooks/{}",
        ),
        (
            "env dump",
            "DISCORD_WEBHOOK=https://discordapp.com/api/webhooks/{}",
        ),
        (
            "yaml",
            "notify:\n  url: https://discord.com/api/webhooks/{} # ops",
        ),
    ] {
        let t = r.pick(b64url, 68);
        let url = format!("{}/{t}", r.digits(19));
        v.push(pos("discord-webhook", ctx, f.replace("{}", &url), &t));
    }
    for (ctx, f) in [
        ("yaml", "cloudflare: \"{}\""),
        ("ini", "sumo_access_id = {}"),
        ("go", "sentryAuth := \"{}\""),
    ] {
        let t = match ctx {
            "yaml" => r.hex(37),
            "ini" => format!("su{}", r.alnum(12)),
            _ => r.hex(32),
        };
        v.push(pos("service-secret", ctx, f.replace("{}", &t), &t));
    }

    v
}

/// Redacts a positive the way its family is meant to be found: JSON documents through
/// `redact_json`, everything else as text.
fn redact_positive(p: &Positive) -> String {
    if p.family == "json-secret-key" {
        let mut v: serde_json::Value = serde_json::from_str(&p.text).expect("JSON positive parses");
        redact_json(&mut v);
        v.to_string()
    } else {
        redact(&p.text).into_owned()
    }
}

/// Hard negatives: must come out byte for byte.
fn negatives() -> Vec<(&'static str, String)> {
    let mut r = Rng(0x5EED_CAFE_F00D_0002);
    let sha = r.hex(40);
    let sha2 = r.hex(40);
    let sha256 = r.hex(64);
    let integrity = format!("sha512-{}==", r.pick(B64, 86));
    vec![
        ("git sha", format!("commit {sha}\nAuthor: Dev Person <dev@example.org>\nDate:   Tue Mar 3 10:00:00 2026 -0700\n")),
        ("git log oneline", format!("{} Fix token refresh race\n{} Add password reset flow", &sha[..7], &sha2[..7])),
        ("git rev-parse", format!("$ git rev-parse HEAD\n{sha2}")),
        ("uuid", "request_id=550e8400-e29b-41d4-a716-446655440000 session 7c9e6679-7425-40de-944b-e07fc1f90ae7".into()),
        ("cargo lock checksum", format!("[[package]]\nname = \"serde\"\nversion = \"1.0.229\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sha256}\"")),
        ("npm integrity", format!("\"node_modules/lodash\": {{\n  \"version\": \"4.17.21\",\n  \"resolved\": \"https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz\",\n  \"integrity\": \"{integrity}\"\n}}")),
        ("pnpm lock", format!("  /lodash@4.17.21:\n    resolution: {{integrity: {integrity}}}\n")),
        ("yarn lock", format!("lodash@^4.17.21:\n  version \"4.17.21\"\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz#{sha}\"\n  integrity sha1-{}=\n", r.pick(B64, 27))),
        ("go.sum", format!("golang.org/x/text v0.3.7 h1:{}=\ngolang.org/x/text v0.3.7/go.mod h1:{}=", r.pick(B64, 43), r.pick(B64, 43))),
        ("image digest", format!("Digest: sha256:{sha256}\nStatus: Downloaded newer image for alpine:3.19")),
        ("docker pull by digest", format!("docker pull alpine@sha256:{sha256}")),
        ("docker uses with tag and digest", format!("    uses: docker://alpine:3.19@sha256:{sha256}")),
        ("token count", "Original token count: 1234\nCompressed token count: 567".into()),
        ("identifier", "def send_password_reset_token(user):\n    user.password_reset_token = generate_token()".into()),
        ("function call", "    token = get_token()\n    if not token:\n        raise AuthError()".into()),
        ("env limit", "TOKEN_LIMIT=4096\nMAX_TOKENS=8192".into()),
        ("actions secret placeholder", "    env:\n      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}".into()),
        ("variable reference", "curl -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com/repos/o/r".into()),
        ("templated value", "token: ${TOKEN}\npassword: \"{{ vault_db_password }}\"\napi_key: <your-api-key>".into()),
        ("aws example key", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        ("file paths", "/home/runner/.ssh/id_rsa src/auth/token_store.rs ./secrets/README.md".into()),
        ("urls without credentials", "https://github.com/acme/api/pull/42 postgres://localhost:5432/app http://localhost:8080/api?x=1".into()),
        ("ssh remote", "origin\tgit@github.com:acme/api.git (push)".into()),
        ("typescript interface", "interface Login {\n  username: string;\n  password: string;\n  token?: string;\n}".into()),
        ("python annotations", "class Settings(BaseModel):\n    api_key: str = Field(default=None)\n    password: Optional[str] = None".into()),
        ("environ lookup", "password = os.environ[\"DB_PASSWORD\"]\napi_key = config.api_key\nsecret = settings.SECRET_KEY".into()),
        ("dash p flags", "mkdir -p /tmp/build && cargo test -p codex-contract && ssh -p 2222 deploy@host".into()),
        ("password stdin", "echo \"$CR_PAT\" | docker login ghcr.io -u octocat --password-stdin".into()),
        ("pwd in env dump", "PWD=/home/user/project\nOLDPWD=/home/user\nGIT_ASKPASS=/usr/lib/git-core/git-gui--askpass\nSSH_AUTH_SOCK=/tmp/ssh-XXXXabcd/agent.123".into()),
        ("gpg key fingerprint", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\nPYTHON_VERSION=3.12.2".into()),
        ("usage json", "{\"usage\": {\"input_tokens\": 1234, \"output_tokens\": 567, \"total_tokens\": 1801}}".into()),
        ("max tokens", "max_tokens: 4096\ntemperature: 0.2".into()),
        ("tokenizer", "tokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")".into()),
        ("cache key", format!("Cache restored from key: Linux-cargo-{}", r.hex(64))),
        ("public key", format!("-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----", r.pick(B64, 64), r.pick(B64, 20))),
        ("ssh public key", format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} dev@laptop", r.pick(B64, 43))),
        ("certificate", format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----", r.pick(B64, 64))),
        ("test summary", "test result: ok. 52 passed; 0 failed; 0 ignored; 0 measured\nPASSED tests/test_auth.py::test_password_reset".into()),
        ("bearer prose", "Bearer authentication is required for this endpoint; see the token docs.".into()),
        ("basic prose", "Basic usage: run `tool --help`. npm ERR! need: Basic realm=\"GitHub Package Registry\"".into()),
        ("k8s secret ref", "      secretName: db-credentials\n      secretKeyRef:\n        name: app-secrets\n        key: password".into()),
        ("kubectl", "kubectl get secret my-secret -o yaml && kubectl create secret generic x --from-file=./cfg".into()),
        ("setup-node placeholder", "NODE_AUTH_TOKEN=XXXXX-XXXXX-XXXXX-XXXXX".into()),
        ("log line", "[INFO] Refreshing token: success (took 32ms)\n[WARN] password policy: minimum length 12".into()),
        ("token type", "{\"token_type\": \"Bearer\", \"expires_in\": 3600, \"scope\": \"read\"}".into()),
        ("hf identifiers", "from huggingface_hub import hf_hub_download\npath = hf_hub_download(repo_id=\"gpt2\", filename=\"config.json\")".into()),
        ("token file flag", "kubectl --token-file /var/run/secrets/kubernetes.io/serviceaccount/token get pods".into()),
        ("risk and disk words", "risk-assessment disk-usage task-sk-runner ERR_MSG.len() xoxo".into()),
        ("curl with variables", "curl https://example.com -u \"$USER:$PASS\" --data @body.json".into()),
        ("mysql prompt", "mysql -u root -p mydb < schema.sql".into()),
        ("docker port flag", "docker run -p 8080:80 -v $(pwd):/app nginx".into()),
        ("jwt decode call", "payload = jwt.decode(token, key, algorithms=[\"HS256\"])".into()),
        ("secrets inherit", "jobs:\n  call:\n    uses: ./.github/workflows/ci.yml\n    secrets: inherit".into()),
        ("prose about keys", "The API key is stored in $HOME/.config/tool and the private key in ~/.ssh.".into()),
        ("data uri", format!("<img src=\"data:image/png;base64,iVBORw0KGgo{}\">", r.pick(B64, 80))),
        ("masked by actions", "GITHUB_TOKEN=***\nAPI_KEY=*****".into()),
        ("compiler output", "warning: unused variable: `token`\n  --> src/auth/mod.rs:42:9\n   |\n42 |     let token = fetch_token(&client)?;".into()),
        ("redacted already", "GITHUB_TOKEN=[REDACTED:github-token] password: [REDACTED:generic-secret]".into()),
        ("password prompt", "[sudo] password for dev: \nSorry, try again.".into()),
        ("short hex in token key", "token: 4096".into()),
    ]
}

// ---------------------------------------------------------------------------------------
// The corpus test
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Row {
    positives: usize,
    found: usize,
    false_positives: usize,
}

#[test]
fn corpus_recall_and_false_positives() {
    let positives = positives();
    let negatives = negatives();
    let mut table: BTreeMap<&str, Row> = BTreeMap::new();
    for id in families() {
        table.entry(id).or_default();
    }
    let mut failures = Vec::new();

    for p in &positives {
        assert!(
            families().contains(&p.family),
            "unknown family {}",
            p.family
        );
        let out = redact_positive(p);
        let label = format!("[REDACTED:{}]", p.family);
        let leaked: Vec<&String> = p
            .secrets
            .iter()
            .filter(|s| out.contains(s.as_str()))
            .collect();
        let lost: Vec<&String> = p
            .kept
            .iter()
            .filter(|k| !out.contains(k.as_str()))
            .collect();
        let row = table.entry(p.family).or_default();
        row.positives += 1;
        if leaked.is_empty() && lost.is_empty() && out.contains(&label) {
            row.found += 1;
        } else {
            failures.push(format!(
                "MISS {} ({}): leaked={leaked:?} lost={lost:?}\n  in:  {}\n  out: {}",
                p.family, p.context, p.text, out
            ));
        }
        // Other labels in a positive are not false positives by themselves (a JSON
        // document can hold a key and a token), but they must not be needed to hide the
        // secret: checked above through the expected label.
    }

    for (name, text) in &negatives {
        let out = redact(text);
        if out != *text {
            for id in families() {
                if out.contains(&format!("[REDACTED:{id}]")) {
                    table.entry(id).or_default().false_positives += 1;
                }
            }
            failures.push(format!(
                "FALSE POSITIVE ({name}):\n  in:  {text}\n  out: {out}"
            ));
        }
    }

    println!(
        "\n{:<22} {:>9} {:>9} {:>8} {:>6}",
        "family", "positives", "redacted", "recall", "FP"
    );
    let (mut tp, mut tf, mut tfp) = (0, 0, 0);
    for (id, row) in &table {
        let recall = if row.positives == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}%", 100.0 * row.found as f64 / row.positives as f64)
        };
        println!(
            "{id:<22} {:>9} {:>9} {recall:>8} {:>6}",
            row.positives, row.found, row.false_positives
        );
        tp += row.positives;
        tf += row.found;
        tfp += row.false_positives;
    }
    println!(
        "{:<22} {tp:>9} {tf:>9} {:>7.1}% {tfp:>6}   ({} hard negatives)\n",
        "total",
        100.0 * tf as f64 / tp as f64,
        negatives.len()
    );

    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(negatives.len() >= 40);
    for (id, row) in &table {
        if *id != "json-secret-key" {
            assert!(
                row.positives >= 3,
                "family {id} has only {} positives",
                row.positives
            );
        }
    }
}

#[test]
fn redaction_is_idempotent_and_agrees_with_contains_secret() {
    let mut all: Vec<String> = positives().into_iter().map(|p| p.text).collect();
    all.extend(negatives().into_iter().map(|(_, t)| t));
    let joined = all.join("\n");
    all.push(joined);
    for text in &all {
        let once = redact(text).into_owned();
        let twice = redact(&once).into_owned();
        assert_eq!(once, twice, "not idempotent for:\n{text}");
        assert_eq!(
            contains_secret(text),
            once != *text,
            "contains_secret disagrees for:\n{text}"
        );
        assert!(
            !contains_secret(&once),
            "still contains a secret after redaction:\n{once}"
        );
        // The byte API agrees with the text API on UTF-8 input.
        assert_eq!(redact_bytes(text.as_bytes()).as_ref(), once.as_bytes());
    }
}

#[test]
fn secrets_next_to_labels_are_still_found() {
    let text = "GITHUB_TOKEN=[REDACTED:github-token] DB_PASSWORD=hunter22";
    assert_eq!(
        redact(text),
        "GITHUB_TOKEN=[REDACTED:github-token] DB_PASSWORD=[REDACTED:env-assignment]"
    );
}

#[test]
fn clean_text_is_borrowed() {
    let text = "   Compiling serde v1.0.229\ntest result: ok. 3 passed; 0 failed\n";
    assert!(matches!(redact(text), Cow::Borrowed(_)));
    assert!(matches!(redact_bytes(text.as_bytes()), Cow::Borrowed(_)));
    assert!(!contains_secret(text));
}

#[test]
fn families_are_listed_once() {
    let f = families();
    let mut sorted = f.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), f.len());
    assert!(f.len() >= 30);
    for id in [
        "github-token",
        "private-key",
        "generic-secret",
        "json-secret-key",
        "url-credentials",
    ] {
        assert!(f.contains(&id), "{id}");
    }
}

#[test]
fn bytes_redaction_keeps_invalid_utf8() {
    let token = format!("ghp_{}", Rng(7).alnum(36));
    let mut input = vec![0xff, 0xfe, b' '];
    input.extend_from_slice(b"GITHUB_TOKEN=");
    input.extend_from_slice(token.as_bytes());
    input.extend_from_slice(&[b' ', 0xc3, 0x28, 0x80, b'\n', 0x00, 0xf0]);
    let out = redact_bytes(&input);
    let mut expected = vec![0xff, 0xfe, b' '];
    expected.extend_from_slice(b"GITHUB_TOKEN=[REDACTED:github-token]");
    expected.extend_from_slice(&[b' ', 0xc3, 0x28, 0x80, b'\n', 0x00, 0xf0]);
    assert_eq!(out.as_ref(), expected.as_slice());
    // Invalid bytes glued to a password value are part of the value and go with it.
    let glued = b"DB_PASSWORD=abc\xff\xfedef rest";
    assert_eq!(
        redact_bytes(glued).as_ref(),
        b"DB_PASSWORD=[REDACTED:env-assignment] rest"
    );
}

#[test]
fn text_redaction_handles_multibyte_neighbours() {
    let text = "пароль: DB_PASSWORD=naïve-pässwörd1 ✓ ok";
    let out = redact(text);
    assert_eq!(out, "пароль: DB_PASSWORD=[REDACTED:env-assignment] ✓ ok");
}

/// A reader that hands out at most `n` bytes per read, to put read boundaries everywhere.
struct Chunked<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.n.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

/// Filler that looks like log output, with a secret every `every` bytes.
fn log_with_secrets(total: usize, every: usize, newlines: bool) -> (Vec<u8>, Vec<String>) {
    let mut r = Rng(99);
    let mut out = Vec::with_capacity(total + 256);
    let mut secrets = Vec::new();
    let filler = if newlines {
        "test parser::tests::case_17 ... ok\n   Compiling serde v1.0.229\n"
    } else {
        "{\"level\":\"info\",\"msg\":\"compiled serde v1.0.229\"},"
    };
    while out.len() < total {
        let start = out.len();
        while out.len() - start < every {
            out.extend_from_slice(filler.as_bytes());
        }
        let (prefix, secret) = match secrets.len() % 4 {
            0 => ("token ", format!("ghp_{}", r.alnum(36))),
            1 => (
                "key=",
                format!("AKIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
            ),
            2 => ("DB_PASSWORD=", r.alnum(14)),
            _ => ("auth ", format!("glpat-{}", r.alnum(20))),
        };
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(secret.as_bytes());
        out.push(if newlines { b'\n' } else { b' ' });
        secrets.push(secret);
    }
    (out, secrets)
}

fn stream(input: &[u8], read_size: usize) -> (Vec<u8>, codex_contract::redact::StreamStats) {
    let mut out = Vec::new();
    let stats = redact_stream(
        Chunked {
            data: input,
            n: read_size,
        },
        &mut out,
    )
    .expect("in-memory I/O");
    (out, stats)
}

#[test]
fn stream_finds_secrets_across_64k_read_boundaries() {
    // ~3 MiB with a secret every ~1000 bytes: secrets straddle every read boundary (64 KiB)
    // and every internal buffer boundary.
    let (input, secrets) = log_with_secrets(3 << 20, 1000, true);
    let (out, stats) = stream(&input, 64 * 1024);
    assert_no_leak(&out, &secrets);
    assert_eq!(
        out,
        redact_bytes(&input).as_ref(),
        "stream and one-shot disagree"
    );
    assert_eq!(stats.bytes_in, input.len() as u64);
    assert_eq!(stats.bytes_out, out.len() as u64);
    assert_eq!(stats.redactions, secrets.len() as u64);

    // A secret exactly across the 64 KiB boundary, read in 64 KiB pieces.
    let token = format!("ghp_{}", Rng(3).alnum(36));
    let mut input = vec![b'x'; 64 * 1024 - 20];
    input.push(b' ');
    input.extend_from_slice(token.as_bytes());
    input.extend_from_slice(b" tail\n");
    let (out, _) = stream(&input, 64 * 1024);
    assert!(!contains(&out, token.as_bytes()));
    assert!(out.ends_with(b" [REDACTED:github-token] tail\n"));
}

#[test]
fn stream_handles_a_10mb_line() {
    let (input, secrets) = log_with_secrets(10 << 20, 5000, false);
    assert!(!input.contains(&b'\n'));
    let (out, stats) = stream(&input, 1 << 16);
    assert_no_leak(&out, &secrets);
    assert_eq!(out, redact_bytes(&input).as_ref());
    assert_eq!(stats.redactions, secrets.len() as u64);
}

#[test]
fn stream_handles_pem_block_across_boundaries() {
    let mut r = Rng(11);
    let body = pem_body(&mut r, 40, 64);
    for pad in [
        0usize,
        1000,
        (1 << 20) - 3000,
        (1 << 20) - 100_000,
        (1 << 20) + 17,
    ] {
        let mut input = vec![b'.'; pad];
        input.extend_from_slice(
            format!(
                "\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\nafter\n"
            )
            .as_bytes(),
        );
        let (out, _) = stream(&input, 8192);
        for line in body.lines().filter(|l| l.len() >= 16) {
            assert!(
                !contains(&out, line.as_bytes()),
                "pad {pad}: leaked key line"
            );
        }
        assert!(
            out.ends_with(b"\n[REDACTED:private-key]\nafter\n"),
            "pad {pad}"
        );
    }
}

#[test]
fn stream_of_empty_and_clean_input() {
    let (out, stats) = stream(b"", 10);
    assert!(out.is_empty());
    assert_eq!(stats, codex_contract::redact::StreamStats::default());
    let clean = b"\xff\xfe binary \x00 data\n".repeat(1000);
    let (out, stats) = stream(&clean, 777);
    assert_eq!(out, clean);
    assert_eq!(stats.redactions, 0);
}

fn assert_no_leak(out: &[u8], secrets: &[String]) {
    let ac = aho_corasick::AhoCorasick::new(secrets).expect("literal secrets");
    if let Some(m) = ac.find(out) {
        panic!("leaked {}", secrets[m.pattern().as_usize()]);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

#[test]
fn json_values_under_secret_keys() {
    let token = format!("ghp_{}", Rng(5).alnum(36));
    let mut v = json!({
        "password": "hunter2",
        "db": {"user": "app", "db_password": "pw", "port": 5432},
        "clientSecret": "abc",
        "x-api-key": 123456,
        "headers": {"Authorization": "Bearer abc.def"},
        "password_reset_token": "r3s3t",
        "token_count": 1234,
        "max_tokens": 4096,
        "token_type": "Bearer",
        "secretName": "db-credentials",
        "env": {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}", "NPM_TOKEN": "", "CI": "true"},
        "api_key": null,
        "auth": true,
        "credentials": {"username": "svc", "password": "p"},
        "tokens": ["a", "b"],
        "token": ["t1", "t2"],
        "command": format!("git push https://x:{token}@github.com/o/r"),
        "nested": [{"secret": "s"}, {"note": "no secret here"}],
    });
    redact_json(&mut v);
    let r = "[REDACTED:json-secret-key]";
    assert_eq!(v["password"], r);
    assert_eq!(v["db"]["user"], "app");
    assert_eq!(v["db"]["db_password"], r);
    assert_eq!(v["db"]["port"], 5432);
    assert_eq!(v["clientSecret"], r);
    assert_eq!(v["x-api-key"], r);
    assert_eq!(v["headers"]["Authorization"], r);
    assert_eq!(v["password_reset_token"], r);
    assert_eq!(v["token_count"], 1234);
    assert_eq!(v["max_tokens"], 4096);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["secretName"], "db-credentials");
    assert_eq!(v["env"]["GITHUB_TOKEN"], "${{ secrets.GITHUB_TOKEN }}");
    assert_eq!(v["env"]["NPM_TOKEN"], "");
    assert_eq!(v["env"]["CI"], "true");
    assert_eq!(v["api_key"], serde_json::Value::Null);
    assert_eq!(v["auth"], true);
    assert_eq!(v["credentials"]["username"], "svc");
    assert_eq!(v["credentials"]["password"], r);
    assert_eq!(v["tokens"], json!(["a", "b"]));
    assert_eq!(v["token"], json!([r, r]));
    assert_eq!(
        v["command"],
        "git push https://x:[REDACTED:github-token]@github.com/o/r"
    );
    assert_eq!(v["nested"][0]["secret"], r);
    assert_eq!(v["nested"][1]["note"], "no secret here");
    // Keys are never changed, and a second pass changes nothing.
    let once = v.clone();
    redact_json(&mut v);
    assert_eq!(v, once);
    assert!(v.as_object().unwrap().contains_key("password"));
}

#[test]
fn json_strings_are_redacted_as_text() {
    let key = format!(
        "AKIA{}",
        Rng(9).pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    );
    let mut v = json!({"tool": "shell", "input": {"command": format!("export AWS_ACCESS_KEY_ID={key}")}, "output": ["ok", format!("id {key}")]});
    redact_json(&mut v);
    assert_eq!(
        v["input"]["command"],
        "export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]"
    );
    assert_eq!(v["output"][1], "id [REDACTED:aws-access-key]");
    assert_eq!(v["tool"], "shell");
}

/// Inputs the fuzzer (`contract/fuzz`, target `redact`) found, kept as regression tests.
#[test]
fn fuzz_findings_stay_fixed() {
    let cases: Vec<Vec<u8>> = vec![
        // A bare value cut short by an earlier label was judged on its prefix alone.
        [
            &b"[registry]\ndkettoken =8I0GOOGLE_API_KEY=AIza4NX0MqwGO2HT\0\0\0"[..],
            &[0xff; 96],
            b"\0\0manage.py mysql -h dnkeyb.internal yn2 --noa9\"\n",
        ]
        .concat(),
        // A rejected `curl ... -u` candidate hid the next `-u` on the same command line.
        b"curl -u sk_live_AcB1Xhares -u:E -u:a".to_vec(),
    ];
    for input in &cases {
        let once = redact_bytes(input).into_owned();
        assert_eq!(
            redact_bytes(&once).as_ref(),
            once.as_slice(),
            "{}",
            String::from_utf8_lossy(input)
        );
        let (streamed, _) = stream(input, 7);
        assert_eq!(streamed, once);
    }
}
