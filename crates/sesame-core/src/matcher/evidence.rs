//! What people chose before, as evidence for similar messages later.
//!
//! When someone writes free text and then picks a flow (especially a different one from the
//! proposal), the pair is stored by the caller and handed back here. Messages are reduced to
//! their concepts with the built-in vocabulary, so "parking spot" and "carpark space" meet; words
//! the vocabulary does not know are kept too, because they are exactly what this learns ("the
//! Acme bucket" -> the flow people chose for it).

use super::lexicon::Lexicon;
use super::vocabulary::Vocabulary;
use crate::ids::FlowId;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Past choices at least this similar to a message lend it their flow.
const SIMILAR: f32 = 0.5;
/// How much one fully similar past choice counts; several add up (noisy-or).
const ONE_CHOICE: f32 = 0.7;
/// At most this many neighbours are consulted, so one popular message cannot drown the rest.
const NEIGHBOURS: usize = 20;

/// Free text someone wrote and the flow they then chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastChoice {
    pub text: String,
    pub flow: FlowId,
}

/// Past choices, indexed by the concepts of their text.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    keys: HashMap<String, u32>,
    postings: Vec<Vec<u32>>,
    choices: Vec<(Vec<u32>, FlowId)>,
}

fn lexicon() -> &'static Lexicon {
    static BUILTIN: OnceLock<Lexicon> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let mut lexicon = Lexicon::new(&Vocabulary::builtin());
        lexicon.finish();
        lexicon
    })
}

/// The comparable keys of a message: its concepts' names and its unknown words, each once.
fn keys_of(text: &str) -> Vec<String> {
    let lexicon = lexicon();
    let reading = lexicon.read(text, false);
    let mut keys: Vec<String> = reading
        .hits
        .iter()
        .map(|h| lexicon.name(h.concept).to_owned())
        .chain(reading.unknown)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

impl Evidence {
    pub fn new(choices: impl IntoIterator<Item = PastChoice>) -> Evidence {
        let mut evidence = Evidence::default();
        for choice in choices {
            evidence.add(choice);
        }
        evidence
    }

    pub fn add(&mut self, choice: PastChoice) {
        let keys = keys_of(&choice.text);
        if keys.is_empty() {
            return;
        }
        let n = self.choices.len() as u32;
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            let next = self.keys.len() as u32;
            let id = *self.keys.entry(key).or_insert(next);
            if id as usize == self.postings.len() {
                self.postings.push(Vec::new());
            }
            self.postings[id as usize].push(n);
            ids.push(id);
        }
        self.choices.push((ids, choice.flow));
    }

    pub fn len(&self) -> usize {
        self.choices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }

    /// Each flow that similar past messages chose, with its support between 0 and 1.
    pub(super) fn support(&self, text: &str) -> Vec<(&FlowId, f32)> {
        if self.choices.is_empty() {
            return Vec::new();
        }
        let n = self.choices.len() as f32;
        let idf = |id: u32| (1.0 + n / self.postings[id as usize].len() as f32).ln();
        let unseen = (1.0 + n).ln();
        let mut message_weight = 0.0;
        let mut overlap: HashMap<u32, f32> = HashMap::new();
        for key in keys_of(text) {
            let Some(&id) = self.keys.get(&key) else {
                message_weight += unseen;
                continue;
            };
            let weight = idf(id);
            message_weight += weight;
            for &choice in &self.postings[id as usize] {
                *overlap.entry(choice).or_default() += weight;
            }
        }
        let mut similar: Vec<(f32, u32)> = overlap
            .into_iter()
            .filter_map(|(choice, shared)| {
                let own: f32 = self.choices[choice as usize]
                    .0
                    .iter()
                    .map(|&k| idf(k))
                    .sum();
                let similarity = shared / (message_weight + own - shared);
                (similarity >= SIMILAR).then_some((similarity, choice))
            })
            .collect();
        similar.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut against: HashMap<&FlowId, f32> = HashMap::new();
        for (similarity, choice) in similar.into_iter().take(NEIGHBOURS) {
            let flow = &self.choices[choice as usize].1;
            *against.entry(flow).or_insert(1.0) *= 1.0 - ONE_CHOICE * similarity;
        }
        let mut support: Vec<(&FlowId, f32)> = against
            .into_iter()
            .map(|(flow, a)| (flow, 1.0 - a))
            .collect();
        support.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        support
    }
}
