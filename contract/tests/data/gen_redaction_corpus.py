#!/usr/bin/env python3
"""Writes redaction-corpus.jsonl: realistic secrets of every kind the redactor should remove,
in the contexts public secret scanners test with (gitleaks' sample contexts: ini, JSON, YAML,
Go, Python, Makefile...; secretlint's and detect-secrets' config files and headers) and in
tool-call contexts (commands, outputs, env dumps), plus strings that must stay.

Every value is generated here from a seeded PRNG with the documented shape of its kind; no
value and no fixture is copied from those projects. Re-run to regenerate (the output is
deterministic):  python3 contract/tests/data/gen_redaction_corpus.py
"""
import base64, json, os, random, string

R = random.Random(0x5EC7E75)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "_-"


def pick(alpha, n):
    while True:
        s = "".join(R.choice(alpha) for _ in range(n))
        if n < 8 or not any(c.isdigit() for c in alpha) or any(c.isdigit() for c in s):
            return s


def uuid():
    h = pick(HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def b64json(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


# Contexts. {i}: the service identifier, {I}: upper case, {s}: the secret.
KEYED = {
    "ini quoted": '{i}Token="{s}"',
    "ini spaced": "{i}_token = {s}",
    "json": '{{\n    "{i}_token": "{s}"\n}}',
    "json in string": '{{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}}',
    "yaml single quote": "{i}_token: '{s}'",
    "yaml plain": "{i}_token: {s}",
    "go short": '{i}Token := "{s}"',
    "go backticks": "{i}Token := `{s}`",
    "java": 'String {i}Token = "{s}";',
    "python": "{i}_token = '{s}'",
    "php concat": '${i}Token .= "{s}"',
    "logstash": '  "{i}Token" => "{s}"',
    "makefile": '{I}_TOKEN := "{s}"',
    "setProperty": 'System.setProperty("{I}_TOKEN", "{s}")',
    "env export": "export {I}_TOKEN={s}",
    "env dump": "HOME=/home/dev\n{I}_API_KEY={s}\nSHELL=/bin/bash",
    "dotenv quoted": '{I}_SECRET="{s}"',
    "toml": '[{i}]\napi_key = "{s}"',
}
FREE = {
    "bearer header": 'curl -sS -H "Authorization: Bearer {s}" https://api.example.com/v1/me',
    "curl continued": 'curl -X POST \\\n  -H "Authorization: Bearer {s}" \\\n  -d @payload.json https://api.example.com/v1/jobs',
    "command output": "$ ./scripts/whoami\nauthenticated with {s} (expires in 89d)\n",
    "cli flag": "deployctl push --token {s} --region iad",
    "cli flag equals": "tool login --api-key={s} --quiet",
    "json nested": '{{"auth": {{"value": "{s}", "kind": "token"}}}}',
    "python call": 'client = Client(credential="{s}", timeout=30)',
    "stack trace": 'Traceback (most recent call last):\n  File "app.py", line 12, in <module>\n    raise AuthError("rejected {s}")',
    "query string": "GET https://api.example.com/v2/items?api_key={s}&page=2 -> 401",
}


def fill(template, ident, secret):
    return template.format(i=ident, I=ident.upper(), s=secret)


rows = []


def pos(kind, source, ident, make, keyed=4, free=3, extra=()):
    """`keyed` samples from the scanner-style keyed contexts, `free` from tool-call contexts
    where the value must identify itself (only for prefixed formats), plus `extra` (context,
    template) pairs."""
    ctxs = R.sample(sorted(KEYED), keyed) if keyed else []
    sel = [(c, KEYED[c]) for c in ctxs]
    if free:
        sel += [(c, FREE[c]) for c in R.sample(sorted(FREE), free)]
    sel += list(extra)
    for ctx, tpl in sel:
        s = make()
        rows.append({"kind": kind, "source": source, "context": ctx, "text": fill(tpl, ident, s), "secrets": [s]})


# --- prefixed token formats (self-identifying) ---
pos("github-pat", "gitleaks/secretlint", "github", lambda: "ghp_" + pick(ALNUM, 36),
    extra=[("git clone url", "git clone https://x-access-token:{s}@github.com/acme/api.git")])
pos("github-oauth", "gitleaks", "github", lambda: "gho_" + pick(ALNUM, 36))
pos("github-app-installation", "gitleaks/secretlint", "github", lambda: "ghs_" + pick(ALNUM, 36),
    extra=[("git remote", "origin\thttps://x-access-token:{s}@github.com/acme/api.git (fetch)")])
pos("github-refresh", "gitleaks", "github", lambda: "ghr_" + pick(ALNUM, 36), keyed=2, free=2)
pos("github-fine-grained", "gitleaks/secretlint", "github", lambda: "github_pat_" + pick(ALNUM, 22) + "_" + pick(ALNUM, 59))
pos("gitlab-pat", "gitleaks/detect-secrets", "gitlab", lambda: "glpat-" + pick(B64URL, 20),
    extra=[("git remote", "https://oauth2:{s}@gitlab.com/group/project.git")])
pos("gitlab-runner", "gitleaks", "gitlab", lambda: "glrt-" + pick(ALNUM, 20), keyed=2, free=2)
pos("slack-bot", "gitleaks/detect-secrets", "slack", lambda: f"xoxb-{pick(string.digits, 12)}-{pick(string.digits, 13)}-{pick(ALNUM, 24)}")
pos("slack-user", "gitleaks", "slack", lambda: f"xoxp-{pick(string.digits, 11)}-{pick(string.digits, 12)}-{pick(string.digits, 13)}-{pick(HEX, 32)}", keyed=2, free=2)
pos("anthropic", "secretlint", "anthropic", lambda: "sk-ant-api03-" + pick(B64URL, 93) + "AA")
pos("openai-project", "secretlint/detect-secrets", "openai", lambda: "sk-proj-" + pick(B64URL, 74) + "T3BlbkFJ" + pick(B64URL, 74))
pos("openai-legacy", "detect-secrets", "openai", lambda: "sk-" + pick(ALNUM, 20) + "T3BlbkFJ" + pick(ALNUM, 20), keyed=2, free=2)
pos("aws-access-key", "gitleaks/secretlint/detect-secrets", "aws", lambda: "AKIA" + pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
pos("google-api-key", "gitleaks", "google", lambda: "AIza" + pick(B64URL, 35))
pos("google-oauth-secret", "gitleaks", "google", lambda: "GOCSPX-" + pick(B64URL, 28), keyed=3, free=1)
pos("gcp-access-token", "gitleaks", "gcp", lambda: "ya29." + pick(B64URL, 120), keyed=2, free=2)
pos("stripe-secret", "gitleaks/secretlint/detect-secrets", "stripe", lambda: "sk_live_" + pick(ALNUM, 24))
pos("stripe-restricted", "gitleaks/secretlint", "stripe", lambda: "rk_live_" + pick(ALNUM, 99))
pos("stripe-webhook", "gitleaks", "stripe", lambda: "whsec_" + pick(ALNUM, 32), keyed=2, free=1)
pos("npm", "gitleaks/secretlint", "npm", lambda: "npm_" + pick(ALNUM, 36),
    extra=[("npmrc", "//registry.npmjs.org/:_authToken={s}")])
pos("pypi", "gitleaks/detect-secrets", "pypi", lambda: "pypi-AgEIcHlwaS5vcmc" + pick(B64URL, 70), keyed=3, free=1)
pos("huggingface", "gitleaks/secretlint", "hf", lambda: "hf_" + pick(string.ascii_letters, 34))
pos("huggingface-org", "gitleaks", "huggingface", lambda: "api_org_" + pick(string.ascii_letters, 34), keyed=3, free=2)
pos("sendgrid", "gitleaks/secretlint/detect-secrets", "sendgrid", lambda: "SG." + pick(B64URL, 22) + "." + pick(B64URL, 43), keyed=3, free=2)
pos("digitalocean", "gitleaks", "digitalocean", lambda: "dop_v1_" + pick(HEX, 64), keyed=3, free=1)
pos("shopify-shared-secret", "gitleaks/secretlint", "shopify", lambda: "shpss_" + pick(HEX, 32))
pos("shopify-access", "gitleaks/secretlint", "shopify", lambda: "shpat_" + pick(ALNUM, 32), keyed=2, free=2)
pos("grafana-service-account", "gitleaks/secretlint", "grafana", lambda: "glsa_" + pick(ALNUM, 32) + "_" + pick(HEX, 8), keyed=3, free=1)
pos("docker-hub", "secretlint", "docker", lambda: "dckr_pat_" + pick(B64URL, 27),
    extra=[("docker login", "echo {s} | docker login -u octocat --password-stdin"),
           ("docker login flag", "docker login -u octocat -p {s} docker.io")])
pos("sourcegraph", "gitleaks", "sourcegraph", lambda: "sgp_" + pick(HEX, 16) + "_" + pick(HEX, 40))
pos("vercel", "secretlint", "vercel", lambda: "vcp_" + pick(ALNUM, 24))
pos("tailscale", "secretlint", "tailscale", lambda: f"tskey-auth-{pick(ALNUM, 12)}-{pick(ALNUM, 32)}",
    extra=[("tailscale up", "sudo tailscale up --authkey={s} --ssh")])
pos("vault-service", "gitleaks/secretlint", "vault", lambda: "hvs." + pick(B64URL, 95))
pos("facebook-access", "gitleaks", "facebook", lambda: "EAAB" + pick(ALNUM, 150), keyed=3, free=2)
pos("square-access", "gitleaks", "square", lambda: "EAAA" + pick(B64URL, 60), keyed=2, free=2)
pos("square-oauth-secret", "gitleaks/detect-secrets", "square", lambda: "sq0csp-" + pick(B64URL, 43), keyed=3, free=1)
pos("notion", "gitleaks/secretlint", "notion", lambda: "ntn_" + pick(string.digits, 11) + pick(ALNUM, 35))
pos("flyio", "gitleaks", "fly", lambda: "fm2_" + pick(B64, 120) + "==", keyed=3, free=2,
    extra=[("flyctl header", 'curl -H "Authorization: FlyV1 {s}" https://api.machines.dev/v1/apps')])
pos("cloudflare-api-token", "secretlint", "cloudflare", lambda: "cfut_" + pick(ALNUM, 40) + pick(HEX, 8), keyed=3, free=2)
pos("cloudflare-origin-ca", "gitleaks", "cloudflare", lambda: "v1.0-" + pick(HEX, 24) + "-" + pick(HEX, 146), keyed=2, free=1)
pos("heroku-v2", "gitleaks", "heroku", lambda: "HRKU-AA" + pick(B64URL, 58))
pos("sentry-user", "gitleaks", "sentry", lambda: "sntryu_" + pick(HEX, 64), keyed=3, free=2)
pos("sentry-org", "gitleaks", "sentry",
    lambda: "sntrys_" + b64json({"iat": 1700000000.0, "url": "https://sentry.io", "region_url": "https://us.sentry.io", "org": "acme"}) + "_" + pick(B64, 43),
    keyed=3, free=2)
pos("databricks", "gitleaks/secretlint", "databricks", lambda: "dapi" + pick(HEX, 32),
    extra=[("databricks cli", "databricks configure --token <<< 'https://adb-1.azuredatabricks.net\n{s}'")])
pos("1password-service-account", "gitleaks/secretlint", "op",
    lambda: "ops_" + b64json({"signInAddress": "my.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000, "salt": pick(B64URL, 22)}, "email": pick(string.ascii_lowercase, 12) + "@1passwordserviceaccounts.com", "srpX": pick(HEX, 64), "muk": {"alg": "A256GCM", "ext": True, "k": pick(B64URL, 43)}, "secretKey": "A3-" + pick(string.ascii_uppercase + string.digits, 6)}),
    keyed=3, free=2)
pos("1password-secret-key", "gitleaks", "op",
    lambda: "A3-" + "-".join(pick(string.ascii_uppercase + string.digits, n) for n in (6, 11, 5, 5, 5)), keyed=2, free=2)
pos("figma", "secretlint", "figma", lambda: "figd_" + pick(B64URL, 43), keyed=2, free=2)
pos("groq", "secretlint", "groq", lambda: "gsk_" + pick(ALNUM, 52), keyed=2, free=2)
pos("linear", "gitleaks/secretlint", "linear", lambda: "lin_api_" + pick(ALNUM, 40), keyed=2, free=2)
pos("pulumi", "gitleaks", "pulumi", lambda: "pul-" + pick(HEX, 40), keyed=2, free=2)
pos("postman", "gitleaks", "postman", lambda: "PMAK-" + pick(HEX, 24) + "-" + pick(HEX, 34), keyed=2, free=2)
pos("age", "gitleaks", "age", lambda: "AGE-SECRET-KEY-1" + pick("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), keyed=1, free=2)
pos("jwt", "gitleaks/detect-secrets", "jwt",
    lambda: b64json({"alg": "HS256", "typ": "JWT"}) + "." + b64json({"sub": pick(string.digits, 10), "name": "dev", "iat": 1700000000}) + "." + pick(B64URL, 43))
pos("jwt-unsigned", "detect-secrets", "jwt",
    lambda: b64json({"alg": "none", "typ": "JWT"}) + "." + b64json({"sub": pick(string.digits, 10), "admin": True}) + R.choice([".", ""]), keyed=2, free=2)
pos("telegram-bot", "gitleaks/detect-secrets", "telegram", lambda: pick(string.digits, 10) + ":AA" + pick(B64URL, 33),
    extra=[("bot api url", "curl -s https://api.telegram.org/bot{s}/getMe")])
pos("discord-webhook", "gitleaks", "discord", lambda: pick(string.digits, 19) + "/" + pick(B64URL, 68), keyed=0, free=0,
    extra=[("curl post", "curl -H 'Content-Type: application/json' -d '{{\"content\":\"deploy ok\"}}' https://discord.com/api/webhooks/{s}"),
           ("env", "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/{s}"),
           ("yaml", "notify:\n  discord: https://discordapp.com/api/webhooks/{s}"),
           ("json", '{{"webhook": "https://discord.com/api/webhooks/{s}"}}')])
pos("azure-ad-client-secret", "gitleaks", "azure", lambda: pick(ALNUM, 3) + R.choice(string.digits) + "Q~" + pick(ALNUM + "_~.-", 34), keyed=2, free=1,
    extra=[("xml element", "<ClientSecret>{s}</ClientSecret>"),
           ("xml attribute", '<add key="ida:ClientSecret" value="{s}" />'),
           ("az cli", "az login --service-principal -u 00000000-0000-0000-0000-000000000000 -p {s} --tenant contoso.onmicrosoft.com")])
pos("private-key", "gitleaks/secretlint/detect-secrets", "ssh", lambda: "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(pick(B64, 70) for _ in range(5)) + "\n-----END OPENSSH PRIVATE KEY-----", keyed=0, free=0,
    extra=[("cat", "$ cat ~/.ssh/id_ed25519\n{s}\n"), ("yaml block", "key_file_contents: |\n{s}"), ("heredoc", "cat > /tmp/key <<'EOF'\n{s}\nEOF")])

# --- context-identified secrets (no prefix: the key or the command says what they are) ---
keyed_only = lambda kind, source, ident, make, n=4: pos(kind, source, ident, make, keyed=n, free=0)
keyed_only("aws-secret-key", "gitleaks/secretlint", "aws", lambda: pick(B64, 40))
for ctx, tpl in [("credentials file", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {s}\n"),
                 ("env", "AWS_SECRET_ACCESS_KEY={s}")]:
    s = pick(B64, 40)
    rows.append({"kind": "aws-secret-key", "source": "detect-secrets", "context": ctx, "text": tpl.format(s=s), "secrets": [s]})
keyed_only("discord-client-secret", "gitleaks", "discord", lambda: pick(B64URL, 32))
keyed_only("discord-bot-token", "detect-secrets", "discord",
           lambda: base64.b64encode(pick(string.digits, 18).encode()).decode().rstrip("=") + "." + pick(B64URL, 6) + "." + pick(B64URL, 27), n=2)
for ctx, tpl in [("discord.py", "import discord\nclient = discord.Client(intents=intents)\nclient.run('{s}')"),
                 ("bot header", 'curl -H "Authorization: Bot {s}" https://discord.com/api/v10/users/@me')]:
    s = base64.b64encode(pick(string.digits, 18).encode()).decode().rstrip("=") + "." + pick(B64URL, 6) + "." + pick(B64URL, 27)
    rows.append({"kind": "discord-bot-token", "source": "detect-secrets", "context": ctx, "text": tpl.format(s=s), "secrets": [s]})
keyed_only("vault-legacy-token", "gitleaks", "vault", lambda: "s." + pick(ALNUM, 24), n=3)
keyed_only("facebook-app-secret", "gitleaks", "facebook", lambda: pick(HEX, 32))
keyed_only("cloudflare-global-key", "gitleaks", "cloudflare", lambda: pick(HEX, 37))
keyed_only("heroku-legacy-key", "gitleaks", "heroku", uuid, n=3)
keyed_only("sumo-access-id", "gitleaks", "sumo", lambda: "su" + pick(ALNUM, 12), n=3)
keyed_only("sumo-access-key", "gitleaks", "sumo", lambda: pick(ALNUM, 64), n=3)
keyed_only("generic-api-key", "detect-secrets", "service", lambda: pick(ALNUM, 32))
keyed_only("twilio-api-key", "gitleaks/detect-secrets", "twilio", lambda: "SK" + pick(HEX, 32), n=3)

def ctx_rows(kind, source, items):
    for ctx, tpl, make in items:
        s = make()
        rows.append({"kind": kind, "source": source, "context": ctx, "text": tpl.format(s=s), "secrets": [s]})

pw = lambda: pick(ALNUM, 10) + R.choice("!@#%^&*")
# In a URL, `@ # / ? %` would have to be percent-encoded (a client reads them as delimiters).
url_pw = lambda: pick(ALNUM, 10) + R.choice("!^&*~-_")
ctx_rows("url-password", "secretlint/detect-secrets", [
    ("postgres url", "psql postgres://admin:{s}@db.internal:5432/app -c 'select 1'", url_pw),
    ("mongodb url", 'MONGO_URL="mongodb+srv://app:{s}@cluster0.abcde.mongodb.net/prod"', lambda: pick(ALNUM, 16)),
    ("redis url", "redis-cli -u redis://default:{s}@cache:6379/0 ping", lambda: pick(ALNUM, 20)),
    ("amqp url", "celery worker -b amqp://guest:{s}@rabbit:5672//", lambda: pick(ALNUM, 12)),
])
ctx_rows("curl-basic-auth", "gitleaks", [
    ("curl -u", "curl -u admin:{s} https://ci.example.com/api/json", pw),
    ("curl --user", "curl --user deploy:{s} -X POST https://registry.example.com/v2/", pw),
    ("curl -u continued", "curl -sS \\\n  -u admin:{s} \\\n  https://ci.example.com/job/build/api/json", pw),
    ("curl -u continued crlf", "curl -X PUT \\\r\n  -u svc:{s} \\\r\n  -T build.zip https://files.example.com/upload", pw),
])
ctx_rows("password-assignment", "detect-secrets", [
    ("quoted with spaces", 'password = "{s}"', lambda: f"{pick(string.ascii_lowercase, 7)} {pick(string.ascii_lowercase, 6)} {R.randint(10, 99)}!"),
    ("yaml quoted spaces", "spring:\n  datasource:\n    password: '{s}'", lambda: f"{pick(string.ascii_lowercase, 5)} {R.randint(100, 999)} {pick(string.ascii_lowercase, 6)}"),
    ("env", "DB_PASSWORD={s}", pw),
    ("mysql -p", "mysql -h db -u root -p{s} app < dump.sql", pw),
    ("sshpass", "sshpass -p '{s}' ssh deploy@10.0.0.5 uptime", pw),
    ("properties", "spring.datasource.password={s}", pw),
    ("json", '{{"username": "admin", "password": "{s}"}}', pw),
    ("docker run env", "docker run -e POSTGRES_PASSWORD={s} postgres:16", pw),
])
ctx_rows("authorization-header", "detect-secrets/secretlint", [
    ("basic header", 'curl -H "Authorization: Basic {s}" https://example.com', lambda: base64.b64encode(f"admin:{pick(ALNUM, 12)}".encode()).decode()),
    ("bearer opaque", "Authorization: Bearer {s}", lambda: pick(ALNUM, 40)),
    ("token header", 'curl -H "Authorization: token {s}" https://api.github.com/user', lambda: pick(HEX, 40)),
])
ctx_rows("azure-storage-key", "detect-secrets", [
    ("connection string", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net", lambda: pick(B64, 86) + "=="),
    ("env", 'AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=x;AccountKey={s}"', lambda: pick(B64, 86) + "=="),
    ("service bus", "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}", lambda: pick(B64, 43) + "="),
])

# --- must stay ---
stay = []
def keep(ctx, text):
    stay.append({"kind": "must-stay", "context": ctx, "text": text})

for _ in range(4):
    keep("git sha", f"commit {pick(HEX, 40)}\nAuthor: Dev <dev@example.com>")
    keep("short sha", f"HEAD is now at {pick(HEX, 7)} fix: retry on 502")
    keep("uuid", f"request-id: {uuid()} status=200 took=12ms")
    keep("cargo lock checksum", f'[[package]]\nname = "serde"\nversion = "1.0.{R.randint(100, 230)}"\nchecksum = "{pick(HEX, 64)}"')
    keep("npm integrity", f'"integrity": "sha512-{pick(B64, 86)}=="')
    keep("image digest", f"docker pull ghcr.io/acme/api@sha256:{pick(HEX, 64)}")
    keep("go.sum", f"github.com/stretchr/testify v1.9.0 h1:{pick(B64, 43)}=")
    keep("md5 output", f"{pick(HEX, 32)}  dist/app.tar.gz")
    keep("base64 data uri", f'<img src="data:image/png;base64,iVBORw0KGgo{pick(B64, 80)}">')
    keep("ssh public key", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{pick(B64, 43)} dev@laptop")
    keep("heroku app", f"heroku_app: my-app-{R.randint(2, 99)}")
    keep("sentry env", "sentry_environment: production\nsentry_release: api@" + f"1.{R.randint(0, 9)}.{R.randint(0, 9)}")
    keep("telegram chat id", f"telegram_chat_id: -100{pick(string.digits, 10)}")
    keep("discord id", f"discord_channel_id = {pick(string.digits, 18)}")
    keep("k8s uid", f"  uid: {uuid()}\n  resourceVersion: \"{R.randint(1000, 99999)}\"")
for text in [
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "export GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "DATABASE_URL=postgres://app:{password}@db:5432/app",
    "url = f\"https://{user}:{password}@{host}/v1\"",
    "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    "curl -H \"Authorization: Bearer <token>\" https://api.example.com",
    "curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com",
    "api_key: your-api-key-here",
    "password: ********",
    "token = \"{{ vault_token }}\"",
    "SLACK_BOT_TOKEN=xoxb-your-token",
    "docker login -u $DOCKER_USER -p $DOCKER_PASS",
]:
    keep("placeholder", text)
for text in [
    "implementation 'io.jsonwebtoken:jjwt-jackson:0.11.2'",
    "Downloading io.jsonwebtoken:jjwt-jackson-0.11.2.jar (8 kB)",
    "[INFO] +- io.jsonwebtoken:jjwt-impl:jar:0.12.5:runtime",
    "<groupId>io.jsonwebtoken</groupId><artifactId>jjwt-api</artifactId>",
    "GET https://blog.example.com/2019/xoxo-gossip-girl-reboot-review 200",
    "see https://example.com/posts/xoxo-and-hugs-2024",
    "def password_reset_token(user):\n    return signer.sign(user.id)",
    "token = get_token()",
    "TOKEN_LIMIT=4096",
    "Original token count: 123456",
    "let api_key = env::var(\"API_KEY\")?;",
    "password: string;",
    "PASSED tests/test_auth.py::test_password_reset_with_expired_token",
    "pip install discord.py==2.3.2 python-telegram-bot==21.0",
    "ip link set dev eth0 address 00:AA:BB:CC:DD:EE",
    "arn:aws:iam::123456789012:role/ci-deploy",
    "s3://acme-artifacts/builds/2024-03-01/app.tar.gz",
    "npm ERR! code E401\nnpm ERR! Unable to authenticate, need: Basic realm=\"GitHub Package Registry\"",
    "The API key is stored in $HOME/.config/tool; rotate it with `tool keys rotate`.",
    "{\"token_type\": \"Bearer\", \"expires_in\": 3600}",
    "facebook/react#28123: fix hydration mismatch",
    "sentry-cli releases new 1.4.2 --org acme --project api",
    "kubectl get secret db-credentials -o jsonpath='{.data.password}'",
    "secretKeyRef:\n  name: app-secrets\n  key: password",
    "errors.password = \"Password must be at least 12 characters\"",
    "placeholder: \"Enter your password\"",
    "mkdir -p build && cargo test -p codex-contract",
    "docker run -p 8080:80 nginx:1.27",
    "ssh -p 2222 deploy@host uptime",
    "mysql -u root -p app < schema.sql",
    "Compiling dapi-client v0.3.1",
    "vault kv get -field=password secret/app/db",
    "EAAccessibility score: 98/100",
    "A3-compliant output written to report.pdf",
    "version: v1.0-beta.3",
    "sk-learn==1.4.0; scikit-learn provides sk-learn alias",
    "hf_hub_download(repo_id='gpt2', filename='config.json')",
]:
    keep("identifier / prose", text)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redaction-corpus.jsonl")
with open(out, "w") as f:
    for r in rows + stay:
        f.write(json.dumps(r, sort_keys=True) + "\n")
kinds = sorted({r["kind"] for r in rows})
print(f"{len(rows)} secrets of {len(kinds)} kinds, {len(stay)} must-stay strings -> {out}")
