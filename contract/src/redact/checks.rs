//! Validators that decide whether a regex match is really a secret, and which bytes of it to
//! replace. Regexes find *candidates*; these functions hold the judgement (placeholders,
//! allowlisted example keys, entropy floors) so that it is written once, in plain Rust, and
//! can be read and tested without decoding a regex.
//!
//! Every check has the same shape: it receives the captures of one match and returns the
//! byte range to replace, or `None` to leave the match alone.

use regex::bytes::CaptureLocations;

/// The signature every pattern's validator has.
pub(crate) type Check = fn(&Caps<'_>) -> Option<(usize, usize)>;

/// The capture groups of one match. Like `regex::bytes::Captures`, but over reusable
/// `CaptureLocations` so that running a pattern allocates nothing.
pub(crate) struct Caps<'h> {
    pub hay: &'h [u8],
    pub locs: &'h CaptureLocations,
}

/// One capture group of a match.
#[derive(Clone, Copy)]
pub(crate) struct Group<'h> {
    start: usize,
    end: usize,
    hay: &'h [u8],
}

impl<'h> Group<'h> {
    pub(crate) fn start(&self) -> usize {
        self.start
    }
    pub(crate) fn end(&self) -> usize {
        self.end
    }
    pub(crate) fn as_bytes(&self) -> &'h [u8] {
        &self.hay[self.start..self.end]
    }
}

impl<'h> Caps<'h> {
    pub(crate) fn get(&self, i: usize) -> Option<Group<'h>> {
        self.locs.get(i).map(|(start, end)| Group {
            start,
            end,
            hay: self.hay,
        })
    }
    fn len(&self) -> usize {
        self.locs.len()
    }
}

/// The first capture group (from 1) that took part in the match: patterns that accept a
/// value in several spellings (`"x"`, `'x'`, `x`) put each spelling in its own group.
fn first_group<'h>(c: &Caps<'h>, from: usize) -> Option<Group<'h>> {
    (from..c.len()).find_map(|i| c.get(i))
}

/// Replace the whole match, unless it is a masked example (`ghp_xxxx...`,
/// `AKIAXXXXXXXXXXXXXXXX`, see [`is_masked`]).
pub(crate) fn whole(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(0)?;
    (!is_masked(m.as_bytes())).then_some((m.start(), m.end()))
}

/// Replace capture group 1 (the secret part of a match that carries context).
pub(crate) fn group1(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(1)?;
    (!is_placeholder(m.as_bytes())).then_some((m.start(), m.end()))
}

/// AWS access key IDs, except AWS's documented example keys (`AKIAIOSFODNN7EXAMPLE`): they
/// appear in documentation, SDK tests and tutorials, grant nothing, and redacting them makes
/// quoted docs unreadable. A real key ends in `EXAMPLE` with probability 32^-7.
pub(crate) fn aws_access_key(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(0)?;
    let v = m.as_bytes();
    (!v.ends_with(b"EXAMPLE") && !is_masked(v)).then_some((m.start(), m.end()))
}

/// AWS secret keys in an assignment; the documented example secret
/// (`wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`) is left alone like the example key ID.
pub(crate) fn aws_secret_key(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(1)?;
    (!m.as_bytes().ends_with(b"EXAMPLEKEY")).then_some((m.start(), m.end()))
}

/// Twilio API key SIDs (`SK` + 32 hex): a random 32-hex string has both digits and letters.
pub(crate) fn twilio(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(0)?;
    let hex = &m.as_bytes()[2..];
    let digits = hex.iter().any(u8::is_ascii_digit);
    let letters = hex.iter().any(u8::is_ascii_alphabetic);
    (digits && letters).then_some((m.start(), m.end()))
}

/// `scheme://user:password@host`: the password (group 2) is replaced and the user kept, so
/// the log still says who connected where. `https://TOKEN:x-oauth-basic@host` carries the
/// secret in the user part, so there the user is replaced. `docker://alpine:3.19@sha256:...`
/// is an image reference with a digest, not credentials: group 3 holds what follows the `@`.
pub(crate) fn url_credentials(c: &Caps<'_>) -> Option<(usize, usize)> {
    let user = c.get(1)?;
    let pass = c.get(2)?;
    let after_at = c.get(3).map_or(&b""[..], |m| m.as_bytes());
    if after_at.ends_with(b":") && after_at.to_ascii_lowercase().starts_with(b"sha") {
        return None;
    }
    let pass_bytes = pass.as_bytes();
    if pass_bytes.eq_ignore_ascii_case(b"x-oauth-basic") {
        let u = user.as_bytes();
        return (!u.is_empty() && !is_placeholder(u)).then_some((user.start(), user.end()));
    }
    (!is_placeholder(pass_bytes)).then_some((pass.start(), pass.end()))
}

/// The shell command that a match at `pos` belongs to: the bytes from the last line break (not
/// one continued with a backslash) or command separator (`;`, `&`, `|`) before it, looking back at most 4 KiB.
fn command_before(hay: &[u8], pos: usize) -> &[u8] {
    let lo = pos.saturating_sub(4096);
    let start = (lo..pos)
        .rev()
        .find(|&i| match hay[i] {
            b'\n' => !super::engine::continues(hay, i),
            b';' | b'&' | b'|' => true,
            _ => false,
        })
        .map_or(lo, |i| i + 1);
    &hay[start..pos]
}

/// Whether `word` occurs in `seg` as a whole word (ASCII, `-` counts as part of a word).
fn has_word(seg: &[u8], word: &[u8]) -> bool {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    memchr::memmem::find_iter(seg, word).any(|i| {
        let before = i.checked_sub(1).is_none_or(|j| !is_word(seg[j]));
        let after = seg.get(i + word.len()).is_none_or(|&b| !is_word(b));
        before && after
    })
}

fn command_has_any(c: &Caps<'_>, words: &[&[u8]]) -> bool {
    let Some(m) = c.get(0) else { return false };
    let seg = command_before(c.hay, m.start());
    words.iter().any(|w| has_word(seg, w))
}

/// The password of `curl ... -u user:password` (group 2). The pattern matches any
/// `-u x:y`; the command it belongs to must be a `curl` call.
pub(crate) fn curl_user(c: &Caps<'_>) -> Option<(usize, usize)> {
    if !command_has_any(c, &[b"curl"]) {
        return None;
    }
    let m = first_group(c, 2)?;
    (!is_placeholder(m.as_bytes())).then_some((m.start(), m.end()))
}

/// `mysql ... -pSECRET` (attached; `-p` alone prompts, and `-p name` names a database).
pub(crate) fn mysql_password(c: &Caps<'_>) -> Option<(usize, usize)> {
    if !command_has_any(
        c,
        &[
            b"mysql",
            b"mysqldump",
            b"mysqladmin",
            b"mariadb",
            b"mariadb-dump",
        ],
    ) {
        return None;
    }
    password_value(c)
}

/// `docker login ... -p SECRET` and the same for other registry clients.
pub(crate) fn registry_login_password(c: &Caps<'_>) -> Option<(usize, usize)> {
    let clients: &[&[u8]] = &[
        b"docker", b"podman", b"nerdctl", b"buildah", b"skopeo", b"helm", b"oras",
    ];
    if !command_has_any(c, &[b"login"]) || !command_has_any(c, clients) {
        return None;
    }
    password_value(c)
}

/// `Authorization: Bearer X` / `Basic X`: the header names the value a credential, so any
/// non-placeholder value is redacted.
pub(crate) fn auth_header(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(1)?;
    let v = m.as_bytes();
    (!v.is_empty() && !is_placeholder(v)).then_some((m.start(), m.end()))
}

/// `Bearer X` without a header name (`-H "Bearer ..."`, a token echoed in output): prose such
/// as "Bearer authentication" must survive, so the value must look like a token: 16+ chars
/// with both letters and digits.
pub(crate) fn bearer_loose(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(1)?;
    let v = m.as_bytes();
    let ok = v.len() >= 16
        && v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_alphabetic)
        && !is_placeholder(v);
    ok.then_some((m.start(), m.end()))
}

/// `Basic X` without a header name, and docker's `"auth": "X"`: X must decode (base64) to
/// printable `user:password`.
pub(crate) fn basic_decodes(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = c.get(1)?;
    let decoded = base64_decode(m.as_bytes())?;
    let printable = decoded.iter().all(|b| (0x20..0x7f).contains(b));
    let colon = decoded.iter().position(|&b| b == b':');
    let ok = printable && matches!(colon, Some(i) if i + 1 < decoded.len());
    ok.then_some((m.start(), m.end()))
}

/// `--password X`, `mysql -pX`, `sshpass -p X`, `.npmrc` `_auth=X`: the flag or file format
/// says it is a password, so any value that is not a placeholder (or another flag) goes.
pub(crate) fn password_value(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = first_group(c, 1)?;
    let v = m.as_bytes();
    let ok = !v.is_empty() && v[0] != b'-' && !is_placeholder(v);
    ok.then_some((m.start(), m.end()))
}

/// `--token X`, `--api-key X`, `--secret X`: these flag names are also used for non-secret
/// things (`--secret my-secret-name`, `--token-limit`), so the value must look like a token.
pub(crate) fn token_flag_value(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = first_group(c, 1)?;
    let v = m.as_bytes();
    let ok = !v.is_empty() && v[0] != b'-' && looks_like_token(v);
    ok.then_some((m.start(), m.end()))
}

/// Whether a variable or key name (lowercase or not) names a password rather than a token or
/// key: password-like values are often short, human-chosen words, so they get a lower bar.
fn names_password(name: &[u8]) -> bool {
    let n = name.to_ascii_lowercase();
    [&b"password"[..], b"passwd", b"passphrase", b"pass", b"pwd"]
        .iter()
        .any(|suffix| n.ends_with(suffix))
}

/// `*_PASSWORD=`, `*_TOKEN=`, `*_SECRET=`, `*_API_KEY=` style assignments (group 1 is the
/// name, groups 2-4 the value, quoted or not). Upper-case environment names are deliberate
/// declarations, so the bar is low: any password that is not a placeholder; for tokens and
/// keys anything that is not a placeholder, a number (`MAX_TOKEN=4096`), a path
/// (`SSH_KEY=/home/u/.ssh/id_ed25519`) or very short.
pub(crate) fn env_assignment(c: &Caps<'_>) -> Option<(usize, usize)> {
    let name = c.get(1)?.as_bytes();
    let m = first_group(c, 2)?;
    let v = m.as_bytes();
    if v.is_empty() || is_placeholder(v) {
        return None;
    }
    let ok = if names_password(name) {
        true
    } else {
        v.len() >= 6 && !v.iter().all(u8::is_ascii_digit) && !looks_like_path(v)
    };
    ok.then_some((m.start(), m.end()))
}

/// Generic `key = value` / `key: value` where the key ends in a secret noun. This is the
/// family that sees source code (`password = None`, `token = get_token()`,
/// `api_key: str = Field(...)`), type annotations and prose, so the value must look like a
/// secret:
/// - never a placeholder, a path, a YAML tag (`!vault`), a code identifier or expression
///   (`self.password`, `os.environ`), or anything with whitespace;
/// - passwords: 6+ chars and not a plain word (a digit, a symbol or mixed case), so
///   `password: hunter2` is redacted while `password: string` is not;
/// - tokens and keys: 8+ chars, Shannon entropy of at least 3.0 bits per char, and either a
///   digit or frequent case changes (random base62), so `api_key = "a8F3kq0Z..."` is redacted
///   and `token: refreshing` is not.
pub(crate) fn generic_secret(c: &Caps<'_>) -> Option<(usize, usize)> {
    let key = c.get(1)?;
    let name = key.as_bytes();
    let m = first_group(c, 2)?;
    let v = m.as_bytes();
    if is_placeholder(v)
        || looks_like_path(v)
        || not_an_assignment(c.hay, (key.start(), key.end()), m.start())
    {
        return None;
    }
    if v.iter().any(u8::is_ascii_whitespace) {
        // Only a quoted password may hold blanks, and then it must not read as a message
        // (`password: "Password is required"`).
        let quoted = m.start() > 0 && matches!(c.hay[m.start() - 1], b'"' | b'\'');
        return (quoted && names_password(name) && phrase_password(v))
            .then_some((m.start(), m.end()));
    }
    // YAML tags (`password: !vault |`) introduce the value on the next lines.
    if v.starts_with(b"!") || looks_like_identifier(v) {
        return None;
    }
    let ok = if names_password(name) {
        v.len() >= 6
            && (v.iter().any(u8::is_ascii_digit)
                || v.iter().any(|b| !b.is_ascii_alphanumeric())
                || (v.iter().any(u8::is_ascii_uppercase) && v.iter().any(u8::is_ascii_lowercase)))
    } else {
        looks_like_token(v)
    };
    ok.then_some((m.start(), m.end()))
}

/// Whether a `key: value` match is really something else: the userinfo of a URL
/// (`https://x-access-token:ghp_...@github.com/...`, which `url-credentials` handles,
/// keeping the host) or a dotted coordinate (`io.jsonwebtoken:jjwt-jackson:0.11.2`).
fn not_an_assignment(hay: &[u8], key: (usize, usize), value_start: usize) -> bool {
    let start = hay[..key.0]
        .iter()
        .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .map_or(0, |i| i + 1);
    let before = &hay[..start];
    // `group.artifact:version`: a dotted name, then `:` directly followed by the value.
    before.ends_with(b"://") || (before.ends_with(b".") && &hay[key.1..value_start] == b":")
}

/// A quoted password with blanks (`"correct horse 42!"`): it must carry a digit or a
/// symbol, and not name itself (`"Enter your password"`), so messages stay.
fn phrase_password(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    let symbol = v
        .iter()
        .any(|b| !b.is_ascii_alphanumeric() && !b" .,!?'-".contains(b));
    (symbol || v.iter().any(u8::is_ascii_digit))
        && v.len() >= 8
        && memchr::memmem::find(&lower, b"pass").is_none()
        && !v.ends_with(b".")
}

/// Values of a key named after a service (`cloudflare: "<key>"`, `sumo_access_id = ...`):
/// the key does not say the value is a secret (`sentry_environment: production`,
/// `heroku_app: my-app-2`), so the value must look machine-made: 14+ token characters and
/// either hex (32+ hex digits, UUIDs included) or random mixed-case with digits.
pub(crate) fn service_secret(c: &Caps<'_>) -> Option<(usize, usize)> {
    let m = first_group(c, 1)?;
    let v = m.as_bytes();
    if v.len() < 14
        || is_placeholder(v)
        || !v
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
    {
        return None;
    }
    let hex_digits = v.iter().filter(|b| b.is_ascii_hexdigit()).count();
    let hex = hex_digits >= 32 && v.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-');
    let random = v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_uppercase)
        && v.iter().any(u8::is_ascii_lowercase)
        && shannon_entropy(v) >= 3.0;
    (hex || random).then_some((m.start(), m.end()))
}

/// A random-looking token: long enough, high enough entropy, not a number or a name.
pub(crate) fn looks_like_token(v: &[u8]) -> bool {
    if v.len() < 8 || is_placeholder(v) || looks_like_path(v) || looks_like_identifier(v) {
        return false;
    }
    if v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if shannon_entropy(v) < 3.0 {
        return false;
    }
    let has_digit = v.iter().any(u8::is_ascii_digit);
    has_digit || case_changes(v) * 10 >= v.len() * 3
}

/// Number of adjacent letter pairs whose case differs: random base62 changes case about every
/// other letter, CamelCase words about once per word.
fn case_changes(v: &[u8]) -> usize {
    v.windows(2)
        .filter(|w| {
            w[0].is_ascii_alphabetic()
                && w[1].is_ascii_alphabetic()
                && w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase()
        })
        .count()
}

/// Shannon entropy in bits per byte.
pub(crate) fn shannon_entropy(v: &[u8]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in v {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * log2(p)
        })
        .sum()
}

/// `x.log2()` for a positive, finite, normal `x`, without libm.
///
/// Why: `f64::log2` is a call into libm, and this was the contract's only one, so every
/// dynamically linked shim loaded libm at start-up (10 page faults) for it. The exponent
/// comes from the bits; the mantissa's logarithm from the series ln m = 2 atanh z,
/// z = (m - 1) / (m + 1) <= 1/3, whose terms shrink ninefold: within a few ulps of libm's.
fn log2(x: f64) -> f64 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let (mut term, mut sum, mut k) = (z, 0.0, 1.0);
    while term > f64::EPSILON * 1e-3 {
        sum += term / k;
        term *= z2;
        k += 2.0;
    }
    exponent as f64 + 2.0 * sum * std::f64::consts::LOG2_E
}

/// Code identifiers and member accesses (`get_token`, `self.password`, `os.environ`,
/// `Config::API_KEY`, `string`): a name made of identifier characters joined by `.` or `::`,
/// with either such a join or no digit at all. `hunter2` (a digit, no join) is not one.
pub(crate) fn looks_like_identifier(v: &[u8]) -> bool {
    // A segment that reads as random (`s.Q8xZ...`, a legacy Vault token) is no name.
    if v.split(|&b| b == b'.').any(|seg| {
        seg.len() >= 16 && seg.iter().any(u8::is_ascii_digit) && case_changes(seg) * 4 >= seg.len()
    }) {
        return false;
    }
    let mut joined = false;
    let mut digits = false;
    let mut i = 0;
    let mut at_start = true;
    while i < v.len() {
        let b = v[i];
        if at_start {
            if !(b.is_ascii_alphabetic() || b == b'_' || b == b'$') {
                return false;
            }
            at_start = false;
        } else if b == b'.' {
            joined = true;
            at_start = true;
        } else if b == b':' && v.get(i + 1) == Some(&b':') {
            joined = true;
            at_start = true;
            i += 1;
        } else if b.is_ascii_digit() {
            digits = true;
        } else if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            // A trailing call `()` still reads as code.
            return &v[i..] == b"()" && (joined || !digits);
        }
        i += 1;
    }
    !at_start && (joined || !digits)
}

/// Absolute, home-relative and explicitly relative paths, and `file:` URLs.
pub(crate) fn looks_like_path(v: &[u8]) -> bool {
    v.starts_with(b"/")
        || v.starts_with(b"~/")
        || v.starts_with(b"./")
        || v.starts_with(b"../")
        || v.starts_with(b"file:")
        || (v.len() > 2 && v[1] == b':' && v[2] == b'\\' && v[0].is_ascii_alphabetic())
}

/// Values that stand for a secret without being one: variable references (`$TOKEN`,
/// `${TOKEN}`, `${{ secrets.X }}`, `%TOKEN%`), templates (`{{ token }}`, `<token>`), masks
/// (`***`, `xxxx`), our own replacement (`[REDACTED:...]`, which keeps redaction idempotent),
/// indirections (`env:VAR`, `file:path`, `stdin` as in `openssl -pass`), AWS's `...EXAMPLE`
/// keys, and a short list of words used as placeholders.
pub(crate) fn is_placeholder(v: &[u8]) -> bool {
    if v.is_empty() {
        return true;
    }
    const PREFIXES: &[&[u8]] = &[b"env:", b"file:", b"fd:", b"pass:$"];
    if starts_like_placeholder(v) || PREFIXES.iter().any(|p| v.starts_with(p)) {
        return true;
    }
    if v.iter().all(|b| b"xX*.-_#".contains(b)) || is_masked(v) {
        return true;
    }
    // Format-string fields: `{password}`, `{api_key}`.
    if let Some(inner) = v.strip_prefix(b"{").and_then(|r| r.strip_suffix(b"}")) {
        if !inner.is_empty()
            && inner
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return true;
        }
    }
    // AWS's documented example credentials (`AKIAIOSFODNN7EXAMPLE`,
    // `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`) and values built the same way.
    if v.ends_with(b"EXAMPLE") || v.ends_with(b"EXAMPLEKEY") {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with(b"your") || lower.starts_with(b"redacted") {
        return true;
    }
    // `xoxb-your-token`, `sk_live_YOUR_KEY_HERE`, `ghp_your_token_here`.
    const MARKERS: &[&[u8]] = &[b"-your-", b"_your_", b"_here", b"-here"];
    if MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&lower, m).is_some())
    {
        return true;
    }
    const WORDS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"true",
        b"false",
        b"yes",
        b"no",
        b"password",
        b"passwd",
        b"secret",
        b"token",
        b"api_key",
        b"apikey",
        b"masked",
        b"hidden",
        b"stdin",
        b"string",
        b"str",
        b"value",
        b"required",
        b"optional",
    ];
    WORDS.contains(&lower.as_slice())
}

/// A token with its random part masked: after the first 4 bytes (a prefix such as `ghp_`,
/// `AKIA`, `sk_live_`), at least half the bytes are `x`, `X` or `*`, or all are one byte
/// repeated (`0000...`). No generated token looks like this (each byte is `x`/`X` with
/// probability 1/31 in base62).
pub(crate) fn is_masked(v: &[u8]) -> bool {
    if v.len() < 12 {
        return false;
    }
    let tail = &v[4..];
    let masks = tail.iter().filter(|b| b"xX*".contains(b)).count();
    let body = tail
        .iter()
        .rposition(|b| matches!(b, b'_' | b'-' | b'.'))
        .map_or(tail, |i| &tail[i + 1..]);
    masks * 2 >= tail.len() || (body.len() >= 8 && body.iter().all(|&b| b == body[0]))
}

/// Variable references and templates by their first bytes: `$`, `<`, `{{`, `%`, and an
/// earlier `[REDACTED:...]` label.
pub(crate) fn starts_like_placeholder(v: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[b"$", b"<", b"{{", b"%", b"[REDACTED"];
    PREFIXES.iter().any(|p| v.starts_with(p))
}

/// Standard or URL-safe base64, padding optional; `None` when `s` is not base64.
pub(crate) fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in s {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "$TOKEN",
            "${TOKEN}",
            "${{ secrets.GITHUB_TOKEN }}",
            "<token>",
            "***",
            "xxxxxxxx",
            "[REDACTED:github-token]",
            "your-api-key",
            "null",
            "%API_KEY%",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in ["hunter2", "a8F3kq0Zr2", "changeme"] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn identifiers() {
        for i in [
            "get_token",
            "self.password",
            "os.environ",
            "Config::API_KEY",
            "string",
            "get_token()",
        ] {
            assert!(looks_like_identifier(i.as_bytes()), "{i}");
        }
        for s in ["hunter2", "a8F3kq0Zr2", "x-9", "pa$$w0rd!", "3abc"] {
            assert!(!looks_like_identifier(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn tokens_need_entropy() {
        assert!(looks_like_token(b"a8F3kq0ZrT5mW2xQ"));
        assert!(looks_like_token(b"QmVhcmVyVG9rZW5YeWdmaGtKbHNk"));
        assert!(!looks_like_token(b"aaaaaaaa1"));
        assert!(!looks_like_token(b"12345678"));
        assert!(!looks_like_token(b"refreshing"));
        assert!(!looks_like_token(b"MyCamelCaseName"));
    }

    #[test]
    fn log2_agrees_with_libm() {
        let mut x = 1e-6;
        while x < 1e6 {
            assert!((log2(x) - x.log2()).abs() < 1e-12, "log2({x})");
            x *= 1.0137;
        }
        for c in 1..=4096u32 {
            for n in [c, c + 1, 2 * c + 7, 4096] {
                let p = f64::from(c) / f64::from(n.max(c));
                assert!((log2(p) - p.log2()).abs() < 1e-12, "log2({c}/{n})");
            }
        }
    }

    #[test]
    fn entropy_values() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64_decode(b"dXNlcjpwYXNzMQ==").unwrap(), b"user:pass1");
        assert!(base64_decode(b"not base64!").is_none());
    }
}
