//! Finding the known word a typo was meant to be ("salesfroce" -> "salesforce").
//!
//! Comparing a typo against every known word would cost thousands of edit distances per message
//! with a large catalog. Instead every known word is indexed under itself and each form with one
//! character deleted (the "symmetric delete" idea): a word within one edit of the typo shares at
//! least one of these keys with it. Candidates are then checked with the real distance, which
//! counts swapping two neighbouring letters as one edit, the most common slip on a keyboard.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub(super) struct Fuzzy {
    words: Vec<(String, u32)>,
    keys: HashMap<String, Vec<u32>>,
}

/// Words shorter than this are never corrected: "pd" and "db" are abbreviations, not typos.
pub(super) const MIN_LEN: usize = 4;

impl Fuzzy {
    /// Indexes `word` as a spelling of `target` (a concept, or a marker for stop words).
    pub fn add(&mut self, word: &str, target: u32) {
        if word.chars().count() < MIN_LEN || !word.is_ascii() {
            return;
        }
        let id = self.words.len() as u32;
        self.words.push((word.to_owned(), target));
        for key in std::iter::once(word.to_owned()).chain(deletes(word)) {
            let ids = self.keys.entry(key).or_default();
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
    }

    /// The closest known word to `typo` within the edits its length allows, with its target.
    pub fn correct(&self, typo: &str) -> Option<(&str, u32)> {
        if typo.len() < MIN_LEN || !typo.is_ascii() {
            return None;
        }
        let limit = if typo.len() >= 8 { 2 } else { 1 };
        let mut best: Option<(usize, &str, u32)> = None;
        for key in std::iter::once(typo.to_owned()).chain(deletes(typo)) {
            for &id in self.keys.get(&key).into_iter().flatten() {
                let (word, target) = &self.words[id as usize];
                // The first letter is rarely wrong; requiring it keeps short unrelated words apart.
                if word.as_bytes()[0] != typo.as_bytes()[0] {
                    continue;
                }
                let d = distance(typo.as_bytes(), word.as_bytes(), limit);
                if d <= limit && best.is_none_or(|(bd, bw, _)| (d, word.as_str()) < (bd, bw)) {
                    best = Some((d, word, *target));
                }
            }
        }
        best.map(|(_, word, target)| (word, target))
    }
}

fn deletes(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| {
        let mut s = String::with_capacity(word.len() - 1);
        s.push_str(&word[..i]);
        s.push_str(&word[i + 1..]);
        s
    })
}

/// Edit distance with adjacent transpositions (optimal string alignment), giving up above `limit`.
fn distance(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let width = b.len() + 1;
    let mut rows = vec![0usize; width * 3];
    for (j, cell) in rows[..width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur * width] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[prev * width + j] + 1)
                .min(rows[cur * width + j - 1] + 1)
                .min(rows[prev * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2 * width + j - 2] + 1);
            }
            rows[cur * width + j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return limit + 1;
        }
    }
    rows[(a.len() % 3) * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_word_they_meant() {
        let mut fuzzy = Fuzzy::default();
        for (i, w) in ["salesforce", "carpark", "kubernetes", "monitor", "server"]
            .iter()
            .enumerate()
        {
            fuzzy.add(w, i as u32);
        }
        assert_eq!(fuzzy.correct("salesfroce"), Some(("salesforce", 0)));
        assert_eq!(fuzzy.correct("carpak"), Some(("carpark", 1)));
        assert_eq!(fuzzy.correct("kuberntes"), Some(("kubernetes", 2)));
        assert_eq!(fuzzy.correct("sever"), Some(("server", 4)));
        assert_eq!(fuzzy.correct("lunch"), None);
        assert_eq!(fuzzy.correct("printer"), None);
    }

    #[test]
    fn distance_counts_a_swap_as_one_edit() {
        assert_eq!(distance(b"docusing", b"docusign", 2), 1);
        assert_eq!(distance(b"abc", b"abc", 1), 0);
        assert_eq!(distance(b"abcdef", b"badcfe", 1), 2);
    }
}
