//! `sesame identities check`: the links between people and their Slack accounts, checked before a
//! request fails on them (people without an account, accounts that are nobody, links that point
//! nowhere or are ambiguous). Exits 1 when there is something to fix, so it can run on a schedule.

use crate::config::Config;
use anyhow::Context;
use sesame_app::App;
use sesame_core::identities::{check_identities, ChatAccount, IdentityReport};
use sesame_slack::api::SlackApi;
use std::process::ExitCode;

/// Slack's own bot, which `users.list` lists like a person.
const SLACKBOT: &str = "USLACKBOT";

pub async fn check(config: &Config, app: &App, json: bool) -> anyhow::Result<ExitCode> {
    if !config.slack.enabled()? {
        anyhow::bail!(
            "Slack is not configured ([slack] bot_token); there are no chat accounts to check"
        );
    }
    let token = config
        .slack
        .bot_token
        .clone()
        .context("[slack] bot_token is required")?;
    let api = SlackApi::new(&config.slack.api_url, token, reqwest::Client::new())
        .with_context(|| format!("[slack] api_url {:?} is not usable", config.slack.api_url))?;
    let accounts = slack_accounts(&api).await?;
    let directory = app.directory();
    let report = check_identities(&directory, &accounts, |user| user.chat.slack.as_deref());
    let emails_hidden = !accounts.is_empty() && accounts.iter().all(|a| a.email.is_none());
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, emails_hidden);
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn slack_accounts(api: &SlackApi) -> anyhow::Result<Vec<ChatAccount>> {
    let mut accounts = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = api
            .users_list(cursor.as_deref())
            .await
            .context("cannot list the Slack workspace's users (users.list, scope users:read)")?;
        accounts.extend(page.into_iter().map(|user| ChatAccount {
            active_person: !user.deleted && !user.is_bot && user.id != SLACKBOT,
            email: user.profile.email,
            id: user.id,
        }));
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(accounts),
        }
    }
}

fn print_report(report: &IdentityReport, emails_hidden: bool) {
    println!(
        "{} active people, {} active Slack accounts: {} linked explicitly, {} matched by email",
        report.people, report.accounts, report.linked_explicitly, report.matched_by_email
    );
    if emails_hidden {
        println!(
            "warning: Slack shows no emails; the app needs the users:read.email scope to match \
             people by email"
        );
    }
    if report.problems.is_empty() {
        println!("ok: every person and account is accounted for");
        return;
    }
    println!("{} problem(s):", report.problems.len());
    for problem in &report.problems {
        println!("- {}", problem.describe());
    }
}
