//! The secret families: data, not code. Each family has an ID (used in the replacement
//! `[REDACTED:<id>]`) and patterns; each pattern has the keywords that every one of its
//! matches contains (the prefilter only runs a pattern near one of them), a regex and a
//! validator.
//!
//! A pattern's match need not contain its keyword when the keyword is context that the
//! validator checks on the same line (`curl` for `-u user:password`): the pattern runs on
//! the line around the keyword either way.
//!
//! Order matters: when matches of two families overlap, the merged span is named after the
//! family listed first, so specific token formats come before context rules (a `ghp_` token in
//! `GITHUB_TOKEN=ghp_...` is a `github-token`, not an `env-assignment`).
//!
//! Rules for keywords (checked by tests in `engine`):
//! - every match of a pattern contains one of its keywords (or has it as same-line context,
//!   see above), in the prefilter's spelling:
//!   compared ASCII-case-insensitively and with `-` and `_` equal, unless the family sets
//!   `exact_keywords` (then the bytes must match exactly, which only saves regex runs);
//! - keywords of 3 bytes must be exact; shorter ones are not allowed;
//! - keywords are chosen to be rare in clean output, because every candidate costs time in
//!   the SIMD scan: `assw` rather than `pass` (which `PASSED` would hit), `sskey` for
//!   `accesskey`, `ntkey` for `accountkey`;
//! - no keyword may be a prefix of another keyword (after folding).
//!
//! All patterns are compiled as ASCII byte regexes (`unicode(false)`, multi-line), so `\s`,
//! `\b` and `(?i)` are ASCII-only and non-UTF-8 input is fine.

use super::checks::{self, Check};

/// Where a family's regexes run after one of its keywords is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// On the line around the keyword (bounded window): cheap, and correct for every
    /// single-line format.
    Line,
    /// Over the whole input: for multi-line formats (PEM) and for formats that only need the
    /// keyword somewhere in the document as context (Twilio).
    Document,
}

pub(crate) struct Pattern {
    pub keywords: &'static [&'static str],
    /// What must be true around a keyword hit before the pattern is run (and, on first
    /// use, compiled): a cheap byte check that keeps mentions (`Original token count`)
    /// from costing a regex compile in the shim.
    pub near: Near,
    pub matcher: Matcher,
    pub check: Check,
}

/// Shapes around a keyword hit, checked by hand before a pattern runs (see `engine`). Each
/// is a necessary condition for a match of its pattern containing that keyword occurrence.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Near {
    /// No condition.
    Any,
    /// The identifier holding the keyword (`[A-Za-z0-9_-]*`) is followed by an optional
    /// quote, blanks and `=` or `:` (`password: x`, `"api_key" = x`, `DB_TOKEN=x`).
    Assignment,
    /// [`Near::Assignment`], and the value does not start like a placeholder (`$VAR`,
    /// `<token>`, `{{ x }}`, `%VAR%`, `[REDACTED:...]`; see `checks::is_placeholder`):
    /// `GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` costs nothing.
    AssignedValue,
    /// [`Near::AssignedValue`] where the value is one of these schemes (ASCII
    /// case-insensitively), blanks and a token character: `Authorization: Bearer abc`, not
    /// `Authorization: Bearer $TOKEN`.
    Header(&'static [&'static str]),
    /// [`Near::AssignedValue`] where the value is not an authorization scheme: the header
    /// value itself is the credential (`Authorization: abc123`).
    RawHeader,
    /// The identifier holding the keyword starts with `-` and is followed by `=` or a blank
    /// (`--token x`, `--db-password=x`).
    Flag,
    /// Blanks, then a token character (`Bearer abc`, not `Bearer $TOKEN`).
    BlankThenValue,
    /// The rest of the line after the keyword contains this (`curl ... -u`).
    LaterOnLine(&'static str),
    /// The identifier holding the keyword contains this, ASCII case-insensitively.
    IdentifierHas(&'static str),
    /// `user:password@` follows `://` before the end of the authority.
    UrlUserinfo,
}

#[derive(Clone, Copy)]
pub(crate) enum Matcher {
    Regex(&'static str),
    /// PEM private-key blocks, see `pem.rs`.
    PrivateKey,
}

pub(crate) struct Family {
    pub id: &'static str,
    pub exact_keywords: bool,
    pub scope: Scope,
    pub patterns: &'static [Pattern],
}

const fn p(keywords: &'static [&'static str], re: &'static str, check: Check) -> Pattern {
    Pattern {
        keywords,
        near: Near::Any,
        matcher: Matcher::Regex(re),
        check,
    }
}

impl Pattern {
    const fn near(mut self, near: Near) -> Pattern {
        self.near = near;
        self
    }
}

const fn line(id: &'static str, exact_keywords: bool, patterns: &'static [Pattern]) -> Family {
    Family {
        id,
        exact_keywords,
        scope: Scope::Line,
        patterns,
    }
}

use checks::{
    auth_header, aws_access_key, aws_secret_key, basic_decodes, bearer_loose, curl_user,
    env_assignment, generic_secret, group1, mysql_password, password_value,
    registry_login_password, service_secret, token_flag_value, twilio, url_credentials, whole,
};

/// The replacement label for values under secret-looking JSON keys (`redact_json`).
pub(crate) const JSON_SECRET_KEY: &str = "json-secret-key";

pub(crate) const N_FAMILIES: usize = 60;

/// Keywords of the "key" nouns: `api_key`/`api-key` fold to `_key`; the unseparated
/// compounds get their own rare spelling (`apikey`, access`skey`, priva`tekey`,
/// accou`ntkey`/clie`ntkey`; secretkey is covered by `secret`).
const KEY_NOUNS: [&str; 5] = ["_key", "apikey", "sskey", "tekey", "ntkey"];

/// A value on a shell command line: double-quoted, single-quoted, or bare. A bare value ends
/// at whitespace, quotes and the shell's command separators (`;`, `&`, `|`): they end the
/// command, and the validators look for the command's name (`curl`, `mysql`) only back to
/// the last separator. `no_quotes` is for values already inside quotes (`-u "user:pass"`).
macro_rules! shell_value {
    () => {
        r#"(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'`;&|<>]+))"#
    };
    (no_quotes) => {
        r#"([^\s"'`;&|<>]+)"#
    };
}

/// A generic `<noun> = value` pattern: group 1 is the noun that ends the key (the key may
/// have any prefix: `db_password`, `client_secret`, `X-API-Key`), groups 2-4 the value,
/// double-quoted, single-quoted or bare. No key-prefix is matched: it would only cost time
/// (an unanchored `[\w.-]*` prefix keeps the regex engine from using its literal search).
macro_rules! generic {
    ($nouns:literal) => {
        concat!(
            "(?i)(",
            $nouns,
            r#")["']?[ \t]*(?:=>|:=|=|:)[ \t]*(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"'`,;{}()\[\]<>|&]+))"#
        )
    };
}

pub(crate) static FAMILIES: [Family; N_FAMILIES] = [
    Family {
        id: "private-key",
        exact_keywords: true,
        scope: Scope::Document,
        patterns: &[Pattern {
            keywords: &["PRIVATE KEY"],
            near: Near::Any,
            matcher: Matcher::PrivateKey,
            check: whole,
        }],
    },
    line(
        "github-fine-grained",
        true,
        &[p(
            &["github_pat_"],
            r"github_pat_[A-Za-z0-9_]{70,}",
            whole,
        )],
    ),
    line(
        "github-token",
        true,
        &[p(
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
            r"\bgh[pousr]_[A-Za-z0-9_]{36,}\b",
            whole,
        ),
        // The app installation token format announced for 2026: `ghs_<id>_<jwt>`.
        p(
            &["ghs_"],
            r"\bghs_[0-9]{1,20}_[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            whole,
        )],
    ),
    line(
        "gitlab-token",
        true,
        &[p(
            &["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glft-"],
            r"\bgl(?:pat|dt|rt|ptt|cbt|ft)-[A-Za-z0-9_-]{20,}",
            whole,
        )],
    ),
    line(
        "slack-webhook",
        false,
        &[p(
            &["hooks.slack.com"],
            r"(?i:hooks\.slack\.com)/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{20,})",
            group1,
        )],
    ),
    line(
        "slack-token",
        true,
        &[
            p(
                &["xox"],
                r"\bxox(?:[abposr]|e(?:\.xox[abposr])?)-[0-9][0-9A-Za-z-]{9,}",
                whole,
            ),
            p(&["xapp-"], r"\bxapp-[0-9]+-[A-Za-z0-9-]{20,}", whole),
        ],
    ),
    line(
        "anthropic-key",
        true,
        &[p(
            &["sk-"],
            r"\bsk-ant-[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_-]{20,}",
            whole,
        )],
    ),
    line(
        "openai-key",
        true,
        &[
            p(
                &["sk-"],
                r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}",
                whole,
            ),
            p(
                &["T3BlbkFJ"],
                r"\bsk-[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}",
                whole,
            ),
        ],
    ),
    line(
        "aws-access-key",
        true,
        &[p(
            &["AKIA", "ASIA", "ABIA", "ACCA"],
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
            aws_access_key,
        )],
    ),
    line(
        "aws-secret-key",
        false,
        &[p(
            &["secret"],
            r#"(?i)(?:aws)?[_-]?secret[_-]?access[_-]?key["']?(?:[ \t]*(?:=>|:=|=|:)[ \t]*|[ \t]+)["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            aws_secret_key,
        ).near(Near::IdentifierHas("access"))],
    ),
    line(
        "google-api-key",
        true,
        &[p(
            &["AIza"],
            r"\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
            group1,
        )],
    ),
    line(
        "google-oauth",
        true,
        &[
            p(&["GOCSPX-"], r"\bGOCSPX-[A-Za-z0-9_-]{24,}", whole),
            p(&["ya29."], r"\bya29\.[0-9A-Za-z_-]{20,}", whole),
        ],
    ),
    line(
        "stripe-key",
        true,
        &[
            p(
                &["k_live_", "k_test_", "k_prod_"],
                r"\b[sr]k_(?:live|test|prod)_[0-9A-Za-z]{10,}\b",
                whole,
            ),
            p(&["whsec_"], r"\bwhsec_[A-Za-z0-9+/=]{24,}", whole),
        ],
    ),
    line(
        "npm-token",
        false,
        &[
            p(&["npm_"], r"\bnpm_[A-Za-z0-9]{36}\b", whole),
            p(
                &["_auth"],
                r#"(?i)(?:^|:)_auth(?:token)?[ \t]*=[ \t]*["']?([^\s"']+)"#,
                password_value,
            ).near(Near::AssignedValue),
        ],
    ),
    line(
        "pypi-token",
        true,
        &[p(&["pypi-"], r"\bpypi-AgE[IN][A-Za-z0-9_-]{50,}", whole)],
    ),
    line(
        "huggingface-token",
        true,
        &[
            p(&["hf_"], r"\bhf_[A-Za-z0-9]{34,40}\b", whole),
            p(&["api_org_"], r"\bapi_org_[A-Za-z]{34}\b", whole),
        ],
    ),
    line(
        "sendgrid-key",
        true,
        &[p(
            &["SG."],
            r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            whole,
        )],
    ),
    Family {
        id: "twilio-key",
        exact_keywords: false,
        scope: Scope::Document,
        patterns: &[p(&["twilio"], r"\bSK[0-9a-fA-F]{32}\b", twilio)],
    },
    line(
        "azure-storage-key",
        false,
        &[p(
            &["ntkey", "sskey"],
            r"(?i)(?:AccountKey|SharedAccessKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{20,}={0,2})",
            group1,
        ).near(Near::Assignment)],
    ),
    line(
        "digitalocean-token",
        true,
        &[p(&["_v1_"], r"\bdo[opr]_v1_[a-f0-9]{64}\b", whole)],
    ),
    line(
        "shopify-token",
        true,
        &[p(
            &["shp"],
            r"\bshp(?:at|ca|pa|ss)_[A-Za-z0-9]{32,64}\b",
            whole,
        )],
    ),
    line(
        "grafana-token",
        true,
        &[
            p(
                &["glsa_"],
                r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b",
                whole,
            ),
            p(&["glc_"], r"\bglc_[A-Za-z0-9+/]{32,}={0,2}", whole),
            p(&["eyJrIjoi"], r"\beyJrIjoi[A-Za-z0-9+/]{40,}={0,2}", whole),
        ],
    ),
    line(
        "docker-hub-token",
        true,
        &[p(&["dckr_"], r"\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{20,}", whole)],
    ),
    line(
        "discord-webhook",
        false,
        &[p(
            &["discord"],
            r"(?i:discord(?:app)?\.com)/api/webhooks/[0-9]{15,22}/([A-Za-z0-9_-]{40,100})",
            group1,
        )],
    ),
    // Bot tokens have no prefix of their own (the first part is the bot's ID in base64): they
    // are looked for only in text that mentions Discord, like Twilio keys.
    Family {
        id: "discord-token",
        exact_keywords: false,
        scope: Scope::Document,
        patterns: &[p(
            &["discord"],
            r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}\b",
            whole,
        )],
    },
    line(
        "telegram-bot-token",
        true,
        &[p(
            &[":AA"],
            r"(?:^|[^0-9A-Za-z_-]|bot)([0-9]{5,16}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)",
            group1,
        )],
    ),
    line(
        "sourcegraph-token",
        true,
        &[p(
            &["sgp_"],
            r"\bsgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}\b",
            whole,
        )],
    ),
    line(
        "vercel-token",
        true,
        &[p(
            &["vcp_", "vci_", "vca_", "vcr_", "vck_"],
            r"\bvc[piark]_[A-Za-z0-9]{20,60}\b",
            whole,
        )],
    ),
    line(
        "tailscale-key",
        true,
        &[p(
            &["tskey-"],
            r"\btskey-[a-z]{2,20}-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}\b",
            whole,
        )],
    ),
    line(
        "vault-token",
        true,
        &[p(
            &["hvs.", "hvb.", "hvr."],
            r"\bhv[sbr]\.[A-Za-z0-9_-]{90,300}",
            whole,
        )],
    ),
    line(
        "facebook-token",
        true,
        &[p(&["EAA"], r"\bEAA[A-Z][A-Za-z0-9]{80,}\b", whole)],
    ),
    line(
        "square-token",
        true,
        &[p(
            &["EAA", "sq0a", "sq0c"],
            r"\b(EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
            group1,
        )],
    ),
    line(
        "notion-token",
        true,
        &[p(&["ntn_"], r"\bntn_[0-9]{11}[A-Za-z0-9]{35}\b", whole)],
    ),
    line(
        "flyio-token",
        true,
        &[p(
            &["fo1_", "fm1a", "fm1r", "fm2_"],
            r"\b(?:fo1_[A-Za-z0-9_-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})",
            whole,
        )],
    ),
    line(
        "cloudflare-token",
        true,
        &[p(
            &["cfk_", "cfut", "cfat", "v1.0-"],
            r"\b(?:cf(?:k|ut|at)_[A-Za-z0-9]{40}[0-9a-f]{8}|v1\.0-[0-9a-f]{24}-[0-9a-f]{146})\b",
            whole,
        )],
    ),
    line(
        "heroku-key",
        true,
        &[p(&["HRKU-"], r"\bHRKU-AA[0-9A-Za-z_-]{58}\b", whole)],
    ),
    line(
        "sentry-token",
        true,
        &[p(
            &["sntrys_", "sntryu_"],
            r"\b(?:sntrys_eyJ[A-Za-z0-9+/=_]{60,}|sntryu_[a-f0-9]{64}\b)",
            whole,
        )],
    ),
    line(
        "databricks-token",
        true,
        &[p(&["dapi"], r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b", whole)],
    ),
    line(
        "1password-token",
        true,
        &[
            p(&["ops_"], r"\bops_eyJ[A-Za-z0-9+/]{100,}={0,3}", whole),
            p(
                &["A3-"],
                r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
                whole,
            ),
        ],
    ),
    line(
        "azure-client-secret",
        true,
        &[p(
            &["0Q~", "1Q~", "2Q~", "3Q~", "4Q~", "5Q~", "6Q~", "7Q~", "8Q~", "9Q~"],
            r#"(?:^|[\\'"`\s>=:(,)])([A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:$|[\\'"`\s<),])"#,
            group1,
        )],
    ),
    line(
        "figma-token",
        true,
        &[p(&["figd_"], r"\bfigd_[A-Za-z0-9_-]{40,200}", whole)],
    ),
    line(
        "groq-key",
        true,
        &[p(&["gsk_"], r"\bgsk_[A-Za-z0-9]{52}\b", whole)],
    ),
    line(
        "linear-key",
        true,
        &[p(&["lin_api_"], r"\blin_api_[A-Za-z0-9_]{32,128}\b", whole)],
    ),
    line(
        "pulumi-token",
        true,
        &[p(&["pul-"], r"\bpul-[a-f0-9]{40}\b", whole)],
    ),
    line(
        "prefect-key",
        true,
        &[p(&["pnu_"], r"\bpnu_[A-Za-z0-9]{36}\b", whole)],
    ),
    line(
        "postman-key",
        true,
        &[p(&["PMAK-"], r"\bPMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}\b", whole)],
    ),
    line(
        "doppler-token",
        true,
        &[p(&["dp.pt."], r"\bdp\.pt\.[A-Za-z0-9]{43}\b", whole)],
    ),
    line(
        "rubygems-key",
        true,
        &[p(&["rubygems_"], r"\brubygems_[a-f0-9]{48}\b", whole)],
    ),
    line(
        "age-secret-key",
        true,
        &[p(
            &["AGE-SECRET-KEY-1"],
            r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
            whole,
        )],
    ),
    line(
        "planetscale-token",
        true,
        &[p(
            &["pscale_"],
            r"\bpscale_(?:pw|tkn|oauth)_[A-Za-z0-9_=.-]{32,64}",
            whole,
        )],
    ),
    line(
        "jwt",
        true,
        &[p(
            &[".eyJ"],
            // The signature is optional: an unsigned (`alg: none`) token is still a bearer
            // credential wherever a server accepts it, and a truncated one still leaks claims.
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?",
            whole,
        )],
    ),
    line(
        "url-credentials",
        true,
        &[p(
            &["://"],
            r#"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://([^\s:/?#@"'<>\[\]]*):([^\s/?#"'<>]+)@([A-Za-z0-9]{0,8}:?)"#,
            url_credentials,
        ).near(Near::UrlUserinfo)],
    ),
    line(
        "curl-user",
        false,
        &[p(
            &["curl"],
            concat!(r#"[ \t](?:-u[ \t]*|--user(?:[ \t]+|=))["']?([^\s:"']*):"#, shell_value!(no_quotes)),
            curl_user,
        )
        .near(Near::LaterOnLine("-u"))],
    ),
    line(
        "bearer-auth",
        false,
        &[
            p(
                &["authoriz"],
                r#"(?i)authorization["']?[ \t]*[:=][ \t]*["']?(?:bearer|token|bot)[ \t]+([A-Za-z0-9._~+/=-]+)"#,
                auth_header,
            ).near(Near::Header(&["bearer", "token", "bot"])),
            p(
                &["bearer"],
                r"(?i)\bbearer[ \t]+([A-Za-z0-9._~+/-]+=*)",
                bearer_loose,
            ).near(Near::BlankThenValue),
        ],
    ),
    line(
        "basic-auth",
        false,
        &[
            p(
                &["authoriz"],
                r#"(?i)authorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+([A-Za-z0-9+/]+={0,2})"#,
                auth_header,
            ).near(Near::Header(&["basic"])),
            p(
                &["basic"],
                r"(?i)\bbasic[ \t]+([A-Za-z0-9+/]{8,}={0,2})",
                basic_decodes,
            ).near(Near::BlankThenValue),
            p(
                &["auth\""],
                r#""auth"[ \t]*:[ \t]*"([A-Za-z0-9+/]{8,}={0,2})""#,
                basic_decodes,
            ).near(Near::AssignedValue),
        ],
    ),
    line(
        "password-flag",
        false,
        &[
            p(
                &["assw", "assp", "-pass"],
                concat!(
                    r#"(?i)(?:^|[\s"'])--?(?:(?:[a-z0-9]+[-_])*(?:password|passwd|passphrase)|(?:[a-z0-9]+-)*pass)(?:[ \t]+|=)"#,
                    shell_value!()
                ),
                password_value,
            )
            .near(Near::Flag),
            p(
                &[
                    "token",
                    "secret",
                    KEY_NOUNS[0],
                    KEY_NOUNS[1],
                    KEY_NOUNS[2],
                    KEY_NOUNS[3],
                    KEY_NOUNS[4],
                ],
                concat!(
                    r#"(?i)(?:^|[\s"'])--?(?:[a-z0-9]+[-_])*(?:token|secret|api[-_]?key|apikey|access[-_]?key|accesskey|private[-_]?key|privatekey|account[-_]?key|accountkey)(?:[ \t]+|=)"#,
                    shell_value!()
                ),
                token_flag_value,
            ).near(Near::Flag),
            p(&["mysql", "mariadb"], concat!(r"[ \t]-p", shell_value!()), mysql_password).near(Near::LaterOnLine("-p")),
            p(&["login"], concat!(r"[ \t]-p[ \t]+", shell_value!()), registry_login_password).near(Near::LaterOnLine("-p")),
            p(
                &["sshp"],
                concat!(r"\bsshpass[ \t]+-p[ \t]*", shell_value!()),
                password_value,
            ),
        ],
    ),
    line(
        "env-assignment",
        false,
        &[p(
            &[
                "assw",
                "assp",
                "ass=",
                "_pwd",
                "token",
                "secret",
                "_auth",
                "credential",
                "sshp",
                KEY_NOUNS[0],
                KEY_NOUNS[1],
                KEY_NOUNS[2],
                KEY_NOUNS[3],
                KEY_NOUNS[4],
            ],
            r#"(?:^|[^A-Za-z0-9_])([A-Z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET)|[A-Z0-9_]*_(?:PASS|PWD|AUTH|CREDENTIALS?)|SSHPASS|[A-Z0-9_]*(?:(?:API|ACCESS|SECRET|PRIVATE|ACCOUNT|CLIENT)_?KEY|(?:SIGNING|ENCRYPTION|MASTER)_KEY))=(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'`;&|<>()]+))"#,
            env_assignment,
        ).near(Near::AssignedValue)],
    ),
    line(
        "generic-secret",
        false,
        &[
            p(&["assw", "assp", "_pwd"], generic!("password|passwd|passphrase|_pwd"), generic_secret).near(Near::AssignedValue),
            p(&["token"], generic!("token"), generic_secret).near(Near::AssignedValue),
            p(&["secret"], generic!("secret(?:[_-]?key)?"), generic_secret).near(Near::AssignedValue),
            p(
                &KEY_NOUNS,
                generic!(
                    "(?:api|access|private|account|client|signing|encryption|master)[_-]key|apikey|accesskey|privatekey|accountkey|clientkey"
                ),
                generic_secret,
            ).near(Near::AssignedValue),
            p(&["authoriz"], generic!("authorization"), generic_secret).near(Near::RawHeader),
            p(&["credential"], generic!("credentials?"), generic_secret).near(Near::AssignedValue),
        ],
    ),
    // Services whose credentials have no prefix: a value named after the service. After the
    // other context rules, so `SENTRY_AUTH_TOKEN=x` stays an `env-assignment`
    // (`cloudflare: "<hex>"`, `sumo_access_id = "su..."`) that looks machine-generated.
    line(
        "service-secret",
        false,
        &[p(
            &["sumo", "discord", "telegr", "cloudflare", "facebook", "heroku", "sentry"],
            r#"(?i)(?:sumo|discord|telegram|cloudflare|facebook|heroku|sentry)[A-Za-z0-9_-]*["']?[ \t]*(?:=>|:=|=|:)[ \t]*(?:"([^"\n]+)"|'([^'\n]+)'|`([^`\n]+)`|([^\s"'`,;{}()\[\]<>|&]+))"#,
            service_secret,
        ).near(Near::AssignedValue)],
    ),
    // Listed last: it has no patterns of its own (redact_json assigns it), it is here so that
    // `families()` and the corpus see every label redaction can produce.
    line(JSON_SECRET_KEY, true, &[]),
];

/// Every family ID, in priority order.
pub(crate) static FAMILY_IDS: [&str; N_FAMILIES] = {
    let mut ids = [""; N_FAMILIES];
    let mut i = 0;
    while i < N_FAMILIES {
        ids[i] = FAMILIES[i].id;
        i += 1;
    }
    ids
};
