//! Points in time and lengths of time, as the domain needs them: whole milliseconds since the Unix
//! epoch, and spans written the way people write them in flows and chat ("30d", "4h", "1w2d").

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time: milliseconds since 1970-01-01T00:00:00Z. Stored as an integer in both databases so
/// that SQLite and PostgreSQL compare and sort it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus(self, span: Span) -> Self {
        Self(self.0.saturating_add(span.seconds.saturating_mul(1000)))
    }

    /// RFC 3339 in UTC, for people and for JSON.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match ::time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(t) => t
                .format(&::time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| self.0.to_string()),
            Err(_) => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A length of time in whole seconds, written as one or more `<number><unit>` parts with units
/// w (weeks), d, h, m and s: "30d", "4h", "1w2d", "90m".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    seconds: i64,
}

/// Why a text is not a span.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a duration: expected a number and a unit (w, d, h, m or s), each unit at most once and largest first, such as 30d, 4h or 1w2d")]
pub struct SpanError {
    pub text: String,
}

/// The longest span Sesame accepts: ten years. Longer is a typo, not a policy.
const MAX_SPAN_SECONDS: i64 = 10 * 366 * 24 * 3600;

impl Span {
    pub fn from_seconds(seconds: i64) -> Self {
        Self { seconds }
    }

    /// "30 days", "2 weeks", "4 hours": the largest whole unit, in words, for messages to people
    /// on every platform.
    pub fn in_words(self) -> String {
        let seconds = self.seconds;
        for (size, one, many) in [
            (604_800, "week", "weeks"),
            (86_400, "day", "days"),
            (3_600, "hour", "hours"),
            (60, "minute", "minutes"),
        ] {
            if seconds != 0 && seconds % size == 0 {
                let n = seconds / size;
                return format!("{n} {}", if n == 1 { one } else { many });
            }
        }
        format!(
            "{seconds} {}",
            if seconds == 1 { "second" } else { "seconds" }
        )
    }

    pub fn seconds(self) -> i64 {
        self.seconds
    }

    pub fn parse(text: &str) -> Result<Self, SpanError> {
        let err = || SpanError {
            text: text.to_owned(),
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(err());
        }
        let mut total: i64 = 0;
        // Each unit at most once and largest first: "1d1d" or "2h1d" is a typo, not 2 days or
        // 26 hours, and "1 2h" must not read as 12 hours.
        let mut previous: Option<usize> = None;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 || digits > 9 {
                return Err(err());
            }
            let n: i64 = rest[..digits].parse().map_err(|_| err())?;
            rest = rest[digits..].trim_start();
            let mut chars = rest.chars();
            let unit = chars.next().ok_or_else(err)?.to_ascii_lowercase();
            let index = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(err)?;
            if previous.is_some_and(|p| index <= p) {
                return Err(err());
            }
            previous = Some(index);
            total = total.saturating_add(n.saturating_mul(UNITS[index].1));
            rest = chars.as_str().trim_start();
        }
        if total <= 0 || total > MAX_SPAN_SECONDS {
            return Err(err());
        }
        Ok(Self { seconds: total })
    }
}

/// A span's units, largest first, with their length in seconds.
const UNITS: [(char, i64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl fmt::Display for Span {
    /// The largest whole unit that fits exactly: 30d, 2w, 4h, 90m. People read "30d" more easily
    /// than "4w2d", so mixed units are never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
            if self.seconds % size == 0 {
                return write!(f, "{}{}", self.seconds / size, unit);
            }
        }
        write!(f, "{}s", self.seconds)
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_and_print_canonically() {
        for (text, seconds, printed) in [
            ("30d", 30 * 86_400, "30d"),
            ("4h", 14_400, "4h"),
            ("1w2d", 9 * 86_400, "9d"),
            ("90m", 5_400, "90m"),
            ("14d", 14 * 86_400, "2w"),
            ("1D", 86_400, "1d"),
            ("1d 2h", 93_600, "26h"),
            (" 4 h ", 14_400, "4h"),
            ("1w1d1h1m1s", 694_861, "694861s"),
        ] {
            let span = Span::parse(text).unwrap();
            assert_eq!(span.seconds(), seconds, "{text}");
            assert_eq!(span.to_string(), printed, "{text}");
            assert_eq!(Span::parse(printed).unwrap(), span);
        }
    }

    #[test]
    fn bad_spans_are_refused() {
        for bad in [
            "",
            "d",
            "30",
            "3x",
            "-1d",
            "0h",
            "99999999999d",
            "11000d",
            "1d1d",
            "2h1d",
            "1h1h",
            "1 2h",
            "1dd",
            "1day",
            "1d 2",
            "1.5h",
            "1d,2h",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(86_400_000).plus(Span::from_seconds(60)).0,
            86_460_000
        );
    }
}
