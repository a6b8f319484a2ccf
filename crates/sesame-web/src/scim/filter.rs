//! SCIM filters (RFC 7644 §3.4.2.2), parsed into a tree and evaluated against a resource's JSON:
//! `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (...)`, parentheses and value paths such as
//! `emails[type eq "work"]`. Attribute names and string comparisons ignore case.

use super::error::ScimError;
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

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

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

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidFilter", detail)
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

fn tokenize(text: &str) -> Result<Vec<Token>, ScimError> {
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

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ScimError> {
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

pub fn parse(text: &str) -> Result<Filter, ScimError> {
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
            assert_eq!(err.scim_type, Some("invalidFilter"), "{text}");
        }
    }
}
