//! Feedback detection: whether a user prompt tells the agent its last turn went well or badly.
//!
//! The shim runs [`detect`] on the **redacted** prompt text of every `UserPromptSubmit` and
//! stores only the verdict in the record's `feedback` field (prompts themselves are never
//! stored). The analyzer attributes the verdict to the turn *before* the prompt: "thanks, works
//! now" is about what the agent just did.
//!
//! The detector is deliberately small and predictable — a documented phrase list, not a
//! model — so that a figure in the run log can always be traced back to a phrase:
//!
//! * Text is lower-cased and typographic apostrophes (`’`) become `'`.
//! * A phrase matches only on word boundaries: `nice` matches "nice, thanks" but not
//!   "venice"; `undo` does not match "undone".
//! * A positive phrase directly preceded by a negation (`not`, `no`, `never`, or a word
//!   ending in `n't`) does not count: "not great" is not praise.
//! * [`NEGATIVE_AT_START`] phrases only count at the very start of the prompt ("No, use the
//!   other file"), because "no," mid-sentence is usually not a correction.
//! * When both kinds occur, the prompt is **negative**: "thanks, but that's wrong" is a
//!   correction, and missing a correction costs more than missing praise.
//!
//! The phrase lists are reproduced in `docs/closed-loop.md`; change both together.

use crate::record::Feedback;

/// Phrases that mark a prompt as positive feedback on the previous turn.
pub const POSITIVE: &[&str] = &[
    "thanks",
    "thank you",
    "thx",
    "perfect",
    "great",
    "works now",
    "working now",
    "that works",
    "it works",
    "lgtm",
    "looks good",
    "nice",
    "awesome",
    "excellent",
    "well done",
];

/// Phrases that mark a prompt as negative feedback (a correction) anywhere in the text.
pub const NEGATIVE: &[&str] = &[
    "that's wrong",
    "that is wrong",
    "this is wrong",
    "doesn't work",
    "does not work",
    "didn't work",
    "did not work",
    "still failing",
    "still fails",
    "still broken",
    "not what i asked",
    "undo",
    "revert",
    "wrong file",
];

/// Negative phrases that only count at the start of the prompt.
pub const NEGATIVE_AT_START: &[&str] = &["no,", "no.", "no!", "nope"];

/// Words that cancel a positive phrase right after them.
const NEGATIONS: &[&str] = &["not", "no", "never"];

/// Detects feedback in a (redacted) prompt. See the module documentation for the rules.
pub fn detect(prompt: &str) -> Option<Feedback> {
    let text = normalize(prompt);
    let start = text.trim_start();
    let negative = NEGATIVE_AT_START.iter().any(|p| {
        start.starts_with(p)
            && (p.ends_with(|c: char| c.is_ascii_punctuation()) || boundary_after(start, p.len()))
    }) || NEGATIVE
        .iter()
        .any(|p| find_word(&text, p).next().is_some());
    if negative {
        return Some(Feedback::Negative);
    }
    let positive = POSITIVE
        .iter()
        .any(|p| find_word(&text, p).any(|at| !negated(&text[..at])));
    positive.then_some(Feedback::Positive)
}

fn normalize(prompt: &str) -> String {
    prompt.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'")
}

/// Byte offsets where `phrase` occurs in `text` on word boundaries.
fn find_word<'a>(text: &'a str, phrase: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(phrase)
        .map(|(at, _)| at)
        .filter(move |&at| boundary_before(text, at) && boundary_after(text, at + phrase.len()))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn boundary_before(text: &str, at: usize) -> bool {
    !text[..at].chars().next_back().is_some_and(is_word_char)
}

fn boundary_after(text: &str, at: usize) -> bool {
    !text[at..].chars().next().is_some_and(is_word_char)
}

/// Whether the word right before a phrase negates it ("not great", "isn't perfect").
fn negated(before: &str) -> bool {
    let Some(word) = before
        .trim_end()
        .rsplit(|c: char| !(is_word_char(c) || c == '\''))
        .next()
    else {
        return false;
    };
    NEGATIONS.contains(&word) || word.ends_with("n't")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_phrases() {
        for p in [
            "Thanks!",
            "perfect, now add docs",
            "great",
            "ok it works now",
            "LGTM",
            "nice.",
            "Thank you — next task",
        ] {
            assert_eq!(detect(p), Some(Feedback::Positive), "{p}");
        }
    }

    #[test]
    fn negative_phrases() {
        for p in [
            "That's wrong, use the other API",
            "that\u{2019}s wrong",
            "it doesn't work",
            "tests still failing",
            "No, I meant the CLI",
            "nope",
            "please undo that",
            "revert the last change",
        ] {
            assert_eq!(detect(p), Some(Feedback::Negative), "{p}");
        }
    }

    #[test]
    fn negative_wins_over_positive() {
        assert_eq!(
            detect("thanks, but it still fails"),
            Some(Feedback::Negative)
        );
    }

    #[test]
    fn word_boundaries_and_negation() {
        for p in [
            "add a venice test",  // "nice" inside a word
            "the undone items",   // "undo" inside a word
            "this is not great",  // negated praise
            "it isn't perfect",   // negated praise
            "say no, to nothing", // "no," only counts at the start
            "write a function that parses dates",
            "",
        ] {
            assert_eq!(detect(p), None, "{p}");
        }
    }

    #[test]
    fn redaction_markers_do_not_confuse_it() {
        assert_eq!(
            detect("thanks, token is [REDACTED:github_token]"),
            Some(Feedback::Positive)
        );
    }
}
