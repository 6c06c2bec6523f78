//! The secret families: data, not code. Each family has an ID (used in the replacement
//! `[REDACTED:<id>]`), the keywords that every one of its matches contains (the prefilter
//! only runs a family's regexes near one of them), and its patterns with a validator each.
//!
//! Order matters: when matches of two families overlap, the merged span is named after the
//! family listed first, so specific token formats come before context rules (a `ghp_` token in
//! `GITHUB_TOKEN=ghp_...` is a `github-token`, not an `env-assignment`).
//!
//! Rules for keywords (checked by tests in `engine`):
//! - every match of the family's patterns contains one of its keywords;
//! - keywords are matched ASCII-case-insensitively unless the family sets `exact_keywords`
//!   (then the case must match too, which only saves regex runs);
//! - keywords of 3 bytes must be exact; keywords shorter than 3 bytes are not allowed (they
//!   would make the prefilter slow on clean text);
//! - no keyword may be a prefix of another keyword of the same length class.
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
    pub re: &'static str,
    pub check: Check,
}

pub(crate) enum Matcher {
    Regex(&'static [Pattern]),
    /// PEM private-key blocks, see `pem.rs`.
    PrivateKey,
}

pub(crate) struct Family {
    pub id: &'static str,
    pub keywords: &'static [&'static str],
    pub exact_keywords: bool,
    pub scope: Scope,
    pub matcher: Matcher,
}

const fn p(re: &'static str, check: Check) -> Pattern {
    Pattern { re, check }
}

const fn line(
    id: &'static str,
    keywords: &'static [&'static str],
    exact_keywords: bool,
    patterns: &'static [Pattern],
) -> Family {
    Family {
        id,
        keywords,
        exact_keywords,
        scope: Scope::Line,
        matcher: Matcher::Regex(patterns),
    }
}

use checks::{
    auth_header, aws_access_key, aws_secret_key, basic_decodes, bearer_loose, curl_user,
    env_assignment, generic_secret, group1, password_value, token_flag_value, twilio,
    url_credentials, whole,
};

/// The replacement label for values under secret-looking JSON keys (`redact_json`).
pub(crate) const JSON_SECRET_KEY: &str = "json-secret-key";

pub(crate) const N_FAMILIES: usize = 31;

pub(crate) static FAMILIES: [Family; N_FAMILIES] = [
    Family {
        id: "private-key",
        keywords: &["PRIVATE KEY"],
        exact_keywords: true,
        scope: Scope::Document,
        matcher: Matcher::PrivateKey,
    },
    line(
        "github-fine-grained",
        &["github_pat_"],
        true,
        &[p(r"github_pat_[A-Za-z0-9_]{70,255}", whole)],
    ),
    line(
        "github-token",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        true,
        &[p(r"\bgh[pousr]_[A-Za-z0-9]{36,251}\b", whole)],
    ),
    line(
        "gitlab-token",
        &["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glft-"],
        true,
        &[p(
            r"\bgl(?:pat|dt|rt|ptt|cbt|ft)-[A-Za-z0-9_-]{20,255}",
            whole,
        )],
    ),
    line(
        "slack-webhook",
        &["hooks.slack.com"],
        false,
        &[p(
            r"(?i:hooks\.slack\.com)/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{20,})",
            group1,
        )],
    ),
    line(
        "slack-token",
        &["xox", "xapp-"],
        true,
        &[
            p(
                r"\bxox(?:[abposr]|e(?:\.xox[abposr])?)-[0-9A-Za-z-]{10,}",
                whole,
            ),
            p(r"\bxapp-[0-9]+-[A-Za-z0-9-]{20,}", whole),
        ],
    ),
    line(
        "anthropic-key",
        &["sk-"],
        true,
        &[p(r"\bsk-ant-[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_-]{20,}", whole)],
    ),
    line(
        "openai-key",
        &["sk-", "T3BlbkFJ"],
        true,
        &[
            p(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}", whole),
            p(r"\bsk-[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}", whole),
        ],
    ),
    line(
        "aws-access-key",
        &["AKIA", "ASIA", "ABIA", "ACCA"],
        true,
        &[p(
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
            aws_access_key,
        )],
    ),
    line(
        "aws-secret-key",
        &["secret"],
        false,
        &[p(
            r#"(?i)(?:aws)?[_-]?secret[_-]?access[_-]?key["']?(?:[ \t]*(?:=>|:=|=|:)[ \t]*|[ \t]+)["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            aws_secret_key,
        )],
    ),
    line(
        "google-api-key",
        &["AIza"],
        true,
        &[p(r"\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)", group1)],
    ),
    line(
        "google-oauth",
        &["GOCSPX-", "ya29."],
        true,
        &[
            p(r"\bGOCSPX-[A-Za-z0-9_-]{24,}", whole),
            p(r"\bya29\.[0-9A-Za-z_-]{20,}", whole),
        ],
    ),
    line(
        "stripe-key",
        &["k_live_", "k_test_", "whsec_"],
        true,
        &[
            p(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{10,247}\b", whole),
            p(r"\bwhsec_[A-Za-z0-9+/=]{24,}", whole),
        ],
    ),
    line(
        "npm-token",
        &["npm_", "_auth"],
        false,
        &[
            p(r"\bnpm_[A-Za-z0-9]{36}\b", whole),
            p(
                r#"(?i)(?:^|:)_auth(?:token)?[ \t]*=[ \t]*["']?([^\s"']+)"#,
                password_value,
            ),
        ],
    ),
    line(
        "pypi-token",
        &["pypi-"],
        true,
        &[p(r"\bpypi-AgE[IN][A-Za-z0-9_-]{50,}", whole)],
    ),
    line(
        "huggingface-token",
        &["hf_"],
        true,
        &[p(r"\bhf_[A-Za-z0-9]{34,40}\b", whole)],
    ),
    line(
        "sendgrid-key",
        &["SG."],
        true,
        &[p(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", whole)],
    ),
    Family {
        id: "twilio-key",
        keywords: &["twilio"],
        exact_keywords: false,
        scope: Scope::Document,
        matcher: Matcher::Regex(&[p(r"\bSK[0-9a-fA-F]{32}\b", twilio)]),
    },
    line(
        "azure-storage-key",
        &["tkey", "skey"],
        false,
        &[p(
            r"(?i)(?:AccountKey|SharedAccessKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{20,}={0,2})",
            group1,
        )],
    ),
    line(
        "digitalocean-token",
        &["_v1_"],
        true,
        &[p(r"\bdo[opr]_v1_[a-f0-9]{64}\b", whole)],
    ),
    line(
        "shopify-token",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        true,
        &[p(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", whole)],
    ),
    line(
        "grafana-token",
        &["glsa_", "glc_", "eyJrIjoi"],
        true,
        &[
            p(r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b", whole),
            p(r"\bglc_[A-Za-z0-9+/]{32,}={0,2}", whole),
            p(r"\beyJrIjoi[A-Za-z0-9+/]{40,}={0,2}", whole),
        ],
    ),
    line(
        "jwt",
        &[".eyJ"],
        true,
        &[p(
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
            whole,
        )],
    ),
    line(
        "url-credentials",
        &["://"],
        true,
        &[p(
            r#"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://([^\s:/?#@"'<>\[\]]*):([^\s/?#"'<>]+)@([A-Za-z0-9]{0,8}:?)"#,
            url_credentials,
        )],
    ),
    line(
        "curl-user",
        &["curl"],
        false,
        &[p(
            r#"\bcurl\b[^\n;&|]*?[ \t](?:-u[ \t]*|--user(?:[ \t]+|=))["']?([^\s:"']*):([^\s"']+)"#,
            curl_user,
        )],
    ),
    line(
        "bearer-auth",
        &["bearer", "authoriz"],
        false,
        &[
            p(
                r#"(?i)authorization["']?[ \t]*[:=][ \t]*["']?(?:bearer|token|bot)[ \t]+([A-Za-z0-9._~+/=-]+)"#,
                auth_header,
            ),
            p(r"(?i)\bbearer[ \t]+([A-Za-z0-9._~+/-]+=*)", bearer_loose),
        ],
    ),
    line(
        "basic-auth",
        &["basic", "authoriz", "auth\""],
        false,
        &[
            p(
                r#"(?i)authorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+([A-Za-z0-9+/]+={0,2})"#,
                auth_header,
            ),
            p(r"(?i)\bbasic[ \t]+([A-Za-z0-9+/]{8,}={0,2})", basic_decodes),
            p(
                r#""auth"[ \t]*:[ \t]*"([A-Za-z0-9+/]{8,}={0,2})""#,
                basic_decodes,
            ),
        ],
    ),
    line(
        "password-flag",
        &[
            "passw", "-pass", "passp", "token", "secret", "_key", "-key", "ikey", "skey", "ekey",
            "tkey", "mysql", "mariadb", "login", "sshpass",
        ],
        false,
        &[
            p(
                r#"(?i)(?:^|[\s"'])--?(?:(?:[a-z0-9]+[-_])*(?:password|passwd|passphrase)|(?:[a-z0-9]+-)*pass)(?:[ \t]+|=)["']?([^\s"']+)"#,
                password_value,
            ),
            p(
                r#"(?i)(?:^|[\s"'])--?(?:[a-z0-9]+[-_])*(?:token|secret|api[-_]?key|apikey|access[-_]?key|accesskey|private[-_]?key|privatekey|account[-_]?key|accountkey)(?:[ \t]+|=)["']?([^\s"']+)"#,
                token_flag_value,
            ),
            p(
                r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n;&|]*?[ \t]-p([^\s\x22']+)",
                password_value,
            ),
            p(
                r"\b(?:docker|podman|nerdctl|buildah|skopeo|helm|oras)\b[^\n;&|]*?\blogin\b[^\n;&|]*?[ \t]-p[ \t]+[\x22']?([^\s\x22']+)",
                password_value,
            ),
            p(
                r"\bsshpass[ \t]+-p[ \t]*[\x22']?([^\s\x22']+)",
                password_value,
            ),
        ],
    ),
    line(
        "env-assignment",
        &[
            "passw",
            "passp",
            "pass=",
            "_pwd",
            "token",
            "secret",
            "_auth",
            "credential",
            "_key",
            "ikey",
            "skey",
            "ekey",
            "tkey",
            "sshpass",
        ],
        false,
        &[p(
            r#"(?:^|[^A-Za-z0-9_])([A-Z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET)|[A-Z0-9_]*_(?:PASS|PWD|AUTH|CREDENTIALS?)|SSHPASS|[A-Z0-9_]*(?:(?:API|ACCESS|SECRET|PRIVATE|ACCOUNT|CLIENT)_?KEY|(?:SIGNING|ENCRYPTION|MASTER)_KEY))=(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'`;&|<>()]+))"#,
            env_assignment,
        )],
    ),
    line(
        "generic-secret",
        &[
            "passw",
            "passp",
            "_pwd",
            "token",
            "secret",
            "_key",
            "-key",
            "ikey",
            "skey",
            "ekey",
            "tkey",
            "authoriz",
            "credential",
        ],
        false,
        &[p(
            r#"(?i)(?:^|[^A-Za-z0-9_.-])([A-Za-z0-9_.-]{0,64}?(?:password|passwd|passphrase|_pwd|secret|token|(?:api|access|secret|private|account|client|signing|encryption|master)[_-]key|apikey|accesskey|secretkey|privatekey|accountkey|clientkey|authorization|credentials?))["']?[ \t]*(?:=>|:=|=|:)[ \t]*(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"'`,;{}()\[\]<>|&]+))"#,
            generic_secret,
        )],
    ),
    // Listed last: it has no patterns of its own (redact_json assigns it), it is here so that
    // `families()` and the corpus see every label redaction can produce.
    Family {
        id: JSON_SECRET_KEY,
        keywords: &[],
        exact_keywords: true,
        scope: Scope::Line,
        matcher: Matcher::Regex(&[]),
    },
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
