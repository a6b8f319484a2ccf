//! Shared fixtures for the unit tests: a small directory and shorthands for ids and flows.

use crate::directory::{Directory, DirectoryFile};
use crate::flow::{parse_flow, Flow};
use crate::ids::{GroupId, QuestionId, UserId};
use crate::time::{Span, Timestamp};

/// rita requests; mark is her manager (and boss his). fay and fred are facilities, sam, sue and sid
/// security; olga owns things; ada administers; out belongs to nothing; gone has left; nomgr has no
/// manager; alice is the escalation contact, named by email in flows.
pub const DIRECTORY: &str = "
groups:
  - { id: employees, name: Everyone }
  - { id: eng, name: Engineering }
  - { id: facilities, name: Facilities }
  - { id: security, name: Security }
  - { id: sre, name: SRE }
  - { id: empty, name: Nobody at all }
users:
  - { id: boss, email: boss@example.com, display_name: Boss, groups: [employees] }
  - { id: mark, email: mark@example.com, display_name: Mark, manager: boss, groups: [employees, eng] }
  - { id: rita, email: rita@example.com, display_name: Rita, manager: mark, groups: [employees, eng] }
  - { id: fay, email: fay@example.com, display_name: Fay, manager: boss, groups: [employees, facilities] }
  - { id: fred, email: fred@example.com, display_name: Fred, manager: boss, groups: [employees, facilities] }
  - { id: sam, email: sam@example.com, display_name: Sam, manager: boss, groups: [employees, security] }
  - { id: sue, email: sue@example.com, display_name: Sue, manager: boss, groups: [employees, security, sre] }
  - { id: sid, email: sid@example.com, display_name: Sid, manager: boss, groups: [employees, security] }
  - { id: olga, email: olga@example.com, display_name: Olga, manager: boss, groups: [employees] }
  - { id: ada, email: ada@example.com, display_name: Ada, manager: boss, groups: [employees] }
  - { id: out, email: out@elsewhere.example, display_name: Outsider }
  - { id: gone, email: gone@example.com, display_name: Gone, manager: boss, groups: [employees, security], active: false }
  - { id: nomgr, email: nomgr@example.com, display_name: No Manager, groups: [employees] }
  - { id: lostmgr, email: lostmgr@example.com, display_name: Lost Manager, manager: gone, groups: [employees] }
  - { id: alice, email: alice@example.com, display_name: Alice, manager: boss, groups: [employees] }
";

pub fn directory() -> Directory {
    DirectoryFile::parse(DIRECTORY)
        .expect("test directory")
        .into_directory()
}

pub fn uid(id: &str) -> UserId {
    UserId::new(id).unwrap()
}

pub fn gid(id: &str) -> GroupId {
    GroupId::new(id).unwrap()
}

pub fn qid(id: &str) -> QuestionId {
    QuestionId::new(id).unwrap()
}

pub fn span(text: &str) -> Span {
    Span::parse(text).unwrap()
}

/// A flow from YAML that must be valid.
pub fn flow(yaml: &str) -> Flow {
    parse_flow("test.yaml", yaml).unwrap_or_else(|e| panic!("test flow does not parse: {e:#?}"))
}

/// A point `hours` after an arbitrary start, for readable timelines.
pub fn at_hour(hours: i64) -> Timestamp {
    Timestamp(1_700_000_000_000 + hours * 3_600_000)
}
