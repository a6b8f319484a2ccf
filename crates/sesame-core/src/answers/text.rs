//! Free text as people will read it: answers, justifications, comments, reasons and notes all pass
//! through here, whatever surface they came from (API, Slack, Teams, portal).
//!
//! - U+0000 is refused: PostgreSQL cannot store it in text, and no person means to type it.
//!   Other C0 control characters (except tab, line feed and carriage return) are refused too: they
//!   have no meaning in a form and can drive a terminal that shows an audit export.
//! - Bidirectional controls (embeddings, overrides, isolates, and the directional marks) are
//!   removed, so that text cannot be shown reordered to an approver ("Trojan Source": a
//!   justification that reads differently from what was stored).
//! - Text made only of whitespace and invisible characters (zero-width space, word joiner, byte
//!   order mark, ...) counts as empty, so it never satisfies a required field, and such characters
//!   are trimmed from both ends.

use super::FieldError;

/// Why a text cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// A control character that is not tab, line feed or carriage return, such as U+0000.
    Control(char),
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::Control('\0') => {
                f.write_str("contains the NUL character (U+0000), which is not allowed in text")
            }
            TextError::Control(c) => write!(
                f,
                "contains the control character U+{:04X}, which is not allowed in text",
                u32::from(*c)
            ),
        }
    }
}

/// Characters that can reorder how text is displayed: LRM, RLM and ALM, the embeddings and
/// overrides (U+202A to U+202E) and the isolates (U+2066 to U+2069).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing by themselves: zero-width spaces, joiners and non-joiners, the
/// word joiner and invisible operators, the byte order mark, the soft hyphen, fillers, variation
/// selectors and tags. Inside text some carry meaning (a joiner in an emoji sequence), so they are
/// only trimmed from the ends and never make a text non-empty.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    ) || is_bidi_control(c)
}

fn is_blank_char(c: char) -> bool {
    c.is_whitespace() || is_invisible(c)
}

/// Whether a text has nothing a person could see.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_blank_char)
}

/// The text without bidirectional controls and without whitespace or invisible characters at
/// either end; an error for a control character.
pub fn clean(text: &str) -> Result<String, TextError> {
    if let Some(c) = text
        .chars()
        .find(|c| u32::from(*c) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(TextError::Control(c));
    }
    let kept: String = text.chars().filter(|c| !is_bidi_control(*c)).collect();
    Ok(kept.trim_matches(is_blank_char).to_owned())
}

/// An optional free-text field (a comment, a note, a reason): cleaned, absent when blank, at most
/// `max` characters. `field` names it in the error.
pub fn optional(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let text = clean(text).map_err(|e| FieldError::new(field, e.to_string()))?;
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(Some(text))
}

/// A required free-text field: as [`optional`], and blank text is refused with "`what` is
/// required".
pub fn required(field: &str, text: &str, max: usize, what: &str) -> Result<String, FieldError> {
    optional(field, Some(text), max)?
        .ok_or_else(|| FieldError::new(field, format!("{what} is required")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_only_text_is_blank_and_visible_text_is_not() {
        for blank in [
            "",
            "   ",
            "\u{200B}",
            "\u{2060}\u{FEFF}",
            " \u{200B}\t\u{200D} ",
            "\u{00AD}\u{3164}",
            "\u{202E}\u{2066}",
            "\u{E0041}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
            assert_eq!(clean(blank).unwrap(), "", "{blank:?}");
        }
        for visible in ["a", "\u{200B}x\u{200B}", "👩\u{200D}💻", "تم"] {
            assert!(!is_blank(visible), "{visible:?}");
        }
    }

    #[test]
    fn cleaning_trims_invisible_ends_and_removes_bidi_controls_anywhere() {
        assert_eq!(clean("\u{FEFF} hello \u{200B}").unwrap(), "hello");
        // "Trojan Source": an override that would show "approve" reversed is dropped.
        assert_eq!(
            clean("ok \u{202E}evorppa\u{202C} done").unwrap(),
            "ok evorppa done"
        );
        assert_eq!(
            clean("a\u{2066}b\u{2069}c\u{200E}d\u{200F}e\u{061C}").unwrap(),
            "abcde"
        );
        // A joiner inside an emoji sequence is kept; only the ends are trimmed.
        assert_eq!(clean("👩\u{200D}💻").unwrap(), "👩\u{200D}💻");
        assert_eq!(clean("two\nlines\tand tab").unwrap(), "two\nlines\tand tab");
    }

    #[test]
    fn control_characters_are_refused_with_their_code_point() {
        let nul = clean("a\0b").unwrap_err();
        assert_eq!(nul, TextError::Control('\0'));
        assert!(nul.to_string().contains("U+0000"), "{nul}");
        assert!(clean("bell\u{7}")
            .unwrap_err()
            .to_string()
            .contains("U+0007"));
        assert!(clean("\u{1b}[31mred").is_err());
    }

    #[test]
    fn required_and_optional_fields_name_themselves() {
        assert_eq!(
            required("text", "\u{200B} \u{2060}", 10, "the comment's text"),
            Err(FieldError::new("text", "the comment's text is required"))
        );
        assert_eq!(optional("note", Some("\u{FEFF}"), 10), Ok(None));
        assert_eq!(optional("note", None, 10), Ok(None));
        assert_eq!(
            optional("note", Some("0123456789x"), 10),
            Err(FieldError::new("note", "must be at most 10 characters"))
        );
        assert_eq!(
            optional("reason", Some("x\0"), 10).unwrap_err().field,
            "reason"
        );
        assert_eq!(
            required("reason", " fine ", 10, "a reason").unwrap(),
            "fine"
        );
    }
}
