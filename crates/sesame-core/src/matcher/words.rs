//! How common a word is in each of the four languages the matcher reads (English, Spanish, French
//! and German), from frequency lists shipped as data (`words/*.txt`, derived from wordfreq by
//! `scripts/common-words.py`; CC-BY-SA 4.0, see `words/README.md`).
//!
//! The matcher uses it to leave ordinary words alone: a common word is not a typo ("send" is not
//! "spend", "stack" is not "slack"), nor a compound to split ("password" is not pass + word), an
//! everyday word that a synonym maps to a product concept ("car" -> parking, "screen" -> monitor)
//! is only a hint, and filler words do not count against how much of a message a flow explains.
//! It also tells a German message from others, since only German compounds are split.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The languages with a list, in the order of `Ranks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Language {
    English,
    Spanish,
    French,
    German,
}

const LANGUAGES: [Language; 4] = [
    Language::English,
    Language::Spanish,
    Language::French,
    Language::German,
];

const LISTS: [&str; 4] = [
    include_str!("words/en.txt"),
    include_str!("words/es.txt"),
    include_str!("words/fr.txt"),
    include_str!("words/de.txt"),
];

/// A word's rank in each language (1 = most frequent), 0 when it is not in that list.
type Ranks = [u16; 4];

/// Words among this many of a language's most frequent count as common: not typos, not compounds.
pub(super) const COMMON: u32 = 25_000;
/// Words among this many are everyday words: a synonym mapping one to a product concept is only
/// a hint, and they say little about which flow is meant.
pub(super) const EVERYDAY: u32 = 5_000;
/// Words among this many are the most general of all ("new", "group"): even in a flow's own name
/// they only hint.
pub(super) const GENERAL: u32 = 300;
/// A word among this many of one language and none of the others' first `DISTINCT` tells which
/// language a message is in.
const TELLING: u32 = 1_000;
const DISTINCT: u32 = 5_000;

fn table() -> &'static HashMap<&'static str, Ranks> {
    static TABLE: OnceLock<HashMap<&'static str, Ranks>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: HashMap<&'static str, Ranks> = HashMap::with_capacity(70_000);
        for (n, list) in LISTS.iter().enumerate() {
            let words = list
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'));
            for (rank, word) in words.enumerate() {
                let ranks = table.entry(word).or_default();
                if ranks[n] == 0 {
                    ranks[n] = u16::try_from(rank + 1).unwrap_or(u16::MAX);
                }
            }
        }
        table
    })
}

/// The word's best (lowest) rank in any of the four languages.
pub(super) fn rank(word: &str) -> Option<u32> {
    table().get(word).and_then(|ranks| {
        ranks
            .iter()
            .filter(|r| **r > 0)
            .map(|r| u32::from(*r))
            .min()
    })
}

/// Whether `word` is among the first `within` words of any of the four languages.
pub(super) fn is_within(word: &str, within: u32) -> bool {
    rank(word).is_some_and(|r| r <= within)
}

/// Whether `word` is among the first `within` words of `language`.
pub(super) fn is_within_in(word: &str, language: Language, within: u32) -> bool {
    let n = LANGUAGES.iter().position(|l| *l == language).unwrap_or(0);
    table()
        .get(word)
        .is_some_and(|ranks| ranks[n] > 0 && u32::from(ranks[n]) <= within)
}

/// The language the folded `words` are written in, when some of them tell.
pub(super) fn language<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Language> {
    let mut votes = [0usize; 4];
    let table = table();
    for word in words {
        let Some(ranks) = table.get(word) else {
            continue;
        };
        let within = |r: u16, limit: u32| r > 0 && u32::from(r) <= limit;
        for n in 0..4 {
            let others = (0..4).filter(|m| *m != n);
            if within(ranks[n], TELLING) && others.clone().all(|m| !within(ranks[m], DISTINCT)) {
                votes[n] += 1;
            }
        }
    }
    let best = *votes.iter().max()?;
    let winners: Vec<usize> = (0..4).filter(|n| votes[*n] == best).collect();
    (best > 0 && winners.len() == 1).then(|| LANGUAGES[winners[0]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_are_known_in_their_languages() {
        for word in [
            "password", "send", "stack", "code", "page", "patch", "car", "screen",
        ] {
            assert!(is_within(word, COMMON), "{word}");
        }
        for word in ["salesfroce", "kubernetes", "produktionsdatenbank"] {
            assert!(!is_within(word, COMMON), "{word}");
        }
        assert!(is_within("car", EVERYDAY) && !is_within("kubectl", EVERYDAY));
        assert!(is_within("new", GENERAL) && !is_within("laptop", GENERAL));
    }

    #[test]
    fn the_language_of_a_message_is_told_by_its_common_words() {
        let of = |text: &str| language(text.split(' '));
        assert_eq!(
            of("ich brauche einen zugang zur datenbank"),
            Some(Language::German)
        );
        assert_eq!(
            of("necesito acceso a la base de datos"),
            Some(Language::Spanish)
        );
        assert_eq!(of("j ai besoin d un acces"), Some(Language::French));
        assert_eq!(
            of("i need the password for the wiki"),
            Some(Language::English)
        );
        assert_eq!(of("produktionsdatenbank"), None);
    }
}
