//! The short sentence that says why: "'parking garage' is close to Carpark access". People trust
//! (and correct) a proposal they can see the grounds for, and a list shown instead of a proposal
//! should say why there was no proposal.

use super::index::{FlowEntry, Index};
use super::lexicon::{Hit, Reading};
use super::normalize::tokenize;
use super::score::{Ranked, CONFIDENT_MARGIN};

pub(super) fn why(ranked: &[Ranked], confident: bool, reading: &Reading, index: &Index) -> String {
    let Some(best) = ranked.first() else {
        return if reading.hits.is_empty() && reading.unknown.is_empty() {
            String::from("the message names nothing to request; pick a flow from the list")
        } else {
            String::from(
                "nothing you may request matches what you wrote; pick a flow from the list",
            )
        };
    };
    let entry = &index.flows[best.flow as usize];
    let grounds = grounds(best, reading, entry);
    if confident {
        return match grounds {
            Some(g) if best.evidence >= 0.5 => {
                format!("{g}; people who wrote something similar chose it too")
            }
            Some(g) => g,
            None => format!("people who wrote something similar chose {}", entry.name),
        };
    }
    let close: Vec<&str> = ranked
        .iter()
        .take(3)
        .filter(|r| best.score - r.score < CONFIDENT_MARGIN)
        .map(|r| index.flows[r.flow as usize].name.as_str())
        .collect();
    if close.len() > 1 {
        let said = said_list(best, reading, 2);
        let verb = if said.contains("' and '") {
            "fit"
        } else {
            "fits"
        };
        return format!(
            "{said} {verb} several flows ({}); pick one from the list",
            close.join(", ")
        );
    }
    match grounds {
        Some(g) => format!("not sure: {g}, but that is a weak match; pick a flow from the list"),
        None => format!(
            "not sure: the closest is {}; pick a flow from the list",
            entry.name
        ),
    }
}

/// The lexical grounds for `best`, if it has any: "'car' is close to Carpark access".
pub(super) fn grounds_of(best: &Ranked, reading: &Reading, index: &Index) -> Option<String> {
    grounds(best, reading, &index.flows[best.flow as usize])
}

/// "'prod' and 'db' are close to Production database (read-only)".
fn grounds(best: &Ranked, reading: &Reading, entry: &FlowEntry) -> Option<String> {
    let hits = top_hits(best, reading, 2);
    if hits.is_empty() {
        return None;
    }
    let own = hits.iter().all(|h| {
        h.read_as.is_none()
            && tokenize(&h.said)
                .iter()
                .all(|t| entry.own_words.contains(&t.text))
    });
    let verb = match (own, hits.len()) {
        (true, 1) => "is in",
        (true, _) => "are in",
        (false, 1) => "is close to",
        (false, _) => "are close to",
    };
    Some(format!("{} {verb} {}", quote_all(&hits), entry.name))
}

fn top_hits<'r>(best: &Ranked, reading: &'r Reading, n: usize) -> Vec<&'r Hit> {
    let mut hits: Vec<&Hit> = Vec::new();
    for (i, _) in &best.because {
        let hit = &reading.hits[*i];
        if !hits.iter().any(|h| h.said == hit.said) {
            hits.push(hit);
        }
        if hits.len() == n {
            break;
        }
    }
    hits
}

fn said_list(best: &Ranked, reading: &Reading, n: usize) -> String {
    let hits = top_hits(best, reading, n);
    if hits.is_empty() {
        String::from("what you wrote")
    } else {
        quote_all(&hits)
    }
}

fn quote(hit: &Hit) -> String {
    match &hit.read_as {
        Some(known) => format!("'{}' (read as '{known}')", hit.said),
        None => format!("'{}'", hit.said),
    }
}

fn quote_all(hits: &[&Hit]) -> String {
    let quoted: Vec<String> = hits.iter().map(|h| quote(h)).collect();
    quoted.join(" and ")
}
