//! Real requests for the stories: a small directory and flow, driven through core's engine.

use sesame_core::directory::ChatIdentities;
use sesame_core::engine::{self, Command, Submission};
use sesame_core::flow::parse_flow;
use sesame_core::{
    Actor, AuditEvent, Directory, Flow, Group, GroupId, RawSubmission, Request, TimerKind,
    Timestamp, Transition, User, UserId,
};
use sesame_store::Store;
use std::collections::BTreeSet;

/// The stories' "now": 2023-11-14T22:13:20Z.
pub const T0: i64 = 1_700_000_000_000;
pub const SECOND: i64 = 1000;
pub const DAY: i64 = 86_400 * SECOND;

/// Two approval steps (the requester's manager, then dave), a daily reminder on the first, manual
/// fulfilment by erin, 30 days of access, and pending expiry after 14 days.
const FLOW: &str = "
id: carpark
name: Carpark access
requesters: everyone
duration: { default: 30d, max: 90d }
approval:
  - approvers: manager
    remind_after: 1d
  - approvers: { users: [dave] }
fulfillment: { manual: { users: [erin] } }
pending_expires_after: 14d
";

pub fn user_id(id: &str) -> UserId {
    UserId::new(id).expect("a valid user id")
}

pub fn person(id: &str, manager: Option<&str>) -> User {
    User {
        id: user_id(id),
        email: format!("{id}@example.com"),
        display_name: id.to_uppercase(),
        manager: manager.map(user_id),
        groups: BTreeSet::from([GroupId::new("employees").expect("a valid group id")]),
        chat: ChatIdentities::default(),
        active: true,
    }
}

pub fn employees() -> Group {
    Group {
        id: GroupId::new("employees").expect("a valid group id"),
        name: String::from("All employees"),
        description: String::new(),
    }
}

pub fn directory() -> Directory {
    Directory::new(
        [
            person("alice", Some("carol")),
            person("bob", Some("carol")),
            person("carol", None),
            person("dave", None),
            person("erin", None),
            person("frank", Some("dave")),
        ],
        [employees()],
    )
}

pub fn flow() -> Flow {
    parse_flow("carpark.yaml", FLOW).expect("the test flow parses")
}

pub fn actor(id: &str) -> Actor {
    Actor::user(user_id(id))
}

pub fn event(kind: &str, at: i64) -> AuditEvent {
    AuditEvent::new(
        Timestamp(at),
        &actor("alice"),
        kind,
        serde_json::json!({ "note": kind }),
    )
}

/// What the engine makes of `requester` asking for carpark access at `at`.
pub fn submission(requester: &str, at: i64) -> Transition {
    let submission = Submission {
        requester: user_id(requester),
        answers: RawSubmission::default(),
    };
    engine::submit(
        &flow(),
        submission,
        &actor(requester),
        &directory(),
        Timestamp(at),
    )
    .expect("the submission is accepted")
}

pub fn decision(request: &Request, who: &str, command: Command, at: i64) -> Transition {
    engine::decide(request, command, &actor(who), &directory(), Timestamp(at))
        .expect("the command is accepted")
}

/// What a timer does when Sesame fires it.
pub fn firing(request: &Request, timer: TimerKind, at: i64) -> Transition {
    engine::decide(
        request,
        Command::Fire(timer),
        &Actor::System,
        &directory(),
        Timestamp(at),
    )
    .expect("the timer applies")
}

/// Submits and stores a request.
pub async fn create(store: &Store, requester: &str, at: i64) -> Request {
    store
        .create_request(&submission(requester, at), None)
        .await
        .expect("the request is stored")
}

/// Applies a command to the stored request and stores the result.
pub async fn apply(
    store: &Store,
    request: &Request,
    who: &str,
    command: Command,
    at: i64,
) -> Request {
    let t = decision(request, who, command, at);
    store
        .save_transition(&t, request.version, None)
        .await
        .expect("the change is stored")
}

pub async fn approve(store: &Store, request: &Request, who: &str, at: i64) -> Request {
    apply(
        store,
        request,
        who,
        Command::Approve {
            step: None,
            comment: None,
        },
        at,
    )
    .await
}
