//! Fulfilment by a connector and extensions: the states, commands and outbox work they add.

use super::*;
use crate::test_support::{at_hour, directory, flow, uid};
use proptest::prelude::*;

/// Manager approval, then the `corp-ldap` connector; access lasts a day by default, at most a week.
const VPN: &str = "
id: vpn
name: VPN
requesters: everyone
duration: { default: 1d, max: 7d, requester_chooses: true }
approval:
  - { approvers: manager }
fulfillment: { connector: corp-ldap, group: vpn-users }
";

fn file_vpn() -> Request {
    submit(
        &flow(VPN),
        Submission {
            requester: uid("rita"),
            answers: RawSubmission::default(),
        },
        &Actor::user(uid("rita")),
        &directory(),
        at_hour(0),
    )
    .expect("filed")
    .request
}

fn run(
    request: &Request,
    command: Command,
    actor: &Actor,
    hour: i64,
) -> Result<Transition, DomainError> {
    decide(request, command, actor, &directory(), at_hour(hour))
}

fn approved_vpn() -> Transition {
    let approve = Command::Approve {
        step: None,
        comment: None,
    };
    run(&file_vpn(), approve, &Actor::user(uid("mark")), 1).expect("approved")
}

fn report(
    request: &Request,
    report: ConnectorReport,
    hour: i64,
) -> Result<Transition, DomainError> {
    run(request, Command::Connector(report), &Actor::System, hour)
}

fn granted() -> ConnectorReport {
    ConnectorReport::Granted {
        answer: String::from("granted"),
        reference: None,
    }
}

fn kinds(t: &Transition) -> Vec<&str> {
    t.audit.iter().map(|e| e.kind.as_str()).collect()
}

#[test]
fn approval_queues_the_grant_with_the_decision_and_nobody_is_asked_to_fulfil() {
    let t = approved_vpn();
    assert_eq!(t.request.state, State::Fulfilling);
    assert_eq!(t.provisioning, [Provision::Grant]);
    assert!(!t.notices.contains(&Notice::FulfilmentRequested));
    assert!(t.request.duties().is_empty());
    assert_eq!(
        t.request
            .provisioning
            .as_ref()
            .map(|p| p.connector.as_str()),
        Some("corp-ldap")
    );
    let started = t
        .audit
        .iter()
        .find(|e| e.kind == "fulfilment_started")
        .expect("event");
    assert_eq!(started.detail["connector"], "corp-ldap");
}

#[test]
fn a_grant_makes_access_active_with_its_timers_and_names_the_connector() {
    let fulfilling = approved_vpn().request;
    let t = report(&fulfilling, granted(), 2).expect("recorded");
    let until = at_hour(2 + 24);
    assert_eq!(t.request.state, State::Active { until });
    assert_eq!(kinds(&t), ["access_granted"]);
    assert_eq!(t.audit[0].actor, "sesame");
    assert_eq!(t.audit[0].detail["connector"], "corp-ldap");
    assert_eq!(t.audit[0].detail["answer"], "granted");
    assert_eq!(t.audit[0].detail["until"], until.to_rfc3339());
    assert!(t.timers.contains(&Timer {
        at: until,
        kind: TimerKind::AccessExpiry
    }));
    assert!(t.notices.contains(&Notice::RequestUpdated));
    // A second report of the same grant (a job repeated after a crash) changes nothing.
    assert_eq!(
        report(&t.request, granted(), 3).unwrap_err(),
        DomainError::Outlived
    );
    // Only Sesame records what a connector did.
    let person = run(
        &fulfilling,
        Command::Connector(granted()),
        &Actor::admin(uid("ada")),
        2,
    );
    assert!(matches!(person, Err(DomainError::NotAllowed(_))));
}

#[test]
fn trouble_is_shown_on_the_request_and_to_admins_when_asked_and_a_failure_ends_it() {
    let fulfilling = approved_vpn().request;
    let trouble = ConnectorReport::Trouble {
        action: Provision::Grant,
        error: String::from("ldap: connection refused"),
        tell_admins: true,
    };
    let t = report(&fulfilling, trouble, 2).expect("recorded");
    assert_eq!(t.request.state, State::Fulfilling);
    assert_eq!(kinds(&t), ["provisioning_error"]);
    let progress = t.request.provisioning.as_ref().expect("progress");
    assert_eq!(
        progress.last_error.as_deref(),
        Some("ldap: connection refused")
    );
    assert_eq!(progress.failures, 1);
    assert!(
        matches!(&t.notices[..], [Notice::AdminAttention { problem }] if problem.contains("connection refused"))
    );
    let failed = report(
        &t.request,
        ConnectorReport::GrantFailed {
            error: String::from("no such group"),
            reference: None,
        },
        3,
    )
    .expect("recorded");
    assert_eq!(failed.request.state, State::Failed);
    assert_eq!(
        failed
            .request
            .outcome
            .as_ref()
            .and_then(|o| o.reason.as_deref()),
        Some("no such group")
    );
    assert!(
        failed.notices.contains(&Notice::RequestUpdated),
        "the requester is told"
    );
    assert!(failed
        .notices
        .iter()
        .any(|n| matches!(n, Notice::AdminAttention { .. })));
}

#[test]
fn accepted_work_waits_for_its_callback_or_times_out_and_is_cleaned_up() {
    let fulfilling = approved_vpn().request;
    let accepted = report(
        &fulfilling,
        ConnectorReport::Accepted {
            reference: String::from("job-7"),
        },
        2,
    )
    .expect("recorded");
    assert_eq!(accepted.request.state, State::Fulfilling);
    let timeout = TimerKind::ProvisioningTimeout {
        accepted_at: at_hour(2),
    };
    assert_eq!(
        accepted.timers,
        [Timer {
            at: at_hour(3),
            kind: timeout
        }]
    );
    // A callback naming other work is refused; the right one completes the grant.
    let wrong = ConnectorReport::Granted {
        answer: String::from("done"),
        reference: Some(String::from("job-8")),
    };
    assert!(matches!(
        report(&accepted.request, wrong, 2),
        Err(DomainError::NotAllowed(_))
    ));
    let right = ConnectorReport::Granted {
        answer: String::from("done"),
        reference: Some(String::from("job-7")),
    };
    let active = report(&accepted.request, right, 2).expect("recorded");
    assert!(matches!(active.request.state, State::Active { .. }));
    // Its timeout is then outlived.
    assert_eq!(
        run(&active.request, Command::Fire(timeout), &Actor::System, 3).unwrap_err(),
        DomainError::Outlived
    );
    // Without a callback the timeout fails the request and removes whatever may have been done.
    let timed_out =
        run(&accepted.request, Command::Fire(timeout), &Actor::System, 3).expect("fired");
    assert_eq!(timed_out.request.state, State::Failed);
    assert_eq!(timed_out.provisioning, [Provision::Revoke]);
}

#[test]
fn expiry_and_every_kind_of_revoke_queue_the_removal_instead_of_a_task() {
    let active = report(&approved_vpn().request, granted(), 2)
        .expect("granted")
        .request;
    let expired = run(
        &active,
        Command::Fire(TimerKind::AccessExpiry),
        &Actor::System,
        26,
    )
    .expect("expired");
    assert_eq!(expired.request.state, State::Expired);
    assert_eq!(expired.provisioning, [Provision::Revoke]);
    assert!(!expired.notices.contains(&Notice::RemovalRequested));
    for actor in [Actor::user(uid("rita")), Actor::admin(uid("ada"))] {
        let revoked = run(&active, Command::Revoke { reason: None }, &actor, 3).expect("revoked");
        assert_eq!(revoked.request.state, State::Revoked);
        assert_eq!(revoked.provisioning, [Provision::Revoke]);
    }
    // The removal is recorded once, and the request stays in history.
    let removed = report(
        &expired.request,
        ConnectorReport::Removed {
            answer: String::from("removed"),
        },
        27,
    )
    .expect("recorded");
    assert_eq!(kinds(&removed), ["access_removed"]);
    assert_eq!(removed.request.state, State::Expired);
    assert!(!removed.notices.contains(&Notice::RequestUpdated));
    assert_eq!(
        report(
            &removed.request,
            ConnectorReport::Removed {
                answer: String::from("again")
            },
            28
        )
        .unwrap_err(),
        DomainError::Outlived
    );
    // Removal applies only to access that ended.
    assert_eq!(
        report(
            &active,
            ConnectorReport::Removed {
                answer: String::from("x")
            },
            3
        )
        .unwrap_err(),
        DomainError::Outlived
    );
}

#[test]
fn an_extension_goes_through_approval_and_then_moves_the_original_end() {
    let active = report(&approved_vpn().request, granted(), 2)
        .expect("granted")
        .request;
    let vpn = flow(VPN);
    let ask = ExtensionAsk {
        duration: Some(String::from("2d")),
        reason: Some(String::from("still on call")),
    };
    // Someone else may not extend rita's access; too long is refused; manual answers work.
    assert!(matches!(
        extend(
            &active,
            &vpn,
            ask.clone(),
            &Actor::user(uid("mark")),
            &directory(),
            at_hour(3)
        ),
        Err(DomainError::NotAllowed(_))
    ));
    let too_long = ExtensionAsk {
        duration: Some(String::from("8d")),
        reason: None,
    };
    assert!(matches!(
        extend(&active, &vpn, too_long, &Actor::user(uid("rita")), &directory(), at_hour(3)),
        Err(DomainError::InvalidSubmission(e)) if e[0].field == "duration"
    ));
    let filed = extend(
        &active,
        &vpn,
        ask,
        &Actor::user(uid("rita")),
        &directory(),
        at_hour(3),
    )
    .expect("filed");
    let extension = filed.request;
    assert_eq!(extension.extends, Some(active.number));
    assert_eq!(extension.state, State::PendingApproval { step: 0 });
    assert_eq!(extension.justification.as_deref(), Some("still on call"));
    let submitted = &filed.audit[0].detail;
    assert_eq!(
        (
            &submitted["extends"],
            &submitted["current_end"],
            &submitted["justification"],
            &submitted["duration"],
            &submitted["flow_name"],
        ),
        (
            &serde_json::json!(active.number),
            &serde_json::json!(at_hour(2 + 24).to_rfc3339()),
            &serde_json::json!("still on call"),
            &serde_json::json!("2d"),
            &serde_json::json!(vpn.name),
        )
    );
    let approve = Command::Approve {
        step: None,
        comment: None,
    };
    let approved = run(&extension, approve, &Actor::user(uid("mark")), 4).expect("approved");
    assert_eq!(approved.request.state, State::Fulfilling);
    assert_eq!(approved.provisioning, [Provision::Extend]);
    // Nobody completes an extension by hand, and it cannot be revoked in place of the original.
    assert!(matches!(
        run(
            &approved.request,
            Command::CompleteFulfilment { note: None },
            &Actor::admin(uid("ada")),
            4
        ),
        Err(DomainError::IllegalTransition(_))
    ));
    let by = crate::test_support::span("2d");
    let moved = run(
        &active,
        Command::ExtendAccess {
            extension: extension.number,
            by,
        },
        &Actor::System,
        5,
    )
    .expect("moved");
    let until = at_hour(2 + 24 + 48);
    assert_eq!(moved.request.state, State::Active { until });
    assert_eq!(moved.request.extended_by, [extension.number]);
    assert!(moved.timers.contains(&Timer {
        at: until,
        kind: TimerKind::AccessExpiry
    }));
    assert!(moved.timers.contains(&Timer {
        at: at_hour(2 + 48),
        kind: TimerKind::AccessEndingSoon { until }
    }));
    assert_eq!(kinds(&moved), ["access_extended"]);
    assert_eq!(
        (
            &moved.audit[0].detail["from"],
            &moved.audit[0].detail["until"]
        ),
        (
            &serde_json::json!(at_hour(2 + 24).to_rfc3339()),
            &serde_json::json!(until.to_rfc3339())
        ),
        "times in the trail are RFC 3339"
    );
    // Applying it twice does nothing more; the old expiry only looks again at the new end.
    assert!(matches!(
        run(
            &moved.request,
            Command::ExtendAccess {
                extension: extension.number,
                by
            },
            &Actor::System,
            5
        ),
        Err(DomainError::AlreadyDone(_))
    ));
    let old_expiry = run(
        &moved.request,
        Command::Fire(TimerKind::AccessExpiry),
        &Actor::System,
        26,
    )
    .expect("fired");
    assert_eq!(old_expiry.request.state, State::Active { until });
    let old_warning = TimerKind::AccessEndingSoon { until: at_hour(26) };
    assert_eq!(
        run(
            &moved.request,
            Command::Fire(old_warning),
            &Actor::System,
            25
        )
        .unwrap_err(),
        DomainError::Outlived
    );
    let applied = report(
        &approved.request,
        ConnectorReport::ExtensionApplied {
            until,
            answer: String::from("the access was already in place"),
        },
        5,
    )
    .expect("applied");
    assert_eq!(applied.request.state, State::Fulfilled);
    assert_eq!(kinds(&applied), ["extension_applied"]);
    assert_eq!(applied.audit[0].detail["until"], until.to_rfc3339());
    assert!(matches!(
        run(
            &applied.request,
            Command::Revoke { reason: None },
            &Actor::user(uid("rita")),
            6
        ),
        Err(DomainError::IllegalTransition(_))
    ));
}

#[test]
fn only_active_access_can_be_extended_and_an_extension_of_ended_access_fails() {
    let fulfilling = approved_vpn().request;
    let ask = ExtensionAsk::default();
    assert!(matches!(
        extend(
            &fulfilling,
            &flow(VPN),
            ask,
            &Actor::user(uid("rita")),
            &directory(),
            at_hour(3)
        ),
        Err(DomainError::IllegalTransition(_))
    ));
    let active = report(&fulfilling, granted(), 2).expect("granted").request;
    let expired = run(
        &active,
        Command::Fire(TimerKind::AccessExpiry),
        &Actor::System,
        26,
    )
    .expect("expired")
    .request;
    let by = crate::test_support::span("1d");
    assert!(matches!(
        run(
            &expired,
            Command::ExtendAccess {
                extension: RequestNumber(9),
                by
            },
            &Actor::System,
            27
        ),
        Err(DomainError::IllegalTransition(_))
    ));
}

/// What the generated sequences do to a connector flow.
#[derive(Debug, Clone)]
enum Op {
    Approve,
    Grant,
    Accept,
    Trouble,
    Fail,
    Remove,
    Revoke,
    CancelAsSystem,
    Fire(TimerKind),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Approve),
        3 => Just(Op::Grant),
        1 => Just(Op::Accept),
        2 => Just(Op::Trouble),
        1 => Just(Op::Fail),
        2 => Just(Op::Remove),
        1 => Just(Op::Revoke),
        1 => Just(Op::CancelAsSystem),
        2 => prop_oneof![
            Just(TimerKind::AccessExpiry),
            (0i64..60).prop_map(|h| TimerKind::ProvisioningTimeout { accepted_at: at_hour(h) }),
        ].prop_map(Op::Fire),
    ]
}

fn command(op: &Op) -> (Command, Actor) {
    let system = Actor::System;
    match op {
        Op::Approve => (
            Command::Approve {
                step: None,
                comment: None,
            },
            Actor::user(uid("mark")),
        ),
        Op::Grant => (Command::Connector(granted()), system),
        Op::Accept => (
            Command::Connector(ConnectorReport::Accepted {
                reference: String::from("r"),
            }),
            system,
        ),
        Op::Trouble => (
            Command::Connector(ConnectorReport::Trouble {
                action: Provision::Grant,
                error: String::from("down"),
                tell_admins: false,
            }),
            system,
        ),
        Op::Fail => (
            Command::Connector(ConnectorReport::GrantFailed {
                error: String::from("no"),
                reference: None,
            }),
            system,
        ),
        Op::Remove => (
            Command::Connector(ConnectorReport::Removed {
                answer: String::from("gone"),
            }),
            system,
        ),
        Op::Revoke => (Command::Revoke { reason: None }, Actor::user(uid("rita"))),
        Op::CancelAsSystem => (Command::Cancel { reason: None }, system),
        Op::Fire(kind) => (Command::Fire(*kind), system),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Access exists only after a connector granted it; every end of granted (or possibly granted)
    /// access queues exactly one removal, and a connector flow never asks people to remove it.
    #[test]
    fn connector_flows_grant_once_and_always_queue_the_removal(
        steps in prop::collection::vec((op(), 0i64..30), 0..30),
    ) {
        let mut request = file_vpn();
        let mut hour = 0;
        let mut removals_queued = 0;
        for (op, later) in steps {
            hour += later;
            let before = request.clone();
            let (command, actor) = command(&op);
            let Ok(t) = run(&before, command, &actor, hour) else { continue };
            // An expiry that fires early only schedules itself again at the end.
            let rescheduled = matches!(op, Op::Fire(TimerKind::AccessExpiry)) && t.request.state == before.state;
            prop_assert!(!t.audit.is_empty() || rescheduled);
            prop_assert!(!t.notices.contains(&Notice::RemovalRequested));
            prop_assert!(!t.notices.contains(&Notice::FulfilmentRequested));
            if matches!(t.request.state, State::Active { .. } | State::Fulfilled) {
                prop_assert!(t.request.provisioning.as_ref().is_some_and(|p| p.granted_at.is_some()));
            }
            let ended = |s: State| matches!(s, State::Expired | State::Revoked);
            if ended(t.request.state) && !ended(before.state) {
                prop_assert_eq!(&t.provisioning, &vec![Provision::Revoke]);
            }
            removals_queued += t.provisioning.iter().filter(|p| **p == Provision::Revoke).count();
            prop_assert!(removals_queued <= 1, "the removal is queued once");
            if before.state.is_final() {
                prop_assert_eq!(before.state.name(), t.request.state.name(), "{:?} left a final state", op);
            }
            request = t.request;
        }
    }
}

#[test]
fn a_departed_requester_has_connector_access_removed_and_a_grant_under_way_undone() {
    let mut users: Vec<crate::User> = directory().users().cloned().collect();
    users
        .iter_mut()
        .filter(|u| u.id == uid("rita"))
        .for_each(|u| u.active = false);
    let groups: Vec<crate::Group> = directory().groups().cloned().collect();
    let without_rita = crate::Directory::new(users, groups);
    let fulfilling = approved_vpn().request;
    let canceled = decide(
        &fulfilling,
        Command::Cancel { reason: None },
        &Actor::System,
        &without_rita,
        at_hour(2),
    )
    .expect("canceled");
    assert_eq!(canceled.request.state, State::Canceled);
    assert_eq!(canceled.provisioning, [Provision::Revoke]);
    let active = report(&fulfilling, granted(), 2).expect("granted").request;
    let revoked = decide(
        &active,
        Command::Revoke { reason: None },
        &Actor::System,
        &without_rita,
        at_hour(3),
    )
    .expect("revoked");
    assert_eq!(revoked.request.state, State::Revoked);
    assert_eq!(revoked.provisioning, [Provision::Revoke]);
    assert!(!revoked.notices.contains(&Notice::RemovalRequested));
}
