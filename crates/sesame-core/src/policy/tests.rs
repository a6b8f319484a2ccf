// Table-driven tests spell out their row types.
#![allow(clippy::type_complexity)]

use super::*;
use crate::flow::Flow;
use crate::test_support::{directory, flow, gid, qid, span, uid};
use serde_json::json;

fn with_requesters(requesters: &str) -> Flow {
    flow(&format!("id: t\nname: Thing\nrequesters: {requesters}\nfulfillment: {{ manual: {{ group: it }} }}\n"))
}

#[test]
fn may_request_follows_the_requesters_rule() {
    let d = directory();
    let everyone = with_requesters("everyone");
    let groups = with_requesters("{ groups: [sre, facilities] }");
    let users = with_requesters("{ users: [alice@example.com, out] }");
    let both = with_requesters("{ groups: [security], users: [olga] }");
    #[rustfmt::skip]
    let cases: [(&Flow, &str, Result<&str, &str>); 12] = [
        (&everyone, "out", Ok("everyone may request it")),
        (&everyone, "gone", Err("gone is not an active person in the directory")),
        (&everyone, "ghost", Err("ghost is not an active person in the directory")),
        (&groups, "sue", Ok("Sue is a member of SRE")),
        (&groups, "fred", Ok("Fred is a member of Facilities")),
        (&groups, "rita", Err("only members of sre, facilities may request Thing")),
        (&groups, "gone", Err("gone is not an active person in the directory")),
        (&users, "alice", Ok("Alice is named in the flow's requesters")),
        (&users, "out", Ok("Outsider is named in the flow's requesters")),
        (&users, "rita", Err("only alice@example.com, out may request Thing")),
        (&both, "sid", Ok("Sid is a member of Security")),
        (&both, "rita", Err("only members of security and olga may request Thing")),
    ];
    for (f, who, expected) in cases {
        let got = may_request(f, &uid(who), &d);
        assert_eq!(
            got.as_ref().map(String::as_str).map_err(String::as_str),
            expected,
            "{who} for {:?}",
            f.requesters
        );
    }
}

#[test]
fn approvers_resolve_to_active_people_with_a_reason() {
    let d = directory();
    let owners = [
        uid("olga"),
        uid("alice@example.com"),
        uid("gone"),
        uid("olga"),
    ];
    #[rustfmt::skip]
    let cases: Vec<(Approvers, &str, Result<(Vec<&str>, &str), &str>)> = vec![
        (Approvers::Manager, "rita", Ok((vec!["mark"], "Mark is Rita's manager"))),
        (Approvers::Manager, "mark", Ok((vec!["boss"], "Boss is Mark's manager"))),
        (Approvers::Manager, "nomgr", Err("nomgr has no manager in the directory")),
        (Approvers::Manager, "lostmgr", Err("lostmgr's manager gone is not an active person in the directory")),
        (Approvers::Manager, "ghost", Err("ghost has no manager in the directory")),
        // Sorted, deduplicated, emails resolved to ids, inactive people left out.
        (Approvers::Owners, "rita", Ok((vec!["alice", "olga"], "they own the resource this flow grants"))),
        (Approvers::Users(vec![uid("sue"), uid("ghost"), uid("FAY@example.com")]), "rita", Ok((vec!["fay", "sue"], "the flow names them as approvers"))),
        (Approvers::Group(gid("security")), "rita", Ok((vec!["sam", "sid", "sue"], "they are members of Security"))),
        (Approvers::Group(gid("empty")), "rita", Ok((vec![], "they are members of Nobody at all"))),
        (Approvers::Group(gid("nope")), "rita", Err("group nope is not in the directory")),
        // Nobody is excluded here, not even the requester: that is the engine's job.
        (Approvers::Group(gid("security")), "sue", Ok((vec!["sam", "sid", "sue"], "they are members of Security"))),
    ];
    for (rule, requester, expected) in cases {
        let got = resolve_approvers(&rule, &owners, &uid(requester), &d);
        let expected = expected.map(|(people, why)| Resolved {
            people: people.into_iter().map(uid).collect(),
            why: why.to_owned(),
        });
        assert_eq!(
            got,
            expected.map_err(str::to_owned),
            "{rule:?} for {requester}"
        );
    }
}

#[test]
fn fulfillers_resolve_or_explain_why_nobody_can() {
    let d = directory();
    let got = resolve_fulfillers(&Fulfillers::Group(gid("facilities")), &d).unwrap();
    assert_eq!(
        got,
        Resolved {
            people: vec![uid("fay"), uid("fred")],
            why: String::from("they are members of Facilities")
        }
    );
    let got = resolve_fulfillers(
        &Fulfillers::Users(vec![uid("sam"), uid("alice@example.com")]),
        &d,
    )
    .unwrap();
    assert_eq!(got.people, [uid("alice"), uid("sam")]);
    assert_eq!(
        resolve_fulfillers(&Fulfillers::Group(gid("empty")), &d),
        Err(String::from(
            "nobody can fulfil it: empty has no active members"
        ))
    );
    assert_eq!(
        resolve_fulfillers(&Fulfillers::Users(vec![uid("gone"), uid("ghost")]), &d),
        Err(String::from(
            "nobody can fulfil it: none of gone, ghost is an active person in the directory"
        ))
    );
}

const CONDITIONS: &str = "
id: t
name: T
requesters: everyone
fulfillment: { manual: { group: it } }
duration: { default: 4h, max: 1d, requester_chooses: true }
questions:
  - { id: env, label: Env, type: select, options: [dev, prod] }
  - { id: envs, label: Envs, type: multi_select, options: [dev, staging, prod] }
  - { id: ev, label: EV, type: boolean }
approval:
  - { approvers: manager, skip_if: { answers: { env: dev } } }
  - { approvers: manager, skip_if: { answers: { envs: prod } } }
  - { approvers: manager, skip_if: { requester_in: [sre, facilities] } }
  - { approvers: manager, skip_if: { duration_at_most: 8h } }
  - { approvers: manager, skip_if: { any: [ { requester_in: [sre] }, { answers: { env: dev } } ] } }
  - { approvers: manager, skip_if: { answers: { env: dev, ev: true }, requester_in: [eng], duration_at_most: 8h } }
  - { approvers: manager, skip_if: { requester_in: [security] } }
";

#[test]
fn conditions_hold_or_not_with_a_reason() {
    let d = directory();
    let f = flow(CONDITIONS);
    let condition = |i: usize| f.approval[i].skip_if.clone().unwrap();
    let answers = |pairs: &[(&str, serde_json::Value)]| -> Answers {
        pairs.iter().map(|(k, v)| (qid(k), v.clone())).collect()
    };
    #[rustfmt::skip]
    let cases: Vec<(usize, Answers, &str, Option<&str>, (bool, &str))> = vec![
        (0, answers(&[("env", json!("dev"))]), "rita", None, (true, "answer env is \"dev\"")),
        (0, answers(&[("env", json!("prod"))]), "rita", None, (false, "answer env is \"prod\"")),
        (0, answers(&[]), "rita", None, (false, "answer env is no answer")),
        (1, answers(&[("envs", json!(["staging", "prod"]))]), "rita", None, (true, "answer envs is [\"staging\",\"prod\"]")),
        (1, answers(&[("envs", json!(["dev"]))]), "rita", None, (false, "answer envs is [\"dev\"]")),
        (2, answers(&[]), "sue", None, (true, "Sue is a member of SRE")),
        (2, answers(&[]), "fred", None, (true, "Fred is a member of Facilities")),
        (2, answers(&[]), "rita", None, (false, "rita is not a member of sre, facilities")),
        (3, answers(&[]), "rita", Some("4h"), (true, "the duration 4h is at most 8h")),
        (3, answers(&[]), "rita", Some("8h"), (true, "the duration 8h is at most 8h")),
        (3, answers(&[]), "rita", Some("1d"), (false, "the duration 1d is longer than 8h")),
        (3, answers(&[]), "rita", None, (false, "no duration was requested")),
        (4, answers(&[("env", json!("prod"))]), "sue", None, (true, "Sue is a member of SRE")),
        (4, answers(&[("env", json!("dev"))]), "rita", None, (true, "answer env is \"dev\"")),
        (4, answers(&[("env", json!("prod"))]), "rita", None, (false, "rita is not a member of sre; and answer env is \"prod\"")),
        (5, answers(&[("env", json!("dev")), ("ev", json!(true))]), "rita", Some("2h"),
            (true, "answer env is \"dev\" and answer ev is true and Rita is a member of Engineering and the duration 2h is at most 8h")),
        (5, answers(&[("env", json!("dev")), ("ev", json!(false))]), "rita", Some("2h"), (false, "answer ev is false")),
        (5, answers(&[("env", json!("dev")), ("ev", json!(true))]), "sue", Some("2h"), (false, "sue is not a member of eng")),
        (5, answers(&[("env", json!("dev")), ("ev", json!(true))]), "rita", Some("9h"), (false, "the duration 9h is longer than 8h")),
        // People who have left belong to no group.
        (6, answers(&[]), "gone", None, (false, "gone is not a member of security")),
        (6, answers(&[]), "sam", None, (true, "Sam is a member of Security")),
    ];
    for (i, answers, requester, duration, (holds, why)) in cases {
        let requester = uid(requester);
        let input = ConditionInput {
            answers: &answers,
            requester: &requester,
            duration: duration.map(span),
            directory: &d,
        };
        let got = condition_holds(&condition(i), &input);
        assert_eq!(
            got,
            (holds, why.to_owned()),
            "condition {i} for {requester} with {answers:?} and {duration:?}"
        );
    }
}
