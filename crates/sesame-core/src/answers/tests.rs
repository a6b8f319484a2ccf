// Table-driven tests spell out their row types.
#![allow(clippy::type_complexity)]

use super::*;
use crate::test_support::{directory, flow, qid, span};
use serde_json::{json, Value};

/// Runs `check_answer` for one question written in flow YAML.
fn check(question_yaml: &str, value: Value) -> Result<Value, String> {
    let f = flow(&format!(
        "id: t\nname: T\nrequesters: everyone\nfulfillment: {{ manual: {{ group: it }} }}\nquestions:\n  - {question_yaml}\n"
    ));
    check_answer(&f.questions[0].kind, &value, &directory())
}

#[test]
fn each_question_type_accepts_and_normalises_good_values_and_refuses_bad_ones() {
    let long = "x".repeat(13);
    let ok = |v: Value| Ok::<Value, &str>(v);
    #[rustfmt::skip]
    let cases: Vec<(&str, Value, Result<Value, &str>)> = vec![
        // text: trimmed, at most max_length characters (not bytes), one line
        ("{ id: q, label: Q, type: text, max_length: 12 }", json!("  AB12 CDE  "), ok(json!("AB12 CDE"))),
        ("{ id: q, label: Q, type: text, max_length: 12 }", json!("ÄÖÜÄÖÜÄÖÜÄÖÜ"), ok(json!("ÄÖÜÄÖÜÄÖÜÄÖÜ"))),
        ("{ id: q, label: Q, type: text, max_length: 12 }", json!(long), Err("must be at most 12 characters")),
        ("{ id: q, label: Q, type: text }", json!("x".repeat(200)), ok(json!("x".repeat(200)))),
        ("{ id: q, label: Q, type: text }", json!("x".repeat(201)), Err("must be at most 200 characters")),
        ("{ id: q, label: Q, type: text }", json!("two\nlines"), Err("must be a single line")),
        ("{ id: q, label: Q, type: text }", json!("carriage\rreturn"), Err("must be a single line")),
        ("{ id: q, label: Q, type: text }", json!(12), Err("expected text, got a number")),
        // text: invisible ends trimmed, bidirectional controls removed, control characters refused
        ("{ id: q, label: Q, type: text }", json!("\u{FEFF}AB12\u{200B}"), ok(json!("AB12"))),
        ("{ id: q, label: Q, type: text }", json!("AB\u{202E}21"), ok(json!("AB21"))),
        ("{ id: q, label: Q, type: text }", json!("AB\u{0}12"), Err("contains the NUL character (U+0000)")),
        ("{ id: q, label: Q, type: textarea }", json!("bell\u{7}"), Err("control character U+0007")),
        // textarea: several lines allowed
        ("{ id: q, label: Q, type: textarea }", json!("two\nlines"), ok(json!("two\nlines"))),
        ("{ id: q, label: Q, type: textarea, max_length: 5 }", json!("123456"), Err("must be at most 5 characters")),
        ("{ id: q, label: Q, type: textarea }", json!("x".repeat(3001)), Err("must be at most 3000 characters")),
        // select: exactly one of the options, case-sensitive
        ("{ id: q, label: Q, type: select, options: [London, Berlin] }", json!(" Berlin "), ok(json!("Berlin"))),
        ("{ id: q, label: Q, type: select, options: [London, Berlin] }", json!("berlin"), Err("must be one of: London, Berlin")),
        ("{ id: q, label: Q, type: select, options: [London, Berlin] }", json!(["London"]), Err("expected text, got a list")),
        // multi_select: a list, a subset, deduplicated, in the flow's order; a lone string is refused
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!(["admin", "read", "admin"]), ok(json!(["read", "admin"]))),
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!(["write"]), ok(json!(["write"]))),
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!("write"), Err("expected a list of options, got text")),
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!(["read\u{0}"]), Err("U+0000")),
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!(["read", "root"]), Err("`root` is not one of: read, write, admin")),
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!(["read", 3]), Err("expected a list of options")),
        ("{ id: q, label: Q, type: multi_select, options: [read, write, admin] }", json!({"read": true}), Err("expected a list of options, got an object")),
        // date: YYYY-MM-DD and a real day
        ("{ id: q, label: Q, type: date }", json!("2025-02-28"), ok(json!("2025-02-28"))),
        ("{ id: q, label: Q, type: date }", json!("2024-02-29"), ok(json!("2024-02-29"))),
        ("{ id: q, label: Q, type: date }", json!("2025-02-29"), Err("is not a date; expected YYYY-MM-DD")),
        ("{ id: q, label: Q, type: date }", json!("28/02/2025"), Err("is not a date; expected YYYY-MM-DD")),
        ("{ id: q, label: Q, type: date }", json!("2025-2-3"), Err("is not a date")),
        // duration: canonical form, within max
        ("{ id: q, label: Q, type: duration, max: 8h }", json!("120m"), ok(json!("2h"))),
        ("{ id: q, label: Q, type: duration, max: 8h }", json!("8h"), ok(json!("8h"))),
        ("{ id: q, label: Q, type: duration, max: 8h }", json!("8h1m"), Err("must be at most 8h")),
        ("{ id: q, label: Q, type: duration }", json!("1w"), ok(json!("1w"))),
        ("{ id: q, label: Q, type: duration }", json!("soon"), Err("is not a duration")),
        ("{ id: q, label: Q, type: duration }", json!("1d1d"), Err("is not a duration")),
        ("{ id: q, label: Q, type: duration }", json!(8), Err("expected text, got a number")),
        // user: an active person, by id or email, stored as the id
        ("{ id: q, label: Q, type: user }", json!("sam"), ok(json!("sam"))),
        ("{ id: q, label: Q, type: user }", json!("Alice@Example.com"), ok(json!("alice"))),
        ("{ id: q, label: Q, type: user }", json!("gone"), Err("\"gone\" is not an active person in the directory")),
        ("{ id: q, label: Q, type: user }", json!("nobody"), Err("is not an active person")),
        // number: a JSON number only (numeric text is refused), within min/max, whole when integer
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(3), ok(json!(3.0))),
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(10), ok(json!(10.0))),
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(" 10 "), Err("expected a number, got text")),
        ("{ id: q, label: Q, type: number }", json!("12"), Err("expected a number, got text")),
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(1), ok(json!(1.0))),
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(2.5), Err("must be a whole number")),
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(0), Err("must be between 1 and 10")),
        ("{ id: q, label: Q, type: number, min: 1, max: 10, integer: true }", json!(11), Err("must be between 1 and 10")),
        ("{ id: q, label: Q, type: number, min: 0.5 }", json!(0.25), Err("must be at least 0.5")),
        ("{ id: q, label: Q, type: number, max: 100 }", json!(101), Err("must be at most 100")),
        ("{ id: q, label: Q, type: number }", json!(-2.5), ok(json!(-2.5))),
        ("{ id: q, label: Q, type: number }", json!("lots"), Err("expected a number, got text")),
        ("{ id: q, label: Q, type: number }", json!("inf"), Err("expected a number")),
        ("{ id: q, label: Q, type: number }", json!("NaN"), Err("expected a number")),
        ("{ id: q, label: Q, type: number }", json!(true), Err("expected a number, got true/false")),
        // boolean: a JSON true or false only (words are for forms, see from_form)
        ("{ id: q, label: Q, type: boolean }", json!(true), ok(json!(true))),
        ("{ id: q, label: Q, type: boolean }", json!(false), ok(json!(false))),
        ("{ id: q, label: Q, type: boolean }", json!("Yes"), Err("expected true or false, got text")),
        ("{ id: q, label: Q, type: boolean }", json!("true"), Err("expected true or false, got text")),
        ("{ id: q, label: Q, type: boolean }", json!(1), Err("expected true or false, got a number")),
    ];
    let mut failures = Vec::new();
    for (question, value, expected) in &cases {
        let got = check(question, value.clone());
        let ok = match (&got, expected) {
            (Ok(g), Ok(e)) => g == e,
            (Err(g), Err(e)) => g.contains(e),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{question} given {value}: expected {expected:?}, got {got:?}"
            ));
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

const CARPARK: &str = "
id: carpark
name: Carpark access
requesters: { groups: [employees] }
questions:
  - { id: plate, label: Vehicle registration, type: text, required: true, max_length: 12 }
  - { id: site, label: Site, type: select, options: [London, Berlin], required: true }
  - { id: reason, label: Why do you need it?, type: textarea }
  - { id: ev, label: Electric vehicle?, type: boolean }
  - { id: bay, label: Charging bay, type: select, options: [A, B], required: true, shown_if: { ev: true } }
justification: required
duration: { default: 30d, max: 90d, requester_chooses: true }
fulfillment: { manual: { group: facilities } }
";

fn raw(answers: Value, justification: Option<&str>, duration: Option<&str>) -> RawSubmission {
    let Value::Object(map) = answers else {
        panic!("answers must be an object")
    };
    RawSubmission {
        answers: map.into_iter().collect(),
        justification: justification.map(str::to_owned),
        duration: duration.map(str::to_owned),
    }
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn a_complete_submission_is_normalised() {
    let f = flow(CARPARK);
    let checked = check_submission(
        &f,
        &raw(json!({ "plate": " AB12 CDE ", "site": "Berlin", "reason": "", "ev": true, "bay": "B" }), Some("  new car  "), Some("60d")),
        &directory(),
    )
    .unwrap();
    assert_eq!(
        checked.answers,
        Answers::from([
            (qid("plate"), json!("AB12 CDE")),
            (qid("site"), json!("Berlin")),
            (qid("ev"), json!(true)),
            (qid("bay"), json!("B")),
        ]),
        "blank optional answers are left out"
    );
    assert_eq!(checked.justification.as_deref(), Some("new car"));
    assert_eq!(checked.duration, Some(span("60d")));
}

#[test]
fn required_questions_need_answers_and_optional_ones_do_not() {
    let f = flow(CARPARK);
    for blank in [
        json!(null),
        json!(""),
        json!("   "),
        json!([]),
        json!("\u{200B}"),
        json!("\u{2060}\u{FEFF} \u{200D}"),
        json!("\u{202E}"),
    ] {
        let err = check_submission(
            &f,
            &raw(json!({ "plate": blank, "site": "London" }), Some("j"), None),
            &directory(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            [FieldError::new("plate", "this question needs an answer")],
            "blank value {blank}"
        );
    }
    let err = check_submission(&f, &raw(json!({}), Some("j"), None), &directory()).unwrap_err();
    assert_eq!(fields(&err), ["plate", "site"]);
    let ok = check_submission(
        &f,
        &raw(json!({ "plate": "X1", "site": "London" }), Some("j"), None),
        &directory(),
    )
    .unwrap();
    assert_eq!(
        ok.answers.len(),
        2,
        "reason, ev and bay are optional or hidden"
    );
}

#[test]
fn hidden_questions_are_not_required_and_their_answers_are_dropped() {
    let f = flow(CARPARK);
    // bay is required, but only asked when ev is true.
    for ev in [json!(false), json!(null)] {
        let checked = check_submission(
            &f,
            &raw(
                json!({ "plate": "X1", "site": "London", "ev": ev, "bay": "A" }),
                Some("j"),
                None,
            ),
            &directory(),
        )
        .unwrap();
        assert!(
            !checked.answers.contains_key(&qid("bay")),
            "ev = {ev}: a hidden answer must not be stored"
        );
    }
    // Even an invalid hidden answer is ignored rather than refused.
    let checked = check_submission(
        &f,
        &raw(
            json!({ "plate": "X1", "site": "London", "ev": false, "bay": "Z" }),
            Some("j"),
            None,
        ),
        &directory(),
    )
    .unwrap();
    assert!(!checked.answers.contains_key(&qid("bay")));
    // Shown: now it is required and checked.
    let err = check_submission(
        &f,
        &raw(
            json!({ "plate": "X1", "site": "London", "ev": true }),
            Some("j"),
            None,
        ),
        &directory(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        [FieldError::new("bay", "this question needs an answer")]
    );
    let err = check_submission(
        &f,
        &raw(
            json!({ "plate": "X1", "site": "London", "ev": true, "bay": "Z" }),
            Some("j"),
            None,
        ),
        &directory(),
    )
    .unwrap_err();
    assert_eq!(err, [FieldError::new("bay", "must be one of: A, B")]);
}

#[test]
fn shown_if_on_a_multi_select_matches_any_chosen_option() {
    let f = flow(
        "id: t\nname: T\nrequesters: everyone\nfulfillment: { manual: { group: it } }\nquestions:\n\
         - { id: envs, label: Environments, type: multi_select, options: [dev, staging, prod] }\n\
         - { id: ticket, label: Change ticket, type: text, required: true, shown_if: { envs: prod } }\n",
    );
    let checked = check_submission(
        &f,
        &raw(json!({ "envs": ["dev"], "ticket": "CHG-1" }), None, None),
        &directory(),
    )
    .unwrap();
    assert!(!checked.answers.contains_key(&qid("ticket")));
    let err = check_submission(
        &f,
        &raw(json!({ "envs": ["staging", "prod"] }), None, None),
        &directory(),
    )
    .unwrap_err();
    assert_eq!(
        fields(&err),
        ["ticket"],
        "prod was chosen among others, so the ticket is asked"
    );
}

#[test]
fn unknown_answer_keys_are_refused() {
    let f = flow(CARPARK);
    let err = check_submission(
        &f,
        &raw(
            json!({ "plate": "X1", "site": "London", "colour": "red" }),
            Some("j"),
            None,
        ),
        &directory(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        [FieldError::new(
            "colour",
            "Carpark access has no question `colour`"
        )]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let f = flow(CARPARK);
    let err = check_submission(
        &f,
        &raw(
            json!({ "plate": "TOO LONG FOR A PLATE", "site": "Paris", "zzz": 1 }),
            None,
            Some("1y"),
        ),
        &directory(),
    )
    .unwrap_err();
    assert_eq!(
        fields(&err),
        ["zzz", "plate", "site", "justification", "duration"]
    );
}

#[test]
fn justification_follows_the_flow() {
    let make = |rule: &str| {
        flow(&format!("id: t\nname: T\nrequesters: everyone\nfulfillment: {{ manual: {{ group: it }} }}\njustification: {rule}\n"))
    };
    let long = "j".repeat(MAX_JUSTIFICATION + 1);
    #[rustfmt::skip]
    let cases: [(&str, Option<&str>, Result<Option<&str>, &str>); 13] = [
        ("required", Some(" because "), Ok(Some("because"))),
        ("required", None, Err("a justification is required")),
        ("required", Some("   "), Err("a justification is required")),
        ("required", Some("\u{200B}\u{2060}\u{FEFF}"), Err("a justification is required")),
        ("required", Some("\u{2066}\u{2069}"), Err("a justification is required")),
        ("required", Some("ok \u{202E}won\u{202C}"), Ok(Some("ok won"))),
        ("required", Some("why\u{0}"), Err("contains the NUL character (U+0000), which is not allowed in text")),
        ("optional", None, Ok(None)),
        ("optional", Some("why not"), Ok(Some("why not"))),
        ("optional", Some(&long), Err("must be at most 3000 characters")),
        ("none", None, Ok(None)),
        ("none", Some(""), Ok(None)),
        ("none", Some("please"), Err("this flow does not take a justification")),
    ];
    for (rule, given, expected) in cases {
        let got = check_submission(&make(rule), &raw(json!({}), given, None), &directory());
        match (got, expected) {
            (Ok(c), Ok(e)) => assert_eq!(c.justification.as_deref(), e, "{rule} {given:?}"),
            (Err(errs), Err(e)) => assert_eq!(
                errs,
                [FieldError::new("justification", e)],
                "{rule} {given:?}"
            ),
            (got, _) => panic!("{rule} {given:?}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn duration_defaults_is_capped_and_is_only_chosen_where_allowed() {
    let make = |duration: &str| {
        flow(&format!("id: t\nname: T\nrequesters: everyone\nfulfillment: {{ manual: {{ group: it }} }}\n{duration}"))
    };
    let chooses = make("duration: { default: 8h, max: 1d, requester_chooses: true }\n");
    let fixed = make("duration: { default: 8h, max: 1d }\n");
    let none = make("");
    #[rustfmt::skip]
    let cases: Vec<(&Flow, Option<&str>, Result<Option<Span>, &str>)> = vec![
        (&chooses, None, Ok(Some(span("8h")))),
        (&chooses, Some("  "), Ok(Some(span("8h")))),
        (&chooses, Some("2h"), Ok(Some(span("2h")))),
        (&chooses, Some("1d"), Ok(Some(span("1d")))),
        (&chooses, Some("25h"), Err("must be at most 1d")),
        (&chooses, Some("a while"), Err("\"a while\" is not a duration")),
        (&chooses, Some("1h1h"), Err("\"1h1h\" is not a duration")),
        (&chooses, Some("\u{FEFF}2h"), Ok(Some(span("2h")))),
        (&fixed, None, Ok(Some(span("8h")))),
        (&fixed, Some("2h"), Err("this flow always grants 8h; the duration cannot be chosen")),
        (&none, None, Ok(None)),
        (&none, Some("2h"), Err("this flow grants access without an end, so it takes no duration")),
    ];
    for (f, given, expected) in cases {
        let got = check_submission(f, &raw(json!({}), None, given), &directory());
        match (got, expected) {
            (Ok(c), Ok(e)) => assert_eq!(c.duration, e, "{given:?}"),
            (Err(errs), Err(e)) => {
                assert_eq!(fields(&errs), ["duration"], "{given:?}");
                assert!(errs[0].message.contains(e), "{given:?}: {errs:?}");
            }
            (got, _) => panic!("{given:?}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn is_shown_needs_every_listed_answer() {
    let f = flow(
        "id: t\nname: T\nrequesters: everyone\nfulfillment: { manual: { group: it } }\nquestions:\n\
         - { id: a, label: A, type: boolean }\n\
         - { id: b, label: B, type: select, options: [x, y, z] }\n\
         - { id: c, label: C, type: text, shown_if: { a: true, b: [x, y] } }\n",
    );
    let c = &f.questions[2];
    let answers = |a: Value, b: Value| Answers::from([(qid("a"), a), (qid("b"), b)]);
    assert!(is_shown(c, &answers(json!(true), json!("x"))));
    assert!(is_shown(c, &answers(json!(true), json!("y"))));
    assert!(!is_shown(c, &answers(json!(true), json!("z"))));
    assert!(!is_shown(c, &answers(json!(false), json!("x"))));
    assert!(
        !is_shown(c, &Answers::from([(qid("a"), json!(true))])),
        "an unanswered condition hides the question"
    );
    assert!(
        is_shown(&f.questions[0], &Answers::new()),
        "no shown_if: always shown"
    );
}

#[test]
fn forms_turn_their_text_into_the_types_questions_take() {
    let f = flow(
        "id: t\nname: T\nrequesters: everyone\nfulfillment: { manual: { group: it } }\nquestions:\n\
         - { id: n, label: N, type: number }\n\
         - { id: b, label: B, type: boolean }\n\
         - { id: m, label: M, type: multi_select, options: [x, y] }\n\
         - { id: t, label: T, type: text }\n",
    );
    let kind = |i: usize| &f.questions[i].kind;
    assert_eq!(from_form(kind(0), String::from(" 12 ")), json!(12.0));
    assert_eq!(from_form(kind(0), String::from("1e3")), json!(1000.0));
    for not_a_number in ["twelve", "NaN", "inf", ""] {
        assert_eq!(
            from_form(kind(0), not_a_number.to_owned()),
            json!(not_a_number),
            "left as text for check_submission to refuse"
        );
    }
    for (given, expected) in [
        ("yes", true),
        ("On", true),
        ("true", true),
        ("no", false),
        ("off", false),
    ] {
        assert_eq!(
            from_form(kind(1), given.to_owned()),
            json!(expected),
            "{given}"
        );
    }
    assert_eq!(from_form(kind(1), String::from("maybe")), json!("maybe"));
    assert_eq!(from_form(kind(2), String::from("x")), json!(["x"]));
    assert_eq!(from_form(kind(3), String::from("12")), json!("12"));
    // What a form sends, converted, passes the same checks as the API's typed JSON.
    let raw = RawSubmission {
        answers: [("n", "7"), ("b", "yes"), ("t", "plain")]
            .into_iter()
            .map(|(id, v)| {
                (
                    id.to_owned(),
                    from_form(&f.question(id).unwrap().kind, v.to_owned()),
                )
            })
            .collect(),
        ..RawSubmission::default()
    };
    let checked = check_submission(&f, &raw, &directory()).unwrap();
    assert_eq!(checked.answers[&qid("n")], json!(7.0));
    assert_eq!(checked.answers[&qid("b")], json!(true));
}

#[test]
fn every_question_type_is_listed_in_type_names() {
    let f = flow(
        "id: t\nname: T\nrequesters: everyone\nfulfillment: { manual: { group: it } }\nquestions:\n\
         - { id: a, label: A, type: text }\n\
         - { id: b, label: B, type: textarea }\n\
         - { id: c, label: C, type: select, options: [x] }\n\
         - { id: d, label: D, type: multi_select, options: [x] }\n\
         - { id: e, label: E, type: date }\n\
         - { id: f, label: F, type: duration }\n\
         - { id: g, label: G, type: user }\n\
         - { id: h, label: H, type: number }\n\
         - { id: i, label: I, type: boolean }\n",
    );
    let names: Vec<&str> = f.questions.iter().map(|q| q.kind.type_name()).collect();
    assert_eq!(names, crate::flow::QuestionKind::TYPE_NAMES);
}
