//! The vocabulary: which words mean the same thing in access requests ("prod", "live",
//! "producción" -> production), which hint at something, which carry no meaning ("pls", "hola"),
//! and which concepts rule each other out (staging vs production).
//!
//! Sesame ships one (`vocabulary.yaml`, compiled in) and configuration can extend it with the same
//! format, passed in as text: the core reads no files.

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
}

/// Why a vocabulary text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the matcher vocabulary is not valid: {0}")]
pub struct VocabularyError(pub String);

const BUILTIN: &str = include_str!("vocabulary.yaml");

impl Vocabulary {
    /// The built-in vocabulary (English, Spanish, French and German access-request language).
    pub fn builtin() -> Vocabulary {
        static PARSED: OnceLock<Vocabulary> = OnceLock::new();
        PARSED
            .get_or_init(|| Vocabulary::from_yaml(BUILTIN).expect("the built-in vocabulary parses"))
            .clone()
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
}
