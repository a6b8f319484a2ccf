//! The compiled vocabulary: every known word and phrase mapped to a concept, and the reading of a
//! message into the concepts it mentions.
//!
//! Reading goes phrase first ("base de datos", "read only", "on call"), then the word as typed,
//! then its plural-less forms, then German compounds split in two ("Produktionsdatenbank" ->
//! production + database), then typo correction. Only what survives all of that is "unknown".

use super::fuzzy::Fuzzy;
use super::normalize::{stem, tokenize, variants, Token};
use super::vocabulary::Vocabulary;
use std::collections::{HashMap, HashSet};

/// A concept, by index into `Lexicon::concepts`.
pub(super) type Concept = u32;

/// Marks a stop word in the typo index, so "acesss" reads as the stop word "access".
const STOP: Concept = Concept::MAX;
/// How much a weakly related word counts (`related:` in the vocabulary).
const RELATED: f32 = 0.6;
/// How much a corrected typo counts: usually right, sometimes a different word.
const TYPO: f32 = 0.85;
/// Longest phrase, in words, looked for.
const MAX_PHRASE: usize = 5;

/// One concept found in a message, and the words that said it.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub concept: Concept,
    pub weight: f32,
    /// The words as the person typed them.
    pub said: String,
    /// The known word a typo was read as.
    pub read_as: Option<String>,
}

/// What a message mentions: known concepts, and words nothing knows (already stemmed).
#[derive(Debug, Clone, Default)]
pub(super) struct Reading {
    pub hits: Vec<Hit>,
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Lexicon {
    names: Vec<String>,
    ids: HashMap<String, Concept>,
    words: HashMap<String, (Concept, f32)>,
    phrases: HashMap<String, (Concept, f32)>,
    stop: HashSet<String>,
    fuzzy: Fuzzy,
    pub exclusive: Vec<Vec<Concept>>,
    pub elevated: Vec<Concept>,
}

fn folded_words(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|t| t.text).collect()
}

impl Lexicon {
    pub fn new(vocabulary: &Vocabulary) -> Lexicon {
        let mut lexicon = Lexicon::default();
        for (concept, words) in &vocabulary.synonyms {
            let id = lexicon.concept(concept);
            lexicon.learn(concept, id, 1.0);
            for word in words {
                lexicon.learn(word, id, 1.0);
            }
        }
        for (concept, words) in &vocabulary.related {
            let id = lexicon.concept(concept);
            for word in words {
                lexicon.learn(word, id, RELATED);
            }
        }
        for word in &vocabulary.stop_words {
            lexicon.stop.extend(folded_words(word));
        }
        for set in &vocabulary.exclusive {
            let ids = set.iter().map(|c| lexicon.concept(c)).collect();
            lexicon.exclusive.push(ids);
        }
        for concept in &vocabulary.elevated {
            let id = lexicon.concept(concept);
            lexicon.elevated.push(id);
        }
        lexicon
    }

    /// Adds a flow's own words: a word the vocabulary does not know becomes its own concept.
    /// Read as a message is, so that the pieces of a known phrase ("out of hours") are not
    /// taken for words of their own.
    pub fn add_flow_text(&mut self, text: &str) {
        for key in self.read(text, false).unknown {
            let id = self.concept(&key);
            self.words.entry(key).or_insert((id, 1.0));
        }
    }

    /// Builds the typo index; call once every word is known.
    pub fn finish(&mut self) {
        let mut fuzzy = Fuzzy::default();
        let mut words: Vec<(&String, Concept)> =
            self.words.iter().map(|(w, (c, _))| (w, *c)).collect();
        words.sort();
        for (word, concept) in words {
            fuzzy.add(word, concept);
        }
        let mut stop: Vec<&String> = self.stop.iter().collect();
        stop.sort();
        for word in stop {
            if !self.words.contains_key(word) {
                fuzzy.add(word, STOP);
            }
        }
        self.fuzzy = fuzzy;
    }

    pub fn name(&self, concept: Concept) -> &str {
        &self.names[concept as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    fn concept(&mut self, name: &str) -> Concept {
        let key = folded_words(name).join(" ");
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.names.len() as Concept;
        self.names.push(key.clone());
        self.ids.insert(key, id);
        id
    }

    fn learn(&mut self, surface: &str, concept: Concept, weight: f32) {
        let words = folded_words(surface);
        let table = match words.len() {
            0 => return,
            1 => &mut self.words,
            _ => &mut self.phrases,
        };
        let entry = table.entry(words.join(" ")).or_insert((concept, weight));
        // A synonym beats a weaker hint given for the same word elsewhere.
        if entry.1 < weight {
            *entry = (concept, weight);
        }
    }

    fn lookup(&self, word: &str) -> Option<(Concept, f32)> {
        self.words
            .get(word)
            .copied()
            .or_else(|| variants(word).find_map(|v| self.words.get(&v).copied()))
    }

    fn is_stop(&self, word: &str) -> bool {
        self.stop.contains(word) || variants(word).any(|v| self.stop.contains(&v))
    }

    /// Reads `text`; `typos` allows correcting unknown words (off when indexing flows, whose
    /// words are right by definition).
    pub fn read(&self, text: &str, typos: bool) -> Reading {
        let tokens = tokenize(text);
        let mut reading = Reading::default();
        let mut i = 0;
        'tokens: while i < tokens.len() {
            for len in (2..=MAX_PHRASE.min(tokens.len() - i)).rev() {
                let key = join(&tokens[i..i + len]);
                if let Some(&(concept, weight)) = self.phrases.get(&key) {
                    let said = text[tokens[i].start..tokens[i + len - 1].end].to_owned();
                    reading.hits.push(hit(concept, weight, said, None));
                    i += len;
                    continue 'tokens;
                }
            }
            let token = &tokens[i];
            let word = token.text.as_str();
            let said = || text[token.start..token.end].to_owned();
            i += 1;
            if word.len() < 2 || word.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if let Some((concept, weight)) = self.words.get(word).copied() {
                reading.hits.push(hit(concept, weight, said(), None));
            } else if self.stop.contains(word) {
            } else if let Some((concept, weight)) = self.lookup(word) {
                reading.hits.push(hit(concept, weight, said(), None));
            } else if self.is_stop(word) {
            } else if let Some(parts) = self.split_compound(word) {
                for (concept, weight) in parts {
                    reading.hits.push(hit(concept, weight, said(), None));
                }
            } else if let Some((known, concept)) = typos.then(|| self.fuzzy.correct(word)).flatten()
            {
                if concept != STOP {
                    reading
                        .hits
                        .push(hit(concept, TYPO, said(), Some(known.to_owned())));
                }
            } else {
                reading.unknown.push(stem(word));
            }
        }
        reading
    }

    /// "produktionsdatenbank" -> [production, database]: two known parts, the first possibly
    /// followed by the German linking "s". Parts that are stop words ("zugriff") are dropped.
    fn split_compound(&self, word: &str) -> Option<Vec<(Concept, f32)>> {
        if word.len() < 8 || !word.is_ascii() {
            return None;
        }
        for cut in 4..=word.len() - 4 {
            let (left, right) = word.split_at(cut);
            let left_part = self
                .part(left)
                .or_else(|| left.strip_suffix('s').and_then(|l| self.part(l)));
            let (Some(left_part), Some(right_part)) = (left_part, self.part(right)) else {
                continue;
            };
            let parts: Vec<(Concept, f32)> =
                [left_part, right_part].into_iter().flatten().collect();
            if !parts.is_empty() {
                return Some(parts);
            }
        }
        None
    }

    /// A known compound part: `Some(Some(concept))`, or `Some(None)` for a stop word.
    fn part(&self, piece: &str) -> Option<Option<(Concept, f32)>> {
        // Short pieces ("out", "rad") split too many words that are not compounds.
        if piece.len() < 4 {
            return None;
        }
        if let Some(found) = self.lookup(piece) {
            return Some(Some(found));
        }
        self.is_stop(piece).then_some(None)
    }

    /// The concepts a flow's text mentions, with no typo correction.
    pub fn concepts_of(&self, text: &str) -> Vec<Concept> {
        self.read(text, false)
            .hits
            .into_iter()
            .map(|h| h.concept)
            .collect()
    }
}

fn hit(concept: Concept, weight: f32, said: String, read_as: Option<String>) -> Hit {
    Hit {
        concept,
        weight,
        said,
        read_as,
    }
}

fn join(tokens: &[Token]) -> String {
    let mut key = String::new();
    for (n, token) in tokens.iter().enumerate() {
        if n > 0 {
            key.push(' ');
        }
        key.push_str(&token.text);
    }
    key
}
