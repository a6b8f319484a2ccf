//! What a person typed, as words: Slack sends message and command text as mrkdwn, with mentions,
//! channel links, links and formatting written as markup (`<@U0CAROL>`, `<#C1|general>`,
//! `<https://wiki|the wiki page>`, `*bold*`, `&amp;`). The matcher should read what a person reads,
//! so the markup is turned back into that text before matching, and nobody's member id, a URL's
//! path or an asterisk counts as a word.

/// `markup` as the words a reader sees: mentions of people and groups and broadcasts dropped,
/// channels as `#name`, links as their label (or the address when there is none), formatting marks
/// and entities undone, whitespace collapsed.
pub fn as_typed(markup: &str) -> String {
    let mut out = String::with_capacity(markup.len());
    let mut rest = markup;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        out.push(' ');
        out.push_str(&sequence_text(&after[..close]));
        out.push(' ');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    let unformatted: String = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .chars()
        .map(|c| {
            if matches!(c, '*' | '_' | '~' | '`') {
                ' '
            } else {
                c
            }
        })
        .collect();
    unformatted.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The readable part of one `<…>` sequence.
fn sequence_text(inner: &str) -> String {
    let (target, label) = match inner.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (inner, None),
    };
    match target.chars().next() {
        // A person (`@U…`), a user group or broadcast (`!subteam^…`, `!here`): nobody's name
        // is what they ask for.
        Some('@') | Some('!') => String::new(),
        Some('#') => label.map(|l| format!("#{l}")).unwrap_or_default(),
        _ => label
            .map(str::to_owned)
            .unwrap_or_else(|| target.trim_start_matches("mailto:").to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::as_typed;

    #[test]
    fn markup_becomes_the_words_a_reader_sees() {
        for (markup, typed) in [
            (
                "<@U0SESAMEBOT> I need *carpark* access",
                "I need carpark access",
            ),
            (
                "access for <@U0CAROL|carol> to _the VPN_",
                "access for to the VPN",
            ),
            (
                "see <https://wiki.example.com/x|the parking page> please",
                "see the parking page please",
            ),
            (
                "<https://github.com/org> admin",
                "https://github.com/org admin",
            ),
            (
                "post in <#C123|it-help> &amp; <!here>",
                "post in #it-help & ",
            ),
            ("`psql` write on ~prod~ db", "psql write on prod db"),
            (
                "mail <mailto:ops@example.com|ops@example.com>",
                "mail ops@example.com",
            ),
            ("a < b and <unclosed", "a < b and <unclosed"),
            ("<!subteam^S1|@oncall> need prod", "need prod"),
        ] {
            assert_eq!(as_typed(markup), typed.trim(), "{markup}");
        }
    }
}
