//! Matching latency with a large catalog: 500 flows and 10,000 stored past choices, one thread.
//! Prints p50, p99 and max of `Matcher::rank` over many messages of every kind (exact, typos,
//! abbreviations, paraphrases, long polite sentences, other languages, no-match).
//!
//! cargo bench -p sesame-core --bench matcher

use sesame_core::flow::parse_flow;
use sesame_core::matcher::{Evidence, Matcher, PastChoice};
use sesame_core::{Flow, FlowId};
use std::time::{Duration, Instant};

const SYSTEMS: &[&str] = &[
    "AWS",
    "GCP",
    "Azure",
    "Kubernetes",
    "Postgres",
    "MySQL",
    "Salesforce",
    "HubSpot",
    "Zendesk",
    "GitHub",
    "GitLab",
    "Jira",
    "Confluence",
    "Datadog",
    "Grafana",
    "Sentry",
    "Vault",
    "Okta",
    "Snowflake",
    "BigQuery",
    "Looker",
    "Tableau",
    "NetSuite",
    "Workday",
    "Stripe",
    "Figma",
    "Notion",
    "Slack",
    "Zoom",
    "Miro",
    "Greenhouse",
    "DocuSign",
    "Expensify",
    "PagerDuty",
    "Terraform",
    "Jenkins",
    "Artifactory",
    "Kafka",
    "Redis",
    "Elastic",
    "Airflow",
    "dbt",
];
const REGIONS: &[&str] = &["eu", "us", "apac", "shared"];
const LEVELS: &[(&str, &str)] = &[
    (
        "read-only",
        "View only access for investigations and reporting.",
    ),
    ("write", "Read-write access for changes with a ticket."),
    (
        "admin",
        "Administrator rights over settings, users and permissions.",
    ),
];
const MESSAGES: &[&str] = &[
    "need aws prod read only for INC-4411 for 2 hours",
    "salesfroce admn pls",
    "hey :wave: k8s staging?",
    "Hi team, hope you're well! Would it be possible to get read access to the Snowflake warehouse for the quarterly revenue report? Many thanks in advance",
    "I can't get into the parking garage",
    "necesito acceso de solo lectura a la base de datos de producción",
    "j'ai besoin d'un accès en écriture à jira",
    "ich brauche Lesezugriff auf die Produktionsdatenbank",
    "I'm the new on-call for payments",
    "what's for lunch today?",
    "gh org admin until friday",
    "can I get grafana dashboards?",
];

fn flows() -> Vec<Flow> {
    let mut flows = Vec::new();
    'all: for system in SYSTEMS {
        for region in REGIONS {
            for (level, description) in LEVELS {
                if flows.len() == 500 {
                    break 'all;
                }
                let id = format!("{}-{region}-{level}", system.to_lowercase());
                let yaml = format!(
                    "id: {id}\nname: {system} {region} ({level})\ndescription: {description} {system} in the {region} region.\n\
                     category: Systems\nkeywords: [{}, {region}, {level}]\nrequesters: everyone\n\
                     justification: required\nduration: {{ default: 8h, max: 7d, requester_chooses: true }}\n\
                     approval:\n  - {{ approvers: manager }}\nfulfillment: {{ manual: {{ group: it-ops }} }}\n",
                    system.to_lowercase()
                );
                flows
                    .push(parse_flow(&format!("{id}.yaml"), &yaml).expect("generated flow parses"));
            }
        }
    }
    flows
}

/// 10,000 past choices: messages made from flow names and filler words, each with the flow that
/// was chosen.
fn evidence(flows: &[Flow]) -> Evidence {
    let fillers = [
        "pls",
        "for the migration",
        "quick one",
        "urgent",
        "for reporting",
        "again",
        "team x",
        "asap",
    ];
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let choices = (0..10_000).map(|i| {
        let flow = &flows[(next() % flows.len() as u64) as usize];
        let filler = fillers[(next() % fillers.len() as u64) as usize];
        PastChoice {
            text: format!("{} {filler} {}", flow.name, i % 97),
            flow: flow.id.clone(),
        }
    });
    Evidence::new(choices)
}

fn main() {
    let flows = flows();
    let started = Instant::now();
    let matcher = Matcher::new(&flows);
    let built = started.elapsed();
    let started = Instant::now();
    let evidence = evidence(&flows);
    let indexed = started.elapsed();
    let forbidden = FlowId::new("aws-eu-admin").unwrap();
    let may_request = |f: &FlowId| f != &forbidden;
    for message in MESSAGES {
        std::hint::black_box(matcher.rank(message, may_request, &evidence));
    }
    let rounds = 500;
    let mut times: Vec<Duration> = Vec::with_capacity(rounds * MESSAGES.len());
    for _ in 0..rounds {
        for message in MESSAGES {
            let t = Instant::now();
            std::hint::black_box(matcher.rank(
                std::hint::black_box(message),
                may_request,
                &evidence,
            ));
            times.push(t.elapsed());
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "matcher: {} flows, {} past choices, {} rank() calls on one thread",
        flows.len(),
        evidence.len(),
        times.len()
    );
    println!("  build: matcher {built:?}, evidence {indexed:?}");
    println!(
        "  rank: p50 {:?}  p99 {:?}  max {:?}",
        at(0.50),
        at(0.99),
        times[times.len() - 1]
    );
}
