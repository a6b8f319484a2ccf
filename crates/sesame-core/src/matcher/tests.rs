use super::*;
use crate::time::Span;

fn flow(id: &str, name: &str, category: &str, keywords: &str, justification: &str) -> Flow {
    crate::test_support::flow(&format!(
        "id: {id}\nname: {name}\ncategory: {category}\nrequesters: everyone\nkeywords: [{keywords}]\n\
         justification: {justification}\napproval:\n  - {{ approvers: manager }}\n\
         fulfillment: {{ manual: {{ group: facilities }} }}\n"
    ))
}

fn catalog() -> Vec<Flow> {
    vec![
        flow(
            "carpark",
            "Carpark access",
            "Facilities",
            "parking, garage",
            "required",
        ),
        flow(
            "badge",
            "Office badge",
            "Facilities",
            "door, building",
            "none",
        ),
        flow(
            "aws-prod-ro",
            "AWS production (read-only)",
            "Cloud",
            "aws, readonly",
            "required",
        ),
        flow(
            "aws-prod-admin",
            "AWS production (admin)",
            "Cloud",
            "aws, administrator",
            "required",
        ),
        flow(
            "aws-staging",
            "AWS staging",
            "Cloud",
            "aws, sandbox",
            "optional",
        ),
        flow(
            "salesforce-read",
            "Salesforce (read-only)",
            "Sales",
            "crm, reports",
            "optional",
        ),
    ]
}

fn top(matcher: &Matcher, text: &str) -> MatchOutcome {
    matcher.rank(text, |_| true, &Evidence::default())
}

#[test]
fn a_clear_message_is_matched_with_a_reason() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let outcome = top(&matcher, "I need carpark access");
    assert_eq!(outcome.proposal().map(FlowId::as_str), Some("carpark"));
    assert!(outcome.why.contains("carpark"), "{}", outcome.why);
}

#[test]
fn paraphrases_typos_abbreviations_and_other_languages_find_the_flow() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    for (text, expected) in [
        ("I can't get into the parking garage", "carpark"),
        ("carpak pls", "carpark"),
        ("necesito una plaza de aparcamiento", "carpark"),
        ("j'ai besoin d'une place de parking", "carpark"),
        ("ich brauche einen Stellplatz in der Tiefgarage", "carpark"),
        ("aws prod ro", "aws-prod-ro"),
        ("sfdc read pls", "salesforce-read"),
        ("hey :wave: :car: parking", "carpark"),
        ("Lesezugriff auf die AWS Produktionskonsole", "aws-prod-ro"),
    ] {
        let outcome = top(&matcher, text);
        assert_eq!(
            outcome.proposal().map(FlowId::as_str),
            Some(expected),
            "{text}: {outcome:?}"
        );
    }
    let outcome = top(&matcher, "I can't get into the parking garage");
    assert!(outcome.why.contains("'parking garage'"), "{}", outcome.why);
    let outcome = top(&matcher, "salesfroce read");
    assert!(
        outcome.why.contains("read as 'salesforce'"),
        "{}",
        outcome.why
    );
}

#[test]
fn near_neighbours_are_told_apart_or_left_to_the_person() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    assert_eq!(
        top(&matcher, "aws prod admin")
            .proposal()
            .map(FlowId::as_str),
        Some("aws-prod-admin")
    );
    assert_eq!(
        top(&matcher, "aws staging pls")
            .proposal()
            .map(FlowId::as_str),
        Some("aws-staging")
    );
    // "aws prod" alone could be either production flow: no proposal, both listed first.
    let outcome = top(&matcher, "aws prod");
    assert!(!outcome.confident, "{outcome:?}");
    let first_two: Vec<&str> = outcome
        .ranked
        .iter()
        .take(2)
        .map(|s| s.flow.as_str())
        .collect();
    assert!(first_two.contains(&"aws-prod-ro") && first_two.contains(&"aws-prod-admin"));
    assert!(outcome.why.contains("several flows"), "{}", outcome.why);
}

#[test]
fn nothing_fitting_abstains_and_forbidden_flows_are_never_ranked() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let outcome = top(&matcher, "what's for lunch?");
    assert!(!outcome.confident);
    assert!(outcome.ranked.is_empty());
    let evidence = Evidence::new([PastChoice {
        text: String::from("carpark"),
        flow: FlowId::new("carpark").unwrap(),
    }]);
    let outcome = matcher.rank("carpark", |f| f.as_str() != "carpark", &evidence);
    assert!(outcome.ranked.iter().all(|s| s.flow.as_str() != "carpark"));
    assert!(Matcher::default()
        .rank("carpark", |_| true, &evidence)
        .ranked
        .is_empty());
}

#[test]
fn past_choices_lend_their_flow_to_similar_messages() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let before = top(&matcher, "a spot for the zeppelin");
    assert!(!before.confident);
    let choice = |text: &str| PastChoice {
        text: String::from(text),
        flow: FlowId::new("carpark").unwrap(),
    };
    let evidence = Evidence::new([
        choice("spot for my zeppelin tomorrow"),
        choice("zeppelin spot"),
    ]);
    assert_eq!(evidence.len(), 2);
    let outcome = matcher.rank("a spot for the zeppelin", |_| true, &evidence);
    assert_eq!(
        outcome.proposal().map(FlowId::as_str),
        Some("carpark"),
        "{outcome:?}"
    );
    assert!(
        outcome.why.contains("people who wrote something similar"),
        "{}",
        outcome.why
    );
}

#[test]
fn tickets_durations_and_ends_are_pulled_out() {
    let e = extract::extract("need prod db for 2 hours, INC-4411", None);
    assert_eq!(e.ticket.as_deref(), Some("INC-4411"));
    assert_eq!(e.duration, Span::parse("2h").ok());
    assert_eq!(
        extract::extract("pendant 3 jours", None).duration,
        Span::parse("3d").ok()
    );
    assert_eq!(
        extract::extract("für 2 Stunden bitte", None).duration,
        Span::parse("2h").ok()
    );
    assert_eq!(
        extract::extract("for a week, jira-123", None).duration,
        Span::parse("1w").ok()
    );
    assert_eq!(
        extract::extract("jira-123", None).ticket.as_deref(),
        Some("JIRA-123")
    );
    assert_eq!(
        extract::extract("k8s for 30min", None).duration,
        Span::parse("30m").ok()
    );
    assert_eq!(extract::extract("the 2 of us", None).duration, None);
    // 2023-11-14 is a Tuesday; "until Friday" ends at the end of Friday the 17th (UTC).
    let tuesday_noon = Timestamp::from_millis(1_699_963_200_000);
    let e = extract::extract("carpark until friday", Some(tuesday_noon));
    assert_eq!(
        e.until.map(|t| t.to_rfc3339()).as_deref(),
        Some("2023-11-18T00:00:00Z")
    );
    assert_eq!(e.duration, Span::parse("84h").ok());
    let e = extract::extract("bis morgen", Some(tuesday_noon));
    assert_eq!(
        e.until.map(|t| t.to_rfc3339()).as_deref(),
        Some("2023-11-16T00:00:00Z")
    );
}

#[test]
fn the_justification_is_drafted_only_for_flows_that_take_one() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let outcome = top(&matcher, "carpark for 2 weeks please, INC-12");
    assert_eq!(
        outcome.extracted.justification.as_deref(),
        Some("carpark for 2 weeks please, INC-12")
    );
    assert_eq!(outcome.extracted.ticket.as_deref(), Some("INC-12"));
    assert_eq!(top(&matcher, "office badge").extracted.justification, None);
}

#[test]
fn a_site_vocabulary_extends_the_builtin_one() {
    let flows = catalog();
    let plain = Matcher::new(&flows);
    assert!(!top(&plain, "zorblax").confident);
    let vocabulary = Vocabulary::builtin_extended_by("synonyms:\n  parking: [zorblax]\n").unwrap();
    let matcher = Matcher::with_vocabulary(&flows, &vocabulary);
    assert_eq!(
        top(&matcher, "zorblax").proposal().map(FlowId::as_str),
        Some("carpark")
    );
}

/// Cosine similarities as an e5-like model gives them: every flow around 0.8, `favourite` ahead
/// by `lead`.
fn similarities(flows: &[Flow], favourite: &str, lead: f64) -> Vec<(FlowId, f64)> {
    flows
        .iter()
        .map(|f| {
            let s = if f.id.as_str() == favourite {
                0.8 + lead
            } else {
                0.8
            };
            (f.id.clone(), s)
        })
        .collect()
}

fn with_model(matcher: &Matcher, text: &str, sims: &[(FlowId, f64)]) -> MatchOutcome {
    matcher.rank_with_model(text, |_| true, &Evidence::default(), None, sims, 0.5)
}

#[test]
fn the_model_adds_candidates_the_words_do_not_reach_and_says_so() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let text = "somewhere to leave the vehicle overnight";
    assert!(top(&matcher, text).proposal().is_none());
    let outcome = with_model(&matcher, text, &similarities(&flows, "carpark", 0.05));
    assert_eq!(outcome.proposal().map(FlowId::as_str), Some("carpark"));
    assert!(
        outcome.why.contains("reads like Carpark access"),
        "{}",
        outcome.why
    );
    // A model only slightly surer of one flow lists it first but proposes nothing.
    let unsure = with_model(&matcher, text, &similarities(&flows, "carpark", 0.005));
    assert!(unsure.proposal().is_none(), "{unsure:?}");
    assert!(unsure.why.starts_with("not sure"), "{}", unsure.why);
}

#[test]
fn the_model_never_brings_in_a_flow_the_person_may_not_request() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let sims = similarities(&flows, "aws-prod-admin", 0.1);
    let outcome = matcher.rank_with_model(
        "cloud console please",
        |id| id.as_str() != "aws-prod-admin",
        &Evidence::default(),
        None,
        &sims,
        0.5,
    );
    assert!(outcome
        .ranked
        .iter()
        .all(|s| s.flow.as_str() != "aws-prod-admin"));
    assert!(!outcome.ranked.is_empty());
}

#[test]
fn a_clear_lexical_proposal_stands_unless_the_model_disagrees() {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let agrees = with_model(
        &matcher,
        "carpark access",
        &similarities(&flows, "carpark", 0.05),
    );
    assert_eq!(agrees.proposal().map(FlowId::as_str), Some("carpark"));
    assert_eq!(agrees.why, top(&matcher, "carpark access").why);
    let disagrees = with_model(
        &matcher,
        "carpark access",
        &similarities(&flows, "badge", 0.1),
    );
    assert!(disagrees.proposal().is_none(), "{disagrees:?}");
    // Least privilege holds in the fused order: "aws prod" lists read-only before admin.
    let fused = with_model(
        &matcher,
        "aws prod",
        &similarities(&flows, "aws-prod-admin", 0.01),
    );
    assert_eq!(fused.ranked[0].flow.as_str(), "aws-prod-ro");
}

#[test]
fn a_model_proposal_waits_for_a_message_that_asks_for_something() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    let outcome = with_model(
        &matcher,
        "my salesforce password does not work",
        &similarities(&flows, "salesforce-read", 0.1),
    );
    assert!(outcome.proposal().is_none(), "{outcome:?}");
}

fn general_catalog() -> Vec<Flow> {
    vec![
        flow("carpark", "Carpark access", "Facilities", "", "required"),
        flow(
            "laptop-repair",
            "Laptop repair",
            "IT",
            "broken, stolen",
            "required",
        ),
        flow("slack-connect", "Slack Connect channel", "Chat", "", "none"),
        flow("spend-report", "Spend report", "Finance", "", "none"),
        flow(
            "records-override",
            "Break The Glass access",
            "Clinical",
            "",
            "required",
        ),
        flow("pager-duty", "Pager Duty", "Engineering", "", "none"),
        flow(
            "salesforce-read",
            "Salesforce (read-only)",
            "Sales",
            "",
            "optional",
        ),
        flow(
            "salesforce-admin",
            "Salesforce admin",
            "Sales",
            "",
            "required",
        ),
        flow("mfa-reset", "MFA reset", "IT", "", "none"),
        flow(
            "password-manager",
            "Password manager seat",
            "IT",
            "",
            "none",
        ),
    ]
}

fn proposal(matcher: &Matcher, text: &str) -> Option<String> {
    top(matcher, text).proposal().map(|f| f.as_str().to_owned())
}

fn first(matcher: &Matcher, text: &str) -> Option<String> {
    top(matcher, text)
        .ranked
        .first()
        .map(|s| s.flow.as_str().to_owned())
}

#[test]
fn common_words_are_not_typos_and_only_german_compounds_are_split() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    // "send" is a word of its own, not a typo for "spend"; "stack" is not "slack".
    assert_ne!(
        first(&matcher, "send it"),
        Some(String::from("spend-report"))
    );
    assert_ne!(
        first(&matcher, "stack"),
        Some(String::from("slack-connect"))
    );
    // A real typo is still read.
    assert_eq!(
        proposal(&matcher, "slakc connect channel"),
        Some(String::from("slack-connect"))
    );
    // "password" is not pass + word.
    let reading = matcher.lexicon.read("password", true);
    assert!(reading.hits.len() <= 1, "{reading:?}");
}

#[test]
fn an_everyday_word_read_as_a_product_concept_is_only_a_hint() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    // "car" hints at the carpark but does not decide a message about a stolen laptop.
    assert_eq!(
        first(&matcher, "someone broke into my car and stole my laptop"),
        Some(String::from("laptop-repair"))
    );
    assert_eq!(proposal(&matcher, "car"), None);
    assert_eq!(first(&matcher, "car"), Some(String::from("carpark")));
}

#[test]
fn the_catalog_implies_initials_and_joined_spellings() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    assert_eq!(
        proposal(&matcher, "btg access pls"),
        Some(String::from("records-override"))
    );
    assert_eq!(
        proposal(&matcher, "pagerduty"),
        Some(String::from("pager-duty"))
    );
}

#[test]
fn least_privilege_orders_siblings_whatever_the_scores() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    for text in [
        "salesforce",
        "salesforce settings",
        "salesfroce for the team",
    ] {
        let outcome = top(&matcher, text);
        assert_eq!(
            outcome.ranked.first().map(|s| s.flow.as_str()),
            Some("salesforce-read"),
            "{text}: {outcome:?}"
        );
    }
    assert_eq!(
        proposal(&matcher, "salesforce admin"),
        Some(String::from("salesforce-admin"))
    );
}

#[test]
fn messages_that_are_not_requests_get_no_proposal() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    for text in [
        "please reset my password",
        "I forgot my password manager password",
        "my carpark pass is not working again",
        "how do I change the slack connect channel name?",
    ] {
        let outcome = top(&matcher, text);
        assert!(!outcome.confident, "{text}: {outcome:?}");
    }
    // A flow about the reset itself is still proposed, and so is a question that asks.
    assert_eq!(
        proposal(&matcher, "reset my mfa please"),
        Some(String::from("mfa-reset"))
    );
    assert_eq!(
        proposal(&matcher, "how do I get carpark access?"),
        Some(String::from("carpark"))
    );
}

#[test]
fn filler_words_do_not_keep_a_polite_message_from_a_proposal() {
    let flows = general_catalog();
    let matcher = Matcher::new(&flows);
    let text = "Hi all, hope your week is going well! Whenever someone has a spare moment, \
                could I please be given carpark access for the quarterly planning offsite \
                with the regional leadership group? Thanks so much";
    assert_eq!(proposal(&matcher, text), Some(String::from("carpark")));
}
