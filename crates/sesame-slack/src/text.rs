//! The one way text reaches Slack. Every string a person typed (answers, justifications, reasons,
//! comments, display names) and every string from a flow file passes through these helpers, so that
//! it can neither ping a channel, mention someone nor hide a link, and so that it fits Slack's limits.
//!
//! Two kinds of text exist in Block Kit, and this module has a type for each:
//!
//! - [`PlainText`] for `plain_text` objects. Slack shows them literally (no mentions, links or
//!   formatting), so they are only cleaned (control and bidi characters removed, `@channel` defused).
//! - [`Mrkdwn`] for `mrkdwn` objects and message `text`. Slack parses `<…>` sequences there, so user
//!   text is escaped (`&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;`, Slack's own rule). Control
//!   sequences (`<@U…>`, `<https://…|…>`, `<!date^…>`) can only come from [`mention`], [`link`] and
//!   [`Mrkdwn::date`], which check what they are given.
//!
//! Limits count characters (Unicode scalar values), as Slack's validators do, and truncation never
//! cuts inside an entity or a control sequence.

use sesame_core::time::Timestamp;

/// Appended to text that was cut, within the limit.
pub const ELLIPSIS: char = '…';

/// Inserted after the `@` of `@channel`, `@here` and `@everyone`. Escaping `<` and `>` already stops
/// `<!channel>`; the bare words only notify when a message is posted with `link_names` or
/// `parse=full`, which Sesame never sets. The joiner is a second lock on that door: it is invisible
/// and does not break the line, but Slack no longer sees the keyword, whatever flags a future caller
/// passes.
const WORD_JOINER: char = '\u{2060}';

/// The broadcast keywords that notify a whole channel or workspace.
const BROADCAST_WORDS: [&str; 3] = ["channel", "here", "everyone"];

/// Cuts `text` to at most `max_chars` characters, ending with "…" when something was cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max_chars - 1).collect();
    out.push(ELLIPSIS);
    out
}

/// Removes characters that have no business in a chat message: control characters (except line
/// breaks and tabs) and the bidirectional overrides and isolates that can make text read backwards
/// ("Trojan source" tricks such as a name that seems to say "approved").
fn sanitise(text: &str) -> String {
    text.chars()
        .filter(|c| {
            let control = c.is_control() && *c != '\n' && *c != '\t';
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            !control && !bidi
        })
        .collect()
}

/// Inserts a word joiner after the `@` of every broadcast keyword that starts a word.
fn defuse_broadcasts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    for (index, c) in text.char_indices() {
        out.push(c);
        let starts_word = previous.is_none_or(|p| !p.is_alphanumeric());
        if c == '@' && starts_word {
            let rest = &text[index + 1..];
            let is_broadcast = BROADCAST_WORDS.iter().any(|word| {
                rest.get(..word.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(word))
            });
            if is_broadcast {
                out.push(WORD_JOINER);
            }
        }
        previous = Some(c);
    }
    out
}

/// User text made safe for `mrkdwn`: cleaned, broadcasts defused, and `&`, `<`, `>` escaped (in
/// that order, as Slack's formatting reference asks). Formatting characters (`*`, `_`, `~`, `` ` ``)
/// are left alone: they cannot ping, mention or link, and mangling them would spoil the identifiers
/// people type (`db_prod_read`). Sesame never lets user text open a line that the reader could
/// take for a status line: it always follows a fixed label.
pub fn escape(text: &str) -> String {
    let defused = defuse_broadcasts(&sanitise(text));
    let mut out = String::with_capacity(defused.len());
    for c in defused.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
    out
}

/// User text for a `plain_text` object, cut to `max_chars`.
pub fn plain(text: &str, max_chars: usize) -> String {
    truncate(&defuse_broadcasts(&sanitise(text)), max_chars)
}

/// User text for a `mrkdwn` object, escaped first and then cut to `max_chars` without splitting an
/// entity such as `&amp;`.
pub fn mrkdwn_escaped(text: &str, max_chars: usize) -> String {
    truncate_markup(&escape(text), max_chars)
}

/// Cuts escaped mrkdwn without splitting an entity (`&lt;`) or a control sequence (`<@U1>`): a cut
/// inside one would leave Slack a half sequence to misread.
fn truncate_markup(markup: &str, max_chars: usize) -> String {
    if markup.chars().count() <= max_chars {
        return markup.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let budget = max_chars - 1;
    let mut cut_at = 0;
    let mut inside_angle = false;
    let mut inside_entity = 0usize;
    for (count, (byte, c)) in markup.char_indices().enumerate() {
        let at_boundary = !inside_angle && inside_entity == 0;
        if at_boundary {
            if count > budget {
                break;
            }
            cut_at = byte;
        }
        match c {
            '<' if at_boundary => inside_angle = true,
            '>' if inside_angle => inside_angle = false,
            '&' if at_boundary => inside_entity = 1,
            ';' if inside_entity > 0 => inside_entity = 0,
            // Entities are short; a stray `&` must not swallow the rest of the text.
            _ if inside_entity > 0 => {
                inside_entity = if inside_entity > 8 {
                    0
                } else {
                    inside_entity + 1
                }
            }
            _ => {}
        }
    }
    let mut out = markup[..cut_at].to_owned();
    out.push(ELLIPSIS);
    out
}

/// Whether `id` looks like a Slack user id (`U…` or, on Enterprise Grid, `W…`).
pub fn is_slack_user_id(id: &str) -> bool {
    let mut chars = id.chars();
    let starts_right = matches!(chars.next(), Some('U' | 'W'));
    starts_right
        && (3..=32).contains(&id.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A mention of a Slack user: the only way Sesame writes `<@U…>`. Anything that is not a user id is
/// shown as escaped text instead, so a forged id cannot smuggle in `<!channel>`.
pub fn mention(slack_user_id: &str) -> String {
    if is_slack_user_id(slack_user_id) {
        format!("<@{slack_user_id}>")
    } else {
        escape(slack_user_id)
    }
}

/// Why [`link`] refused a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("only http and https links are allowed")]
    NotHttp,
    #[error("the link has no host, or contains spaces or control characters")]
    Malformed,
}

/// A link with an escaped label: `<https://…|label>`. Only http(s) URLs are accepted (no
/// `javascript:`, `slack://` or `mailto:`); `|`, `<` and `>` in the URL are percent-encoded so the
/// URL cannot end the sequence early, and `&` is written as `&amp;` as Slack expects.
pub fn link(url: &str, label: &str) -> Result<String, LinkError> {
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(LinkError::NotHttp);
    };
    if rest.is_empty()
        || rest.starts_with('/')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(LinkError::Malformed);
    }
    let mut target = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '|' => target.push_str("%7C"),
            '<' => target.push_str("%3C"),
            '>' => target.push_str("%3E"),
            '&' => target.push_str("&amp;"),
            other => target.push(other),
        }
    }
    let label = escape(label);
    if label.trim().is_empty() {
        Ok(format!("<{target}>"))
    } else {
        Ok(format!("<{target}|{label}>"))
    }
}

/// Text for a `mrkdwn` object, built only from escaped user text, literals in Sesame's code and the
/// checked control sequences above.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mrkdwn(String);

impl Mrkdwn {
    pub fn new() -> Self {
        Self(String::new())
    }

    /// Fixed text from Sesame's own code. It must not contain user input; the `'static` bound makes
    /// that hard to get wrong by accident.
    pub fn literal(text: &'static str) -> Self {
        Self(text.to_owned())
    }

    pub fn escaped(text: &str) -> Self {
        Self(escape(text))
    }

    pub fn mention(slack_user_id: &str) -> Self {
        Self(mention(slack_user_id))
    }

    /// A link, or the escaped label alone when the URL is refused.
    pub fn link(url: &str, label: &str) -> Self {
        Self(link(url, label).unwrap_or_else(|_| escape(label)))
    }

    /// A date Slack shows in each reader's own time zone, with UTC as the fallback text.
    pub fn date(at: Timestamp) -> Self {
        let seconds = at.millis().div_euclid(1000);
        Self(format!(
            "<!date^{seconds}^{{date_short_pretty}} at {{time}}|{}>",
            utc_minutes(at)
        ))
    }

    pub fn bold(inner: Mrkdwn) -> Self {
        Self(format!("*{}*", inner.0))
    }

    pub fn italic(inner: Mrkdwn) -> Self {
        Self(format!("_{}_", inner.0))
    }

    pub fn then(mut self, next: Mrkdwn) -> Self {
        self.0.push_str(&next.0);
        self
    }

    pub fn then_literal(self, text: &'static str) -> Self {
        self.then(Mrkdwn::literal(text))
    }

    pub fn then_escaped(self, text: &str) -> Self {
        self.then(Mrkdwn::escaped(text))
    }

    pub fn join(parts: impl IntoIterator<Item = Mrkdwn>, separator: &'static str) -> Self {
        let parts: Vec<String> = parts.into_iter().map(|p| p.0).collect();
        Self(parts.join(separator))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// At most `max_chars` characters, never cutting inside an entity or a control sequence.
    pub fn truncated(&self, max_chars: usize) -> Mrkdwn {
        Mrkdwn(truncate_markup(&self.0, max_chars))
    }
}

/// Text for a `plain_text` object: cleaned, not escaped (Slack shows it literally).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlainText(String);

impl PlainText {
    pub fn new(text: &str) -> Self {
        Self(defuse_broadcasts(&sanitise(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn truncated(&self, max_chars: usize) -> PlainText {
        PlainText(truncate(&self.0, max_chars))
    }
}

impl From<&str> for PlainText {
    fn from(text: &str) -> Self {
        PlainText::new(text)
    }
}

impl From<String> for PlainText {
    fn from(text: String) -> Self {
        PlainText::new(&text)
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

/// "2026-12-01 17:00 UTC", for fallback texts and notifications where Slack cannot localise dates.
pub fn utc_minutes(at: Timestamp) -> String {
    let format = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    ::time::OffsetDateTime::from_unix_timestamp(at.millis().div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| at.to_rfc3339())
}

#[cfg(test)]
mod tests;
