//! The catalog indexed for matching: for each concept, the flows that mention it and how
//! prominently (a word in the name says more than one in the description), and how rare the
//! concept is across the catalog (a word every cloud flow shares says little about which one).

use super::lexicon::{Concept, Lexicon};
use super::normalize::tokenize;
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
    /// The concepts of the name, each once: how much of it a message covers breaks ties between
    /// near neighbours ("AWS production (admin)" vs "(read-only)").
    pub name_concepts: Vec<Concept>,
    /// The concepts of the name, id and keywords: what the flow is about, for exclusions.
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
        lexicon.finish();
        let mut index = Index::default();
        for flow in flows {
            let n = index.flows.len() as u32;
            let mut weights: HashMap<Concept, f32> = HashMap::new();
            let mut add = |concepts: Vec<Concept>, weight: f32| {
                for c in concepts {
                    let w = weights.entry(c).or_insert(0.0);
                    *w = w.max(weight);
                }
            };
            let name_concepts = dedup(lexicon.concepts_of(&flow.name));
            let id_concepts = lexicon.concepts_of(&flow.id.as_str().replace(['-', '_'], " "));
            let keyword_concepts: Vec<Concept> = flow
                .keywords
                .iter()
                .flat_map(|k| lexicon.concepts_of(k))
                .collect();
            let mut key_concepts: HashSet<Concept> = name_concepts.iter().copied().collect();
            key_concepts.extend(&id_concepts);
            key_concepts.extend(&keyword_concepts);
            add(name_concepts.clone(), NAME);
            add(id_concepts, ID);
            add(keyword_concepts, KEYWORD);
            add(lexicon.concepts_of(&flow.description), DESCRIPTION);
            add(lexicon.concepts_of(&flow.category), CATEGORY);
            for (concept, weight) in weights {
                index.postings.entry(concept).or_default().push((n, weight));
            }
            let own_words = tokenize(&flow.name).into_iter().map(|t| t.text).collect();
            index.by_id.insert(flow.id.clone(), n);
            index.flows.push(FlowEntry {
                id: flow.id.clone(),
                name: flow.name.clone(),
                name_concepts,
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

fn dedup(mut concepts: Vec<Concept>) -> Vec<Concept> {
    let mut seen = HashSet::new();
    concepts.retain(|c| seen.insert(*c));
    concepts
}
