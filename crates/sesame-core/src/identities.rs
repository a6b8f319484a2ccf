//! Checking the links between people and their chat accounts before anything fails: who has no
//! account, which accounts belong to nobody, and which links are ambiguous or point nowhere.
//!
//! A person's account on a platform is their explicit link when there is one, else the one
//! account whose email is theirs (and which nobody else is linked to). The caller lists the
//! platform's accounts; this module only compares, so the same rules serve Slack and Teams.

use crate::directory::{Directory, User};
use crate::ids::UserId;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One account on a chat platform, as the platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatAccount {
    pub id: String,
    pub email: Option<String>,
    /// A real, active person: not deactivated, not a bot.
    pub active_person: bool,
}

/// Something an administrator should fix before it makes a request fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum IdentityProblem {
    /// An active person with no account: they cannot be asked or answered in chat.
    PersonWithoutAccount { person: UserId, email: String },
    /// An active account nobody in the directory is: its owner is told Sesame cannot find them.
    AccountWithoutPerson {
        account: String,
        email: Option<String>,
    },
    /// A link to an account the platform does not have, or has deactivated.
    LinkToMissingAccount { person: UserId, account: String },
    /// Several people linked to one account.
    AccountLinkedTwice {
        account: String,
        people: Vec<UserId>,
    },
    /// An account carries the email of someone who is linked to a different account.
    EmailOfSomeoneElse {
        account: String,
        person: UserId,
        linked_to: String,
    },
    /// Several active accounts share one email: none of them is matched by it.
    EmailOnSeveralAccounts {
        email: String,
        accounts: Vec<String>,
    },
}

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdentityReport {
    pub people: usize,
    pub accounts: usize,
    pub linked_explicitly: usize,
    pub matched_by_email: usize,
    pub problems: Vec<IdentityProblem>,
}

/// Compares the directory's active people with the platform's accounts. `link` reads a person's
/// explicit link for this platform (`user.chat.slack`, say).
pub fn check_identities(
    directory: &Directory,
    accounts: &[ChatAccount],
    link: impl Fn(&User) -> Option<&str>,
) -> IdentityReport {
    let people: Vec<&User> = directory.users().filter(|u| u.active).collect();
    let by_id: BTreeMap<&str, &ChatAccount> = accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut by_email: BTreeMap<String, Vec<&ChatAccount>> = BTreeMap::new();
    for account in accounts.iter().filter(|a| a.active_person) {
        if let Some(email) = account.email.as_deref().map(normalise) {
            by_email.entry(email).or_default().push(account);
        }
    }
    let mut report = IdentityReport {
        people: people.len(),
        accounts: accounts.iter().filter(|a| a.active_person).count(),
        ..IdentityReport::default()
    };
    let mut links: BTreeMap<&str, Vec<UserId>> = BTreeMap::new();
    for person in &people {
        if let Some(account) = link(person) {
            links.entry(account).or_default().push(person.id.clone());
        }
    }
    let mut claimed: BTreeSet<&str> = BTreeSet::new();
    for person in &people {
        match link(person) {
            Some(account) => {
                claimed.insert(account);
                if by_id.get(account).is_some_and(|a| a.active_person) {
                    report.linked_explicitly += 1;
                } else {
                    report.problems.push(IdentityProblem::LinkToMissingAccount {
                        person: person.id.clone(),
                        account: account.to_owned(),
                    });
                }
            }
            None => {
                let candidates = by_email
                    .get(&normalise(&person.email))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let free: Vec<&&ChatAccount> = candidates
                    .iter()
                    .filter(|a| !links.contains_key(a.id.as_str()))
                    .collect();
                match free.as_slice() {
                    [one] => {
                        claimed.insert(one.id.as_str());
                        report.matched_by_email += 1;
                    }
                    _ => report.problems.push(IdentityProblem::PersonWithoutAccount {
                        person: person.id.clone(),
                        email: person.email.clone(),
                    }),
                }
            }
        }
    }
    for (account, linked) in &links {
        if linked.len() > 1 {
            report.problems.push(IdentityProblem::AccountLinkedTwice {
                account: (*account).to_owned(),
                people: linked.clone(),
            });
        }
    }
    for (email, sharing) in &by_email {
        if sharing.len() > 1 {
            report
                .problems
                .push(IdentityProblem::EmailOnSeveralAccounts {
                    email: email.clone(),
                    accounts: sharing.iter().map(|a| a.id.clone()).collect(),
                });
        }
    }
    for account in accounts.iter().filter(|a| a.active_person) {
        if claimed.contains(account.id.as_str()) {
            continue;
        }
        let owner = account
            .email
            .as_deref()
            .and_then(|email| directory.user_by_email(email))
            .filter(|u| u.active);
        let problem = match owner.and_then(|u| link(u).map(|l| (u, l))) {
            Some((person, linked_to)) if linked_to != account.id => {
                IdentityProblem::EmailOfSomeoneElse {
                    account: account.id.clone(),
                    person: person.id.clone(),
                    linked_to: linked_to.to_owned(),
                }
            }
            // Shared emails are reported once, above.
            _ if account
                .email
                .as_deref()
                .is_some_and(|e| by_email.get(&normalise(e)).is_some_and(|s| s.len() > 1)) =>
            {
                continue
            }
            _ => IdentityProblem::AccountWithoutPerson {
                account: account.id.clone(),
                email: account.email.clone(),
            },
        };
        report.problems.push(problem);
    }
    report
}

fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

impl IdentityProblem {
    /// One line for an administrator, saying what to do.
    pub fn describe(&self) -> String {
        match self {
            IdentityProblem::PersonWithoutAccount { person, email } => format!(
                "{person} ({email}) has no chat account: none has their email, or several do. \
                 Link their account in the directory."
            ),
            IdentityProblem::AccountWithoutPerson { account, email } => format!(
                "account {account} ({}) is nobody in the directory; its owner cannot request \
                 access. Add the person or link the account.",
                email.as_deref().unwrap_or("no email")
            ),
            IdentityProblem::LinkToMissingAccount { person, account } => {
                format!("{person} is linked to {account}, which does not exist or is deactivated.")
            }
            IdentityProblem::AccountLinkedTwice { account, people } => format!(
                "{account} is linked to several people ({}); only one can be right.",
                people
                    .iter()
                    .map(UserId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            IdentityProblem::EmailOfSomeoneElse {
                account,
                person,
                linked_to,
            } => format!(
                "{account} has the email of {person}, who is linked to {linked_to}; it is not \
                 mapped to anyone. Check which account is theirs."
            ),
            IdentityProblem::EmailOnSeveralAccounts { email, accounts } => format!(
                "{email} is the email of several accounts ({}); none is matched by it.",
                accounts.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DirectoryFile;

    fn account(id: &str, email: Option<&str>) -> ChatAccount {
        ChatAccount {
            id: id.to_owned(),
            email: email.map(str::to_owned),
            active_person: true,
        }
    }

    #[test]
    fn every_kind_of_problem_is_found_and_good_links_are_counted() {
        let directory = DirectoryFile::parse(
            "users:
  - { id: ann, email: ann@example.com, display_name: Ann, chat: { slack: U1 } }
  - { id: ben, email: ben@example.com, display_name: Ben }
  - { id: cat, email: cat@example.com, display_name: Cat }
  - { id: dan, email: dan@example.com, display_name: Dan, chat: { slack: U9 } }
  - { id: eve, email: eve@example.com, display_name: Eve, chat: { slack: U5 } }
  - { id: fay, email: fay@example.com, display_name: Fay, chat: { slack: U5 } }
  - { id: gus, email: gus@example.com, display_name: Gus }
  - { id: old, email: old@example.com, display_name: Old, active: false }
",
        )
        .unwrap()
        .into_directory();
        let accounts = vec![
            account("U1", Some("ann@example.com")),
            account("U2", Some("ben@example.com")),
            account("U3", Some("ann@example.com")),
            account("U4", Some("stranger@example.com")),
            account("U5", Some("eve@example.com")),
            account("U6", Some("gus@example.com")),
            account("U7", Some("gus@example.com")),
            ChatAccount {
                id: String::from("U8"),
                email: Some(String::from("bot@example.com")),
                active_person: false,
            },
        ];
        let report = check_identities(&directory, &accounts, |u| u.chat.slack.as_deref());
        assert_eq!(report.people, 7);
        assert_eq!(report.accounts, 7);
        assert_eq!(report.linked_explicitly, 3, "ann, eve and fay");
        assert_eq!(report.matched_by_email, 1, "ben");
        let uid = |s: &str| UserId::new(s).unwrap();
        let expected = [
            IdentityProblem::PersonWithoutAccount {
                person: uid("cat"),
                email: String::from("cat@example.com"),
            },
            IdentityProblem::LinkToMissingAccount {
                person: uid("dan"),
                account: String::from("U9"),
            },
            IdentityProblem::PersonWithoutAccount {
                person: uid("gus"),
                email: String::from("gus@example.com"),
            },
            IdentityProblem::AccountLinkedTwice {
                account: String::from("U5"),
                people: vec![uid("eve"), uid("fay")],
            },
            IdentityProblem::EmailOnSeveralAccounts {
                email: String::from("ann@example.com"),
                accounts: vec![String::from("U1"), String::from("U3")],
            },
            IdentityProblem::EmailOnSeveralAccounts {
                email: String::from("gus@example.com"),
                accounts: vec![String::from("U6"), String::from("U7")],
            },
            IdentityProblem::EmailOfSomeoneElse {
                account: String::from("U3"),
                person: uid("ann"),
                linked_to: String::from("U1"),
            },
            IdentityProblem::AccountWithoutPerson {
                account: String::from("U4"),
                email: Some(String::from("stranger@example.com")),
            },
        ];
        for problem in &expected {
            assert!(
                report.problems.contains(problem),
                "missing {problem:?} in {:#?}",
                report.problems
            );
        }
        assert_eq!(
            report.problems.len(),
            expected.len(),
            "{:#?}",
            report.problems
        );
        assert!(report.problems.iter().all(|p| !p.describe().is_empty()));
    }

    #[test]
    fn an_account_with_the_email_of_someone_linked_elsewhere_is_flagged() {
        let directory = DirectoryFile::parse(
            "users:\n  - { id: ann, email: ann@example.com, display_name: Ann, chat: { slack: U1 } }\n",
        )
        .unwrap()
        .into_directory();
        let accounts = vec![
            account("U1", Some("ann.other@example.com")),
            account("U2", Some("ann@example.com")),
        ];
        let report = check_identities(&directory, &accounts, |u| u.chat.slack.as_deref());
        assert_eq!(
            report.problems,
            vec![IdentityProblem::EmailOfSomeoneElse {
                account: String::from("U2"),
                person: UserId::new("ann").unwrap(),
                linked_to: String::from("U1"),
            }]
        );
    }
}
