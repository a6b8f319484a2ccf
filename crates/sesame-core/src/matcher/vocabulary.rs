//! The vocabulary: which words mean the same thing in access requests ("prod", "live",
//! "producción" -> production), which hint at something, which carry no meaning ("pls", "hola"),
//! and which concepts rule each other out (staging vs production).
//!
//! Sesame ships one (`vocabulary.yaml`, compiled in) and configuration can extend it with the same
//! format, passed in as text: the core reads no files.

use super::normalize::fold;
use super::words;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Words and what they mean, in the format of `vocabulary.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Concept -> words and phrases that mean it.
    #[serde(default)]
    pub synonyms: BTreeMap<String, Vec<String>>,
    /// Concept -> words that hint at it more weakly.
    #[serde(default)]
    pub related: BTreeMap<String, Vec<String>>,
    /// Words that carry no meaning in a request.
    #[serde(default)]
    pub stop_words: Vec<String>,
    /// Sets of concepts that rule each other out in a flow's name or keywords.
    #[serde(default)]
    pub exclusive: Vec<Vec<String>>,
    /// Concepts that must be asked for: flows granting them rank below plainer neighbours when
    /// the message does not mention them (least privilege by default).
    #[serde(default)]
    pub elevated: Vec<String>,
    /// Words and phrases that say a message is not a request for access.
    #[serde(default)]
    pub not_a_request: NotARequest,
}

/// What says a message is not asking for access (it lowers the matcher's confidence): resets and
/// unlocks, troubleshooting and status questions, unless the message also asks for something.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotARequest {
    /// Password, MFA and account resets and unlocks, removals: never a proposal, unless the flow itself
    /// is about them.
    #[serde(default)]
    pub resets: Vec<String>,
    /// Troubleshooting, status questions, "how do I": no proposal unless the message also asks
    /// for something (`asking`) or the flow is about it.
    #[serde(default)]
    pub problems: Vec<String>,
    /// Words that ask for something ("need", "get", "request", "necesito").
    #[serde(default)]
    pub asking: Vec<String>,
}

/// Why a vocabulary text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the matcher vocabulary is not valid: {0}")]
pub struct VocabularyError(pub String);

const BUILTIN: &str = include_str!("vocabulary.yaml");

impl Vocabulary {
    /// The built-in vocabulary (English, Spanish, French and German access-request language).
    ///
    /// Everyday words among its synonyms ("car" for parking, "screen" for monitor, "mobile" for
    /// phone) are read as hints only: in another company, or another sentence, they mean
    /// something else. A site's own vocabulary is taken as written.
    pub fn builtin() -> Vocabulary {
        static PARSED: OnceLock<Vocabulary> = OnceLock::new();
        PARSED
            .get_or_init(|| {
                let mut vocabulary =
                    Vocabulary::from_yaml(BUILTIN).expect("the built-in vocabulary parses");
                vocabulary.demote_everyday_synonyms();
                vocabulary
            })
            .clone()
    }

    /// Moves one-word synonyms that are everyday English words, and not a form of the concept's
    /// own name ("visitors", "read" for readonly), to `related`.
    fn demote_everyday_synonyms(&mut self) {
        for (concept, list) in &mut self.synonyms {
            let name = fold(concept);
            let (everyday, kept): (Vec<String>, Vec<String>) = list.drain(..).partition(|w| {
                let w = fold(w);
                let shared = w
                    .chars()
                    .zip(name.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                let same_word = shared >= w.len().min(4);
                !w.contains(' ')
                    && !same_word
                    && words::is_within_in(&w, words::Language::English, words::EVERYDAY)
            });
            *list = kept;
            if !everyday.is_empty() {
                self.related
                    .entry(concept.clone())
                    .or_default()
                    .extend(everyday);
            }
        }
    }

    /// The synonyms `demote_everyday_synonyms` reads as hints, for review.
    #[cfg(test)]
    pub(super) fn everyday_synonyms(&self) -> Vec<(String, String)> {
        let builtin = Vocabulary::from_yaml(BUILTIN).expect("the built-in vocabulary parses");
        let mut out = Vec::new();
        for (concept, list) in &builtin.synonyms {
            for w in list {
                if !self.synonyms[concept].contains(w) {
                    out.push((concept.clone(), w.clone()));
                }
            }
        }
        out
    }

    /// Parses a vocabulary written in the format of `vocabulary.yaml`.
    pub fn from_yaml(text: &str) -> Result<Vocabulary, VocabularyError> {
        if text.trim().is_empty() {
            return Ok(Vocabulary::default());
        }
        let vocabulary: Vocabulary =
            serde_yaml::from_str(text).map_err(|e| VocabularyError(e.to_string()))?;
        let blank = |w: &String| w.trim().is_empty();
        let lists = vocabulary.synonyms.iter().chain(&vocabulary.related);
        for (concept, words) in lists {
            if blank(concept) || words.iter().any(blank) {
                return Err(VocabularyError(format!(
                    "`{concept}`: concepts and their words must not be empty"
                )));
            }
        }
        if let Some(set) = vocabulary.exclusive.iter().find(|s| s.len() < 2) {
            return Err(VocabularyError(format!(
                "exclusive set {set:?} needs at least two concepts"
            )));
        }
        Ok(vocabulary)
    }

    /// Adds `other`'s words to these (a site's additions to the built-in vocabulary).
    pub fn extend(&mut self, other: Vocabulary) {
        for (concept, words) in other.synonyms {
            self.synonyms.entry(concept).or_default().extend(words);
        }
        for (concept, words) in other.related {
            self.related.entry(concept).or_default().extend(words);
        }
        self.stop_words.extend(other.stop_words);
        self.exclusive.extend(other.exclusive);
        self.elevated.extend(other.elevated);
        self.not_a_request.resets.extend(other.not_a_request.resets);
        self.not_a_request
            .problems
            .extend(other.not_a_request.problems);
        self.not_a_request.asking.extend(other.not_a_request.asking);
    }

    /// The built-in vocabulary extended by `text` (empty text: the built-in one alone).
    pub fn builtin_extended_by(text: &str) -> Result<Vocabulary, VocabularyError> {
        let mut vocabulary = Vocabulary::builtin();
        vocabulary.extend(Vocabulary::from_yaml(text)?);
        Ok(vocabulary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_vocabulary_parses_and_can_be_extended() {
        let builtin = Vocabulary::builtin();
        assert!(builtin.synonyms["production"].contains(&String::from("prod")));
        let extended = Vocabulary::builtin_extended_by(
            "synonyms:\n  parking: [stellplatzkarte]\nstop_words: [yo]\n",
        )
        .unwrap();
        assert!(extended.synonyms["parking"].contains(&String::from("stellplatzkarte")));
        assert!(Vocabulary::from_yaml("synonyms: {x: ['']}").is_err());
        assert!(Vocabulary::from_yaml("exclusive: [[a]]").is_err());
        assert!(Vocabulary::from_yaml("unknown: 1").is_err());
    }

    #[test]
    fn everyday_synonyms_are_only_hints() {
        let builtin = Vocabulary::builtin();
        let demoted = builtin.everyday_synonyms();
        println!("{demoted:?}");
        assert!(demoted.contains(&(String::from("parking"), String::from("car"))));
        assert!(builtin.related["parking"].contains(&String::from("car")));
        assert!(builtin.synonyms["production"].contains(&String::from("prod")));
    }
}
