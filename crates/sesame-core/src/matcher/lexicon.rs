//! The compiled vocabulary: every known word and phrase mapped to a concept, and the reading of a
//! message into the concepts it mentions.
//!
//! Reading goes phrase first ("base de datos", "read only", "on call"), then the word as typed,
//! then its plural-less forms, then a catalog word it shares its stem with ("prescribing" for
//! "prescriber"), then, for words that are not common words of any of the four languages, German
//! compounds split in two ("Produktionsdatenbank" -> production + database; German messages only)
//! and typo correction. Only what survives all of that is "unknown".
//!
//! A word can say two things: what it is (a word a flow uses, "car") and what it hints at (a
//! concept, "parking"). Hints, everyday words that the built-in vocabulary maps to a product
//! concept, and the most general words of a flow's own name count as related evidence only: they
//! rank flows but never make a proposal on their own.

use super::fuzzy::Fuzzy;
use super::normalize::{stem, tokenize, variants, Token};
use super::vocabulary::Vocabulary;
use super::words::{self, Language};
use std::collections::{HashMap, HashSet};

/// A concept, by index into `Lexicon::concepts`.
pub(super) type Concept = u32;

/// Marks a stop word in the typo index, so "acesss" reads as the stop word "access".
const STOP: Concept = Concept::MAX;
/// How much a weakly related word counts (`related:` in the vocabulary, everyday words).
pub(super) const RELATED: f32 = 0.6;
/// How much a corrected typo counts: usually right, sometimes a different word.
const TYPO: f32 = 0.85;
/// How much a word counts that shares only its stem with a catalog word ("prescriber" for
/// "prescribing", "radiologie" for "radiology").
const STEM: f32 = 0.8;
/// Words this long or longer are compared by their first `STEM_LEN` letters.
const STEM_LEN: usize = 7;
/// Longest phrase, in words, looked for.
const MAX_PHRASE: usize = 5;

/// What a word or phrase means: a concept, how strongly, and whether it may ground a proposal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Meaning {
    pub concept: Concept,
    pub weight: f32,
    /// False for hints (related words, everyday words read as a product concept).
    pub direct: bool,
}

/// One concept found in a message, and the words that said it.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub concept: Concept,
    pub weight: f32,
    pub direct: bool,
    /// The reading unit (word or phrase) that said it.
    pub unit: usize,
    /// The words as the person typed them.
    pub said: String,
    /// The known word a typo was read as.
    pub read_as: Option<String>,
}

/// A word or phrase of the message, and how much it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// Read as one or more concepts.
    Known,
    /// A word nothing knows and that is not a common word: a name, jargon, what was asked for.
    Rare,
    /// A common word nothing knows: filler for what the message asks.
    Filler,
}

/// What a message mentions: known concepts, and words nothing knows (already stemmed).
#[derive(Debug, Clone, Default)]
pub(super) struct Reading {
    pub hits: Vec<Hit>,
    pub units: Vec<Unit>,
    pub unknown: Vec<String>,
    /// The folded words, stop words included, for signals.
    pub words: Vec<String>,
}

/// What the lexicon knows about a word: a vocabulary meaning and the word itself when a flow uses
/// it.
#[derive(Debug, Clone, Default)]
struct Entry {
    vocabulary: Option<Meaning>,
    own: Option<Meaning>,
    /// Extra meanings from the catalog: abbreviations and joined spellings of flow names.
    catalog: Vec<Meaning>,
}

impl Entry {
    fn meanings(&self) -> impl Iterator<Item = Meaning> + '_ {
        self.vocabulary
            .iter()
            .chain(&self.own)
            .chain(&self.catalog)
            .copied()
    }

    fn is_empty(&self) -> bool {
        self.vocabulary.is_none() && self.own.is_none() && self.catalog.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Lexicon {
    names: Vec<String>,
    ids: HashMap<String, Concept>,
    words: HashMap<String, Entry>,
    phrases: HashMap<String, Vec<Meaning>>,
    stop: HashSet<String>,
    fuzzy: Fuzzy,
    /// The first `STEM_LEN` letters of long known words, and their meanings.
    stems: HashMap<String, Vec<Meaning>>,
    pub exclusive: Vec<Vec<Concept>>,
    pub elevated: Vec<Concept>,
    resets: Vec<Vec<String>>,
    problems: Vec<Vec<String>>,
    asking: Vec<Vec<String>>,
}

/// Signs that a message is not a request for access, and the concepts they name (a flow about
/// them, "MFA reset", may still be proposed).
#[derive(Debug, Clone, Default)]
pub(super) struct Signs {
    /// Concepts of each reset found ("reset" + "password").
    pub resets: Vec<Vec<Concept>>,
    /// Concepts of each problem found, when nothing in the message asks for something.
    pub problems: Vec<Vec<Concept>>,
}

impl Signs {
    /// Whether these signs rule out proposing a flow about `key` concepts.
    pub fn rules_out(&self, key: &HashSet<Concept>) -> bool {
        let about = |concepts: &Vec<Concept>| {
            !concepts.is_empty() && concepts.iter().all(|c| key.contains(c))
        };
        self.resets.iter().chain(&self.problems).any(|s| !about(s))
    }
}

/// Words of a signal may have this many other words between them ("reset my epic password").
const SIGNAL_GAP: usize = 2;

fn find_with_gaps(words: &[String], phrase: &[String]) -> bool {
    let Some(first) = phrase.first() else {
        return false;
    };
    (0..words.len())
        .filter(|&i| &words[i] == first)
        .any(|start| {
            let mut at = start;
            phrase[1..].iter().all(|p| {
                let end = (at + 2 + SIGNAL_GAP).min(words.len());
                match (at + 1..end).find(|&j| &words[j] == p) {
                    Some(j) => {
                        at = j;
                        true
                    }
                    None => false,
                }
            })
        })
}

fn folded_words(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|t| t.text).collect()
}

fn meaning(concept: Concept, weight: f32, direct: bool) -> Meaning {
    Meaning {
        concept,
        weight,
        direct,
    }
}

impl Lexicon {
    pub fn new(vocabulary: &Vocabulary) -> Lexicon {
        let mut lexicon = Lexicon::default();
        for (concept, words) in &vocabulary.synonyms {
            let id = lexicon.concept(concept);
            lexicon.learn(concept, meaning(id, 1.0, true));
            for word in words {
                lexicon.learn(word, meaning(id, 1.0, true));
            }
        }
        for (concept, words) in &vocabulary.related {
            let id = lexicon.concept(concept);
            for word in words {
                lexicon.learn(word, meaning(id, RELATED, false));
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
        let phrases = |list: &[String]| -> Vec<Vec<String>> {
            list.iter()
                .map(|p| folded_words(p))
                .filter(|w| !w.is_empty())
                .collect()
        };
        lexicon.resets = phrases(&vocabulary.not_a_request.resets);
        lexicon.problems = phrases(&vocabulary.not_a_request.problems);
        lexicon.asking = phrases(&vocabulary.not_a_request.asking);
        lexicon
    }

    /// What in `reading` says the message is not a request for access.
    pub fn not_a_request(&self, reading: &Reading) -> Signs {
        let words = &reading.words;
        let found = |list: &[Vec<String>]| -> Vec<Vec<Concept>> {
            list.iter()
                .filter(|p| find_with_gaps(words, p))
                .map(|p| {
                    let said = self.read(&p.join(" "), false);
                    let mut concepts: Vec<Concept> = said.hits.iter().map(|h| h.concept).collect();
                    // A word no flow uses ("password" in a catalog without one): no flow is
                    // about this sign.
                    if !said.unknown.is_empty() {
                        concepts.push(STOP);
                    }
                    concepts.dedup();
                    concepts
                })
                .collect()
        };
        let asking = self.asking.iter().any(|p| find_with_gaps(words, p));
        Signs {
            resets: found(&self.resets),
            problems: if asking {
                Vec::new()
            } else {
                found(&self.problems)
            },
        }
    }

    /// Adds a flow's own words: a word the vocabulary does not know, or knows only as a hint,
    /// becomes its own concept. Read as a message is, so that the pieces of a known phrase ("out
    /// of hours") are not taken for words of their own.
    pub fn add_flow_text(&mut self, text: &str) {
        let tokens = tokenize(text);
        let language = words::language(tokens.iter().map(|t| t.text.as_str()));
        let german = matches!(language, None | Some(Language::German));
        let mut i = 0;
        while i < tokens.len() {
            if let Some(len) = self.phrase_at(&tokens, i) {
                i += len;
                continue;
            }
            let word = tokens[i].text.as_str();
            i += 1;
            if word.len() < 2 || word.chars().all(|c| c.is_ascii_digit()) || self.is_stop(word) {
                continue;
            }
            let key = match self.words.get(word) {
                Some(entry) if entry.vocabulary.is_some_and(|m| m.direct) => continue,
                Some(_) => word.to_owned(),
                None => match variants(word).find(|v| self.words.contains_key(v)) {
                    Some(v) if self.words[&v].vocabulary.is_some_and(|m| m.direct) => continue,
                    Some(v) => v,
                    // A German compound of known words is read as its parts.
                    None if german
                        && !words::is_within(word, words::COMMON)
                        && self.split_compound(word).is_some() =>
                    {
                        continue
                    }
                    None => stem(word),
                },
            };
            if self.words.get(&key).is_some_and(|e| e.own.is_some()) {
                continue;
            }
            let id = self.concept(&key);
            // The most general words ("new") say little even in a flow's own name.
            let own = if words::is_within(&key, words::GENERAL) {
                meaning(id, RELATED, false)
            } else {
                meaning(id, 1.0, true)
            };
            self.words.entry(key).or_default().own = Some(own);
        }
    }

    /// Teaches a spelling the catalog implies ("btg" for "Break The Glass", "pagerduty" for
    /// "Pager Duty") as meaning `concepts`, unless the word is already known or common.
    pub fn add_catalog_word(&mut self, word: &str, concepts: &[Concept]) {
        if word.len() < 3
            || concepts.is_empty()
            || self.stop.contains(word)
            || words::is_within(word, words::COMMON)
        {
            return;
        }
        let entry = self.words.entry(word.to_owned()).or_default();
        if entry.vocabulary.is_some() || entry.own.is_some() {
            return;
        }
        for &concept in concepts {
            if !entry.catalog.iter().any(|m| m.concept == concept) {
                entry.catalog.push(meaning(concept, 1.0, true));
            }
        }
    }

    /// Teaches a two-word phrase ("car park", "data dog") as meaning `concepts`, unless known.
    pub fn add_catalog_phrase(&mut self, phrase: &str, concepts: &[Concept]) {
        if concepts.is_empty() || self.phrases.contains_key(phrase) {
            return;
        }
        let meanings = concepts.iter().map(|c| meaning(*c, 1.0, true)).collect();
        self.phrases.insert(phrase.to_owned(), meanings);
    }

    /// The meanings a flow's word has (direct ones only), for abbreviations and joined spellings.
    pub fn direct_concepts(&self, word: &str) -> Vec<Concept> {
        let Some(entry) = self.entry(word) else {
            return Vec::new();
        };
        entry
            .meanings()
            .filter(|m| m.direct)
            .map(|m| m.concept)
            .collect()
    }

    pub fn is_stop_word(&self, word: &str) -> bool {
        self.is_stop(word)
    }

    pub fn knows(&self, word: &str) -> bool {
        self.entry(word).is_some() || self.phrases.contains_key(word)
    }

    /// Builds the typo and stem indexes; call once every word is known.
    pub fn finish(&mut self) {
        let mut fuzzy = Fuzzy::default();
        let mut stems: HashMap<String, Vec<Meaning>> = HashMap::new();
        let mut words: Vec<(&String, &Entry)> = self.words.iter().collect();
        words.sort_by(|a, b| a.0.cmp(b.0));
        for (word, entry) in words {
            let Some(first) = entry.meanings().next() else {
                continue;
            };
            fuzzy.add(word, first.concept);
            // Only the catalog's own words: the vocabulary's translations would meet unrelated
            // words of other languages ("stationery", "stationnement").
            if let Some(key) = stem_key(word) {
                let list = stems.entry(key).or_default();
                for m in entry.own.iter().filter(|m| m.direct) {
                    if !list.iter().any(|x| x.concept == m.concept) {
                        list.push(*m);
                    }
                }
            }
        }
        // A stem several unrelated words share says nothing.
        stems.retain(|_, list| !list.is_empty() && list.len() <= 2);
        let mut stop: Vec<&String> = self.stop.iter().collect();
        stop.sort();
        for word in stop {
            if !self.words.contains_key(word) {
                fuzzy.add(word, STOP);
            }
        }
        self.fuzzy = fuzzy;
        self.stems = stems;
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

    fn learn(&mut self, surface: &str, meaning: Meaning) {
        let words = folded_words(surface);
        match words.len() {
            0 => {}
            1 => {
                let entry = self.words.entry(words[0].clone()).or_default();
                // A synonym beats a weaker hint given for the same word elsewhere.
                match &mut entry.vocabulary {
                    Some(old) if old.weight >= meaning.weight => {}
                    slot => *slot = Some(meaning),
                }
            }
            _ => {
                let list = self.phrases.entry(words.join(" ")).or_default();
                match list.first_mut() {
                    Some(old) if old.weight >= meaning.weight => {}
                    Some(old) => *old = meaning,
                    None => list.push(meaning),
                }
            }
        }
    }

    fn entry(&self, word: &str) -> Option<&Entry> {
        self.words
            .get(word)
            .or_else(|| variants(word).find_map(|v| self.words.get(&v)))
            .filter(|e| !e.is_empty())
    }

    fn is_stop(&self, word: &str) -> bool {
        self.stop.contains(word) || variants(word).any(|v| self.stop.contains(&v))
    }

    /// The length of the longest known phrase starting at `i`.
    fn phrase_at(&self, tokens: &[Token], i: usize) -> Option<usize> {
        (2..=MAX_PHRASE.min(tokens.len() - i))
            .rev()
            .find(|len| self.phrases.contains_key(&join(&tokens[i..i + len])))
    }

    /// Reads `text`; `typos` allows correcting unknown words (off when indexing flows, whose
    /// words are right by definition).
    pub fn read(&self, text: &str, typos: bool) -> Reading {
        let tokens = tokenize(text);
        let language = words::language(tokens.iter().map(|t| t.text.as_str()));
        let german = matches!(language, None | Some(Language::German));
        let mut reading = Reading {
            words: tokens.iter().map(|t| t.text.clone()).collect(),
            ..Reading::default()
        };
        let mut i = 0;
        while i < tokens.len() {
            if let Some(len) = self.phrase_at(&tokens, i) {
                let key = join(&tokens[i..i + len]);
                let said = text[tokens[i].start..tokens[i + len - 1].end].to_owned();
                let unit = reading.units.len();
                reading.units.push(Unit::Known);
                for m in &self.phrases[&key] {
                    reading.hits.push(hit(*m, unit, said.clone(), None));
                }
                i += len;
                continue;
            }
            let token = &tokens[i];
            let word = token.text.as_str();
            let said = || text[token.start..token.end].to_owned();
            i += 1;
            if word.len() < 2 || word.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let unit = reading.units.len();
            let known = |reading: &mut Reading, meanings: &mut dyn Iterator<Item = Meaning>| {
                reading.units.push(Unit::Known);
                for m in meanings {
                    reading.hits.push(hit(m, unit, said(), None));
                }
            };
            if let Some(entry) = self.words.get(word).filter(|e| !e.is_empty()) {
                known(&mut reading, &mut entry.meanings());
                continue;
            }
            if self.stop.contains(word) {
                continue;
            }
            if let Some(entry) = self.entry(word) {
                known(&mut reading, &mut entry.meanings());
                continue;
            }
            if self.is_stop(word) {
                continue;
            }
            if let Some(meanings) = self.stem_of(word) {
                known(
                    &mut reading,
                    &mut meanings.iter().map(|m| Meaning {
                        weight: m.weight * STEM,
                        ..*m
                    }),
                );
                continue;
            }
            // Common words are what they are: not typos of something else, not compounds.
            let common = words::is_within(word, words::COMMON);
            if !common && german {
                if let Some(parts) = self.split_compound(word) {
                    known(&mut reading, &mut parts.into_iter());
                    continue;
                }
            }
            if typos && !common {
                if let Some((known_word, concept)) = self.fuzzy.correct(word) {
                    if concept != STOP {
                        let direct = self
                            .words
                            .get(known_word)
                            .and_then(|e| e.meanings().find(|m| m.concept == concept))
                            .is_none_or(|m| m.direct);
                        reading.units.push(Unit::Known);
                        reading.hits.push(hit(
                            meaning(concept, TYPO, direct),
                            unit,
                            said(),
                            Some(known_word.to_owned()),
                        ));
                    }
                    continue;
                }
            }
            reading
                .units
                .push(if common { Unit::Filler } else { Unit::Rare });
            reading.unknown.push(stem(word));
        }
        reading
    }

    /// A catalog word sharing the first letters of a long `word`: another form of it.
    fn stem_of(&self, word: &str) -> Option<&Vec<Meaning>> {
        self.stems.get(&stem_key(word)?)
    }

    /// "produktionsdatenbank" -> [production, database]: two known parts, the first possibly
    /// followed by the German linking "s". Parts that are stop words ("zugriff") are dropped.
    fn split_compound(&self, word: &str) -> Option<Vec<Meaning>> {
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
            let parts: Vec<Meaning> = left_part.into_iter().chain(right_part).collect();
            if !parts.is_empty() {
                return Some(parts);
            }
        }
        None
    }

    /// A known compound part: its meanings, or none for a stop word.
    fn part(&self, piece: &str) -> Option<Vec<Meaning>> {
        // Short pieces ("out", "rad") split too many words that are not compounds.
        if piece.len() < 4 {
            return None;
        }
        if let Some(entry) = self.entry(piece) {
            return Some(entry.meanings().collect());
        }
        self.is_stop(piece).then(Vec::new)
    }

    /// The concepts a flow's text mentions, with how much each counts (no typo correction).
    pub fn concepts_of(&self, text: &str) -> Vec<(Concept, f32)> {
        self.read(text, false)
            .hits
            .into_iter()
            .map(|h| (h.concept, h.weight))
            .collect()
    }

    /// The concepts of a flow's text that it states directly, for anchoring.
    pub fn direct_concepts_of(&self, text: &str) -> Vec<Concept> {
        self.read(text, false)
            .hits
            .into_iter()
            .filter(|h| h.direct)
            .map(|h| h.concept)
            .collect()
    }
}

/// The first `STEM_LEN` letters of a long word, spelled so that the same word in the four
/// languages tends to meet: "ph" and "f", "th" and "t", "k", "qu" and "c", "y" and "i", doubled
/// letters as one ("pharmacy", "farmacia", "pharmacie"; "dokument", "documento").
fn stem_key(word: &str) -> Option<String> {
    if word.len() < STEM_LEN || !word.is_ascii() {
        return None;
    }
    let bytes = word.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        let (c, step) = match (bytes[i], next) {
            (b'p', Some(b'h')) => (b'f', 2),
            (b't', Some(b'h')) => (b't', 2),
            (b'q', Some(b'u')) => (b'c', 2),
            (b'k', _) => (b'c', 1),
            (b'y', _) => (b'i', 1),
            (c, _) => (c, 1),
        };
        if out.last() != Some(&c) {
            out.push(c);
        }
        i += step;
    }
    if out.len() < STEM_LEN - 1 {
        return None;
    }
    out.truncate(STEM_LEN);
    String::from_utf8(out).ok()
}

fn hit(m: Meaning, unit: usize, said: String, read_as: Option<String>) -> Hit {
    Hit {
        concept: m.concept,
        weight: m.weight,
        direct: m.direct,
        unit,
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
