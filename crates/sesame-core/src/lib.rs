//! The Sesame domain: flows, questions, the directory, policy, the request state machine and its
//! events. This crate does no I/O (no files, network, clock or database): callers pass the time and
//! the directory in, and store what comes out.
#![forbid(unsafe_code)]

pub mod answers;
pub mod chat_person;
pub mod directory;
pub mod duties;
pub mod engine;
pub mod events;
pub mod explain;
pub mod flow;
pub mod identities;
pub mod ids;
pub mod matcher;
pub mod policy;
pub mod ports;
pub mod request;
pub mod time;

#[cfg(test)]
mod test_support;

pub use answers::{Answers, FieldError, RawSubmission};
pub use directory::{Directory, Group, User};
pub use engine::{Command, DomainError, Submission, Transition};
pub use events::{Actor, AuditEvent, Notice, Provision, Timer, TimerKind};
pub use flow::{Flow, FlowError};
pub use ids::{FlowId, GroupId, QuestionId, RequestNumber, UserId};
pub use request::{Duty, Request, State};
pub use time::{Span, Timestamp};
