//! SCIM filters (RFC 7644 §3.4.2.2), parsed into a tree and evaluated against a resource's JSON:
//! `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (...)`, parentheses and value paths such as
//! `emails[type eq "work"]`. Attribute names and string comparisons ignore case.

use crate::error::{Error, ScimType};
use crate::{CORE_GROUP, CORE_USER};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, Op, Value),
    /// `attr[filter]`: some element of a multi-valued attribute matches.
    ValuePath(AttrPath, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// An attribute path: an optional schema URN, an attribute and an optional sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// Parses `userName`, `name.familyName`, `urn:...:User:userName` or
    /// `urn:...:enterprise:2.0:User:manager.value`.
    pub fn parse(text: &str) -> Option<AttrPath> {
        let (urn, rest) = if text.to_ascii_lowercase().starts_with("urn:") {
            let cut = text.rfind(':')?;
            (Some(text[..cut].to_owned()), &text[cut + 1..])
        } else {
            (None, text)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s.to_owned())),
            None => (rest, None),
        };
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !ok(attr) || sub.as_deref().is_some_and(|s| !ok(s)) {
            return None;
        }
        // A URN that names a core schema is the same as no URN.
        let urn = urn
            .filter(|u| !u.eq_ignore_ascii_case(CORE_USER) && !u.eq_ignore_ascii_case(CORE_GROUP));
        Some(AttrPath {
            urn,
            attr: attr.to_owned(),
            sub,
        })
    }

    /// The values this path reaches in a resource (several for multi-valued attributes).
    pub fn values<'a>(&self, resource: &'a Value) -> Vec<&'a Value> {
        let container = match &self.urn {
            Some(urn) => match get_ci(resource, urn) {
                Some(c) => c,
                None => return Vec::new(),
            },
            None => resource,
        };
        let Some(top) = get_ci(container, &self.attr) else {
            return Vec::new();
        };
        let elements: Vec<&Value> = match top {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        match &self.sub {
            Some(sub) => elements
                .into_iter()
                .filter_map(|e| get_ci(e, sub))
                .collect(),
            // A complex multi-valued attribute compared as a whole compares its `value`.
            None => elements
                .into_iter()
                .map(|e| get_ci(e, "value").unwrap_or(e))
                .collect(),
        }
    }
}

/// A key of a JSON object, ignoring case.
pub fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::bad(ScimType::InvalidFilter, detail)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(other) => s.push(other),
                            None => break,
                        },
                        '"' => {
                            closed = true;
                            break;
                        }
                        other => s.push(other),
                    }
                }
                if !closed {
                    return Err(invalid("a quoted value is not closed"));
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(w));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Filter, Error> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, Error> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, Error> {
        if self.keyword("not") {
            self.at += 1;
            if self.next() != Some(Token::Open) {
                return Err(invalid("`not` must be followed by a parenthesised filter"));
            }
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err(invalid("a parenthesis is not closed"));
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err(invalid("a parenthesis is not closed"));
            }
            return Ok(inner);
        }
        let Some(Token::Word(path)) = self.next() else {
            return Err(invalid("expected an attribute name"));
        };
        let path = AttrPath::parse(&path)
            .ok_or_else(|| invalid(format!("{path:?} is not an attribute path")))?;
        if self.peek() == Some(&Token::OpenBracket) {
            self.at += 1;
            let inner = self.or()?;
            if self.next() != Some(Token::CloseBracket) {
                return Err(invalid("a bracket is not closed"));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let Some(Token::Word(op)) = self.next() else {
            return Err(invalid("expected an operator after the attribute"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(invalid(format!("unknown operator {other:?}"))),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(&w)
                    .map(Value::Number)
                    .map_err(|_| invalid(format!("{w:?} is not a value; quote strings")))?,
            },
            _ => return Err(invalid("expected a value after the operator")),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

pub fn parse(text: &str) -> Result<Filter, Error> {
    if text.len() > 2048 {
        return Err(invalid("the filter is too long"));
    }
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
    };
    let filter = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(invalid("unexpected text after the filter"));
    }
    Ok(filter)
}

fn compare(actual: &Value, op: Op, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(w)) => {
            let (a, w) = (a.to_lowercase(), w.to_lowercase());
            match op {
                Op::Eq => a == w,
                Op::Ne => a != w,
                Op::Co => a.contains(&w),
                Op::Sw => a.starts_with(&w),
                Op::Ew => a.ends_with(&w),
                Op::Gt => a > w,
                Op::Ge => a >= w,
                Op::Lt => a < w,
                Op::Le => a <= w,
            }
        }
        (Value::Number(a), Value::Number(w)) => {
            let (a, w) = (a.as_f64().unwrap_or(0.0), w.as_f64().unwrap_or(0.0));
            match op {
                Op::Eq => a == w,
                Op::Ne => a != w,
                Op::Gt => a > w,
                Op::Ge => a >= w,
                Op::Lt => a < w,
                Op::Le => a <= w,
                _ => false,
            }
        }
        (a, w) => match op {
            Op::Eq => a == w,
            Op::Ne => a != w,
            _ => false,
        },
    }
}

impl Filter {
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(f) => !f.matches(resource),
            Filter::Present(path) => path.values(resource).iter().any(|v| {
                !v.is_null() && v.as_str() != Some("") && v.as_array().is_none_or(|a| !a.is_empty())
            }),
            Filter::Compare(path, op, wanted) => {
                let values = path.values(resource);
                if *op == Op::Ne {
                    return !values.iter().any(|v| compare(v, Op::Eq, wanted));
                }
                values.iter().any(|v| compare(v, *op, wanted))
            }
            Filter::ValuePath(path, inner) => {
                let bare = AttrPath {
                    urn: path.urn.clone(),
                    attr: path.attr.clone(),
                    sub: None,
                };
                let container = match &bare.urn {
                    Some(urn) => get_ci(resource, urn),
                    None => Some(resource),
                };
                container
                    .and_then(|c| get_ci(c, &bare.attr))
                    .and_then(Value::as_array)
                    .is_some_and(|items| items.iter().any(|e| inner.matches(e)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ENTERPRISE;
    use serde_json::json;

    #[test]
    fn filters_match_the_way_providers_use_them() {
        let mut user = json!({
            "userName": "Alice@Example.com", "externalId": "00u1", "active": true,
            "emails": [{ "value": "alice@example.com", "type": "work" }],
            "name": { "familyName": "Smith" }
        });
        user[ENTERPRISE] = json!({ "manager": { "value": "carol" } });
        for (text, expected) in [
            ("userName eq \"alice@example.com\"", true),
            ("USERNAME Eq \"ALICE@example.com\"", true),
            ("externalId eq \"00u2\"", false),
            ("emails[type eq \"work\" and value co \"alice\"]", true),
            ("emails.value sw \"alice\"", true),
            ("name.familyName eq \"Smith\" and active eq true", true),
            ("not (active eq true) or userName pr", true),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName ew \"example.com\"",
                true,
            ),
            (&format!("{ENTERPRISE}:manager.value eq \"carol\""), true),
            ("title pr", false),
        ] {
            assert_eq!(parse(text).unwrap().matches(&user), expected, "{text}");
        }
    }

    #[test]
    fn malformed_filters_are_refused() {
        for text in [
            "userName",
            "userName eq",
            "userName zz \"x\"",
            "(userName eq \"x\"",
            "userName eq \"x",
            "userName eq x",
            "a eq \"b\" c",
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.scim_type, Some(ScimType::InvalidFilter), "{text}");
        }
    }

    fn check(resource: &Value, cases: &[(&str, bool)]) {
        for (text, expected) in cases {
            let filter = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(filter.matches(resource), *expected, "{text}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_keywords_ignore_case() {
        let r = json!({ "a": "x", "b": "y", "c": "z" });
        check(
            &r,
            &[
                // a or (b and c), not (a or b) and c.
                ("a eq \"x\" or b eq \"n\" and c eq \"n\"", true),
                ("(a eq \"x\" or b eq \"n\") and c eq \"n\"", false),
                ("a eq \"n\" OR b eq \"y\" AND c eq \"z\"", true),
                ("NOT (a eq \"x\")", false),
                ("not ((a eq \"n\" or b eq \"n\"))", true),
            ],
        );
    }

    #[test]
    fn presence_needs_a_value_that_is_not_empty() {
        let r =
            json!({ "s": "", "n": null, "a": [], "b": false, "o": { "x": 1 }, "e": [{ "v": 1 }] });
        check(
            &r,
            &[
                ("s pr", false),
                ("n pr", false),
                ("a pr", false),
                ("missing pr", false),
                ("b pr", true),
                ("o pr", true),
                ("e pr", true),
                ("not (s pr)", true),
            ],
        );
    }

    #[test]
    fn ne_means_no_value_equals_and_holds_when_absent() {
        let r = json!({ "emails": [{ "value": "a@x.io" }, { "value": "b@x.io" }] });
        check(
            &r,
            &[
                ("emails.value ne \"a@x.io\"", false),
                ("emails.value ne \"c@x.io\"", true),
                ("title ne \"boss\"", true),
                // A complex multi-valued attribute compared as a whole compares its `value`.
                ("emails eq \"B@X.IO\"", true),
            ],
        );
    }

    #[test]
    fn numbers_booleans_and_null_compare_by_type() {
        let r = json!({ "n": 5, "f": 2.5, "b": true, "s": "5", "z": null });
        check(
            &r,
            &[
                ("n gt 4", true),
                ("n ge 5", true),
                ("n lt 5", false),
                ("f le 2.5", true),
                ("n eq 5.0", true),
                ("n co 5", false),
                // A number is not its string, nor a string its number.
                ("s eq 5", false),
                ("n eq \"5\"", false),
                ("b eq TRUE", true),
                ("b ne false", true),
                ("b gt false", false),
                ("z eq null", true),
            ],
        );
    }

    #[test]
    fn strings_compare_ignoring_case_and_order_like_timestamps() {
        let r = json!({
            "displayName": "Ada \"the\" Lovelace",
            "meta": { "lastModified": "2024-05-13T04:42:34Z" }
        });
        check(
            &r,
            &[
                ("displayName eq \"ada \\\"THE\\\" lovelace\"", true),
                ("displayName co \"LOVE\"", true),
                ("displayName ew \"lace\"", true),
                ("meta.lastModified gt \"2024-01-01T00:00:00Z\"", true),
                ("meta.lastModified lt \"2024-01-01T00:00:00Z\"", false),
                ("meta.lastModified le \"2024-05-13T04:42:34Z\"", true),
            ],
        );
    }

    #[test]
    fn value_paths_need_an_array_and_urns_pick_the_extension() {
        let mut r = json!({
            "emails": [{ "value": "a@x.io", "type": "home" }, { "value": "b@x.io", "type": "work", "primary": true }],
            "name": { "familyName": "Smith" }
        });
        r[ENTERPRISE] = json!({ "department": "Ops" });
        check(
            &r,
            &[
                ("emails[type eq \"work\" and primary eq true]", true),
                ("emails[type eq \"home\" and primary eq true]", false),
                ("emails[not (type eq \"work\")]", true),
                // `name` is an object, not a list of elements.
                ("name[familyName eq \"Smith\"]", false),
                (&format!("{ENTERPRISE}:department eq \"ops\""), true),
                (&format!("{ENTERPRISE}:costCenter pr"), false),
                (
                    "urn:ietf:params:scim:schemas:core:2.0:Group:name.familyName pr",
                    true,
                ),
                ("urn:example:other:department pr", false),
            ],
        );
    }

    #[test]
    fn paths_and_lengths_are_checked() {
        assert_eq!(
            AttrPath::parse("name.familyName"),
            Some(AttrPath {
                urn: None,
                attr: String::from("name"),
                sub: Some(String::from("familyName")),
            })
        );
        assert_eq!(
            AttrPath::parse(&format!("{CORE_USER}:userName"))
                .unwrap()
                .urn,
            None
        );
        for bad in ["", "name.", ".x", "na me", "a/b", "urn:x:"] {
            assert_eq!(AttrPath::parse(bad), None, "{bad:?}");
        }
        for text in [
            "not active eq true",
            "emails[type eq \"work\"",
            "emails[]",
            "name. eq \"x\"",
            "userName eq \"x\" and",
            ")",
            "",
        ] {
            assert_eq!(
                parse(text).unwrap_err().scim_type,
                Some(ScimType::InvalidFilter),
                "{text:?}"
            );
        }
        let long = format!("userName eq \"{}\"", "x".repeat(2048));
        assert!(parse(&long).unwrap_err().detail.contains("too long"));
    }
}
