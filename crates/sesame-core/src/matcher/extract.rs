//! What a message already says, so the request form opens filled in: how long ("for 2 hours",
//! "pendant 3 jours", "until Friday"), a ticket reference ("INC-4411") and the text itself as the
//! justification's first draft.

use super::normalize::{fold, is_ticket};
use crate::time::{Span, Timestamp};
use serde::Serialize;

/// What the message already says, for pre-filling the flow's questions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// "for 2 hours", "for 3 days"; with a reference time, also the time left until `until`.
    pub duration: Option<Span>,
    /// A ticket reference such as `INC-4411`.
    pub ticket: Option<String>,
    /// The message itself, trimmed, as the justification's first draft (when the flow takes one).
    pub justification: Option<String>,
    /// "until Friday", "bis morgen": the end of that day (UTC), when a reference time was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

const DAY_MS: i64 = 86_400_000;

/// Pulls out a ticket reference, a duration and an end ("until Friday", resolved against `now`).
pub(super) fn extract(text: &str, now: Option<Timestamp>) -> Extracted {
    let trimmed = text.trim();
    let ticket = trimmed
        .split(|c: char| c.is_whitespace() || ",.;:()[]!?".contains(c))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .find(|w| is_ticket(w))
        .map(str::to_uppercase);
    let words: Vec<String> = fold(trimmed)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let until = now.and_then(|now| until(&words, now));
    let duration = duration(&words).or_else(|| {
        let (now, until) = (now?, until?);
        let hours = (until.millis() - now.millis() + 3_599_999) / 3_600_000;
        (hours > 0).then(|| Span::from_seconds(hours * 3600))
    });
    Extracted {
        duration,
        ticket,
        justification: (!trimmed.is_empty()).then(|| trimmed.to_owned()),
        until,
    }
}

/// "for 2 hours", "for a week", "durante 3 días", "pendant 2 heures", "für 2 Stunden", "2h".
fn duration(words: &[String]) -> Option<Span> {
    for (i, word) in words.iter().enumerate() {
        // "2h", "30min", "4hrs" written as one word.
        let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.len() < word.len() {
            if let Some(span) = span(digits.parse().ok()?, &word[digits.len()..]) {
                return Some(span);
            }
        }
        let Some(amount) = amount(word) else { continue };
        let introduced = i > 0 && INTRODUCERS.contains(&words[i - 1].as_str())
            || i > 1 && words[i - 1] == "next" && INTRODUCERS.contains(&words[i - 2].as_str());
        let bare_number = word.chars().all(|c| c.is_ascii_digit());
        if let Some(unit) = words.get(i + 1) {
            if introduced || bare_number {
                if let Some(span) = span(amount, unit) {
                    return Some(span);
                }
            }
        }
    }
    None
}

const INTRODUCERS: &[&str] = &["for", "durante", "pendant", "fur", "per", "during", "about"];

fn amount(word: &str) -> Option<i64> {
    if let Ok(n) = word.parse::<i64>() {
        return (1..=10_000).contains(&n).then_some(n);
    }
    let n = match word {
        "a" | "an" | "one" | "un" | "una" | "une" | "ein" | "eine" | "einen" => 1,
        "two" | "dos" | "deux" | "zwei" | "couple" => 2,
        "three" | "tres" | "trois" | "drei" => 3,
        "four" | "cuatro" | "quatre" | "vier" => 4,
        "five" | "cinco" | "cinq" | "funf" => 5,
        "six" | "seis" | "sechs" => 6,
        "seven" | "siete" | "sept" | "sieben" => 7,
        "eight" | "ocho" | "huit" | "acht" => 8,
        "ten" | "diez" | "dix" | "zehn" => 10,
        "twelve" | "doce" | "douze" | "zwolf" => 12,
        _ => return None,
    };
    Some(n)
}

fn span(amount: i64, unit: &str) -> Option<Span> {
    let seconds = match unit {
        "m" | "min" | "mins" | "minute" | "minutes" | "minuto" | "minutos" | "minuten" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" | "hora" | "horas" | "heure" | "heures"
        | "stunde" | "stunden" => 3600,
        "d" | "day" | "days" | "dia" | "dias" | "jour" | "jours" | "tag" | "tage" | "tagen" => {
            86_400
        }
        "w" | "wk" | "wks" | "week" | "weeks" | "semana" | "semanas" | "semaine" | "semaines"
        | "woche" | "wochen" => 604_800,
        "month" | "months" | "mes" | "meses" | "mois" | "monat" | "monate" => 30 * 86_400,
        _ => return None,
    };
    Span::parse(&format!("{}s", amount.checked_mul(seconds)?)).ok()
}

/// "until Friday", "till tomorrow", "hasta el viernes", "jusqu'à vendredi", "bis Freitag",
/// "until eod": the end of that day in UTC. A weekday means its next occurrence, today included.
fn until(words: &[String], now: Timestamp) -> Option<Timestamp> {
    let today = now.millis().div_euclid(DAY_MS);
    let start = words.iter().position(|w| {
        matches!(
            w.as_str(),
            "until" | "till" | "til" | "through" | "hasta" | "jusqu" | "bis"
        )
    })?;
    for word in words.iter().skip(start + 1).take(3) {
        let days_ahead = match word.as_str() {
            "today" | "tonight" | "eod" | "hoy" | "aujourd" | "heute" => 0,
            "tomorrow" | "manana" | "demain" | "morgen" => 1,
            other => match weekday(other) {
                // 1970-01-01 was a Thursday: weekday 3 counting from Monday = 0.
                Some(day) => (day - (today + 3).rem_euclid(7)).rem_euclid(7),
                None => continue,
            },
        };
        return Some(Timestamp::from_millis((today + days_ahead + 1) * DAY_MS));
    }
    None
}

fn weekday(word: &str) -> Option<i64> {
    let day = match word {
        "monday" | "mon" | "lunes" | "lundi" | "montag" => 0,
        "tuesday" | "tue" | "tues" | "martes" | "mardi" | "dienstag" => 1,
        "wednesday" | "wed" | "miercoles" | "mercredi" | "mittwoch" => 2,
        "thursday" | "thu" | "thurs" | "jueves" | "jeudi" | "donnerstag" => 3,
        "friday" | "fri" | "viernes" | "vendredi" | "freitag" => 4,
        "saturday" | "sat" | "sabado" | "samedi" | "samstag" => 5,
        "sunday" | "sun" | "domingo" | "dimanche" | "sonntag" => 6,
        _ => return None,
    };
    Some(day)
}
