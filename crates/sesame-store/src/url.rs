//! Database URLs: which backend a URL names, where a SQLite file lives, and how to print a URL
//! without its password.

use crate::StoreError;

pub(crate) enum Target {
    Sqlite { in_memory: bool },
    Postgres,
}

pub(crate) fn classify(url: &str) -> Result<Target, StoreError> {
    if url.starts_with("sqlite:") {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Ok(Target::Sqlite { in_memory })
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Target::Postgres)
    } else {
        Err(StoreError::InvalidUrl(format!(
            "{} names no supported database; expected sqlite://<path> or postgres://...",
            redact(url)
        )))
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let start = scheme_end + 3;
        let rest = &out[start..];
        let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_len];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                out.replace_range(start + colon + 1..start + at, "***");
            }
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let cleaned: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{head}{}", cleaned.join("&"));
    }
    out
}

/// Removes every occurrence of the URL's password from a message.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    match password(url) {
        Some(secret) if !secret.is_empty() => message.replace(secret, "***"),
        _ => message.to_owned(),
    }
}

fn password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(&userinfo[userinfo.find(':')? + 1..])
}

/// The same server URL naming another database.
pub(crate) fn with_database(url: &str, database: &str) -> Result<String, StoreError> {
    let start = url
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| StoreError::InvalidUrl(format!("{} has no scheme", redact(url))))?;
    let query_start = url[start..]
        .find(['?', '#'])
        .map(|i| start + i)
        .unwrap_or(url.len());
    let path_start = url[start..query_start]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(query_start);
    Ok(format!(
        "{}/{}{}",
        &url[..path_start],
        database,
        &url[query_start..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/sesame"),
            "postgres://app:***@db:5432/sesame"
        );
        assert_eq!(
            redact("postgres://db/sesame?user=a&password=s3cret"),
            "postgres://db/sesame?user=a&password=***"
        );
        assert_eq!(redact("sqlite://data/sesame.db"), "sqlite://data/sesame.db");
        assert_eq!(
            scrub("login for app:s3cret failed", "postgres://app:s3cret@db/x"),
            "login for app:*** failed"
        );
    }

    #[test]
    fn database_names_are_replaced_or_added() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5433/postgres", "t1").unwrap(),
            "postgres://postgres@127.0.0.1:5433/t1"
        );
        assert_eq!(
            with_database("postgres://h:1?sslmode=disable", "t1").unwrap(),
            "postgres://h:1/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h/", "t1").unwrap(),
            "postgres://h/t1"
        );
    }

    #[test]
    fn unknown_schemes_are_refused_without_echoing_secrets() {
        let Err(StoreError::InvalidUrl(message)) = classify("mysql://root:hunter2@db/x") else {
            panic!("mysql should be refused");
        };
        assert!(!message.contains("hunter2"), "{message}");
    }
}
