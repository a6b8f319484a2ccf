//! Templates that name a person in a target system, such as `uid={id},ou=people,dc=example,dc=com`
//! or `{email}`, checked when the configuration is read and filled in per grant with the target
//! system's own escaping (so that a person's id can never change the shape of a DN or a filter).

use serde::Deserialize;
use sesame_core::ports::GrantPerson;
use std::borrow::Cow;

/// A text with placeholders: `{id}` (the directory user id), `{email}`, and `{email_local}` (the
/// part of the email address before `@`). Literal braces are not allowed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PersonTemplate {
    parts: Vec<Part>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Id,
    Email,
    EmailLocal,
}

impl PersonTemplate {
    /// Parses `text`; it must name the person at least once.
    pub fn parse(text: &str) -> Result<PersonTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!("template {text:?} has a '}}' without its '{{'"));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err(format!("template {text:?} has a '{{' without its '}}'"));
            };
            parts.push(match &after[..close] {
                "id" => Part::Id,
                "email" => Part::Email,
                "email_local" => Part::EmailLocal,
                other => {
                    return Err(format!(
                        "template {text:?} names {{{other}}}; it may use {{id}}, {{email}} and \
                         {{email_local}}"
                    ))
                }
            });
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if !parts.iter().any(|p| !matches!(p, Part::Text(_))) {
            return Err(format!(
                "template {text:?} names nobody; use {{id}}, {{email}} or {{email_local}}"
            ));
        }
        Ok(PersonTemplate {
            parts,
            source: text.to_owned(),
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Fills in `person`, passing each value through `escape`.
    pub fn render<'p>(
        &self,
        person: &'p GrantPerson,
        escape: impl Fn(&'p str) -> Cow<'p, str>,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Id => out.push_str(&escape(person.id.as_str())),
                Part::Email => out.push_str(&escape(person.email.as_str())),
                Part::EmailLocal => {
                    let local = person.email.split('@').next().unwrap_or_default();
                    out.push_str(&escape(local));
                }
            }
        }
        out
    }

    /// Fills in `person` as it is, for systems whose own quoting is applied later.
    pub fn render_plain(&self, person: &GrantPerson) -> String {
        self.render(person, Cow::Borrowed)
    }

    /// Whether the template uses the email address (which a person may lack).
    pub fn needs_email(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Email | Part::EmailLocal))
    }
}

impl TryFrom<String> for PersonTemplate {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        PersonTemplate::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::UserId;

    fn alice() -> GrantPerson {
        GrantPerson {
            id: UserId::new("alice").unwrap(),
            email: String::from("alice.smith@example.com"),
            display_name: String::from("Alice Smith"),
        }
    }

    #[test]
    fn placeholders_are_filled_and_escaped() {
        let t = PersonTemplate::parse("uid={id},ou=people ({email_local}; {email})").unwrap();
        assert_eq!(
            t.render_plain(&alice()),
            "uid=alice,ou=people (alice.smith; alice.smith@example.com)"
        );
        let upper = t.render(&alice(), |v| Cow::Owned(v.to_uppercase()));
        assert!(upper.starts_with("uid=ALICE,"));
        assert!(t.needs_email());
        assert!(!PersonTemplate::parse("{id}").unwrap().needs_email());
    }

    #[test]
    fn bad_templates_are_refused_with_a_reason() {
        for (text, reason) in [
            ("uid=x", "names nobody"),
            ("{name}", "names {name}"),
            ("{id", "without its '}'"),
            ("id}", "without its '{'"),
        ] {
            let err = PersonTemplate::parse(text).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}
