//! Turning chat text into comparable tokens: lower case, accents folded away, emoji codes and
//! punctuation split off, ticket references left out.
//!
//! People type "Producción", "produccion" and "PRODUCCION" for the same word, so everything is
//! compared folded. Emoji codes (`:car:`, `:credit_card:`) need no special case: colons and
//! underscores separate tokens, so `:credit_card:` reads as "credit card" and greetings such as
//! `:wave:` fall to the stop words.

/// One token: the folded word and where it came from in the original text (for reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Lower case without accents: "Führerschein" -> "fuhrerschein", "ß" -> "ss", "œ" -> "oe".
pub(super) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        for lower in c.to_lowercase() {
            push_folded(&mut out, lower);
        }
    }
    out
}

fn push_folded(out: &mut String, c: char) {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
        'ý' | 'ÿ' => 'y',
        'ł' => 'l',
        'ś' | 'š' => 's',
        'ź' | 'ż' | 'ž' => 'z',
        'ß' => return out.push_str("ss"),
        'æ' => return out.push_str("ae"),
        'œ' => return out.push_str("oe"),
        // Curly apostrophes separate like straight ones ("j’ai").
        '’' | '‘' => '\'',
        other => other,
    };
    out.push(plain);
}

/// The folded words of `text`, in order. Characters other than letters and digits separate
/// words; words that are ticket references ("INC-4411") are skipped, since they say nothing about
/// which flow is meant (the extractor picks them up instead).
pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (start, word) in words_with_offsets(text, char::is_whitespace) {
        let trimmed = word.trim_matches(|c: char| !c.is_alphanumeric());
        if is_ticket(trimmed) {
            continue;
        }
        for (inner, piece) in words_with_offsets(word, |c: char| !c.is_alphanumeric()) {
            let folded = fold(piece);
            tokens.push(Token {
                text: folded,
                start: start + inner,
                end: start + inner + piece.len(),
            });
        }
    }
    tokens
}

fn words_with_offsets(text: &str, separator: fn(char) -> bool) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (separator(c), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// `ABC-123` (letters, a dash, digits), or `ABC123` when the letters are upper case in the
/// original: people paste ticket keys as they appear in the tracker.
pub(super) fn is_ticket(word: &str) -> bool {
    let letters: String = word.chars().take_while(char::is_ascii_alphabetic).collect();
    let rest = &word[letters.len()..];
    let digits = rest.strip_prefix('-').unwrap_or(rest);
    let dashed = rest.starts_with('-');
    (2..=10).contains(&letters.len())
        && !digits.is_empty()
        && digits.len() <= 9
        && digits.chars().all(|c| c.is_ascii_digit())
        && (dashed || (letters.chars().all(|c| c.is_ascii_uppercase()) && digits.len() >= 2))
}

/// Plural and simple inflection variants to try when a word is not known as typed:
/// "servers" -> "server", "servidores" -> "servidor", "policies" -> "policy".
pub(super) fn variants(word: &str) -> impl Iterator<Item = String> + '_ {
    let n = word.len();
    let s =
        (n > 3 && word.ends_with('s') && !word.ends_with("ss")).then(|| word[..n - 1].to_owned());
    let es = (n > 4 && word.ends_with("es")).then(|| word[..n - 2].to_owned());
    let ies = (n > 4 && word.ends_with("ies")).then(|| format!("{}y", &word[..n - 3]));
    let en = (n > 5 && word.ends_with("en")).then(|| word[..n - 2].to_owned());
    let e = (n > 4 && word.ends_with('e')).then(|| word[..n - 1].to_owned());
    [s, es, ies, en, e].into_iter().flatten()
}

/// The form an otherwise unknown word is stored under, so that "logs" and "log" meet.
pub(super) fn stem(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        format!("{}y", &word[..n - 3])
    } else if n > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        word[..n - 1].to_owned()
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_accents() {
        assert_eq!(
            fold("Producción Büro Straße Œuvre"),
            "produccion buro strasse oeuvre"
        );
    }

    #[test]
    fn emoji_codes_and_punctuation_split_and_tickets_are_skipped() {
        let words: Vec<String> = tokenize("hi :credit_card: read-only, INC-4411 pls!")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(words, ["hi", "credit", "card", "read", "only", "pls"]);
        assert!(is_ticket("JIRA-123") && is_ticket("INC4411") && !is_ticket("k8s"));
        assert!(!is_ticket("2fa") && !is_ticket("ci-cd"));
    }

    #[test]
    fn offsets_point_back_into_the_original() {
        let text = "Necesito el portátil";
        let token = &tokenize(text)[2];
        assert_eq!(&text[token.start..token.end], "portátil");
        assert_eq!(token.text, "portatil");
    }
}
