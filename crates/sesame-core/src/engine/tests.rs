use super::*;
use crate::directory::Directory;
use crate::request::Duty;
use crate::test_support::{at_hour, directory, flow, span, uid};
use crate::time::Span;
use serde_json::Value;

/// The spec's carpark flow, reduced to what the engine sees.
const CARPARK: &str = "
id: carpark
name: Carpark access
requesters: { groups: [employees] }
questions:
  - { id: plate, label: Plate, type: text, required: true, max_length: 12 }
duration: { default: 30d, max: 90d, requester_chooses: true }
approval:
  - { approvers: manager }
  - { approvers: { group: facilities }, required: 1, remind_after: 4h, escalate_after: 1d, escalate_to: { user: alice@example.com } }
fulfillment: { manual: { group: facilities } }
pending_expires_after: 14d
";

/// Builds a flow around the given `approval:` list (and any extra top-level lines).
fn flow_with(extra: &str) -> Flow {
    flow(&format!("id: t\nname: Thing\nrequesters: everyone\nfulfillment: {{ manual: {{ group: facilities }} }}\n{extra}"))
}

fn user(id: &str) -> Actor {
    Actor::user(uid(id))
}

fn admin(id: &str) -> Actor {
    Actor::admin(uid(id))
}

fn raw(answers: Value, duration: Option<&str>) -> RawSubmission {
    let Value::Object(map) = answers else {
        panic!("answers must be an object")
    };
    RawSubmission {
        answers: map.into_iter().collect(),
        justification: None,
        duration: duration.map(str::to_owned),
    }
}

/// `filer` files `flow` for `requester` at hour 0.
fn file_for(
    flow: &Flow,
    filer: &Actor,
    requester: &str,
    answers: Value,
) -> Result<Transition, DomainError> {
    submit(
        flow,
        Submission {
            requester: uid(requester),
            answers: raw(answers, None),
        },
        filer,
        &directory(),
        at_hour(0),
    )
}

/// `who` files `flow` for themselves, with no answers, at hour 0.
fn file(flow: &Flow, who: &str) -> Result<Transition, DomainError> {
    file_for(flow, &user(who), who, serde_json::json!({}))
}

fn run(
    request: &Request,
    command: Command,
    actor: &Actor,
    hour: i64,
) -> Result<Transition, DomainError> {
    decide(request, command, actor, &directory(), at_hour(hour))
}

fn approve() -> Command {
    Command::Approve {
        step: None,
        comment: None,
    }
}

fn deny(reason: &str) -> Command {
    Command::Deny {
        step: None,
        reason: reason.to_owned(),
    }
}

fn kinds(t: &Transition) -> Vec<&str> {
    t.audit.iter().map(|e| e.kind.as_str()).collect()
}

fn ids(names: &[&str]) -> Vec<UserId> {
    names.iter().map(|n| uid(n)).collect()
}

fn hours(n: i64) -> Span {
    Span::from_seconds(n * 3600)
}

fn assert_message(err: &DomainError, fragment: &str) {
    assert!(
        err.to_string().contains(fragment),
        "{err:?} should mention {fragment:?}"
    );
}

#[test]
fn the_full_lifecycle_emits_the_right_events_notices_and_timers() {
    let carpark = flow(CARPARK);
    let t = submit(
        &carpark,
        Submission {
            requester: uid("rita"),
            answers: raw(serde_json::json!({ "plate": "AB12 CDE" }), Some("60d")),
        },
        &user("rita"),
        &directory(),
        at_hour(0),
    )
    .unwrap();
    let r = &t.request;
    assert_eq!((r.number, r.version), (RequestNumber(0), 0));
    assert_eq!(
        (r.requester.as_str(), r.submitted_by.as_str()),
        ("rita", "rita")
    );
    assert_eq!(r.duration, Some(span("60d")));
    assert_eq!(r.state, State::PendingApproval { step: 0 });
    assert_eq!((r.created_at, r.updated_at), (at_hour(0), at_hour(0)));
    assert_eq!(r.steps[0].status, StepStatus::Pending);
    assert_eq!(r.steps[0].eligible, ids(&["mark"]));
    assert_eq!(r.steps[0].why, "Mark is Rita's manager");
    assert_eq!(r.steps[1].status, StepStatus::Waiting);
    assert_eq!(kinds(&t), ["submitted", "step_started"]);
    assert_eq!(t.audit[0].actor, "rita");
    // The trail alone shows what was asked for, for whom, and why.
    assert_eq!(
        t.audit[0].detail,
        serde_json::json!({
            "flow": "carpark",
            "flow_name": "Carpark access",
            "requester": "rita",
            "submitted_by": "rita",
            "on_behalf": false,
            "answers": { "plate": "AB12 CDE" },
            "justification": null,
            "duration": "60d",
        })
    );
    assert_eq!(t.audit[1].actor, "sesame");
    assert_eq!(
        t.notices,
        [
            Notice::ApprovalRequested {
                step: 0,
                approvers: ids(&["mark"])
            },
            Notice::RequestUpdated
        ]
    );
    assert_eq!(
        t.timers,
        [Timer {
            at: at_hour(14 * 24),
            kind: TimerKind::PendingExpiry
        }]
    );
    assert_eq!(r.duties(), [(uid("mark"), Duty::Approve)]);
    assert_eq!(r.title(), "Carpark access #0");

    // The manager approves: step 1 starts, with its reminder and escalation timers.
    let t = run(
        &t.request,
        Command::Approve {
            step: Some(0),
            comment: Some(String::from(" fine ")),
        },
        &user("mark"),
        1,
    )
    .unwrap();
    let r = &t.request;
    assert_eq!(r.state, State::PendingApproval { step: 1 });
    assert_eq!(r.steps[0].status, StepStatus::Approved);
    assert_eq!(r.steps[0].approvals.len(), 1);
    assert_eq!(r.steps[0].approvals[0].comment.as_deref(), Some("fine"));
    assert_eq!(r.steps[0].finished_at, Some(at_hour(1)));
    assert_eq!(r.steps[1].eligible, ids(&["fay", "fred"]));
    assert_eq!(
        kinds(&t),
        ["approval_given", "step_approved", "step_started"]
    );
    assert_eq!(
        t.notices,
        [
            Notice::StepDecided { step: 0 },
            Notice::ApprovalRequested {
                step: 1,
                approvers: ids(&["fay", "fred"])
            },
            Notice::RequestUpdated
        ]
    );
    assert_eq!(
        t.timers,
        [
            Timer {
                at: at_hour(1 + 4),
                kind: TimerKind::Remind { step: 1 }
            },
            Timer {
                at: at_hour(1 + 24),
                kind: TimerKind::Escalate { step: 1 }
            },
        ]
    );
    assert_eq!(
        r.duties(),
        [(uid("fay"), Duty::Approve), (uid("fred"), Duty::Approve)]
    );

    // Facilities approves: approved, and a manual fulfilment task starts.
    let t = run(&t.request, approve(), &user("fay"), 2).unwrap();
    let r = &t.request;
    assert_eq!(r.state, State::Fulfilling);
    assert_eq!(
        kinds(&t),
        [
            "approval_given",
            "step_approved",
            "approved",
            "fulfilment_started"
        ]
    );
    assert_eq!(
        t.notices,
        [
            Notice::StepDecided { step: 1 },
            Notice::FulfilmentRequested,
            Notice::RequestUpdated
        ]
    );
    assert!(t.timers.is_empty());
    let fulfilment = r.fulfilment.as_ref().unwrap();
    assert_eq!(fulfilment.fulfillers, ids(&["fay", "fred"]));
    assert_eq!(fulfilment.started_at, at_hour(2));
    assert_eq!(
        r.duties(),
        [(uid("fay"), Duty::Fulfil), (uid("fred"), Duty::Fulfil)]
    );

    // Fred grants it by hand: active for the requested 60 days, with an expiry timer.
    let t = run(
        &t.request,
        Command::CompleteFulfilment {
            note: Some(String::from("permit 42")),
        },
        &user("fred"),
        3,
    )
    .unwrap();
    let r = &t.request;
    let until = at_hour(3).plus(span("60d"));
    assert_eq!(r.state, State::Active { until });
    assert_eq!(
        (r.access_starts_at, r.access_ends_at),
        (Some(at_hour(3)), Some(until))
    );
    let fulfilment = r.fulfilment.as_ref().unwrap();
    assert_eq!(
        (fulfilment.by.as_ref(), fulfilment.note.as_deref()),
        (Some(&uid("fred")), Some("permit 42"))
    );
    assert_eq!(kinds(&t), ["access_granted"]);
    assert_eq!(
        t.audit[0].detail["until"],
        until.to_rfc3339(),
        "times are RFC 3339"
    );
    assert_eq!(
        t.notices,
        [Notice::FulfilmentDecided, Notice::RequestUpdated]
    );
    // The end, and warnings a day and an hour before it.
    assert_eq!(
        t.timers,
        [
            Timer {
                at: until,
                kind: TimerKind::AccessExpiry
            },
            Timer {
                at: Timestamp(until.0 - 24 * 3_600_000),
                kind: TimerKind::AccessEndingSoon { until }
            },
            Timer {
                at: Timestamp(until.0 - 3_600_000),
                kind: TimerKind::AccessEndingSoon { until }
            }
        ]
    );
    assert!(r.duties().is_empty());

    // A warning tells the requester and changes nothing else; one for another end does nothing.
    let warned = run(
        &t.request,
        Command::Fire(TimerKind::AccessEndingSoon { until }),
        &Actor::System,
        4,
    )
    .unwrap();
    assert_eq!(warned.request.state, State::Active { until });
    assert_eq!(warned.notices, [Notice::AccessEndingSoon]);
    assert_eq!(kinds(&warned), ["access_ending_soon"]);
    assert_eq!(warned.audit[0].detail["until"], until.to_rfc3339());
    let stale = run(
        &t.request,
        Command::Fire(TimerKind::AccessEndingSoon { until: at_hour(1) }),
        &Actor::System,
        4,
    );
    assert_eq!(stale.unwrap_err(), DomainError::Outlived);

    // A timer that fires early (another replica's clock ahead) only looks again at the end time;
    // on time, access expires.
    let active = t.request;
    let early = run(
        &active,
        Command::Fire(TimerKind::AccessExpiry),
        &Actor::System,
        4,
    )
    .unwrap();
    assert_eq!(early.request.state, active.state);
    assert!(early.audit.is_empty() && early.notices.is_empty());
    assert_eq!(
        early.timers,
        vec![Timer {
            at: until,
            kind: TimerKind::AccessExpiry
        }]
    );
    let t = decide(
        &active,
        Command::Fire(TimerKind::AccessExpiry),
        &Actor::System,
        &directory(),
        until,
    )
    .unwrap();
    assert_eq!(t.request.state, State::Expired);
    assert_eq!(t.request.updated_at, until);
    assert_eq!(kinds(&t), ["expired"]);
    assert_eq!(t.audit[0].detail["until"], until.to_rfc3339());
    assert_eq!(t.audit[0].actor, "sesame");
    assert_eq!(
        t.notices,
        [Notice::RemovalRequested, Notice::RequestUpdated]
    );
    assert!(t.request.state.is_final());

    // Nothing moves it any more.
    let expired = t.request;
    assert!(matches!(
        run(
            &expired,
            Command::Revoke { reason: None },
            &user("rita"),
            9999
        ),
        Err(DomainError::IllegalTransition(_))
    ));
    assert_eq!(
        run(
            &expired,
            Command::Fire(TimerKind::AccessExpiry),
            &Actor::System,
            9999
        ),
        Err(DomainError::Outlived)
    );
    assert_eq!(
        run(
            &expired,
            Command::Fire(TimerKind::PendingExpiry),
            &Actor::System,
            9999
        ),
        Err(DomainError::Outlived)
    );
}

#[test]
fn a_quorum_needs_that_many_different_people() {
    let f = flow_with("approval:\n  - { approvers: { group: security }, required: 2 }\n");
    let r = file(&f, "rita").unwrap().request;
    assert_eq!(r.steps[0].eligible, ids(&["sam", "sid", "sue"]));

    let t = run(&r, approve(), &user("sam"), 1).unwrap();
    assert_eq!(t.request.state, State::PendingApproval { step: 0 });
    assert_eq!(kinds(&t), ["approval_given"]);
    assert_eq!(t.audit[0].detail["count"], 1);
    assert_eq!(t.audit[0].detail["required"], 2);
    assert_eq!(
        t.notices,
        [Notice::StepDecided { step: 0 }, Notice::RequestUpdated]
    );
    assert_eq!(
        t.request.duties(),
        [(uid("sid"), Duty::Approve), (uid("sue"), Duty::Approve)],
        "sam is no longer waited on"
    );

    let once = t.request;
    let again = run(&once, approve(), &user("sam"), 2).unwrap_err();
    assert_eq!(
        again,
        DomainError::AlreadyDone(String::from(
            "you already approved step 1 (Approval by security)"
        ))
    );

    let t = run(&once, approve(), &user("sue"), 2).unwrap();
    assert_eq!(t.request.state, State::Fulfilling);
    let approvers: Vec<&str> = t.request.steps[0]
        .approvals
        .iter()
        .map(|a| a.by.as_str())
        .collect();
    assert_eq!(approvers, ["sam", "sue"]);
}

#[test]
fn any_eligible_approver_can_deny_and_that_ends_the_request() {
    let f = flow_with("approval:\n  - { approvers: { group: security }, required: 2 }\n");
    let r = file(&f, "rita").unwrap().request;
    let r = run(&r, approve(), &user("sam"), 1).unwrap().request;

    let blank = run(&r, deny("  "), &user("sid"), 2).unwrap_err();
    assert!(
        matches!(&blank, DomainError::InvalidSubmission(e) if e[0].message == "a reason for the denial is required"),
        "{blank:?}"
    );
    assert!(matches!(
        run(&r, deny(&"x".repeat(MAX_REASON + 1)), &user("sid"), 2),
        Err(DomainError::InvalidSubmission(_))
    ));

    let t = run(&r, deny(" not without a ticket "), &user("sid"), 2).unwrap();
    let denied = &t.request;
    assert_eq!(denied.state, State::Denied);
    assert_eq!(denied.steps[0].status, StepStatus::Denied);
    assert_eq!(
        denied.steps[0].denial.as_ref().map(|d| d.by.as_str()),
        Some("sid")
    );
    let outcome = denied.outcome.as_ref().unwrap();
    assert_eq!(
        (outcome.by.as_str(), outcome.reason.as_deref(), outcome.at),
        ("sid", Some("not without a ticket"), at_hour(2))
    );
    assert_eq!(kinds(&t), ["denied"]);
    assert_eq!(t.audit[0].detail["reason"], "not without a ticket");
    assert_eq!(
        t.notices,
        [Notice::StepDecided { step: 0 }, Notice::RequestUpdated]
    );
    assert!(denied.duties().is_empty());

    // Late clicks are told who decided.
    let late = run(denied, approve(), &user("sue"), 3).unwrap_err();
    assert_eq!(
        late,
        DomainError::AlreadyDone(String::from("Thing #0 was already denied by Sid"))
    );
    assert!(matches!(
        run(denied, Command::Cancel { reason: None }, &user("rita"), 3),
        Err(DomainError::IllegalTransition(_))
    ));
}

#[test]
fn requesters_and_filers_never_approve_their_own_request_unless_the_flow_allows_it() {
    let quorum = |required: u32, allow: bool| {
        flow_with(&format!(
            "allow_self_approval: {allow}\nallow_requests_for_others: true\napproval:\n  - {{ approvers: {{ group: security }}, required: {required} }}\n"
        ))
    };

    // sue is in security: she is left out of her own step, and told why.
    let r = file(&quorum(1, false), "sue").unwrap().request;
    assert_eq!(r.steps[0].eligible, ids(&["sam", "sid"]));
    assert_eq!(
        r.steps[0].why,
        "they are members of Security; the requester may not approve their own request"
    );
    let own = run(&r, approve(), &user("sue"), 1).unwrap_err();
    assert_eq!(
        own,
        DomainError::NotAllowed(String::from("you cannot approve your own request"))
    );
    assert_eq!(
        run(&r, deny("no"), &user("sue"), 1),
        Err(DomainError::NotAllowed(String::from(
            "you cannot deny your own request"
        )))
    );

    // Someone filing for another is left out as well.
    let r = file_for(
        &quorum(1, false),
        &user("sam"),
        "rita",
        serde_json::json!({}),
    )
    .unwrap()
    .request;
    assert_eq!(r.steps[0].eligible, ids(&["sid", "sue"]));
    assert!(matches!(
        run(&r, approve(), &user("sam"), 1),
        Err(DomainError::NotAllowed(_))
    ));

    // When that leaves too few people, the request is refused at once rather than stuck.
    let stuck = file(&quorum(3, false), "sue").unwrap_err();
    assert!(matches!(stuck, DomainError::CannotProceed(_)), "{stuck:?}");
    assert_message(
        &stuck,
        "step 1 (Approval by security) needs 3 approver(s) but only 2 can approve",
    );
    assert_message(&stuck, "the requester may not approve their own request");
    assert!(
        file(&quorum(3, false), "rita").is_ok(),
        "rita is not in security, so all three can approve"
    );

    // With allow_self_approval the requester counts like anyone else.
    let r = file(&quorum(3, true), "sue").unwrap().request;
    assert_eq!(r.steps[0].eligible, ids(&["sam", "sid", "sue"]));
    assert_eq!(r.steps[0].why, "they are members of Security");
    let r = run(&r, approve(), &user("sue"), 1).unwrap().request;
    let r = run(&r, approve(), &user("sam"), 1).unwrap().request;
    let r = run(&r, approve(), &user("sid"), 1).unwrap().request;
    assert_eq!(r.state, State::Fulfilling);
}

#[test]
fn people_who_are_not_approvers_of_the_current_step_are_refused() {
    let carpark = flow(CARPARK);
    let r = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;
    for who in [user("out"), user("fay"), user("sam"), admin("ada")] {
        let err = run(&r, approve(), &who, 1).unwrap_err();
        assert_eq!(
            err,
            DomainError::NotAllowed(String::from(
                "you are not an approver of step 1 (Manager approval) of Carpark access #0"
            )),
            "administrators do not approve either"
        );
        assert!(matches!(
            run(&r, deny("no"), &who, 1),
            Err(DomainError::NotAllowed(_))
        ));
    }
    assert_eq!(
        run(&r, approve(), &Actor::System, 1),
        Err(DomainError::NotAllowed(String::from(
            "only a person can do this"
        )))
    );
}

#[test]
fn a_late_click_on_a_decided_step_names_who_decided_it() {
    let carpark = flow(CARPARK);
    let r = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;
    let r = run(
        &r,
        Command::Approve {
            step: Some(0),
            comment: None,
        },
        &user("mark"),
        1,
    )
    .unwrap()
    .request;
    assert_eq!(r.state, State::PendingApproval { step: 1 });
    let expected = DomainError::AlreadyDone(String::from(
        "Carpark access #0 (Manager approval) was already approved by Mark",
    ));
    assert_eq!(
        run(
            &r,
            Command::Approve {
                step: Some(0),
                comment: None
            },
            &user("mark"),
            2
        ),
        Err(expected.clone())
    );
    assert_eq!(
        run(
            &r,
            Command::Deny {
                step: Some(0),
                reason: String::from("oops")
            },
            &user("mark"),
            2
        ),
        Err(expected.clone())
    );
    // A step-1 approver clicking an old step-0 message is not mistaken for approving step 1.
    assert_eq!(
        run(
            &r,
            Command::Approve {
                step: Some(0),
                comment: None
            },
            &user("fay"),
            2
        ),
        Err(expected)
    );
    assert_eq!(r.steps[1].approvals.len(), 0);
    // Without a step, the click applies to the current one.
    let fulfilling = run(&r, approve(), &user("fay"), 2).unwrap().request;
    assert_eq!(fulfilling.state, State::Fulfilling);
    assert_eq!(
        run(&fulfilling, approve(), &user("fred"), 3),
        Err(DomainError::AlreadyDone(String::from(
            "Carpark access #0 (Approval by facilities) was already approved by Fay"
        )))
    );

    // A request that ended without a decision says so, rather than naming an earlier approver.
    let canceled = run(&r, Command::Cancel { reason: None }, &user("rita"), 2)
        .unwrap()
        .request;
    let ended = DomainError::IllegalTransition(String::from(
        "Carpark access #0 is canceled; it can no longer be approved",
    ));
    assert_eq!(
        run(&canceled, approve(), &user("fay"), 3),
        Err(ended.clone())
    );
    assert_eq!(
        run(
            &canceled,
            Command::Approve {
                step: Some(1),
                comment: None
            },
            &user("fay"),
            3
        ),
        Err(ended)
    );
    assert_eq!(
        run(
            &canceled,
            Command::Deny {
                step: None,
                reason: String::from("x")
            },
            &user("fay"),
            3
        ),
        Err(DomainError::IllegalTransition(String::from(
            "Carpark access #0 is canceled; it can no longer be denied"
        )))
    );
    // ...while the message for step 0 is still answered truthfully.
    assert!(matches!(
        run(&canceled, Command::Approve { step: Some(0), comment: None }, &user("mark"), 3),
        Err(DomainError::AlreadyDone(m)) if m.ends_with("already approved by Mark")
    ));
    // A step that does not exist is not a late click on anything.
    let fresh = file_for(
        &flow(CARPARK),
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;
    assert!(matches!(
        run(
            &fresh,
            Command::Approve {
                step: Some(9),
                comment: None
            },
            &user("mark"),
            1
        ),
        Err(DomainError::IllegalTransition(_))
    ));
}

#[test]
fn skip_if_auto_approves_a_step_and_says_why() {
    let f = flow_with(
        "approval:\n  - { approvers: manager, skip_if: { requester_in: [sre] } }\n  - { approvers: { group: security } }\n",
    );
    // sue is in sre: the manager step is skipped.
    let t = file(&f, "sue").unwrap();
    assert_eq!(t.request.state, State::PendingApproval { step: 1 });
    assert_eq!(t.request.steps[0].status, StepStatus::Skipped);
    assert_eq!(
        t.request.steps[0].why,
        "skipped because Sue is a member of SRE"
    );
    assert!(t.request.steps[0].eligible.is_empty());
    assert_eq!(kinds(&t), ["submitted", "step_skipped", "step_started"]);
    assert_eq!(t.audit[1].detail["because"], "Sue is a member of SRE");
    assert_eq!(t.audit[1].actor, "sesame");
    assert_eq!(
        t.notices,
        [
            Notice::ApprovalRequested {
                step: 1,
                approvers: ids(&["sam", "sid"])
            },
            Notice::RequestUpdated
        ]
    );
    // rita is not: she waits for her manager.
    let t = file(&f, "rita").unwrap();
    assert_eq!(t.request.state, State::PendingApproval { step: 0 });

    // A later step can be skipped too, which ends approval.
    let f = flow_with(
        "questions:\n  - { id: env, label: Env, type: select, options: [dev, prod], required: true }\n\
         approval:\n  - { approvers: manager }\n  - { approvers: { group: security }, skip_if: { answers: { env: dev } } }\n",
    );
    let r = file_for(
        &f,
        &user("rita"),
        "rita",
        serde_json::json!({ "env": "dev" }),
    )
    .unwrap()
    .request;
    let t = run(&r, approve(), &user("mark"), 1).unwrap();
    assert_eq!(t.request.state, State::Fulfilling);
    assert_eq!(
        kinds(&t),
        [
            "approval_given",
            "step_approved",
            "step_skipped",
            "approved",
            "fulfilment_started"
        ]
    );
    let r = file_for(
        &f,
        &user("rita"),
        "rita",
        serde_json::json!({ "env": "prod" }),
    )
    .unwrap()
    .request;
    assert_eq!(
        run(&r, approve(), &user("mark"), 1).unwrap().request.state,
        State::PendingApproval { step: 1 }
    );

    // A step that will be skipped needs no approvers: someone without a manager can still ask when
    // the manager step is skipped for them, but not when it is not.
    let f = flow_with(
        "questions:\n  - { id: urgent, label: Urgent?, type: boolean, required: true }\n\
         approval:\n  - { approvers: manager, skip_if: { answers: { urgent: false } } }\n",
    );
    let t = file_for(
        &f,
        &user("nomgr"),
        "nomgr",
        serde_json::json!({ "urgent": false }),
    )
    .unwrap();
    assert_eq!(t.request.state, State::Fulfilling);
    assert_eq!(
        kinds(&t),
        [
            "submitted",
            "step_skipped",
            "approved",
            "fulfilment_started"
        ]
    );
    let err = file_for(
        &f,
        &user("nomgr"),
        "nomgr",
        serde_json::json!({ "urgent": true }),
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::CannotProceed(_)), "{err:?}");
}

#[test]
fn a_flow_without_approval_goes_straight_to_fulfilment() {
    let t = file(&flow_with(""), "out").unwrap();
    assert_eq!(t.request.state, State::Fulfilling);
    assert_eq!(kinds(&t), ["submitted", "approved", "fulfilment_started"]);
    assert_eq!(
        t.notices,
        [Notice::FulfilmentRequested, Notice::RequestUpdated]
    );
    // Without a duration, completing it fulfils it for good.
    let t = run(
        &t.request,
        Command::CompleteFulfilment { note: None },
        &user("fay"),
        1,
    )
    .unwrap();
    assert_eq!(t.request.state, State::Fulfilled);
    assert_eq!(kinds(&t), ["fulfilled"]);
    assert!(t.timers.is_empty());
    assert_eq!(t.request.access_ends_at, None);

    // Nobody to fulfil it: refused at submission.
    let f = flow(
        "id: t\nname: Thing\nrequesters: everyone\nfulfillment: { manual: { group: empty } }\n",
    );
    let err = file(&f, "rita").unwrap_err();
    assert_eq!(
        err,
        DomainError::CannotProceed(String::from(
            "nobody can fulfil it: empty has no active members"
        ))
    );
}

#[test]
fn submission_checks_the_filer_the_requester_and_the_answers() {
    let carpark = flow(CARPARK);
    let plate = serde_json::json!({ "plate": "X1" });
    let for_others = flow(
        "id: t\nname: Thing\nrequesters: { groups: [eng] }\nallow_requests_for_others: true\n\
         fulfillment: { manual: { group: facilities } }\napproval:\n  - { approvers: manager }\n",
    );

    // On someone's behalf: only where the flow allows it.
    let err = file_for(&carpark, &admin("ada"), "rita", plate.clone()).unwrap_err();
    assert_eq!(
        err,
        DomainError::NotAllowed(String::from(
            "Carpark access cannot be requested on someone else's behalf"
        ))
    );
    let t = file_for(&for_others, &user("ada"), "rita", serde_json::json!({})).unwrap();
    assert_eq!(
        (
            t.request.requester.as_str(),
            t.request.submitted_by.as_str()
        ),
        ("rita", "ada")
    );
    assert_eq!(
        t.request.steps[0].eligible,
        ids(&["mark"]),
        "the requester's manager, not the filer's"
    );
    assert_eq!(t.audit[0].detail["on_behalf"], true);
    assert_eq!(t.audit[0].actor, "ada");
    // ...and only for someone who may request it (ada is not in eng, but may file for rita who is).
    let err = file_for(&for_others, &user("rita"), "fay", serde_json::json!({})).unwrap_err();
    assert_eq!(
        err,
        DomainError::NotAllowed(String::from("only members of eng may request Thing"))
    );

    // Filers must be active people.
    assert_eq!(
        file_for(&carpark, &user("gone"), "gone", plate.clone()),
        Err(DomainError::NotAllowed(String::from(
            "gone is not an active person in the directory"
        )))
    );
    assert_eq!(
        file_for(&carpark, &Actor::System, "rita", plate.clone()),
        Err(DomainError::NotAllowed(String::from(
            "requests are filed by people"
        )))
    );
    // Requesters must be allowed.
    assert_eq!(
        file_for(&carpark, &user("out"), "out", plate.clone()),
        Err(DomainError::NotAllowed(String::from(
            "only members of employees may request Carpark access"
        )))
    );
    // Answers are checked.
    let err = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "far too long a plate" }),
    )
    .unwrap_err();
    let DomainError::InvalidSubmission(fields) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(fields[0].field, "plate");
    assert_message(
        &err,
        "the request has 1 problem(s): plate: must be at most 12 characters",
    );
    // A manager step for someone without a manager cannot proceed.
    let err = file_for(&carpark, &user("nomgr"), "nomgr", plate).unwrap_err();
    assert_eq!(
        err,
        DomainError::CannotProceed(String::from(
            "step 1 (Manager approval) cannot be approved: nomgr has no manager in the directory"
        ))
    );
}

#[test]
fn cancel_is_for_the_requester_or_an_administrator_while_a_decision_is_pending() {
    let carpark = flow(CARPARK);
    let r = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;

    let t = run(
        &r,
        Command::Cancel {
            reason: Some(String::from("sold the car")),
        },
        &user("rita"),
        1,
    )
    .unwrap();
    assert_eq!(t.request.state, State::Canceled);
    assert_eq!(kinds(&t), ["canceled"]);
    assert_eq!(t.audit[0].detail["by_admin"], false);
    assert_eq!(
        t.request.outcome.as_ref().and_then(|o| o.reason.as_deref()),
        Some("sold the car")
    );
    assert_eq!(
        t.notices,
        [Notice::StepDecided { step: 0 }, Notice::RequestUpdated]
    );
    assert!(t.request.duties().is_empty());
    assert!(matches!(
        run(&t.request, approve(), &user("mark"), 2),
        Err(DomainError::IllegalTransition(_))
    ));

    let t = run(&r, Command::Cancel { reason: None }, &admin("ada"), 1).unwrap();
    assert_eq!(t.request.state, State::Canceled);
    assert_eq!(t.audit[0].detail["by_admin"], true);
    assert_eq!(
        t.request.outcome.as_ref().map(|o| o.by.as_str()),
        Some("ada")
    );

    for who in [user("mark"), user("out"), user("ada")] {
        assert_eq!(
            run(&r, Command::Cancel { reason: None }, &who, 1),
            Err(DomainError::NotAllowed(String::from(
                "only the requester (or an administrator) can cancel a request"
            ))),
            "{who:?}"
        );
    }

    // Still cancellable between steps; not once approved.
    let r = run(&r, approve(), &user("mark"), 1).unwrap().request;
    assert!(run(&r, Command::Cancel { reason: None }, &user("rita"), 2).is_ok());
    let r = run(&r, approve(), &user("fay"), 2).unwrap().request;
    assert_eq!(r.state, State::Fulfilling);
    let err = run(&r, Command::Cancel { reason: None }, &user("rita"), 3).unwrap_err();
    assert_eq!(
        err,
        DomainError::IllegalTransition(String::from(
            "Carpark access #0 is fulfilling; it can no longer be canceled"
        ))
    );
    assert!(matches!(
        run(&r, Command::Cancel { reason: None }, &admin("ada"), 3),
        Err(DomainError::IllegalTransition(_))
    ));
}

#[test]
fn reminders_repeat_up_to_the_limit() {
    let f = flow_with("approval:\n  - { approvers: manager, remind_after: 4h }\n");
    let t = file(&f, "rita").unwrap();
    assert_eq!(
        t.timers,
        [Timer {
            at: at_hour(4),
            kind: TimerKind::Remind { step: 0 }
        }]
    );
    let mut r = t.request;
    let mut hour = 4;
    for round in 1..=MAX_REMINDERS {
        let t = run(
            &r,
            Command::Fire(TimerKind::Remind { step: 0 }),
            &Actor::System,
            hour,
        )
        .unwrap();
        assert_eq!(kinds(&t), ["reminder_sent"]);
        assert_eq!(t.audit[0].detail["round"], round);
        // Approvers are reminded; the requester's view does not change.
        assert_eq!(t.notices, [Notice::ApprovalReminder { step: 0 }]);
        let next: Vec<Timer> = if round < MAX_REMINDERS {
            vec![Timer {
                at: at_hour(hour + 4),
                kind: TimerKind::Remind { step: 0 },
            }]
        } else {
            vec![]
        };
        assert_eq!(t.timers, next, "round {round}");
        assert_eq!(t.request.steps[0].reminders_sent, round);
        assert_eq!(t.request.state, State::PendingApproval { step: 0 });
        r = t.request;
        hour += 4;
    }
    assert_eq!(
        run(
            &r,
            Command::Fire(TimerKind::Remind { step: 0 }),
            &Actor::System,
            hour
        ),
        Err(DomainError::Outlived)
    );
    // A reminder for another step, or after the decision, is stale.
    assert_eq!(
        run(
            &r,
            Command::Fire(TimerKind::Remind { step: 1 }),
            &Actor::System,
            hour
        ),
        Err(DomainError::Outlived)
    );
    let decided = run(&r, approve(), &user("mark"), hour).unwrap().request;
    let fresh = file(&f, "rita").unwrap().request;
    let decided_fresh = run(&fresh, approve(), &user("mark"), 1).unwrap().request;
    for request in [&decided, &decided_fresh] {
        assert_eq!(
            run(
                request,
                Command::Fire(TimerKind::Remind { step: 0 }),
                &Actor::System,
                hour + 4
            ),
            Err(DomainError::Outlived)
        );
    }
}

#[test]
fn escalation_widens_the_approvers_once() {
    let carpark = flow(CARPARK);
    let r = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;
    let r = run(&r, approve(), &user("mark"), 1).unwrap().request;
    assert!(
        run(&r, approve(), &user("alice"), 2).is_err(),
        "alice only decides after escalation"
    );

    let t = run(
        &r,
        Command::Fire(TimerKind::Escalate { step: 1 }),
        &Actor::System,
        25,
    )
    .unwrap();
    let step = &t.request.steps[1];
    assert_eq!(step.eligible, ids(&["fay", "fred", "alice"]));
    assert!(step.escalated);
    assert_eq!(step.why, "they are members of Facilities; escalated to Alice because nobody decided in time (the flow names them as approvers)");
    assert_eq!(kinds(&t), ["escalated"]);
    assert_eq!(
        t.notices,
        [
            Notice::Escalated {
                step: 1,
                to: ids(&["alice"])
            },
            Notice::RequestUpdated
        ]
    );
    assert_eq!(t.request.state, State::PendingApproval { step: 1 });

    let escalated = t.request;
    assert_eq!(
        run(
            &escalated,
            Command::Fire(TimerKind::Escalate { step: 1 }),
            &Actor::System,
            49
        ),
        Err(DomainError::Outlived)
    );
    assert_eq!(
        run(
            &escalated,
            Command::Fire(TimerKind::Escalate { step: 0 }),
            &Actor::System,
            49
        ),
        Err(DomainError::Outlived)
    );
    assert_eq!(
        run(&escalated, approve(), &user("alice"), 26)
            .unwrap()
            .request
            .state,
        State::Fulfilling
    );

    // Escalating to a group leaves the requester out; a rule nobody can satisfy tells an administrator.
    let f = flow_with("approval:\n  - { approvers: manager, escalate_after: 1d, escalate_to: { group: security } }\n");
    let r = file(&f, "sue").unwrap().request;
    let t = run(
        &r,
        Command::Fire(TimerKind::Escalate { step: 0 }),
        &Actor::System,
        24,
    )
    .unwrap();
    assert_eq!(t.request.steps[0].eligible, ids(&["boss", "sam", "sid"]));
    let f = flow_with(
        "approval:\n  - { approvers: manager, escalate_after: 1d, escalate_to: { group: nope } }\n",
    );
    let r = file(&f, "rita").unwrap().request;
    let t = run(
        &r,
        Command::Fire(TimerKind::Escalate { step: 0 }),
        &Actor::System,
        24,
    )
    .unwrap();
    assert_eq!(kinds(&t), ["escalation_failed"]);
    assert_eq!(t.request.steps[0].eligible, ids(&["mark"]));
    assert_eq!(
        t.notices,
        [
            Notice::AdminAttention {
                problem: String::from(
                    "Thing #0: escalation failed: group nope is not in the directory"
                )
            },
            Notice::RequestUpdated
        ]
    );
    assert_eq!(
        run(
            &t.request,
            Command::Fire(TimerKind::Escalate { step: 0 }),
            &Actor::System,
            48
        ),
        Err(DomainError::Outlived)
    );
    // A step without escalate_to ignores the timer.
    let r = file(
        &flow_with("approval:\n  - { approvers: manager }\n"),
        "rita",
    )
    .unwrap()
    .request;
    assert_eq!(
        run(
            &r,
            Command::Fire(TimerKind::Escalate { step: 0 }),
            &Actor::System,
            24
        ),
        Err(DomainError::Outlived)
    );
}

#[test]
fn pending_expiry_closes_only_an_unanswered_request() {
    let carpark = flow(CARPARK);
    let r = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;
    let t = run(
        &r,
        Command::Fire(TimerKind::PendingExpiry),
        &Actor::System,
        14 * 24,
    )
    .unwrap();
    assert_eq!(t.request.state, State::ClosedUnanswered);
    assert!(t.request.state.is_final());
    let outcome = t.request.outcome.as_ref().unwrap();
    assert_eq!(
        (outcome.by.as_str(), outcome.reason.as_deref()),
        ("sesame", Some("nobody decided before the request expired"))
    );
    assert_eq!(kinds(&t), ["closed_unanswered"]);
    assert_eq!(
        t.notices,
        [Notice::StepDecided { step: 0 }, Notice::RequestUpdated]
    );
    assert!(matches!(
        run(&t.request, approve(), &user("mark"), 14 * 24 + 1),
        Err(DomainError::IllegalTransition(_))
    ));

    // Once approved it no longer applies.
    let r = run(&r, approve(), &user("mark"), 1).unwrap().request;
    let r = run(&r, approve(), &user("fay"), 2).unwrap().request;
    assert_eq!(
        run(
            &r,
            Command::Fire(TimerKind::PendingExpiry),
            &Actor::System,
            14 * 24
        ),
        Err(DomainError::Outlived)
    );
}

#[test]
fn stale_timers_are_outlived_in_every_state() {
    let carpark = flow(CARPARK);
    let pending = file_for(
        &carpark,
        &user("rita"),
        "rita",
        serde_json::json!({ "plate": "X1" }),
    )
    .unwrap()
    .request;
    let fulfilling = run(
        &run(&pending, approve(), &user("mark"), 1).unwrap().request,
        approve(),
        &user("fay"),
        2,
    )
    .unwrap()
    .request;
    let active = run(
        &fulfilling,
        Command::CompleteFulfilment { note: None },
        &user("fay"),
        3,
    )
    .unwrap()
    .request;
    let denied = run(&pending, deny("no"), &user("mark"), 1).unwrap().request;
    let canceled = run(&pending, Command::Cancel { reason: None }, &user("rita"), 1)
        .unwrap()
        .request;
    #[rustfmt::skip]
    let cases: [(&Request, TimerKind); 12] = [
        (&pending, TimerKind::AccessExpiry),
        (&pending, TimerKind::Remind { step: 1 }),
        (&pending, TimerKind::Escalate { step: 7 }),
        (&fulfilling, TimerKind::Remind { step: 1 }),
        (&fulfilling, TimerKind::Escalate { step: 1 }),
        (&fulfilling, TimerKind::PendingExpiry),
        (&fulfilling, TimerKind::AccessExpiry),
        (&active, TimerKind::PendingExpiry),
        (&denied, TimerKind::PendingExpiry),
        (&denied, TimerKind::Remind { step: 0 }),
        (&canceled, TimerKind::Escalate { step: 0 }),
        (&canceled, TimerKind::PendingExpiry),
    ];
    for (request, timer) in cases {
        assert_eq!(
            run(request, Command::Fire(timer), &Actor::System, 100 * 24),
            Err(DomainError::Outlived),
            "{timer:?} in {:?}",
            request.state
        );
    }
    // People cannot fire timers.
    assert_eq!(
        run(
            &pending,
            Command::Fire(TimerKind::PendingExpiry),
            &admin("ada"),
            14 * 24
        ),
        Err(DomainError::NotAllowed(String::from(
            "only Sesame's own timers can fire"
        )))
    );
}

#[test]
fn fulfilment_is_done_or_failed_by_a_fulfiller_or_an_administrator() {
    let f = flow_with("approval:\n  - { approvers: manager }\n");
    let r = file(&f, "rita").unwrap().request;
    let pending = r.clone();
    let r = run(&r, approve(), &user("mark"), 1).unwrap().request;
    assert_eq!(r.state, State::Fulfilling);

    assert_eq!(
        run(
            &r,
            Command::CompleteFulfilment { note: None },
            &user("mark"),
            2
        ),
        Err(DomainError::NotAllowed(String::from(
            "you are not a fulfiller of Thing #0"
        )))
    );
    assert!(matches!(
        run(
            &r,
            Command::CompleteFulfilment { note: None },
            &user("rita"),
            2
        ),
        Err(DomainError::NotAllowed(_))
    ));
    assert!(matches!(
        run(
            &pending,
            Command::CompleteFulfilment { note: None },
            &user("fay"),
            2
        ),
        Err(DomainError::IllegalTransition(_))
    ));

    let blank = run(
        &r,
        Command::FailFulfilment {
            reason: String::new(),
        },
        &user("fay"),
        2,
    )
    .unwrap_err();
    assert!(
        matches!(&blank, DomainError::InvalidSubmission(e) if e[0].message == "a reason is required"),
        "{blank:?}"
    );
    let t = run(
        &r,
        Command::FailFulfilment {
            reason: String::from("no spaces left"),
        },
        &user("fay"),
        2,
    )
    .unwrap();
    assert_eq!(t.request.state, State::Failed);
    assert_eq!(kinds(&t), ["fulfilment_failed"]);
    assert_eq!(
        t.notices,
        [Notice::FulfilmentDecided, Notice::RequestUpdated]
    );
    let outcome = t.request.outcome.as_ref().unwrap();
    assert_eq!(
        (outcome.by.as_str(), outcome.reason.as_deref()),
        ("fay", Some("no spaces left"))
    );
    let f_progress = t.request.fulfilment.as_ref().unwrap();
    assert_eq!(
        (f_progress.by.as_ref(), f_progress.note.as_deref()),
        (Some(&uid("fay")), Some("no spaces left"))
    );
    assert_eq!(
        run(
            &t.request,
            Command::CompleteFulfilment { note: None },
            &user("fred"),
            3
        ),
        Err(DomainError::AlreadyDone(String::from(
            "Thing #0 was already handled by Fay"
        )))
    );

    let done = run(
        &r,
        Command::CompleteFulfilment { note: None },
        &admin("ada"),
        2,
    )
    .unwrap()
    .request;
    assert_eq!(done.state, State::Fulfilled);
    assert_eq!(
        done.fulfilment.as_ref().and_then(|f| f.by.as_ref()),
        Some(&uid("ada"))
    );
    assert!(matches!(
        run(
            &done,
            Command::CompleteFulfilment { note: None },
            &user("fay"),
            3
        ),
        Err(DomainError::AlreadyDone(_))
    ));
}

#[test]
fn revoke_is_for_the_requester_or_an_administrator_once_access_exists() {
    let f =
        flow_with("duration: { default: 8h, max: 1d }\napproval:\n  - { approvers: manager }\n");
    let r = file(&f, "rita").unwrap().request;
    assert!(matches!(
        run(&r, Command::Revoke { reason: None }, &user("rita"), 1),
        Err(DomainError::IllegalTransition(_))
    ));
    let r = run(&r, approve(), &user("mark"), 1).unwrap().request;
    assert!(matches!(
        run(&r, Command::Revoke { reason: None }, &admin("ada"), 1),
        Err(DomainError::IllegalTransition(_))
    ));
    let active = run(
        &r,
        Command::CompleteFulfilment { note: None },
        &user("fay"),
        2,
    )
    .unwrap()
    .request;
    assert_eq!(
        active.state,
        State::Active {
            until: at_hour(2).plus(hours(8))
        }
    );

    let t = run(
        &active,
        Command::Revoke {
            reason: Some(String::from("done early")),
        },
        &user("rita"),
        3,
    )
    .unwrap();
    assert_eq!(t.request.state, State::Revoked);
    assert_eq!(t.request.access_ends_at, Some(at_hour(3)));
    assert_eq!(kinds(&t), ["revoked"]);
    assert_eq!(t.audit[0].detail["relinquished"], true);
    assert_eq!(
        t.notices,
        [Notice::RemovalRequested, Notice::RequestUpdated]
    );
    assert_eq!(
        run(
            &t.request,
            Command::Fire(TimerKind::AccessExpiry),
            &Actor::System,
            10
        ),
        Err(DomainError::Outlived)
    );

    let t = run(&active, Command::Revoke { reason: None }, &admin("ada"), 3).unwrap();
    assert_eq!(t.audit[0].detail["relinquished"], false);
    for who in [user("mark"), user("fay"), user("out")] {
        assert_eq!(
            run(&active, Command::Revoke { reason: None }, &who, 3),
            Err(DomainError::NotAllowed(String::from(
                "only the requester or an administrator can end this access"
            )))
        );
    }

    // Permanent access (no duration) can be revoked too.
    let f = flow_with("");
    let r = file(&f, "rita").unwrap().request;
    let fulfilled = run(
        &r,
        Command::CompleteFulfilment { note: None },
        &user("fay"),
        1,
    )
    .unwrap()
    .request;
    assert_eq!(fulfilled.state, State::Fulfilled);
    assert_eq!(
        run(
            &fulfilled,
            Command::Revoke { reason: None },
            &user("rita"),
            2
        )
        .unwrap()
        .request
        .state,
        State::Revoked
    );
}

#[test]
fn comments_are_for_involved_people_and_administrators() {
    let f = flow_with("approval:\n  - { approvers: manager }\n");
    let r = file(&f, "rita").unwrap().request;
    let r = run(&r, approve(), &user("mark"), 1).unwrap().request;
    for who in [user("rita"), user("mark"), user("fay"), admin("ada")] {
        let (text, event) = comment(&r, &who, "  any news?  ", at_hour(2)).unwrap();
        assert_eq!(text, "any news?");
        assert_eq!(
            (event.kind.as_str(), event.actor.as_str(), event.at),
            ("comment_added", who.label().as_str(), at_hour(2))
        );
        assert_eq!(event.detail["text"], "any news?");
    }
    assert_eq!(
        comment(&r, &user("out"), "hi", at_hour(2)),
        Err(DomainError::NotAllowed(String::from(
            "out is not part of Thing #0"
        )))
    );
    assert!(
        matches!(
            comment(&r, &user("ada"), "hi", at_hour(2)),
            Err(DomainError::NotAllowed(_))
        ),
        "ada only as admin"
    );
    assert!(matches!(
        comment(&r, &Actor::System, "hi", at_hour(2)),
        Err(DomainError::NotAllowed(_))
    ));
    assert!(matches!(
        comment(&r, &user("rita"), "   ", at_hour(2)),
        Err(DomainError::InvalidSubmission(_))
    ));
    // Also after the request ends.
    let failed = run(
        &r,
        Command::FailFulfilment {
            reason: String::from("x"),
        },
        &user("fay"),
        3,
    )
    .unwrap()
    .request;
    assert!(comment(&failed, &user("rita"), "oh well", at_hour(4)).is_ok());
}

#[test]
fn a_step_nobody_can_approve_any_more_waits_and_tells_administrators() {
    // Every step is checked at submission; when the directory changes afterwards, the decision
    // that starts the next step still counts, and the stuck step is flagged for administrators.
    let f = flow_with("approval:\n  - { approvers: manager }\n  - { approvers: { group: security }, required: 2 }\n");
    let r = file(&f, "rita").unwrap().request;
    let mut file = crate::directory::DirectoryFile::parse(crate::test_support::DIRECTORY).unwrap();
    for u in file
        .users
        .iter_mut()
        .filter(|u| ["sam", "sid"].contains(&u.id.as_str()))
    {
        u.active = false;
    }
    let shrunk: Directory = file.into_directory();
    let t = decide(&r, approve(), &user("mark"), &shrunk, at_hour(1)).unwrap();
    assert_eq!(t.request.state, State::PendingApproval { step: 1 });
    assert!(t.request.steps[1].eligible.is_empty());
    assert!(t.request.steps[1]
        .why
        .contains("needs 2 approver(s) but only 1 can approve"));
    assert!(t.audit.iter().any(|e| e.kind == "step_stuck"));
    assert!(t
        .notices
        .iter()
        .any(|n| matches!(n, Notice::AdminAttention { .. })));
    // An administrator can still cancel it.
    let canceled = decide(
        &t.request,
        Command::Cancel { reason: None },
        &Actor::admin(UserId::new("ada").unwrap()),
        &shrunk,
        at_hour(2),
    );
    assert_eq!(
        canceled.unwrap().request.steps[1].status,
        StepStatus::Closed
    );
}

#[test]
fn people_who_have_left_can_no_longer_act_on_requests_that_name_them() {
    let f = flow_with("approval:\n  - { approvers: { group: security } }\n");
    let r = file(&f, "rita").unwrap().request;
    assert_eq!(r.steps[0].eligible, ids(&["sam", "sid", "sue"]));
    let mut file = crate::directory::DirectoryFile::parse(crate::test_support::DIRECTORY).unwrap();
    for u in file
        .users
        .iter_mut()
        .filter(|u| ["sam", "rita"].contains(&u.id.as_str()))
    {
        u.active = false;
    }
    let after: Directory = file.into_directory();
    for (command, who) in [
        (approve(), "sam"),
        (deny("no"), "sam"),
        (Command::Cancel { reason: None }, "rita"),
    ] {
        assert_eq!(
            decide(&r, command, &user(who), &after, at_hour(1)),
            Err(DomainError::NotAllowed(format!(
                "{who} is not an active person in the directory"
            )))
        );
    }
    assert_eq!(
        decide(&r, approve(), &user("sid"), &after, at_hour(1))
            .unwrap()
            .request
            .state,
        State::Fulfilling
    );
}

#[test]
fn sesame_cancels_and_ends_access_only_for_requesters_who_left() {
    let f =
        flow_with("duration: { default: 8h, max: 1d }\napproval:\n  - { approvers: manager }\n");
    let pending = file(&f, "rita").unwrap().request;
    let fulfilling = run(&pending, approve(), &user("mark"), 1).unwrap().request;
    let active = run(
        &fulfilling,
        Command::CompleteFulfilment { note: None },
        &user("fay"),
        2,
    )
    .unwrap()
    .request;
    let reason = || Some(String::from("rita left"));
    // While Rita is in the directory, Sesame may do neither.
    for r in [&pending, &fulfilling] {
        assert!(matches!(
            run(r, Command::Cancel { reason: reason() }, &Actor::System, 3),
            Err(DomainError::NotAllowed(_))
        ));
    }
    assert!(matches!(
        run(
            &active,
            Command::Revoke { reason: reason() },
            &Actor::System,
            3
        ),
        Err(DomainError::NotAllowed(_))
    ));

    let mut file = crate::directory::DirectoryFile::parse(crate::test_support::DIRECTORY).unwrap();
    for u in file.users.iter_mut().filter(|u| u.id.as_str() == "rita") {
        u.active = false;
    }
    let gone: Directory = file.into_directory();
    let t = decide(
        &pending,
        Command::Cancel { reason: reason() },
        &Actor::System,
        &gone,
        at_hour(3),
    )
    .unwrap();
    assert_eq!(t.request.state, State::Canceled);
    assert_eq!(t.request.outcome.as_ref().unwrap().by, "sesame");
    assert_eq!(t.audit[0].kind, "canceled");
    assert_eq!(t.audit[0].actor, "sesame");
    assert_eq!(t.audit[0].detail["requester_left"], true);
    assert!(t.request.duties().is_empty());

    // An approved request nobody has fulfilled yet is closed too, so nobody grants it.
    let t = decide(
        &fulfilling,
        Command::Cancel { reason: reason() },
        &Actor::System,
        &gone,
        at_hour(3),
    )
    .unwrap();
    assert_eq!(t.request.state, State::Canceled);
    assert!(t.notices.contains(&Notice::FulfilmentDecided));
    assert!(t.request.duties().is_empty());

    let t = decide(
        &active,
        Command::Revoke { reason: reason() },
        &Actor::System,
        &gone,
        at_hour(3),
    )
    .unwrap();
    assert_eq!(t.request.state, State::Revoked);
    assert_eq!(t.audit[0].detail["relinquished"], false);
    assert!(t.notices.contains(&Notice::RemovalRequested));
    // Finished requests stay as they are.
    assert!(matches!(
        decide(
            &t.request,
            Command::Cancel { reason: None },
            &Actor::System,
            &gone,
            at_hour(4)
        ),
        Err(DomainError::IllegalTransition(_))
    ));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Who acts: the requester's circle, security (the quorum group, sue also in sre), facilities
    /// (fulfillers), an outsider and an administrator.
    const PEOPLE: [&str; 9] = [
        "rita", "mark", "sam", "sue", "sid", "fay", "out", "boss", "ada",
    ];

    const MANAGER_THEN_QUORUM: &str = "
id: quorum
name: Quorum
requesters: everyone
allow_requests_for_others: true
duration: { default: 8h, max: 1d }
approval:
  - { approvers: manager, remind_after: 4h, escalate_after: 1d, escalate_to: { group: security } }
  - { approvers: { group: security }, required: 2, remind_after: 4h, escalate_after: 1d, escalate_to: { user: boss } }
fulfillment: { manual: { group: facilities } }
pending_expires_after: 3d
";

    const SELF_APPROVAL: &str = "
id: selfish
name: Selfish
requesters: everyone
allow_self_approval: true
questions:
  - { id: env, label: Env, type: select, options: [dev, prod], required: true }
approval:
  - { approvers: { group: security }, required: 2, skip_if: { answers: { env: dev } } }
  - { approvers: { users: [sue, mark] }, required: 2, remind_after: 1h }
fulfillment: { manual: { users: [fay, sue] } }
";

    #[derive(Debug, Clone)]
    enum Op {
        Approve(Option<usize>),
        Deny(Option<usize>, bool),
        Cancel,
        Complete,
        Fail(bool),
        Revoke,
        Fire(TimerKind),
    }

    fn op() -> impl Strategy<Value = Op> {
        let step = prop::option::of(0usize..3);
        prop_oneof![
            4 => step.clone().prop_map(Op::Approve),
            1 => (step, any::<bool>()).prop_map(|(s, r)| Op::Deny(s, r)),
            1 => Just(Op::Cancel),
            2 => Just(Op::Complete),
            1 => any::<bool>().prop_map(Op::Fail),
            1 => Just(Op::Revoke),
            3 => prop_oneof![
                (0usize..3).prop_map(|step| TimerKind::Remind { step }),
                (0usize..3).prop_map(|step| TimerKind::Escalate { step }),
                Just(TimerKind::PendingExpiry),
                Just(TimerKind::AccessExpiry),
            ]
            .prop_map(Op::Fire),
        ]
    }

    /// One command: what, by whom (index into PEOPLE; admin rights apply to ada only, and timers are
    /// fired by Sesame unless `person_fires`), and how many hours later.
    fn step() -> impl Strategy<Value = (Op, usize, bool, i64)> {
        (op(), 0..PEOPLE.len(), prop::bool::weighted(0.1), 0i64..30)
    }

    fn actor(index: usize) -> Actor {
        let id = PEOPLE[index];
        if id == "ada" {
            admin(id)
        } else {
            user(id)
        }
    }

    fn command(op: &Op) -> Command {
        match op {
            Op::Approve(step) => Command::Approve {
                step: *step,
                comment: None,
            },
            Op::Deny(step, with_reason) => Command::Deny {
                step: *step,
                reason: if *with_reason {
                    String::from("no")
                } else {
                    String::new()
                },
            },
            Op::Cancel => Command::Cancel { reason: None },
            Op::Complete => Command::CompleteFulfilment { note: None },
            Op::Fail(with_reason) => Command::FailFulfilment {
                reason: if *with_reason {
                    String::from("broken")
                } else {
                    String::new()
                },
            },
            Op::Revoke => Command::Revoke { reason: None },
            Op::Fire(kind) => Command::Fire(*kind),
        }
    }

    /// (a) and (d): access-bearing states only follow full approval, each approved step by at least
    /// `required` different people who were all eligible. (c): nobody approves their own request
    /// unless the flow allows it.
    fn check_invariants(r: &Request) -> Result<(), TestCaseError> {
        for (i, s) in r.steps.iter().enumerate() {
            let mut distinct: Vec<&UserId> = s.approvals.iter().map(|a| &a.by).collect();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(
                distinct.len(),
                s.approvals.len(),
                "step {} has a repeated approver",
                i
            );
            for a in &s.approvals {
                prop_assert!(
                    s.eligible.contains(&a.by),
                    "step {} approved by {} who is not eligible",
                    i,
                    a.by
                );
                if !r.flow.allow_self_approval {
                    prop_assert!(
                        a.by != r.requester && a.by != r.submitted_by,
                        "step {} approved by the requester or filer {}",
                        i,
                        a.by
                    );
                }
            }
            if s.status == StepStatus::Approved {
                prop_assert!(
                    distinct.len() >= s.spec.required as usize,
                    "step {} approved by {} of {}",
                    i,
                    distinct.len(),
                    s.spec.required
                );
            }
            if s.status == StepStatus::Skipped {
                prop_assert!(s.approvals.is_empty());
            }
        }
        let granted = matches!(
            r.state,
            State::Approved | State::Fulfilling | State::Active { .. } | State::Fulfilled
        ) || (r.fulfilment.is_some()
            && matches!(r.state, State::Failed | State::Revoked | State::Expired));
        if granted {
            for (i, s) in r.steps.iter().enumerate() {
                prop_assert!(
                    matches!(s.status, StepStatus::Approved | StepStatus::Skipped),
                    "{} with step {} {:?}",
                    r.state.name(),
                    i,
                    s.status
                );
            }
        }
        if let State::PendingApproval { step } = r.state {
            prop_assert_eq!(r.steps[step].status, StepStatus::Pending);
            prop_assert!(r.steps[..step]
                .iter()
                .all(|s| matches!(s.status, StepStatus::Approved | StepStatus::Skipped)));
            prop_assert!(r.steps[step + 1..]
                .iter()
                .all(|s| s.status == StepStatus::Waiting));
        }
        Ok(())
    }

    /// Runs the commands, checking the invariants after each; returns the states the request went through.
    fn run_sequence(
        flow_yaml: &str,
        requester: &str,
        env: &str,
        steps: &[(Op, usize, bool, i64)],
    ) -> Result<Vec<&'static str>, TestCaseError> {
        let flow = flow(flow_yaml);
        let d = directory();
        let answers = if flow.question("env").is_some() {
            serde_json::json!({ "env": env })
        } else {
            serde_json::json!({})
        };
        let Ok(t) = submit(
            &flow,
            Submission {
                requester: uid(requester),
                answers: raw(answers, None),
            },
            &user(requester),
            &d,
            at_hour(0),
        ) else {
            return Ok(vec![]);
        };
        let mut request = t.request;
        let mut seen = vec![request.state.name()];
        check_invariants(&request)?;
        let mut now = at_hour(0);
        for (op, who, person_fires, later) in steps {
            now = now.plus(hours(*later));
            let actor = match op {
                Op::Fire(_) if !person_fires => Actor::System,
                _ => actor(*who),
            };
            let before = request.clone();
            let result = decide(&before, command(op), &actor, &d, now);
            let Ok(t) = result else { continue };
            // (b): nothing leaves a final state, except that permanent access can still be revoked.
            if before.state.is_final() {
                prop_assert!(
                    before.state == State::Fulfilled && t.request.state == State::Revoked,
                    "{:?} moved {} to {}",
                    op,
                    before.state.name(),
                    t.request.state.name()
                );
            }
            prop_assert!(!t.audit.is_empty(), "a change without an audit event");
            prop_assert_eq!(t.request.updated_at, now);
            prop_assert_eq!(
                t.request.version,
                before.version,
                "the store, not the engine, counts versions"
            );
            if let Op::Fire(_) = op {
                prop_assert_eq!(&actor, &Actor::System);
            }
            request = t.request;
            seen.push(request.state.name());
            check_invariants(&request)?;
        }
        Ok(seen)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn manager_then_quorum_keeps_its_invariants(
            requester in prop::sample::select(vec!["rita", "sue", "sam", "mark"]),
            steps in prop::collection::vec(step(), 0..30),
        ) {
            run_sequence(MANAGER_THEN_QUORUM, requester, "prod", &steps)?;
        }

        #[test]
        fn self_approval_flow_keeps_its_invariants(
            requester in prop::sample::select(vec!["rita", "sue", "mark"]),
            env in prop::sample::select(vec!["dev", "prod"]),
            steps in prop::collection::vec(step(), 0..30),
        ) {
            run_sequence(SELF_APPROVAL, requester, env, &steps)?;
        }
    }

    /// The generated sequences must reach the interesting states, or the properties prove little.
    #[test]
    fn generated_sequences_reach_every_state() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let sequence = prop::collection::vec(step(), 0..30);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1000 {
            let steps = sequence.new_tree(&mut runner).unwrap().current();
            let (flow_yaml, requester, env) = if i % 2 == 0 {
                (MANAGER_THEN_QUORUM, "rita", "prod")
            } else {
                (SELF_APPROVAL, "sue", ["dev", "prod"][i % 4 / 2])
            };
            seen.extend(run_sequence(flow_yaml, requester, env, &steps).unwrap());
        }
        let expected: std::collections::BTreeSet<&str> = State::NAMES
            .iter()
            .copied()
            .filter(|n| !["submitted", "approved"].contains(n))
            .collect();
        assert_eq!(seen, expected, "states reached by generated sequences");
    }

    #[test]
    fn a_directed_sequence_reaches_active_through_both_steps() {
        let steps = [
            (Op::Approve(None), 1, false, 1), // mark
            (Op::Approve(None), 2, false, 1), // sam
            (Op::Approve(None), 2, false, 1), // sam again: refused
            (Op::Approve(None), 4, false, 1), // sid
            (Op::Complete, 5, false, 1),      // fay
        ];
        let seen = run_sequence(MANAGER_THEN_QUORUM, "rita", "prod", &steps).unwrap();
        assert_eq!(
            seen,
            [
                "pending_approval",
                "pending_approval",
                "pending_approval",
                "fulfilling",
                "active"
            ]
        );
        let flow = flow(MANAGER_THEN_QUORUM);
        let d = directory();
        let mut r = file(&flow, "rita").unwrap().request;
        for (op, who, _, _) in &steps {
            if let Ok(t) = decide(&r, command(op), &actor(*who), &d, at_hour(1)) {
                r = t.request;
            }
        }
        assert!(matches!(r.state, State::Active { .. }), "{:?}", r.state);
        assert_eq!(r.steps[1].approvals.len(), 2);
    }
}

#[test]
fn a_recheck_tells_administrators_when_the_people_asked_can_no_longer_reach_the_quorum() {
    // Rita's request waits on her manager, Mark.
    let pending = file(
        &flow_with("approval:\n  - { approvers: manager }\n"),
        "rita",
    )
    .unwrap()
    .request;
    // While Mark is there, a recheck has nothing to say.
    assert_eq!(
        run(&pending, Command::Recheck, &Actor::System, 1).unwrap_err(),
        DomainError::Outlived
    );
    // Mark leaves: administrators are told, and nothing else changes.
    let mut users: Vec<crate::User> = directory().users().cloned().collect();
    users
        .iter_mut()
        .filter(|u| u.id == uid("mark"))
        .for_each(|u| u.active = false);
    let groups: Vec<crate::Group> = directory().groups().cloned().collect();
    let without_mark = Directory::new(users, groups);
    let t = decide(
        &pending,
        Command::Recheck,
        &Actor::System,
        &without_mark,
        at_hour(2),
    )
    .unwrap();
    assert_eq!(t.request.state, pending.state);
    assert_eq!(kinds(&t), ["step_stuck"]);
    assert!(
        matches!(&t.notices[..], [Notice::AdminAttention { problem }] if problem.contains("only 0 of the people asked")),
        "{:?}",
        t.notices
    );
    // Only Sesame itself rechecks.
    assert!(matches!(
        decide(
            &pending,
            Command::Recheck,
            &user("rita"),
            &without_mark,
            at_hour(2)
        ),
        Err(DomainError::NotAllowed(_))
    ));
}
