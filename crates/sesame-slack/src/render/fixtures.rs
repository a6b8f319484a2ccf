//! Shared test fixtures: a small directory with Slack accounts, the carpark example flow, and the
//! carpark request in every state, made by the real engine so the states are ones it can produce.

use super::{Person, RenderContext};
use serde_json::json;
use sesame_core::answers::RawSubmission;
use sesame_core::directory::{Directory, DirectoryFile};
use sesame_core::engine::{self, Command, Submission};
use sesame_core::events::{Actor, TimerKind};
use sesame_core::flow::{parse_flow, Flow};
use sesame_core::ids::{RequestNumber, UserId};
use sesame_core::request::Request;
use sesame_core::time::Timestamp;
use std::sync::OnceLock;

/// rita asks; mark is her manager; fay and fred are facilities (fred has no Slack account); boss is
/// mark's manager and is named in a justification.
const DIRECTORY: &str = "
groups:
  - { id: employees, name: Everyone }
  - { id: facilities, name: Facilities }
users:
  - { id: boss, email: boss@example.com, display_name: Boss, groups: [employees], chat: { slack: U0BOSS } }
  - { id: mark, email: mark@example.com, display_name: Mark, manager: boss, groups: [employees], chat: { slack: U0MARK } }
  - { id: rita, email: rita@example.com, display_name: Rita <!here>, manager: mark, groups: [employees], chat: { slack: U0RITA } }
  - { id: fay, email: fay@example.com, display_name: Fay, manager: boss, groups: [employees, facilities], chat: { slack: U0FAY } }
  - { id: fred, email: fred@example.com, display_name: Fred, manager: boss, groups: [employees, facilities] }
  - { id: alice, email: alice@example.com, display_name: Alice, manager: boss, groups: [employees] }
";

pub(crate) const CARPARK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/flows/carpark.yaml"
));

pub(crate) fn directory() -> &'static Directory {
    static DIRECTORY_SNAPSHOT: OnceLock<Directory> = OnceLock::new();
    DIRECTORY_SNAPSHOT.get_or_init(|| {
        DirectoryFile::parse(DIRECTORY)
            .expect("the fixture directory parses")
            .into_directory()
    })
}

pub(crate) fn uid(id: &str) -> UserId {
    UserId::new(id).expect("a valid user id")
}

pub(crate) fn flow(yaml: &str) -> Flow {
    parse_flow("test.yaml", yaml).unwrap_or_else(|e| panic!("the test flow does not parse: {e:#?}"))
}

pub(crate) fn carpark() -> Flow {
    flow(CARPARK)
}

fn person_of(id: &UserId) -> Person {
    match directory().user(id) {
        Some(user) => Person {
            display_name: user.display_name.clone(),
            slack_user_id: user.chat.slack.clone(),
        },
        None => Person {
            display_name: id.to_string(),
            slack_user_id: None,
        },
    }
}

pub(crate) fn render_context() -> RenderContext<'static> {
    RenderContext {
        people: &person_of,
        portal_base_url: "https://sesame.example/",
    }
}

/// Hours after an arbitrary start, for readable timelines.
pub(crate) fn at_hour(hours: i64) -> Timestamp {
    Timestamp::from_millis(1_764_590_400_000 + hours * 3_600_000)
}

pub(crate) fn submit(flow: &Flow, requester: &str, raw: RawSubmission, number: i64) -> Request {
    let submission = Submission {
        requester: uid(requester),
        answers: raw,
    };
    let transition = engine::submit(
        flow,
        submission,
        &Actor::user(uid(requester)),
        directory(),
        at_hour(0),
    )
    .unwrap_or_else(|e| panic!("the fixture request is refused: {e}"));
    let mut request = transition.request;
    request.number = RequestNumber(number);
    request
}

pub(crate) fn act(request: &Request, command: Command, actor: Actor, hour: i64) -> Request {
    engine::decide(request, command, &actor, directory(), at_hour(hour))
        .unwrap_or_else(|e| panic!("the fixture command is refused: {e}"))
        .request
}

fn by(id: &str) -> Actor {
    Actor::user(uid(id))
}

pub(crate) fn carpark_answers() -> RawSubmission {
    RawSubmission {
        answers: [
            ("plate", json!("AB12 CDE")),
            ("site", json!("Berlin")),
            ("reason", json!("<!channel> I park @here")),
            ("ev", json!(true)),
            ("bay", json!("A")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        justification: Some(String::from("New job <@U0BOSS>")),
        duration: Some(String::from("30d")),
    }
}

/// Carpark access #117, waiting for rita's manager.
pub(crate) fn submitted_carpark() -> Request {
    submit(&carpark(), "rita", carpark_answers(), 117)
}

pub(crate) fn approved_by_manager() -> Request {
    let approve = Command::Approve {
        step: Some(0),
        comment: None,
    };
    act(&submitted_carpark(), approve, by("mark"), 1)
}

pub(crate) fn fulfilling() -> Request {
    let approve = Command::Approve {
        step: Some(1),
        comment: None,
    };
    act(&approved_by_manager(), approve, by("fay"), 2)
}

pub(crate) fn active() -> Request {
    let done = Command::CompleteFulfilment {
        note: Some(String::from("Bay A, pass #4")),
    };
    act(&fulfilling(), done, by("fay"), 3)
}

pub(crate) fn denied() -> Request {
    let deny = Command::Deny {
        step: Some(0),
        reason: String::from("Not this quarter <sorry>"),
    };
    act(&submitted_carpark(), deny, by("mark"), 1)
}

pub(crate) fn canceled() -> Request {
    let cancel = Command::Cancel {
        reason: Some(String::from("changed my mind")),
    };
    act(&approved_by_manager(), cancel, by("rita"), 2)
}

pub(crate) fn failed() -> Request {
    let fail = Command::FailFulfilment {
        reason: String::from("no bays left"),
    };
    act(&fulfilling(), fail, by("fay"), 3)
}

pub(crate) fn expired() -> Request {
    act(
        &active(),
        Command::Fire(TimerKind::AccessExpiry),
        Actor::System,
        24 * 31,
    )
}

pub(crate) fn revoked() -> Request {
    act(&active(), Command::Revoke { reason: None }, by("rita"), 4)
}

pub(crate) fn closed_unanswered() -> Request {
    act(
        &submitted_carpark(),
        Command::Fire(TimerKind::PendingExpiry),
        Actor::System,
        24 * 14,
    )
}

/// A flow with sixty steps of 75-character names and questions that take 3000 characters.
pub(crate) fn huge_flow() -> Flow {
    let mut yaml = String::from(
        "id: huge\nname: A flow whose name is as long as a flow name may be, seventy-five chars\n\
         requesters: everyone\njustification: required\nquestions:\n",
    );
    for i in 0..12 {
        yaml.push_str(&format!(
            "  - {{ id: q{i}, label: \"{}\", type: textarea, max_length: 3000 }}\n",
            format!("Question {i} ")
                .repeat(150)
                .chars()
                .take(2000)
                .collect::<String>()
        ));
    }
    yaml.push_str("approval:\n");
    for i in 0..60 {
        let name: String =
            format!("Step {i:02} with a name long enough to reach the limit ").repeat(3);
        yaml.push_str(&format!(
            "  - {{ name: \"{}\", approvers: {{ users: [mark, fay, fred, alice, boss] }} }}\n",
            name.chars().take(75).collect::<String>()
        ));
    }
    yaml.push_str("fulfillment: { manual: { group: facilities } }\n");
    flow(&yaml)
}

pub(crate) fn huge_request() -> Request {
    let raw = RawSubmission {
        answers: (0..12)
            .map(|i| {
                (
                    format!("q{i}"),
                    json!(format!("<@U0MARK> & {i} ")
                        .repeat(400)
                        .chars()
                        .take(3000)
                        .collect::<String>()),
                )
            })
            .collect(),
        justification: Some("<!channel> ".repeat(300).chars().take(3000).collect()),
        duration: None,
    };
    submit(&huge_flow(), "rita", raw, 99_999)
}
