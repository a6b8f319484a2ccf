//! Text in cards. People's words (answers, reasons, comments, names) never go through Adaptive
//! Cards' markdown: they become `TextRun`s of a `RichTextBlock`, which clients show as written, so
//! `**x**`, `[x](https://evil)` or `<at>x</at>` stay literal. Sesame's own emphasis and links are
//! `TextRun` properties. Where a field is markdown by definition (a `TextBlock`), [`escape_markdown`]
//! backslash-escapes what markdown would read. Everything is cut to a bound first, so a card's size
//! follows from its structure.

use serde_json::{json, Value};
use sesame_core::time::Timestamp;

/// The most characters of one person-written text a card shows (an answer, a reason).
pub const MAX_TEXT_CHARS: usize = 600;
/// The most characters of a name or a label.
pub const MAX_NAME_CHARS: usize = 120;

/// Cuts `text` to `max_chars` characters, ending in an ellipsis when something was cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Backslash-escapes what Adaptive Cards' markdown subset (and Teams' reading of it) gives a
/// meaning: emphasis, links, code, strike-through, tables, the angle brackets of HTML and `<at>`
/// mentions anywhere, and a list or heading marker at the start. Line breaks become spaces, so
/// that no later line can start a list or a heading either.
pub fn escape_markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '<' | '>' | '*' | '_' | '[' | ']' | '(' | ')' | '`' | '~' | '|' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\r' | '\n' => escaped.push(' '),
            other => escaped.push(other),
        }
    }
    // A list ("- x", "+ x", "1. x") or a heading ("# x") at the start.
    if escaped.starts_with(['#', '-', '+']) {
        escaped.insert(0, '\\');
    } else if let Some((digits, _)) = escaped.split_once('.') {
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let at = digits.len();
            escaped.insert(at, '\\');
        }
    }
    escaped
}

/// One piece of a [`rich`] line.
#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    /// Shown exactly as written (after truncation).
    Plain(String),
    Bold(String),
    /// Muted, for asides ("Why you: …").
    Subtle(String),
    /// Red, for problems ("Not recorded: …").
    Attention(String),
    /// A link whose label is plain text; the URL is Sesame's own (the portal).
    Link {
        label: String,
        url: String,
    },
}

impl Run {
    pub fn plain(text: &str) -> Run {
        Run::Plain(truncate(text, MAX_TEXT_CHARS))
    }

    pub fn bold(text: &str) -> Run {
        Run::Bold(truncate(text, MAX_NAME_CHARS))
    }

    pub fn subtle(text: &str) -> Run {
        Run::Subtle(truncate(text, MAX_TEXT_CHARS))
    }

    pub fn attention(text: &str) -> Run {
        Run::Attention(truncate(text, MAX_TEXT_CHARS))
    }

    pub fn link(label: &str, url: &str) -> Run {
        Run::Link {
            label: truncate(label, MAX_NAME_CHARS),
            url: url.to_owned(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Run::Plain(text) => json!({ "type": "TextRun", "text": text }),
            Run::Bold(text) => json!({ "type": "TextRun", "text": text, "weight": "Bolder" }),
            Run::Subtle(text) => json!({ "type": "TextRun", "text": text, "isSubtle": true }),
            Run::Attention(text) => {
                json!({ "type": "TextRun", "text": text, "color": "Attention", "weight": "Bolder" })
            }
            Run::Link { label, url } => json!({
                "type": "TextRun",
                "text": label,
                "color": "Accent",
                "underline": true,
                "selectAction": { "type": "Action.OpenUrl", "url": url, "title": label },
            }),
        }
    }
}

/// A paragraph of runs: a `RichTextBlock`, which never reads markdown.
pub fn rich(runs: &[Run]) -> Value {
    let inlines: Vec<Value> = runs.iter().map(Run::to_json).collect();
    json!({ "type": "RichTextBlock", "inlines": inlines })
}

/// A line of Sesame's own text (never a person's) as a wrapped `TextBlock`; escaped all the same.
pub fn note(text: &str) -> Value {
    json!({ "type": "TextBlock", "text": escape_markdown(text), "wrap": true })
}

/// A heading of Sesame's own words plus a person-supplied part, e.g. a flow name.
pub fn heading(text: &str) -> Value {
    json!({
        "type": "TextBlock",
        "text": escape_markdown(&truncate(text, MAX_NAME_CHARS)),
        "wrap": true,
        "size": "Medium",
        "weight": "Bolder",
    })
}

/// "2026-12-01 17:00 UTC": cards cannot localise a date inside a `TextRun`.
pub fn utc_minutes(at: Timestamp) -> String {
    let rfc = at.to_rfc3339();
    // `YYYY-MM-DDTHH:MM:SS...`: the date and the minutes.
    match (rfc.get(..10), rfc.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc,
    }
}

/// A number as people write it: `8`, not `8.0`.
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::time::Span;

    #[test]
    fn markdown_is_escaped_and_lines_are_joined() {
        assert_eq!(
            escape_markdown("**bold** [x](https://evil.test) <at>Bob</at>\n- item."),
            r"\*\*bold\*\* \[x\]\(https://evil.test\) \<at\>Bob\</at\> - item."
        );
        assert_eq!(escape_markdown("- starts a list"), r"\- starts a list");
        assert_eq!(
            escape_markdown("12. starts one too"),
            r"12\. starts one too"
        );
        assert_eq!(escape_markdown("# heading"), r"\# heading");
        assert_eq!(escape_markdown("Plain words, done."), "Plain words, done.");
    }

    #[test]
    fn runs_keep_text_as_written_and_bounded() {
        let line = rich(&[Run::plain("[click](https://evil.test) **now**")]);
        assert_eq!(
            line["inlines"][0]["text"],
            "[click](https://evil.test) **now**"
        );
        assert!(line["inlines"][0].get("selectAction").is_none());
        let long = "x".repeat(MAX_TEXT_CHARS + 50);
        assert_eq!(
            truncate(&long, MAX_TEXT_CHARS).chars().count(),
            MAX_TEXT_CHARS
        );
        assert!(truncate(&long, 10).ends_with('…'));
    }

    #[test]
    fn spans_dates_and_numbers_read_naturally() {
        assert_eq!(Span::parse("2w").unwrap().in_words(), "2 weeks");
        assert_eq!(Span::parse("1h").unwrap().in_words(), "1 hour");
        assert_eq!(
            utc_minutes(Timestamp(1_767_603_600_000)),
            "2026-01-05 09:00 UTC"
        );
        assert_eq!(format_number(8.0), "8");
        assert_eq!(format_number(2.5), "2.5");
    }
}
