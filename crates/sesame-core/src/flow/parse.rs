//! From a flow file's text to a validated [`Flow`].
//!
//! serde checks the shape (unknown fields, wrong types) and reports its own positions; the validator
//! then checks meaning (question references, quorum sizes, limits chat platforms impose) and maps each
//! problem's path to a position with [`Positions`]. Every problem in a file is reported, not just the
//! first, so that one run of `sesame check` is enough to fix a file.

use super::positions::{Position, Positions};
use super::*;
use crate::time::Span;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::fmt;

/// One problem in one flow file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowError {
    pub file: String,
    pub position: Option<Position>,
    /// Where in the document, such as `questions[4].shown_if`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FlowError {}

/// Slack's limits, which every flow must fit so that no chat surface has to cut it: option and
/// option-group text at most 75 characters, at most 100 options in a static select, input labels at
/// most 2000 characters and plain-text inputs at most 3000 characters.
const MAX_OPTION_TEXT: usize = 75;
const MAX_OPTIONS: usize = 100;
const MAX_LABEL: usize = 2000;
const MAX_INPUT: usize = 3000;
const DEFAULT_TEXT_MAX: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    category: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    requesters: Value,
    #[serde(default)]
    questions: Vec<RawQuestion>,
    justification: Option<RawJustification>,
    duration: Option<RawDuration>,
    #[serde(default)]
    approval: Vec<RawStep>,
    #[serde(default)]
    owners: Vec<String>,
    #[serde(default)]
    allow_self_approval: bool,
    #[serde(default)]
    allow_self_fulfilment: bool,
    #[serde(default)]
    allow_same_approver_for_several_steps: bool,
    #[serde(default)]
    allow_requests_for_others: bool,
    fulfillment: Value,
    pending_expires_after: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawJustification {
    Required,
    Optional,
    None,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum RawType {
    Text,
    Textarea,
    Select,
    MultiSelect,
    Date,
    Duration,
    User,
    Number,
    Boolean,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    label: String,
    #[serde(rename = "type")]
    kind: RawType,
    #[serde(default)]
    required: bool,
    help: Option<String>,
    max_length: Option<usize>,
    options: Option<Vec<String>>,
    min: Option<f64>,
    max: Option<Value>,
    integer: Option<bool>,
    shown_if: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuration {
    default: String,
    max: String,
    #[serde(default)]
    requester_chooses: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Option<String>,
    approvers: Value,
    required: Option<u32>,
    remind_after: Option<String>,
    escalate_after: Option<String>,
    escalate_to: Option<Value>,
    skip_if: Option<Value>,
}

/// Parses and validates one flow file. `file` is only used to name the file in errors.
pub fn parse_flow(file: &str, text: &str) -> Result<Flow, Vec<FlowError>> {
    parse_flow_checked(file, text, None)
}

/// [`parse_flow`], with a `fulfillment: { connector: ... }` block also checked by `connectors`
/// (the connector exists, and accepts the settings), reported with the block's line like any other
/// problem.
pub fn parse_flow_checked(
    file: &str,
    text: &str,
    connectors: Option<&dyn ConnectorCheck>,
) -> Result<Flow, Vec<FlowError>> {
    let raw: RawFlow = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Err(vec![serde_error(file, &e)]),
    };
    let mut v = Validator {
        problems: Vec::new(),
        connectors,
    };
    let flow = v.flow(raw);
    if v.problems.is_empty() {
        if let Some(flow) = flow {
            return Ok(flow);
        }
    }
    let positions = Positions::of(text);
    Err(v
        .problems
        .into_iter()
        .map(|(path, message)| FlowError {
            file: file.to_owned(),
            position: positions.find(&path),
            path,
            message,
        })
        .collect())
}

fn serde_error(file: &str, e: &serde_yaml::Error) -> FlowError {
    let mut message = e.to_string();
    // serde_yaml puts " at line L column C" after the problem (and a YAML syntax error may add its
    // context's position after that); the problem's position is reported separately.
    if let Some(l) = e.location() {
        message = message.replacen(
            &format!(" at line {} column {}", l.line(), l.column()),
            "",
            1,
        );
    }
    let (path, message) = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_owned(), rest.to_owned()),
        _ => (String::new(), message),
    };
    FlowError {
        file: file.to_owned(),
        position: e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        }),
        path,
        message,
    }
}

struct Validator<'c> {
    problems: Vec<(String, String)>,
    connectors: Option<&'c dyn ConnectorCheck>,
}

impl Validator<'_> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push((path.into(), message.into()));
    }

    fn id<T>(
        &mut self,
        path: &str,
        value: &str,
        make: fn(String) -> Result<T, crate::ids::IdError>,
    ) -> Option<T> {
        match make(value.to_owned()) {
            Ok(id) => Some(id),
            Err(e) => {
                self.problem(path, e.to_string());
                None
            }
        }
    }

    fn span(&mut self, path: &str, text: &str) -> Option<Span> {
        match Span::parse(text) {
            Ok(s) => Some(s),
            Err(e) => {
                self.problem(path, e.to_string());
                None
            }
        }
    }

    fn text(&mut self, path: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.problem(path, "must not be empty");
        } else if value.chars().count() > max {
            self.problem(path, format!("is longer than {max} characters"));
        }
        value.to_owned()
    }

    fn flow(&mut self, raw: RawFlow) -> Option<Flow> {
        let id = self.id("id", &raw.id, FlowId::new);
        // The name is shown as a select option in Slack, which allows 75 characters.
        let name = self.text("name", &raw.name, MAX_OPTION_TEXT);
        if raw.description.chars().count() > MAX_INPUT {
            self.problem(
                "description",
                format!("is longer than {MAX_INPUT} characters"),
            );
        }
        let category = match raw.category {
            Some(c) => self.text("category", &c, MAX_OPTION_TEXT),
            None => String::from("Other"),
        };
        let keywords: Vec<String> = raw
            .keywords
            .iter()
            .enumerate()
            .map(|(i, k)| {
                self.text(&format!("keywords[{i}]"), k, MAX_OPTION_TEXT)
                    .to_lowercase()
            })
            .collect();
        let requesters = self.requesters(&raw.requesters);
        let owners: Vec<UserId> = raw
            .owners
            .iter()
            .enumerate()
            .filter_map(|(i, o)| self.id(&format!("owners[{i}]"), o, UserId::new))
            .collect();
        let questions = self.questions(&raw.questions);
        let justification = match raw.justification {
            Some(RawJustification::Required) => Justification::Required,
            Some(RawJustification::None) => Justification::None,
            Some(RawJustification::Optional) | None => Justification::Optional,
        };
        let duration = raw.duration.as_ref().and_then(|d| self.duration(d));
        let approval: Vec<ApprovalStep> = raw
            .approval
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.step(i, s, &owners, &questions, duration.is_some()))
            .collect();
        let fulfillment = self.fulfillment(&raw.fulfillment);
        let pending_expires_after = raw
            .pending_expires_after
            .as_deref()
            .and_then(|t| self.span("pending_expires_after", t));
        Some(Flow {
            id: id?,
            name,
            description: raw.description.trim().to_owned(),
            category,
            keywords,
            requesters: requesters?,
            questions,
            justification,
            duration,
            approval,
            owners,
            allow_self_approval: raw.allow_self_approval,
            allow_self_fulfilment: raw.allow_self_fulfilment,
            allow_same_approver_for_several_steps: raw.allow_same_approver_for_several_steps,
            allow_requests_for_others: raw.allow_requests_for_others,
            fulfillment: fulfillment?,
            pending_expires_after,
        })
    }

    fn requesters(&mut self, value: &Value) -> Option<Requesters> {
        const EXPECTED: &str =
            "expected `everyone` or a map with `groups: [...]` and/or `users: [...]`";
        match value {
            Value::String(s) if s == "everyone" => Some(Requesters::Everyone),
            Value::Mapping(map) => {
                let mut groups = Vec::new();
                let mut users = Vec::new();
                for (key, val) in map {
                    let key = key.as_str().unwrap_or_default();
                    let path = format!("requesters.{key}");
                    match key {
                        "groups" => groups = self.ids(&path, val, GroupId::new),
                        "users" => users = self.ids(&path, val, UserId::new),
                        "everyone" if val.as_bool() == Some(true) => {
                            return Some(Requesters::Everyone)
                        }
                        _ => self.problem(&path, format!("unknown key; {EXPECTED}")),
                    }
                }
                if groups.is_empty() && users.is_empty() {
                    self.problem("requesters", format!("names nobody; {EXPECTED}"));
                    return None;
                }
                Some(Requesters::Some { groups, users })
            }
            _ => {
                self.problem("requesters", EXPECTED);
                None
            }
        }
    }

    /// A list of ids, or a single id written without brackets.
    fn ids<T>(
        &mut self,
        path: &str,
        value: &Value,
        make: fn(String) -> Result<T, crate::ids::IdError>,
    ) -> Vec<T> {
        match value {
            Value::String(s) => self.id(path, s, make).into_iter().collect(),
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let path = format!("{path}[{i}]");
                    match item.as_str() {
                        Some(s) => self.id(&path, s, make),
                        None => {
                            self.problem(path, "expected a string");
                            None
                        }
                    }
                })
                .collect(),
            _ => {
                self.problem(path, "expected a list of ids");
                Vec::new()
            }
        }
    }

    fn questions(&mut self, raw: &[RawQuestion]) -> Vec<Question> {
        let mut out: Vec<Question> = Vec::new();
        for (i, q) in raw.iter().enumerate() {
            let path = format!("questions[{i}]");
            let Some(id) = self.id(&format!("{path}.id"), &q.id, QuestionId::new) else {
                continue;
            };
            if out.iter().any(|o| o.id == id) {
                self.problem(format!("{path}.id"), format!("question id `{id}` is used twice; expected a different id for each question"));
                continue;
            }
            let label = self.text(&format!("{path}.label"), &q.label, MAX_LABEL);
            if q.help
                .as_ref()
                .is_some_and(|h| h.trim().chars().count() > MAX_LABEL)
            {
                self.problem(
                    format!("{path}.help"),
                    format!("is longer than {MAX_LABEL} characters"),
                );
            }
            let kind = self.question_kind(&path, q);
            let shown_if = match &q.shown_if {
                Some(v) => self.answer_match(&format!("{path}.shown_if"), v, &out, true),
                None => BTreeMap::new(),
            };
            if let Some(kind) = kind {
                out.push(Question {
                    id,
                    label,
                    help: q
                        .help
                        .as_ref()
                        .map(|h| h.trim().to_owned())
                        .filter(|h| !h.is_empty()),
                    required: q.required,
                    kind,
                    shown_if,
                });
            }
        }
        out
    }

    fn question_kind(&mut self, path: &str, q: &RawQuestion) -> Option<QuestionKind> {
        let name = match q.kind {
            RawType::Text => "text",
            RawType::Textarea => "textarea",
            RawType::Select => "select",
            RawType::MultiSelect => "multi_select",
            RawType::Date => "date",
            RawType::Duration => "duration",
            RawType::User => "user",
            RawType::Number => "number",
            RawType::Boolean => "boolean",
        };
        let not_for = |this: &mut Self, field: &str, present: bool, applies_to: &str| {
            if present {
                this.problem(
                    format!("{path}.{field}"),
                    format!("`{field}` does not apply to a {name} question; it is for {applies_to} questions only"),
                );
            }
        };
        let texty = matches!(q.kind, RawType::Text | RawType::Textarea);
        let choicy = matches!(q.kind, RawType::Select | RawType::MultiSelect);
        not_for(
            self,
            "max_length",
            q.max_length.is_some() && !texty,
            "text and textarea",
        );
        not_for(
            self,
            "options",
            q.options.is_some() && !choicy,
            "select and multi_select",
        );
        not_for(
            self,
            "min",
            q.min.is_some() && q.kind != RawType::Number,
            "number",
        );
        not_for(
            self,
            "integer",
            q.integer.is_some() && q.kind != RawType::Number,
            "number",
        );
        not_for(
            self,
            "max",
            q.max.is_some() && !matches!(q.kind, RawType::Number | RawType::Duration),
            "number and duration",
        );
        let max_length = |this: &mut Self, default: usize| match q.max_length {
            Some(n) if n == 0 || n > MAX_INPUT => {
                this.problem(
                    format!("{path}.max_length"),
                    format!("expected 1 to {MAX_INPUT}"),
                );
                default
            }
            Some(n) => n,
            None => default,
        };
        Some(match q.kind {
            RawType::Text => QuestionKind::Text {
                max_length: max_length(self, DEFAULT_TEXT_MAX),
            },
            RawType::Textarea => QuestionKind::Textarea {
                max_length: max_length(self, MAX_INPUT),
            },
            RawType::Select | RawType::MultiSelect => {
                let options = self.options(path, q.options.as_deref());
                if q.kind == RawType::Select {
                    QuestionKind::Select { options }
                } else {
                    QuestionKind::MultiSelect { options }
                }
            }
            RawType::Date => QuestionKind::Date,
            RawType::User => QuestionKind::User,
            RawType::Boolean => QuestionKind::Boolean,
            RawType::Duration => {
                let max = match &q.max {
                    None => None,
                    Some(Value::String(s)) => self.span(&format!("{path}.max"), s),
                    Some(_) => {
                        self.problem(
                            format!("{path}.max"),
                            "expected a duration such as 8h or 30d",
                        );
                        None
                    }
                };
                QuestionKind::Duration { max }
            }
            RawType::Number => {
                let max = match &q.max {
                    None => None,
                    Some(v) => match v.as_f64() {
                        Some(n) => Some(n),
                        None => {
                            self.problem(format!("{path}.max"), "expected a number");
                            None
                        }
                    },
                };
                if let (Some(lo), Some(hi)) = (q.min, max) {
                    if lo > hi {
                        self.problem(
                            format!("{path}.min"),
                            format!("min {lo} is greater than max {hi}"),
                        );
                    }
                }
                QuestionKind::Number {
                    min: q.min,
                    max,
                    integer: q.integer.unwrap_or(false),
                }
            }
        })
    }

    fn options(&mut self, path: &str, options: Option<&[String]>) -> Vec<String> {
        let path = format!("{path}.options");
        let Some(options) = options else {
            self.problem(&path, "a select question needs `options: [...]`");
            return Vec::new();
        };
        if options.is_empty() || options.len() > MAX_OPTIONS {
            self.problem(
                &path,
                format!(
                    "expected 1 to {MAX_OPTIONS} options, found {}",
                    options.len()
                ),
            );
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, o) in options.iter().enumerate() {
            let o = self.text(&format!("{path}[{i}]"), o, MAX_OPTION_TEXT);
            if !seen.insert(o.clone()) {
                self.problem(
                    format!("{path}[{i}]"),
                    format!("option `{o}` is listed twice"),
                );
            }
            out.push(o);
        }
        out
    }

    /// `{question: value}` or `{question: [values]}`, checked against the named questions' types.
    /// `shown_if` may only name earlier questions, so the form can be asked top to bottom.
    fn answer_match(
        &mut self,
        path: &str,
        value: &Value,
        questions: &[Question],
        earlier_only: bool,
    ) -> BTreeMap<QuestionId, Vec<serde_json::Value>> {
        let mut out = BTreeMap::new();
        let Value::Mapping(map) = value else {
            self.problem(
                path,
                "expected a map of question id to value, such as `{ ev: true }`",
            );
            return out;
        };
        for (key, val) in map {
            let key = key.as_str().unwrap_or_default();
            let kpath = format!("{path}.{key}");
            let Some(question) = questions.iter().find(|q| q.id.as_str() == key) else {
                let known: Vec<&str> = questions.iter().map(|q| q.id.as_str()).collect();
                let which = if earlier_only {
                    "an earlier question"
                } else {
                    "a question of this flow"
                };
                self.problem(
                    kpath,
                    format!(
                        "`{key}` is not {which}; expected one of: {}",
                        if known.is_empty() {
                            String::from("(none)")
                        } else {
                            known.join(", ")
                        }
                    ),
                );
                continue;
            };
            let values: Vec<&Value> = match val {
                Value::Sequence(items) => items.iter().collect(),
                other => vec![other],
            };
            let mut accepted = Vec::new();
            for v in values {
                match match_value(&question.kind, v) {
                    Ok(j) => accepted.push(j),
                    Err(why) => self.problem(&kpath, why),
                }
            }
            out.insert(question.id.clone(), accepted);
        }
        out
    }

    fn duration(&mut self, d: &RawDuration) -> Option<DurationPolicy> {
        let default = self.span("duration.default", &d.default);
        let max = self.span("duration.max", &d.max);
        let (default, max) = (default?, max?);
        if default > max {
            self.problem(
                "duration.default",
                format!("default {default} is longer than max {max}"),
            );
            return None;
        }
        Some(DurationPolicy {
            default,
            max,
            requester_chooses: d.requester_chooses,
        })
    }

    fn step(
        &mut self,
        index: usize,
        raw: &RawStep,
        owners: &[UserId],
        questions: &[Question],
        has_duration: bool,
    ) -> Option<ApprovalStep> {
        let path = format!("approval[{index}]");
        let approvers = self.approvers(&format!("{path}.approvers"), &raw.approvers)?;
        let required = raw.required.unwrap_or(1);
        let limit = match &approvers {
            Approvers::Manager => Some(1),
            // Distinct people: `users: [a, a]` is one approver, not two.
            Approvers::Owners => Some(owners.iter().collect::<BTreeSet<_>>().len()),
            Approvers::Users(u) => Some(u.iter().collect::<BTreeSet<_>>().len()),
            Approvers::Group(_) => None,
        };
        let no_owners = approvers == Approvers::Owners && owners.is_empty();
        if no_owners {
            self.problem(
                format!("{path}.approvers"),
                "`owners` is used but the flow lists no `owners`",
            );
        }
        if required == 0 {
            self.problem(format!("{path}.required"), "must be at least 1");
        } else if let Some(limit) = limit.filter(|_| !no_owners) {
            if required as usize > limit {
                self.problem(
                    format!("{path}.required"),
                    format!("{required} approvals are required but only {limit} people can approve this step"),
                );
            }
        }
        let span = |this: &mut Self, field: &str, value: &Option<String>| {
            value
                .as_deref()
                .and_then(|t| this.span(&format!("{path}.{field}"), t))
        };
        let remind_after = span(self, "remind_after", &raw.remind_after);
        let escalate_after = span(self, "escalate_after", &raw.escalate_after);
        let escalate_to = match &raw.escalate_to {
            Some(v) => self.approvers(&format!("{path}.escalate_to"), v),
            None => None,
        };
        if escalate_after.is_some() != raw.escalate_to.is_some() {
            self.problem(
                &path,
                "`escalate_after` and `escalate_to` go together: give both or neither",
            );
        }
        let skip_if = raw
            .skip_if
            .as_ref()
            .and_then(|v| self.condition(&format!("{path}.skip_if"), v, questions, has_duration));
        let name = match &raw.name {
            Some(n) => self.text(&format!("{path}.name"), n, MAX_OPTION_TEXT),
            None => default_step_name(&approvers),
        };
        Some(ApprovalStep {
            name,
            approvers,
            required,
            remind_after,
            escalate_after,
            escalate_to,
            skip_if,
        })
    }

    fn approvers(&mut self, path: &str, value: &Value) -> Option<Approvers> {
        const EXPECTED: &str =
            "expected `manager`, `owners`, `{ user: <id> }`, `{ users: [<id>, ...] }` or `{ group: <id> }`";
        match value {
            Value::String(s) if s == "manager" => Some(Approvers::Manager),
            Value::String(s) if s == "owners" => Some(Approvers::Owners),
            Value::Mapping(map) if map.len() == 1 => {
                let (key, val) = map.iter().next()?;
                let kpath = format!("{path}.{}", key.as_str().unwrap_or("?"));
                match (key.as_str(), val) {
                    (Some("user"), Value::String(s)) => self
                        .id(&kpath, s, UserId::new)
                        .map(|u| Approvers::Users(vec![u])),
                    (Some("users"), v) => {
                        let users = self.ids(&kpath, v, UserId::new);
                        if users.is_empty() {
                            self.problem(kpath, "names nobody");
                            return None;
                        }
                        Some(Approvers::Users(users))
                    }
                    (Some("group"), Value::String(s)) => {
                        self.id(&kpath, s, GroupId::new).map(Approvers::Group)
                    }
                    _ => {
                        self.problem(path, EXPECTED);
                        None
                    }
                }
            }
            _ => {
                self.problem(path, EXPECTED);
                None
            }
        }
    }

    fn condition(
        &mut self,
        path: &str,
        value: &Value,
        questions: &[Question],
        has_duration: bool,
    ) -> Option<Condition> {
        const EXPECTED: &str =
            "expected a map with any of `answers`, `requester_in`, `duration_at_most` and `any`";
        let Value::Mapping(map) = value else {
            self.problem(path, EXPECTED);
            return None;
        };
        let problems_before = self.problems.len();
        let mut c = Condition::default();
        for (key, val) in map {
            let key = key.as_str().unwrap_or_default();
            let kpath = format!("{path}.{key}");
            match key {
                "answers" => c.answers = self.answer_match(&kpath, val, questions, false),
                "requester_in" => c.requester_in = self.ids(&kpath, val, GroupId::new),
                "duration_at_most" => {
                    if !has_duration {
                        self.problem(
                            &kpath,
                            "the flow has no `duration`, so there is none to compare",
                        );
                    }
                    c.duration_at_most = match val.as_str() {
                        Some(s) => self.span(&kpath, s),
                        None => {
                            self.problem(&kpath, "expected a duration such as 8h");
                            None
                        }
                    }
                }
                "any" => match val {
                    Value::Sequence(items) if !items.is_empty() => {
                        c.any = items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, item)| {
                                self.condition(
                                    &format!("{kpath}[{i}]"),
                                    item,
                                    questions,
                                    has_duration,
                                )
                            })
                            .collect();
                    }
                    _ => self.problem(&kpath, "expected a non-empty list of conditions"),
                },
                _ => self.problem(&kpath, format!("unknown condition; {EXPECTED}")),
            }
        }
        if c == Condition::default() {
            // A condition whose only parts were refused has been reported already.
            if self.problems.len() == problems_before {
                self.problem(path, format!("is empty; {EXPECTED}"));
            }
            return None;
        }
        Some(c)
    }

    fn fulfillment(&mut self, value: &Value) -> Option<Fulfillment> {
        const EXPECTED: &str =
            "expected `{ manual: { group: <id> } }`, `{ manual: { users: [<id>, ...] } }` \
             or `{ connector: <name>, <setting>: <value>, ... }`";
        if let Value::Mapping(map) = value {
            if map.contains_key("connector") {
                return self.connector_fulfillment(map);
            }
        }
        let manual = match value {
            Value::Mapping(map) if map.len() == 1 => match map.get("manual") {
                Some(Value::Mapping(inner)) if inner.len() == 1 => inner,
                _ => {
                    self.problem("fulfillment", EXPECTED);
                    return None;
                }
            },
            _ => {
                self.problem("fulfillment", EXPECTED);
                return None;
            }
        };
        let (key, val) = manual.iter().next()?;
        match (key.as_str(), val) {
            (Some("group"), Value::String(g)) => self
                .id("fulfillment.manual.group", g, GroupId::new)
                .map(|g| Fulfillment::Manual(Fulfillers::Group(g))),
            (Some("users"), v) => {
                let users = self.ids("fulfillment.manual.users", v, UserId::new);
                if users.is_empty() {
                    self.problem("fulfillment.manual.users", "names nobody");
                    return None;
                }
                Some(Fulfillment::Manual(Fulfillers::Users(users)))
            }
            _ => {
                self.problem("fulfillment.manual", EXPECTED);
                None
            }
        }
    }

    /// `{ connector: <name>, <key>: <value>, ... }`: every other key is a setting for the connector,
    /// a scalar kept as text (the connector parses its own settings when they are checked).
    fn connector_fulfillment(&mut self, map: &serde_yaml::Mapping) -> Option<Fulfillment> {
        let mut connector = None;
        let mut target = BTreeMap::new();
        let problems_before = self.problems.len();
        for (key, val) in map {
            let Some(key) = key.as_str() else {
                self.problem("fulfillment", "setting names must be text");
                continue;
            };
            let path = format!("fulfillment.{key}");
            if key == "manual" {
                self.problem(
                    &path,
                    "a flow is fulfilled by a connector or by hand, not both",
                );
                continue;
            }
            let text = match val {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    self.problem(
                        &path,
                        "expected a single value (text, number or true/false)",
                    );
                    continue;
                }
            };
            if key == "connector" {
                if text.is_empty() {
                    self.problem(&path, "must name a connector");
                } else {
                    connector = Some(text);
                }
            } else {
                target.insert(key.to_owned(), text);
            }
        }
        let connector = connector?;
        if self.problems.len() > problems_before {
            return None;
        }
        if let Some(check) = self.connectors {
            if let Err(problem) = check.check_target(&connector, &target) {
                self.problem("fulfillment.connector", problem);
                return None;
            }
        }
        Some(Fulfillment::Connector(ConnectorTarget {
            connector,
            target,
        }))
    }
}

/// Checks one value in `shown_if` or `skip_if.answers` against the question's type and returns it in
/// the form answers are stored in, so that comparisons later are plain equality.
fn match_value(kind: &QuestionKind, v: &Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    match (kind, v) {
        (QuestionKind::Boolean, Value::Bool(b)) => Ok(J::Bool(*b)),
        (
            QuestionKind::Select { options } | QuestionKind::MultiSelect { options },
            Value::String(s),
        ) => {
            if options.contains(s) {
                Ok(J::String(s.clone()))
            } else {
                Err(format!(
                    "`{s}` is not one of the question's options: {}",
                    options.join(", ")
                ))
            }
        }
        (QuestionKind::Number { .. }, Value::Number(n)) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .ok_or_else(|| String::from("expected a number")),
        (
            QuestionKind::Text { .. }
            | QuestionKind::Textarea { .. }
            | QuestionKind::User
            | QuestionKind::Date,
            Value::String(s),
        ) => Ok(J::String(s.clone())),
        (QuestionKind::Duration { .. }, Value::String(s)) => Span::parse(s)
            .map(|d| J::String(d.to_string()))
            .map_err(|e| e.to_string()),
        (kind, _) => Err(format!(
            "expected a value of the question's type ({})",
            kind.type_name()
        )),
    }
}

fn default_step_name(approvers: &Approvers) -> String {
    match approvers {
        Approvers::Manager => String::from("Manager approval"),
        Approvers::Owners => String::from("Owner approval"),
        Approvers::Users(_) => String::from("Approval"),
        Approvers::Group(g) => {
            let mut name = format!("Approval by {g}");
            name.truncate(MAX_OPTION_TEXT);
            name
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod connector_tests;
