use super::*;

const FILE: &str = "flows/test.yaml";

/// The example flow from the specification, verbatim.
const CARPARK: &str = "\
id: carpark
name: Carpark access
description: A parking permit for the HQ carpark, valid on weekdays.
category: Facilities
keywords: [parking, garage]
requesters: { groups: [employees] }
questions:
  - { id: plate, label: Vehicle registration, type: text, required: true, max_length: 12 }
  - { id: site, label: Site, type: select, options: [London, Berlin], required: true }
  - { id: reason, label: Why do you need it?, type: textarea }
  - { id: ev, label: Electric vehicle?, type: boolean }
  - { id: bay, label: Charging bay, type: select, options: [A, B], shown_if: { ev: true } }
justification: required
duration: { default: 30d, max: 90d, requester_chooses: true }
approval:
  - { approvers: manager }
  - { approvers: { group: facilities }, required: 1, remind_after: 4h, escalate_after: 1d, escalate_to: { user: alice@example.com } }
fulfillment: { manual: { group: facilities } }
pending_expires_after: 14d
";

/// Four lines that make a valid flow; tests append to it, so their first line is line 5.
const HEADER: &str =
    "id: t\nname: Test\nrequesters: everyone\nfulfillment: { manual: { group: it } }\n";

fn with_header(body: &str) -> String {
    format!("{HEADER}{body}")
}

fn errors(text: &str) -> Vec<FlowError> {
    match parse_flow(FILE, text) {
        Ok(flow) => panic!("expected errors, but it parsed: {flow:#?}\n---\n{text}"),
        Err(errors) => errors,
    }
}

fn span(text: &str) -> Span {
    Span::parse(text).unwrap()
}

fn uid(id: &str) -> UserId {
    UserId::new(id).unwrap()
}

fn gid(id: &str) -> GroupId {
    GroupId::new(id).unwrap()
}

fn qid(id: &str) -> QuestionId {
    QuestionId::new(id).unwrap()
}

#[test]
fn the_spec_example_parses_with_every_field() {
    let flow = parse_flow("carpark.yaml", CARPARK).unwrap();
    assert_eq!(flow.id.as_str(), "carpark");
    assert_eq!(flow.name, "Carpark access");
    assert_eq!(
        flow.description,
        "A parking permit for the HQ carpark, valid on weekdays."
    );
    assert_eq!(flow.category, "Facilities");
    assert_eq!(flow.keywords, ["parking", "garage"]);
    assert_eq!(
        flow.requesters,
        Requesters::Some {
            groups: vec![gid("employees")],
            users: vec![]
        }
    );

    let q: Vec<(&str, &str, bool)> = flow
        .questions
        .iter()
        .map(|q| (q.id.as_str(), q.label.as_str(), q.required))
        .collect();
    assert_eq!(
        q,
        [
            ("plate", "Vehicle registration", true),
            ("site", "Site", true),
            ("reason", "Why do you need it?", false),
            ("ev", "Electric vehicle?", false),
            ("bay", "Charging bay", false),
        ]
    );
    assert_eq!(
        flow.questions[0].kind,
        QuestionKind::Text { max_length: 12 }
    );
    assert_eq!(
        flow.questions[1].kind,
        QuestionKind::Select {
            options: vec!["London".into(), "Berlin".into()]
        }
    );
    assert_eq!(
        flow.questions[2].kind,
        QuestionKind::Textarea {
            max_length: MAX_INPUT
        }
    );
    assert_eq!(flow.questions[3].kind, QuestionKind::Boolean);
    assert_eq!(
        flow.questions[4].kind,
        QuestionKind::Select {
            options: vec!["A".into(), "B".into()]
        }
    );
    assert!(flow.questions[..4]
        .iter()
        .all(|q| q.shown_if.is_empty() && q.help.is_none()));
    assert_eq!(
        flow.questions[4].shown_if,
        BTreeMap::from([(qid("ev"), vec![serde_json::json!(true)])])
    );

    assert_eq!(flow.justification, Justification::Required);
    assert_eq!(
        flow.duration,
        Some(DurationPolicy {
            default: span("30d"),
            max: span("90d"),
            requester_chooses: true
        })
    );

    assert_eq!(flow.approval.len(), 2);
    let manager = &flow.approval[0];
    assert_eq!(
        manager,
        &ApprovalStep {
            name: String::from("Manager approval"),
            approvers: Approvers::Manager,
            required: 1,
            remind_after: None,
            escalate_after: None,
            escalate_to: None,
            skip_if: None,
        }
    );
    let facilities = &flow.approval[1];
    assert_eq!(
        facilities,
        &ApprovalStep {
            name: String::from("Approval by facilities"),
            approvers: Approvers::Group(gid("facilities")),
            required: 1,
            remind_after: Some(span("4h")),
            escalate_after: Some(span("1d")),
            escalate_to: Some(Approvers::Users(vec![uid("alice@example.com")])),
            skip_if: None,
        }
    );
    assert!(flow.owners.is_empty());
    assert!(!flow.allow_self_approval);
    assert!(!flow.allow_requests_for_others);
    assert_eq!(
        flow.fulfillment,
        Fulfillment::Manual(Fulfillers::Group(gid("facilities")))
    );
    assert_eq!(flow.pending_expires_after, Some(span("14d")));
    assert_eq!(
        flow.question("bay").map(|q| q.label.as_str()),
        Some("Charging bay")
    );
    assert!(flow.question("nope").is_none());
}

#[test]
fn a_minimal_flow_gets_the_documented_defaults() {
    let flow = parse_flow(FILE, HEADER).unwrap();
    assert_eq!(flow.description, "");
    assert_eq!(flow.category, "Other");
    assert!(flow.keywords.is_empty());
    assert_eq!(flow.requesters, Requesters::Everyone);
    assert!(flow.questions.is_empty());
    assert_eq!(flow.justification, Justification::Optional);
    assert_eq!(flow.duration, None);
    assert!(flow.approval.is_empty());
    assert!(flow.owners.is_empty());
    assert!(!flow.allow_self_approval && !flow.allow_requests_for_others);
    assert_eq!(
        flow.fulfillment,
        Fulfillment::Manual(Fulfillers::Group(gid("it")))
    );
    assert_eq!(flow.pending_expires_after, None);
}

#[test]
fn every_question_type_and_option_parses() {
    let text = "\
id: everything
name: '  Everything  '
keywords: [VPN, Remote]
requesters: { groups: [eng], users: [ann, bob@example.com] }
owners: [olga, oscar]
allow_self_approval: true
allow_requests_for_others: true
justification: none
questions:
  - { id: t, label: T, type: text, help: '  Say something  ' }
  - { id: ta, label: TA, type: textarea, max_length: 500 }
  - { id: ms, label: MS, type: multi_select, options: [read, write, admin], required: true }
  - { id: d, label: D, type: date }
  - { id: du, label: DU, type: duration, max: 8h }
  - { id: du2, label: DU2, type: duration }
  - { id: u, label: U, type: user }
  - { id: n, label: N, type: number, min: 1, max: 10, integer: true }
  - { id: n2, label: N2, type: number }
  - { id: b, label: B, type: boolean, shown_if: { ms: [write, admin], n: 3 } }
approval:
  - name: Owners
    approvers: owners
    required: 2
  - approvers: { users: [ann, bob] }
    skip_if:
      answers: { ms: read, du: 90m }
      requester_in: [sre]
      any:
        - { requester_in: [oncall] }
        - { answers: { b: false } }
  - { approvers: { user: carol } }
  - { approvers: { group: security }, required: 3, remind_after: 1h, escalate_after: 1d, escalate_to: manager }
fulfillment: { manual: { users: [fred, gina] } }
";
    let flow = parse_flow(FILE, text).unwrap();
    assert_eq!(flow.name, "Everything", "text is trimmed");
    assert_eq!(flow.keywords, ["vpn", "remote"], "keywords are lowercased");
    assert_eq!(
        flow.requesters,
        Requesters::Some {
            groups: vec![gid("eng")],
            users: vec![uid("ann"), uid("bob@example.com")]
        }
    );
    assert_eq!(flow.owners, [uid("olga"), uid("oscar")]);
    assert!(flow.allow_self_approval && flow.allow_requests_for_others);
    assert_eq!(flow.justification, Justification::None);
    let kinds: Vec<QuestionKind> = flow.questions.iter().map(|q| q.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            QuestionKind::Text {
                max_length: DEFAULT_TEXT_MAX
            },
            QuestionKind::Textarea { max_length: 500 },
            QuestionKind::MultiSelect {
                options: vec!["read".into(), "write".into(), "admin".into()]
            },
            QuestionKind::Date,
            QuestionKind::Duration {
                max: Some(span("8h"))
            },
            QuestionKind::Duration { max: None },
            QuestionKind::User,
            QuestionKind::Number {
                min: Some(1.0),
                max: Some(10.0),
                integer: true
            },
            QuestionKind::Number {
                min: None,
                max: None,
                integer: false
            },
            QuestionKind::Boolean,
        ]
    );
    let names: Vec<&str> = flow.questions.iter().map(|q| q.kind.type_name()).collect();
    assert_eq!(
        names,
        [
            "text",
            "textarea",
            "multi_select",
            "date",
            "duration",
            "duration",
            "user",
            "number",
            "number",
            "boolean"
        ]
    );
    assert_eq!(flow.questions[0].help.as_deref(), Some("Say something"));
    assert!(flow.questions[2].required);
    assert_eq!(
        flow.questions[9].shown_if,
        BTreeMap::from([
            (
                qid("ms"),
                vec![serde_json::json!("write"), serde_json::json!("admin")]
            ),
            (qid("n"), vec![serde_json::json!(3.0)]),
        ])
    );

    let steps: Vec<(&str, &Approvers, u32)> = flow
        .approval
        .iter()
        .map(|s| (s.name.as_str(), &s.approvers, s.required))
        .collect();
    assert_eq!(
        steps,
        [
            ("Owners", &Approvers::Owners, 2),
            (
                "Approval",
                &Approvers::Users(vec![uid("ann"), uid("bob")]),
                1
            ),
            ("Approval", &Approvers::Users(vec![uid("carol")]), 1),
            (
                "Approval by security",
                &Approvers::Group(gid("security")),
                3
            ),
        ]
    );
    assert_eq!(
        flow.approval[1].skip_if,
        Some(Condition {
            answers: BTreeMap::from([
                // Durations are stored canonically, as answers are.
                (qid("du"), vec![serde_json::json!("90m")]),
                (qid("ms"), vec![serde_json::json!("read")]),
            ]),
            requester_in: vec![gid("sre")],
            duration_at_most: None,
            any: vec![
                Condition {
                    requester_in: vec![gid("oncall")],
                    ..Condition::default()
                },
                Condition {
                    answers: BTreeMap::from([(qid("b"), vec![serde_json::json!(false)])]),
                    ..Condition::default()
                },
            ],
        })
    );
    assert_eq!(flow.approval[3].escalate_to, Some(Approvers::Manager));
    assert_eq!(flow.approval[3].remind_after, Some(span("1h")));
    assert_eq!(
        flow.fulfillment,
        Fulfillment::Manual(Fulfillers::Users(vec![uid("fred"), uid("gina")]))
    );
}

#[test]
fn duration_conditions_and_requester_shorthands_parse() {
    let text = "id: t\nname: T\nrequesters: { everyone: true }\nfulfillment: { manual: { group: it } }\n\
        duration: { default: 1h, max: 1d }\napproval:\n  - { approvers: manager, skip_if: { duration_at_most: 2h } }\n";
    let flow = parse_flow(FILE, text).unwrap();
    assert_eq!(flow.requesters, Requesters::Everyone);
    assert_eq!(
        flow.duration,
        Some(DurationPolicy {
            default: span("1h"),
            max: span("1d"),
            requester_chooses: false
        })
    );
    assert_eq!(
        flow.approval[0]
            .skip_if
            .as_ref()
            .and_then(|c| c.duration_at_most),
        Some(span("2h"))
    );

    let single = HEADER.replacen(
        "requesters: everyone",
        "requesters: { groups: eng, users: ann }",
        1,
    );
    let flow = parse_flow(FILE, &single).unwrap();
    assert_eq!(
        flow.requesters,
        Requesters::Some {
            groups: vec![gid("eng")],
            users: vec![uid("ann")]
        },
        "a single id needs no brackets"
    );
}

/// One refused input: the problem must be reported once, at the path and line given, and its message
/// must say what is wrong and what was expected.
struct Case {
    name: &'static str,
    text: String,
    path: &'static str,
    line: usize,
    column: Option<usize>,
    wrong: &'static str,
    expected: &'static str,
}

fn case(
    name: &'static str,
    body: &str,
    path: &'static str,
    line: usize,
    wrong: &'static str,
    expected: &'static str,
) -> Case {
    let text = if body.starts_with("id:") {
        body.to_owned()
    } else {
        with_header(body)
    };
    Case {
        name,
        text,
        path,
        line,
        column: None,
        wrong,
        expected,
    }
}

impl Case {
    fn col(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }
}

#[test]
fn each_kind_of_bad_input_names_file_line_column_problem_and_expectation() {
    let long_name = "n".repeat(MAX_OPTION_TEXT + 1);
    let cases = [
        case("yaml syntax", "questions:\n  - { id: a, label: A\n", "", 7, "did not find expected", "expected ',' or '}'").col(1),
        case(
            "unterminated quote",
            "id: t\nname: \"Test\nrequesters: everyone\n",
            "",
            4,
            "found unexpected end of stream",
            "while scanning a quoted scalar at line 2 column 7",
        )
        .col(1),
        case("unknown top-level field", "colour: red\n", "", 5, "unknown field `colour`", "expected one of `id`, `name`").col(1),
        case(
            "unknown field in a question",
            "questions:\n  - id: a\n    label: A\n    type: text\n    colour: red\n",
            "questions[0]",
            9,
            "unknown field `colour`",
            "expected one of `id`, `label`, `type`",
        )
        .col(5),
        case(
            "unknown field in a flow-style question",
            "questions:\n  - { id: a, label: A, type: text, colour: red }\n",
            "questions[0]",
            6,
            "unknown field `colour`",
            "expected one of `id`",
        )
        .col(36),
        case("wrong type", "allow_self_approval: maybe\n", "allow_self_approval", 5, "invalid type: string \"maybe\"", "expected a boolean")
            .col(22),
        case("wrong type in a list", "keywords: 3\n", "keywords", 5, "invalid type: integer `3`", "expected a sequence"),
        case("negative quorum", "approval:\n  - { approvers: manager, required: -1 }\n", "approval[0].required", 6, "integer `-1`", "expected u32"),
        case(
            "unknown question type",
            "questions:\n  - { id: a, label: A, type: colour }\n",
            "questions[0].type",
            6,
            "unknown variant `colour`",
            "expected one of `text`, `textarea`, `select`, `multi_select`, `date`, `duration`, `user`, `number`, `boolean`",
        )
        .col(30),
        case(
            "shown_if names a later question",
            "questions:\n  - { id: a, label: A, type: text, shown_if: { b: x } }\n  - { id: b, label: B, type: text }\n",
            "questions[0].shown_if.b",
            6,
            "`b` is not an earlier question",
            "expected one of: (none)",
        )
        .col(48),
        case(
            "shown_if names an unknown question",
            "questions:\n  - { id: a, label: A, type: boolean }\n  - id: b\n    label: B\n    type: text\n    shown_if: { zz: true }\n",
            "questions[1].shown_if.zz",
            10,
            "`zz` is not an earlier question",
            "expected one of: a",
        )
        .col(17),
        case(
            "shown_if value of the wrong type",
            "questions:\n  - { id: ev, label: EV, type: boolean }\n  - { id: b, label: B, type: text, shown_if: { ev: 'yes' } }\n",
            "questions[1].shown_if.ev",
            7,
            "expected a value of the question's type",
            "(boolean)",
        ),
        case(
            "select without options",
            "questions:\n  - id: a\n    label: A\n    type: select\n",
            "questions[0].options",
            6,
            "a select question needs",
            "`options: [...]`",
        )
        .col(5),
        case(
            "select with no options",
            "questions:\n  - { id: a, label: A, type: multi_select, options: [] }\n",
            "questions[0].options",
            6,
            "found 0",
            "expected 1 to 100 options",
        ),
        case(
            "option listed twice",
            "questions:\n  - { id: a, label: A, type: select, options: [x, y, x] }\n",
            "questions[0].options[2]",
            6,
            "option `x` is listed twice",
            "",
        ),
        case(
            "option too long",
            "questions:\n  - id: a\n    label: A\n    type: select\n    options:\n      - ok\n      - nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\n",
            "questions[0].options[1]",
            11,
            "is longer than 75 characters",
            "",
        )
        .col(9),
        case(
            "max_length on a select",
            "questions:\n  - { id: a, label: A, type: select, options: [x], max_length: 3 }\n",
            "questions[0].max_length",
            6,
            "`max_length` does not apply to a select question",
            "it is for text and textarea questions only",
        ),
        case(
            "min on a text",
            "questions:\n  - { id: a, label: A, type: text, min: 3 }\n",
            "questions[0].min",
            6,
            "`min` does not apply to a text question",
            "for number questions only",
        ),
        case(
            "max_length of zero",
            "questions:\n  - { id: a, label: A, type: text, max_length: 0 }\n",
            "questions[0].max_length",
            6,
            "max_length",
            "expected 1 to 3000",
        ),
        case(
            "number min above max",
            "questions:\n  - { id: n, label: N, type: number, min: 5, max: 1 }\n",
            "questions[0].min",
            6,
            "min 5 is greater than max 1",
            "",
        ),
        case(
            "duration question with a numeric max",
            "questions:\n  - { id: d, label: D, type: duration, max: 8 }\n",
            "questions[0].max",
            6,
            "max",
            "expected a duration such as 8h or 30d",
        ),
        case(
            "duplicate question ids",
            "questions:\n  - { id: a, label: A, type: text }\n  - { id: a, label: B, type: text }\n",
            "questions[1].id",
            7,
            "question id `a` is used twice",
            "expected a different id for each question",
        )
        .col(7),
        case(
            "bad question id",
            "questions:\n  - { id: Plate, label: A, type: text }\n",
            "questions[0].id",
            6,
            "question id \"Plate\" is not valid",
            "1 to 64 characters of a-z",
        ),
        case(
            "help too long",
            &format!("questions:\n  - {{ id: a, label: A, type: text, help: {} }}\n", "h".repeat(2001)),
            "questions[0].help",
            6,
            "is longer than 2000 characters",
            "",
        ),
        case("empty label", "questions:\n  - { id: a, label: ' ', type: text }\n", "questions[0].label", 6, "must not be empty", ""),
        case(
            "quorum larger than the people named",
            "approval:\n  - { approvers: { users: [ann, bob] }, required: 3 }\n",
            "approval[0].required",
            6,
            "3 approvals are required but only 2 people can approve this step",
            "",
        ),
        case(
            "quorum counts people, not entries",
            "approval:\n  - { approvers: { users: [ann, ann] }, required: 2 }\n",
            "approval[0].required",
            6,
            "only 1 people can approve",
            "",
        ),
        case(
            "quorum of two managers",
            "approval:\n  - { approvers: manager, required: 2 }\n",
            "approval[0].required",
            6,
            "only 1 people can approve",
            "",
        ),
        case("quorum of zero", "approval:\n  - { approvers: { group: g }, required: 0 }\n", "approval[0].required", 6, "required", "must be at least 1"),
        case(
            "owners approvers without owners",
            "approval:\n  - approvers: owners\n",
            "approval[0].approvers",
            6,
            "`owners` is used but the flow lists no `owners`",
            "",
        )
        .col(5),
        case(
            "unknown approvers",
            "approval:\n  - approvers: { team: x }\n",
            "approval[0].approvers",
            6,
            "approvers",
            "expected `manager`, `owners`, `{ user: <id> }`, `{ users: [<id>, ...] }` or `{ group: <id> }`",
        ),
        case("approvers naming nobody", "approval:\n  - approvers: { users: [] }\n", "approval[0].approvers.users", 6, "names nobody", ""),
        case(
            "escalate_after without escalate_to",
            "approval:\n  - approvers: manager\n    escalate_after: 1d\n",
            "approval[0]",
            6,
            "`escalate_after` and `escalate_to` go together",
            "give both or neither",
        )
        .col(5),
        case(
            "escalate_to without escalate_after",
            "approval:\n  - { approvers: manager, escalate_to: { group: it } }\n",
            "approval[0]",
            6,
            "go together",
            "give both or neither",
        ),
        case(
            "bad duration default",
            "duration: { default: 30 days, max: 90d }\n",
            "duration.default",
            5,
            "\"30 days\" is not a duration",
            "expected a number and a unit (w, d, h, m or s)",
        ),
        case("zero duration max", "duration:\n  default: 1d\n  max: 0d\n", "duration.max", 7, "\"0d\" is not a duration", "such as 30d, 4h or 1w2d")
            .col(3),
        case("bad remind_after", "approval:\n  - { approvers: manager, remind_after: soon }\n", "approval[0].remind_after", 6, "\"soon\"", "expected a number"),
        case(
            "bad pending_expires_after",
            "pending_expires_after: 2 fortnights\n",
            "pending_expires_after",
            5,
            "is not a duration",
            "expected a number and a unit",
        )
        .col(1),
        case(
            "default longer than max",
            "duration: { default: 30d, max: 7d }\n",
            "duration.default",
            5,
            "default 30d is longer than max 1w",
            "",
        ),
        case(
            "skip_if on an unknown question",
            "questions:\n  - { id: env, label: Env, type: select, options: [dev, prod] }\napproval:\n  - approvers: manager\n    skip_if: { answers: { zone: dev } }\n",
            "approval[0].skip_if.answers.zone",
            9,
            "`zone` is not a question of this flow",
            "expected one of: env",
        ),
        case(
            "skip_if with a value that is not an option",
            "questions:\n  - { id: env, label: Env, type: select, options: [dev, prod] }\napproval:\n  - approvers: manager\n    skip_if:\n      answers:\n        env: staging\n",
            "approval[0].skip_if.answers.env",
            11,
            "`staging` is not one of the question's options",
            "dev, prod",
        )
        .col(9),
        case(
            "skip_if on duration without a duration",
            "approval:\n  - { approvers: manager, skip_if: { duration_at_most: 1h } }\n",
            "approval[0].skip_if.duration_at_most",
            6,
            "the flow has no `duration`",
            "",
        ),
        case(
            "skip_if with an unknown condition",
            "approval:\n  - { approvers: manager, skip_if: { weekday: monday } }\n",
            "approval[0].skip_if.weekday",
            6,
            "unknown condition",
            "expected a map with any of `answers`, `requester_in`, `duration_at_most` and `any`",
        ),
        case("empty skip_if", "approval:\n  - { approvers: manager, skip_if: {} }\n", "approval[0].skip_if", 6, "is empty", "expected a map with any of")
            .col(27),
        case(
            "skip_if with nothing in it",
            "approval:\n  - { approvers: manager, skip_if: { requester_in: [] } }\n",
            "approval[0].skip_if",
            6,
            "is empty",
            "expected a map with any of",
        ),
        case(
            "skip_if with an empty any",
            "approval:\n  - { approvers: manager, skip_if: { any: [] } }\n",
            "approval[0].skip_if.any",
            6,
            "any",
            "expected a non-empty list of conditions",
        ),
        case(
            "name longer than 75 characters",
            &format!("id: t\nname: {long_name}\nrequesters: everyone\nfulfillment: {{ manual: {{ group: it }} }}\n"),
            "name",
            2,
            "is longer than 75 characters",
            "",
        )
        .col(1),
        case(
            "bad flow id",
            "id: Carpark Access\nname: X\nrequesters: everyone\nfulfillment: { manual: { group: it } }\n",
            "id",
            1,
            "flow id \"Carpark Access\" is not valid",
            "1 to 64 characters of a-z",
        ),
        case(
            "requesters naming nobody",
            "id: t\nname: X\nrequesters: { groups: [] }\nfulfillment: { manual: { group: it } }\n",
            "requesters",
            3,
            "names nobody",
            "expected `everyone` or a map with `groups: [...]` and/or `users: [...]`",
        ),
        case(
            "requesters with an unknown key",
            "id: t\nname: X\nrequesters: { teams: [a], groups: [b] }\nfulfillment: { manual: { group: it } }\n",
            "requesters.teams",
            3,
            "unknown key",
            "expected `everyone`",
        ),
        case(
            "fulfillment that is not manual",
            "id: t\nname: X\nrequesters: everyone\nfulfillment: { api: x }\n",
            "fulfillment",
            4,
            "fulfillment",
            "expected `{ manual: { group: <id> } }`, `{ manual: { users: [<id>, ...] } }` or `{ connector: <name>, <setting>: <value>, ... }`",
        ),
        case(
            "fulfillers naming nobody",
            "id: t\nname: X\nrequesters: everyone\nfulfillment: { manual: { users: [] } }\n",
            "fulfillment.manual.users",
            4,
            "names nobody",
            "",
        ),
        // serde reports a repeated key at the start of its mapping, not at the repetition.
        case("a key given twice", "name: Again\n", "", 1, "duplicate field `name`", ""),
        case("missing required field", "id: t\nrequesters: everyone\nfulfillment: { manual: { group: it } }\n", "", 1, "missing field `name`", ""),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let errs = errors(&c.text);
        let [e] = errs.as_slice() else {
            failures.push(format!(
                "{}: expected exactly one error, got {errs:#?}",
                c.name
            ));
            continue;
        };
        let shown = e.to_string();
        let position = e.position.map(|p| (p.line, p.column));
        let ok = e.file == FILE
            && e.path == c.path
            && position.map(|p| p.0) == Some(c.line)
            && c.column
                .is_none_or(|col| position.map(|p| p.1) == Some(col))
            && shown.contains(c.wrong)
            && shown.contains(c.expected)
            && shown.starts_with(&format!("{FILE}:{}:", c.line))
            && !e.message.contains(&format!(" at line {} ", c.line));
        if !ok {
            failures.push(format!("{}: got {e:?}\n  shown as {shown}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn several_problems_in_one_file_are_all_reported_in_order_with_their_lines() {
    let text = "\
id: Bad_Id
name: Broken
requesters: everyone
questions:
  - { id: a, label: A, type: select }
  - { id: b, label: B, type: text, shown_if: { c: x } }
  - { id: a, label: Again, type: text }
duration: { default: 9d, max: 2d }
approval:
  - approvers: { users: [ann] }
    required: 2
  - { approvers: manager, escalate_after: 1d }
fulfillment: { manual: { group: it } }
pending_expires_after: never
";
    let errs = errors(text);
    let got: Vec<(&str, usize)> = errs
        .iter()
        .map(|e| (e.path.as_str(), e.position.unwrap().line))
        .collect();
    assert_eq!(
        got,
        [
            ("id", 1),
            ("questions[0].options", 5),
            ("questions[1].shown_if.c", 6),
            ("questions[2].id", 7),
            ("duration.default", 8),
            ("approval[0].required", 11),
            ("approval[1]", 12),
            ("pending_expires_after", 14),
        ],
        "{errs:#?}"
    );
    assert!(errs.iter().all(|e| e.file == FILE));
    let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(shown[2], format!("{FILE}:6:48: questions[1].shown_if.c: `c` is not an earlier question; expected one of: a"));
    assert_eq!(
        shown[5],
        format!("{FILE}:11:5: approval[0].required: 2 approvals are required but only 1 people can approve this step")
    );
}

#[test]
fn errors_without_a_position_still_name_the_file() {
    let e = FlowError {
        file: String::from("f.yaml"),
        position: None,
        path: String::new(),
        message: String::from("empty"),
    };
    assert_eq!(e.to_string(), "f.yaml: empty");
    let e = FlowError {
        path: String::from("name"),
        ..e
    };
    assert_eq!(e.to_string(), "f.yaml: name: empty");
}

#[test]
fn an_empty_file_is_refused() {
    let errs = errors("");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        errs[0].to_string(),
        format!("{FILE}:1:1: missing field `id`")
    );
}
