//! The catalog indexed for matching: for each concept, the flows that mention it and how
//! prominently (a word in the name says more than one in the description), and how rare the
//! concept is across the catalog (a word every cloud flow shares says little about which one).

use super::lexicon::{Concept, Lexicon};
use super::normalize::tokenize;
use super::words;
use crate::flow::{Flow, Justification};
use crate::ids::FlowId;
use std::collections::{HashMap, HashSet};

/// How much a mention counts, by where in the flow it is.
const NAME: f32 = 1.0;
const ID: f32 = 0.9;
const KEYWORD: f32 = 0.8;
const DESCRIPTION: f32 = 0.45;
const CATEGORY: f32 = 0.3;

#[derive(Debug, Clone)]
pub(super) struct FlowEntry {
    pub id: FlowId,
    pub name: String,
    /// The concepts of the name, each once with how much it counts (a general word such as
    /// "new" only a little): how much of it a message covers breaks ties between near
    /// neighbours ("AWS production (admin)" vs "(read-only)").
    pub name_concepts: Vec<(Concept, f32)>,
    /// The concepts of the name and id: a proposal needs the message to state one of them.
    pub anchors: HashSet<Concept>,
    /// The concepts of the name, id and keywords: what the flow is about, for exclusions and
    /// least privilege.
    pub key_concepts: HashSet<Concept>,
    /// The folded words of the name, to tell "is in" from "is close to" in reasons.
    pub own_words: HashSet<String>,
    pub takes_justification: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    pub flows: Vec<FlowEntry>,
    pub by_id: HashMap<FlowId, u32>,
    pub postings: HashMap<Concept, Vec<(u32, f32)>>,
    pub idf: Vec<f32>,
}

impl Index {
    pub fn new(flows: &[&Flow], lexicon: &mut Lexicon) -> Index {
        for flow in flows {
            for text in texts(flow) {
                lexicon.add_flow_text(&text);
            }
        }
        for flow in flows {
            add_catalog_spellings(&flow.name, lexicon);
        }
        lexicon.finish();
        let mut index = Index::default();
        for flow in flows {
            let n = index.flows.len() as u32;
            let mut weights: HashMap<Concept, f32> = HashMap::new();
            let mut add = |concepts: &[(Concept, f32)], field: f32| {
                for &(c, weight) in concepts {
                    let w = weights.entry(c).or_insert(0.0);
                    *w = w.max(field * weight);
                }
            };
            let name = lexicon.concepts_of(&flow.name);
            let id_text = flow.id.as_str().replace(['-', '_'], " ");
            let id = lexicon.concepts_of(&id_text);
            let keywords: Vec<(Concept, f32)> = flow
                .keywords
                .iter()
                .flat_map(|k| lexicon.concepts_of(k))
                .collect();
            add(&name, NAME);
            add(&id, ID);
            add(&keywords, KEYWORD);
            add(&lexicon.concepts_of(&flow.description), DESCRIPTION);
            add(&lexicon.concepts_of(&flow.category), CATEGORY);
            for (concept, weight) in weights {
                index.postings.entry(concept).or_default().push((n, weight));
            }
            let name_concepts = dedup(name.clone());
            let mut anchors: HashSet<Concept> =
                lexicon.direct_concepts_of(&flow.name).into_iter().collect();
            anchors.extend(lexicon.direct_concepts_of(&id_text));
            let mut key_concepts = anchors.clone();
            for k in &flow.keywords {
                key_concepts.extend(lexicon.direct_concepts_of(k));
            }
            let own_words = tokenize(&flow.name).into_iter().map(|t| t.text).collect();
            index.by_id.insert(flow.id.clone(), n);
            index.flows.push(FlowEntry {
                id: flow.id.clone(),
                name: flow.name.clone(),
                name_concepts,
                anchors,
                key_concepts,
                own_words,
                takes_justification: flow.justification != Justification::None,
            });
        }
        for list in index.postings.values_mut() {
            list.sort_by_key(|(flow, _)| *flow);
        }
        // Inverse document frequency scaled to (0, 1]: 1 for a concept only one flow has.
        let n = index.flows.len().max(1) as f32;
        index.idf = vec![1.0; lexicon.len()];
        for (concept, list) in &index.postings {
            index.idf[*concept as usize] = (1.0 + n / list.len() as f32).ln() / (1.0 + n).ln();
        }
        index
    }

    pub fn idf(&self, concept: Concept) -> f32 {
        self.idf.get(concept as usize).copied().unwrap_or(1.0)
    }

    /// Whether a message concept is mentioned by any flow at all.
    pub fn is_posted(&self, concept: Concept) -> bool {
        self.postings.contains_key(&concept)
    }
}

/// Spellings a catalog implies for a flow's name: its initials ("BTG" for "Break the glass
/// access", with and without the small words, and for the part before a bracket), each pair of
/// neighbouring words written as one ("pagerduty" for "Pager Duty"), and a one-word name written
/// as two common words ("car park" for "Carpark").
fn add_catalog_spellings(name: &str, lexicon: &mut Lexicon) {
    let main = name.split('(').next().unwrap_or(name);
    for part in [name, main] {
        let words: Vec<String> = tokenize(part).into_iter().map(|t| t.text).collect();
        let words: Vec<&String> = words
            .iter()
            .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
            .collect();
        if words.len() < 2 {
            continue;
        }
        let concepts = |words: &[&String]| -> Vec<Concept> {
            let mut out: Vec<Concept> = Vec::new();
            for w in words {
                for c in lexicon.direct_concepts(w) {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
            out
        };
        let content: Vec<&String> = words
            .iter()
            .copied()
            .filter(|w| !lexicon.is_stop_word(w))
            .collect();
        // "Break the glass access": the small words inside count, those around do not.
        let start = words.iter().position(|w| !lexicon.is_stop_word(w));
        let end = words.iter().rposition(|w| !lexicon.is_stop_word(w));
        let inner: Vec<&String> = match (start, end) {
            (Some(s), Some(e)) => words[s..=e].to_vec(),
            _ => Vec::new(),
        };
        let mut spellings: Vec<(String, Vec<Concept>)> = Vec::new();
        for list in [&words, &inner, &content] {
            if (3..=6).contains(&list.len()) {
                let initials: String = list.iter().filter_map(|w| w.chars().next()).collect();
                spellings.push((initials, concepts(list)));
            }
        }
        for pair in content.windows(2) {
            spellings.push((format!("{}{}", pair[0], pair[1]), concepts(pair)));
        }
        for (word, concepts) in spellings {
            lexicon.add_catalog_word(&word, &concepts);
        }
    }
    for word in tokenize(name).into_iter().map(|t| t.text) {
        if word.len() < 6 || !word.is_ascii() || lexicon.is_stop_word(&word) {
            continue;
        }
        let concepts = lexicon.direct_concepts(&word);
        for cut in 3..=word.len() - 3 {
            let (left, right) = word.split_at(cut);
            let common = |w: &str| words::is_within(w, words::EVERYDAY) || lexicon.knows(w);
            if common(left) && common(right) {
                lexicon.add_catalog_phrase(&format!("{left} {right}"), &concepts);
                break;
            }
        }
    }
}

fn texts(flow: &Flow) -> Vec<String> {
    let mut texts = vec![
        flow.name.clone(),
        flow.id.as_str().replace(['-', '_'], " "),
        flow.description.clone(),
        flow.category.clone(),
    ];
    texts.extend(flow.keywords.iter().cloned());
    texts
}

fn dedup(concepts: Vec<(Concept, f32)>) -> Vec<(Concept, f32)> {
    let mut out: Vec<(Concept, f32)> = Vec::new();
    for (c, w) in concepts {
        match out.iter_mut().find(|(o, _)| *o == c) {
            Some((_, ow)) => *ow = ow.max(w),
            None => out.push((c, w)),
        }
    }
    out
}
