//! Where each node of a YAML document starts, by path (`questions[4].shown_if`), so that errors found
//! after deserialisation (a `shown_if` naming an unknown question, say) can still name a line and column.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};

/// A line and column, both counted from 1 as editors count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The start of every node in one document, by path. Keys point at the key, not the value, because
/// that is where a person looks for `max_length:` when told it is wrong.
#[derive(Debug, Default)]
pub struct Positions {
    by_path: HashMap<String, Position>,
}

enum Frame {
    /// `item_start` is set for a mapping that is a sequence item and has not seen its first key yet.
    Map {
        path: String,
        pending_key: Option<String>,
        item_start: bool,
    },
    Seq {
        path: String,
        next_index: usize,
    },
}

impl Positions {
    /// Reads the document's structure. A document that does not parse gives an empty map: serde's
    /// error, which carries its own position, is reported instead.
    pub fn of(text: &str) -> Self {
        let mut positions = Positions::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        loop {
            let Ok((event, mark)) = parser.next_token() else {
                return positions;
            };
            let here = Position {
                line: mark.line(),
                column: mark.col() + 1,
            };
            let is_node = matches!(
                event,
                Event::Scalar(..)
                    | Event::Alias(_)
                    | Event::MappingStart(..)
                    | Event::SequenceStart(..)
            );
            let mut node_path = None;
            if is_node {
                match stack.last_mut() {
                    None => node_path = Some(String::new()),
                    Some(Frame::Map {
                        path,
                        pending_key,
                        item_start,
                    }) => match pending_key.take() {
                        None => {
                            // This node is a key. Only scalar keys name a path.
                            if let Event::Scalar(key, ..) = &event {
                                // yaml-rust2 marks a block mapping's start at its first `:`, so a
                                // block mapping item (`- id: a`) is placed at its first key instead.
                                if std::mem::take(item_start) {
                                    let start =
                                        positions.by_path.entry(path.clone()).or_insert(here);
                                    if (start.line, start.column) > (here.line, here.column) {
                                        *start = here;
                                    }
                                }
                                let key_path = join(path, key);
                                positions.by_path.entry(key_path).or_insert(here);
                                *pending_key = Some(key.clone());
                            } else {
                                *pending_key = Some(String::from("?"));
                            }
                            continue;
                        }
                        Some(key) => node_path = Some(join(path, &key)),
                    },
                    Some(Frame::Seq { path, next_index }) => {
                        let item = format!("{path}[{next_index}]");
                        *next_index += 1;
                        positions.by_path.entry(item.clone()).or_insert(here);
                        node_path = Some(item);
                    }
                }
            }
            match event {
                Event::MappingStart(..) => {
                    let item_start = matches!(stack.last(), Some(Frame::Seq { .. }));
                    stack.push(Frame::Map {
                        path: node_path.unwrap_or_default(),
                        pending_key: None,
                        item_start,
                    })
                }
                Event::SequenceStart(..) => stack.push(Frame::Seq {
                    path: node_path.unwrap_or_default(),
                    next_index: 0,
                }),
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                Event::StreamEnd => return positions,
                _ => {}
            }
        }
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut path = path;
        loop {
            if let Some(p) = self.by_path.get(path) {
                return Some(*p);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_items_and_nearest_ancestors() {
        let text =
            "id: x\nquestions:\n  - { id: a, type: text }\n  - id: b\n    shown_if: { a: yes }\n";
        let p = Positions::of(text);
        assert_eq!(p.find("id"), Some(Position { line: 1, column: 1 }));
        assert_eq!(
            p.find("questions[1].shown_if"),
            Some(Position { line: 5, column: 5 })
        );
        assert_eq!(
            p.find("questions[0].type"),
            Some(Position {
                line: 3,
                column: 14
            })
        );
        // Sequence items: a flow mapping at its `{`, a block mapping at its first key.
        assert_eq!(
            p.find("questions[0]"),
            Some(Position { line: 3, column: 5 })
        );
        assert_eq!(
            p.find("questions[1]"),
            Some(Position { line: 4, column: 5 })
        );
        assert_eq!(
            p.find("questions[1].label"),
            Some(Position { line: 4, column: 5 })
        );
        // An unknown child falls back to the nearest known ancestor.
        assert_eq!(
            p.find("questions[1].shown_if.zzz"),
            Some(Position { line: 5, column: 5 })
        );
        assert_eq!(
            p.find("questions[1].shown_if.a"),
            Some(Position {
                line: 5,
                column: 17
            })
        );
    }

    #[test]
    fn positions_read_before_a_syntax_error_stay_usable() {
        let p = Positions::of("a: 1\nb: [\n");
        assert_eq!(p.find("a"), Some(Position { line: 1, column: 1 }));
    }
}
