//! Every example in `examples/` must work: the directory and every flow parse, every group and person
//! a flow names exists, and every flow can be requested by someone and carried through to the end.

use serde_json::{json, Value};
use sesame_core::directory::{Directory, DirectoryFile};
use sesame_core::engine::{self, Command, Submission};
use sesame_core::flow::{
    parse_flow, Approvers, Condition, Flow, Fulfillers, Fulfillment, Justification, QuestionKind,
    Requesters,
};
use sesame_core::{Actor, GroupId, RawSubmission, Request, State, Timestamp, UserId};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn directory() -> Directory {
    let path = examples().join("directory.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    DirectoryFile::parse(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_directory()
}

/// Every flow file, by file name.
fn flows() -> Vec<(String, Flow)> {
    let dir = examples().join("flows");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    let mut flows = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        match parse_flow(&name, &text) {
            Ok(flow) => flows.push((name, flow)),
            Err(errors) => problems.extend(errors.iter().map(ToString::to_string)),
        }
    }
    assert!(
        problems.is_empty(),
        "example flows do not parse:\n{}",
        problems.join("\n")
    );
    flows
}

#[test]
fn the_directory_and_every_flow_parse_and_each_file_is_named_after_its_flow() {
    let d = directory();
    assert!(d.users().count() >= 12);
    for group in [
        "employees",
        "facilities",
        "it-ops",
        "security",
        "finance",
        "engineering",
        "sesame-admins",
        "auditors",
    ] {
        let id = GroupId::new(group).unwrap();
        assert!(d.group(&id).is_some(), "group {group}");
        assert!(
            !d.members(&id).is_empty(),
            "group {group} has no active members"
        );
    }
    let employees = GroupId::new("employees").unwrap();
    for user in d.users().filter(|u| u.active) {
        assert!(
            d.is_member(&user.id, &employees),
            "{} is not in employees",
            user.id
        );
        assert!(user.chat.slack.is_some(), "{} has no Slack id", user.id);
    }

    let flows = flows();
    let names: Vec<&str> = flows.iter().map(|(file, _)| file.as_str()).collect();
    assert_eq!(
        names,
        [
            "aws-prod-readonly.yaml",
            "carpark.yaml",
            "database-prod-write.yaml",
            "github-org-admin.yaml",
            "laptop.yaml",
            "office-badge.yaml",
            "salesforce-read.yaml",
            "vpn.yaml",
        ]
    );
    for (file, flow) in &flows {
        assert_eq!(format!("{}.yaml", flow.id), *file);
    }
}

#[test]
fn the_carpark_example_is_the_specification_example() {
    const SPEC: &str = "
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
    let spec = parse_flow("spec", SPEC).unwrap();
    let (_, example) = flows()
        .into_iter()
        .find(|(_, f)| f.id.as_str() == "carpark")
        .unwrap();
    assert_eq!(example, spec);
}

#[derive(Default)]
struct References {
    groups: BTreeSet<GroupId>,
    users: BTreeSet<UserId>,
}

impl References {
    fn approvers(&mut self, approvers: &Approvers) {
        match approvers {
            Approvers::Manager | Approvers::Owners => {}
            Approvers::Users(users) => self.users.extend(users.iter().cloned()),
            Approvers::Group(group) => {
                self.groups.insert(group.clone());
            }
        }
    }

    fn condition(&mut self, condition: &Condition) {
        self.groups.extend(condition.requester_in.iter().cloned());
        for c in &condition.any {
            self.condition(c);
        }
    }

    fn of(flow: &Flow) -> Self {
        let mut refs = References::default();
        if let Requesters::Some { groups, users } = &flow.requesters {
            refs.groups.extend(groups.iter().cloned());
            refs.users.extend(users.iter().cloned());
        }
        refs.users.extend(flow.owners.iter().cloned());
        for step in &flow.approval {
            refs.approvers(&step.approvers);
            if let Some(to) = &step.escalate_to {
                refs.approvers(to);
            }
            if let Some(condition) = &step.skip_if {
                refs.condition(condition);
            }
        }
        match &flow.fulfillment {
            Fulfillment::Manual(Fulfillers::Group(group)) => {
                refs.groups.insert(group.clone());
            }
            Fulfillment::Manual(Fulfillers::Users(users)) => {
                refs.users.extend(users.iter().cloned())
            }
            Fulfillment::Connector(_) => {}
        }
        refs
    }
}

#[test]
fn every_group_and_person_a_flow_names_is_in_the_example_directory() {
    let d = directory();
    let mut missing = Vec::new();
    for (file, flow) in flows() {
        let refs = References::of(&flow);
        missing.extend(
            refs.groups
                .iter()
                .filter(|g| d.group(g).is_none())
                .map(|g| format!("{file}: group {g}")),
        );
        missing.extend(
            refs.users
                .iter()
                .filter(|u| d.resolve(u).is_none())
                .map(|u| format!("{file}: user {u}")),
        );
    }
    assert!(
        missing.is_empty(),
        "not in examples/directory.yaml:\n{}",
        missing.join("\n")
    );
}

#[test]
fn together_the_examples_use_every_question_type_and_approval_feature() {
    let flows: Vec<Flow> = flows().into_iter().map(|(_, f)| f).collect();
    let types: BTreeSet<&str> = flows
        .iter()
        .flat_map(|f| f.questions.iter().map(|q| q.kind.type_name()))
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "text",
            "textarea",
            "select",
            "multi_select",
            "date",
            "duration",
            "user",
            "number",
            "boolean"
        ])
    );
    let steps = || flows.iter().flat_map(|f| f.approval.iter());
    let uses = |what: &str, used: bool| assert!(used, "no example uses {what}");
    uses(
        "approvers: manager",
        steps().any(|s| s.approvers == Approvers::Manager),
    );
    uses(
        "approvers: owners",
        steps().any(|s| s.approvers == Approvers::Owners),
    );
    uses(
        "approvers: users",
        steps().any(|s| matches!(s.approvers, Approvers::Users(_))),
    );
    uses(
        "approvers: group",
        steps().any(|s| matches!(s.approvers, Approvers::Group(_))),
    );
    uses("a quorum", steps().any(|s| s.required > 1));
    uses(
        "skip_if requester_in",
        steps().any(|s| {
            s.skip_if
                .as_ref()
                .is_some_and(|c| !c.requester_in.is_empty())
        }),
    );
    uses(
        "skip_if any",
        steps().any(|s| s.skip_if.as_ref().is_some_and(|c| !c.any.is_empty())),
    );
    uses("remind_after", steps().any(|s| s.remind_after.is_some()));
    uses("escalation", steps().any(|s| s.escalate_to.is_some()));
    uses("named steps", steps().any(|s| s.name == "Security review"));
    uses(
        "shown_if",
        flows
            .iter()
            .any(|f| f.questions.iter().any(|q| !q.shown_if.is_empty())),
    );
    uses(
        "help",
        flows
            .iter()
            .any(|f| f.questions.iter().any(|q| q.help.is_some())),
    );
    for j in [
        Justification::Required,
        Justification::Optional,
        Justification::None,
    ] {
        uses(
            &format!("justification {j:?}"),
            flows.iter().any(|f| f.justification == j),
        );
    }
    uses(
        "a fixed duration",
        flows
            .iter()
            .any(|f| f.duration.is_some_and(|d| !d.requester_chooses)),
    );
    uses(
        "a chosen duration",
        flows
            .iter()
            .any(|f| f.duration.is_some_and(|d| d.requester_chooses)),
    );
    uses("no duration", flows.iter().any(|f| f.duration.is_none()));
    uses(
        "pending_expires_after",
        flows.iter().any(|f| f.pending_expires_after.is_some()),
    );
    uses(
        "allow_self_approval",
        flows.iter().any(|f| f.allow_self_approval),
    );
    uses(
        "allow_requests_for_others",
        flows.iter().any(|f| f.allow_requests_for_others),
    );
    uses(
        "requesters: everyone",
        flows.iter().any(|f| f.requesters == Requesters::Everyone),
    );
    uses(
        "requesters users",
        flows
            .iter()
            .any(|f| matches!(&f.requesters, Requesters::Some { users, .. } if !users.is_empty())),
    );
    uses(
        "fulfillers by group",
        flows
            .iter()
            .any(|f| matches!(f.fulfillment, Fulfillment::Manual(Fulfillers::Group(_)))),
    );
    uses(
        "fulfillers by name",
        flows
            .iter()
            .any(|f| matches!(f.fulfillment, Fulfillment::Manual(Fulfillers::Users(_)))),
    );
}

/// A valid answer to every question: the first option, the smallest allowed number, and so on.
fn answers(flow: &Flow, someone: &UserId) -> RawSubmission {
    let mut answers = std::collections::BTreeMap::new();
    for q in &flow.questions {
        let value = match &q.kind {
            QuestionKind::Text { .. } | QuestionKind::Textarea { .. } => json!("CHG-1"),
            QuestionKind::Select { options } => json!(options[0]),
            QuestionKind::MultiSelect { options } => json!([options[0]]),
            QuestionKind::Date => json!("2030-01-31"),
            QuestionKind::Duration { max } => {
                json!(max.map_or(String::from("1h"), |m| m.to_string()))
            }
            QuestionKind::User => json!(someone.as_str()),
            QuestionKind::Number { min, max, .. } => json!(min.or(*max).unwrap_or(1.0)),
            QuestionKind::Boolean => json!(true),
        };
        answers.insert(q.id.to_string(), value);
    }
    let justification =
        (flow.justification == Justification::Required).then(|| String::from("Needed for CHG-1."));
    RawSubmission {
        answers,
        justification,
        duration: None,
    }
}

/// Files the flow as the first example person who may, and carries it through every approval step
/// and the fulfilment, acting as the first person asked each time.
fn carry_through(flow: &Flow, d: &Directory) -> Result<Request, String> {
    let mut refusals = Vec::new();
    let mut now = Timestamp::from_millis(1_767_225_600_000);
    let backup = UserId::new("olivia").unwrap();
    let filed = d.users().filter(|u| u.active).find_map(|u| {
        let submission = Submission {
            requester: u.id.clone(),
            answers: answers(flow, &backup),
        };
        match engine::submit(flow, submission, &Actor::user(u.id.clone()), d, now) {
            Ok(t) => Some(t.request),
            Err(e) => {
                refusals.push(format!("{}: {e}", u.id));
                None
            }
        }
    });
    let mut request =
        filed.ok_or_else(|| format!("nobody could request it:\n  {}", refusals.join("\n  ")))?;
    for _ in 0..=flow.approval.len() * 3 {
        now = Timestamp::from_millis(now.millis() + 60_000);
        let (who, command) = match request.state {
            State::PendingApproval { .. } => {
                let (_, step) = request.current_step().unwrap();
                let who = step
                    .eligible
                    .iter()
                    .find(|p| !step.approvals.iter().any(|a| &a.by == *p))
                    .cloned();
                (
                    who,
                    Command::Approve {
                        step: None,
                        comment: None,
                    },
                )
            }
            State::Fulfilling => (
                request
                    .fulfilment
                    .as_ref()
                    .and_then(|f| f.fulfillers.first().cloned()),
                Command::CompleteFulfilment { note: None },
            ),
            _ => return Ok(request),
        };
        let who = who.ok_or_else(|| format!("nobody can act in state {}", request.state.name()))?;
        request = engine::decide(&request, command, &Actor::user(who.clone()), d, now)
            .map_err(|e| format!("{who} could not act in state {}: {e}", request.state.name()))?
            .request;
    }
    Err(format!("still {} after every step", request.state.name()))
}

#[test]
fn every_example_flow_can_be_requested_approved_and_fulfilled() {
    let d = directory();
    let mut failures = Vec::new();
    for (file, flow) in flows() {
        match carry_through(&flow, &d) {
            Ok(request) => {
                let expected = if flow.duration.is_some() {
                    "active"
                } else {
                    "fulfilled"
                };
                if request.state.name() != expected {
                    failures.push(format!(
                        "{file}: ended {}, expected {expected}",
                        request.state.name()
                    ));
                }
            }
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn example_flows_behave_as_their_comments_say() {
    let d = directory();
    let flows = flows();
    let flow = |id: &str| {
        flows
            .iter()
            .map(|(_, f)| f)
            .find(|f| f.id.as_str() == id)
            .unwrap()
    };
    let user = |id: &str| UserId::new(id).unwrap();
    let now = Timestamp::from_millis(1_767_225_600_000);
    let file = |flow: &Flow, who: &str, for_whom: &str| {
        let submission = Submission {
            requester: user(for_whom),
            answers: answers(flow, &user("olivia")),
        };
        engine::submit(flow, submission, &Actor::user(user(who)), &d, now)
    };
    let eligible = |r: &Request| -> Vec<String> {
        r.current_step()
            .unwrap()
            .1
            .eligible
            .iter()
            .map(ToString::to_string)
            .collect()
    };

    // Carpark: the requester's manager first.
    let r = file(flow("carpark"), "dave", "dave").unwrap().request;
    assert_eq!(eligible(&r), ["carol"]);

    // AWS: SRE skip the security review; everyone else needs two of security.
    let aws = flow("aws-prod-readonly");
    let r = file(aws, "erin", "erin").unwrap().request;
    let r = engine::decide(
        &r,
        Command::Approve {
            step: None,
            comment: None,
        },
        &Actor::user(user("carol")),
        &d,
        now,
    )
    .unwrap()
    .request;
    assert_eq!(r.state, State::Fulfilling);
    assert_eq!(
        r.steps[1].why,
        "skipped because Erin Evans is a member of Site reliability"
    );
    let r = file(aws, "dave", "dave").unwrap().request;
    let r = engine::decide(
        &r,
        Command::Approve {
            step: None,
            comment: None,
        },
        &Actor::user(user("carol")),
        &d,
        now,
    )
    .unwrap()
    .request;
    assert_eq!(r.state, State::PendingApproval { step: 1 });
    assert_eq!(eligible(&r), ["heidi", "ivan", "judy"]);
    assert!(
        file(aws, "nina", "nina").is_err(),
        "sales may not ask for production AWS"
    );

    // GitHub: two of the three owners, never the requester.
    let github = flow("github-org-admin");
    let r = file(github, "dave", "dave").unwrap().request;
    assert_eq!(eligible(&r), ["frank", "heidi", "olivia"]);
    let r = file(github, "frank", "frank").unwrap().request;
    assert_eq!(eligible(&r), ["heidi", "olivia"]);

    // Salesforce: the owners decide, named by id or email.
    let r = file(flow("salesforce-read"), "dave", "dave")
        .unwrap()
        .request;
    assert_eq!(eligible(&r), ["mallory", "nina"]);

    // VPN: IT operations may approve their own requests.
    let vpn = flow("vpn");
    let r = file(vpn, "grace", "grace").unwrap().request;
    assert_eq!(eligible(&r), ["frank", "grace"]);

    // Badges may be requested for a new joiner by their manager; facilities approves.
    let r = file(flow("office-badge"), "carol", "dave").unwrap().request;
    assert_eq!(
        (r.requester.as_str(), r.submitted_by.as_str()),
        ("dave", "carol")
    );
    assert_eq!(eligible(&r), ["alice", "bob", "kim"]);
    // Laptops too, but their manager approves, so the manager cannot be the one who files it.
    let laptop = flow("laptop");
    let r = file(laptop, "grace", "dave").unwrap().request;
    assert_eq!(eligible(&r), ["carol"]);
    assert!(matches!(
        file(laptop, "carol", "dave"),
        Err(engine::DomainError::CannotProceed(_))
    ));
    assert!(
        matches!(
            file(aws, "carol", "dave"),
            Err(engine::DomainError::NotAllowed(_))
        ),
        "nor production access"
    );

    // Production writes escalate to the head of security.
    let db = flow("database-prod-write");
    assert_eq!(
        db.approval[1].escalate_to,
        Some(Approvers::Users(vec![user("heidi")]))
    );
    assert!(
        file(db, "frank", "frank").is_ok(),
        "frank is named in the requesters"
    );
    assert!(
        file(db, "grace", "grace").is_err(),
        "the rest of IT operations is not"
    );
    assert!(
        file(db, "trent", "trent").is_err(),
        "people who left cannot request anything"
    );
    let v: Value = json!(db.pending_expires_after.map(|s| s.to_string()));
    assert_eq!(v, json!("1d"));
}
