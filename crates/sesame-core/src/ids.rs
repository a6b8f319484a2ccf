//! Identifiers. Each is a newtype with a checked constructor so that raw strings never travel inward.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: {expected}")]
pub struct IdError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

fn check_slug(what: &'static str, value: &str) -> Result<(), IdError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(IdError {
            what,
            value: value.to_owned(),
            expected:
                "1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit",
        })
    }
}

fn check_user_id(value: &str) -> Result<(), IdError> {
    // User ids may be email addresses (a common identity-provider user name), so '@', '.' and '+' are
    // allowed besides the slug characters; anything that could break a URL path or a chat message is not.
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+'));
    if ok {
        Ok(())
    } else {
        Err(IdError {
            what: "user id",
            value: value.to_owned(),
            expected: "1 to 128 characters of letters, digits and - _ . @ +",
        })
    }
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $check:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                let check: fn(&str) -> Result<(), IdError> = $check;
                check(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A flow's stable slug, such as `carpark`.
    FlowId,
    |v| check_slug("flow id", v)
);
string_id!(
    /// A directory group's id, such as `facilities`.
    GroupId,
    |v| check_slug("group id", v)
);
string_id!(
    /// A directory user's id, such as `alice` or `alice@example.com`.
    UserId,
    check_user_id
);
string_id!(
    /// A question's id within its flow, such as `plate`.
    QuestionId,
    |v| check_slug("question id", v)
);

/// The short sequential number people use for a request: "Carpark access #117".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestNumber(pub i64);

impl fmt::Display for RequestNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_and_refuse_the_rest() {
        assert!(FlowId::new("carpark").is_ok());
        assert!(FlowId::new("aws-prod_ro2").is_ok());
        for bad in ["", "Carpark", "-x", "a b", "a/b", &"x".repeat(65)] {
            assert!(FlowId::new(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn user_ids_may_be_emails_but_not_paths_or_markup() {
        assert!(UserId::new("alice@example.com").is_ok());
        for bad in ["", "a/b", "<!channel>", "a b", "a?b"] {
            assert!(UserId::new(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn ids_refuse_bad_values_when_deserialised() {
        let err = serde_json::from_str::<FlowId>("\"Bad Id\"").unwrap_err();
        assert!(err.to_string().contains("flow id"));
    }
}
