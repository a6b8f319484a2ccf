//! The catalog's search box goes through the matcher, as chat does: abbreviations, other
//! languages and typos find the flow, best first, with the matcher's reason; only flows the
//! person may request are listed; without a search, everything they may request is listed by
//! category; with a model configured, the model's reading counts too.

use super::browser::{demo_app, Browser};
use reqwest::StatusCode;
use sesame_testkit::fake_model::FakeModel;

/// The flows a page links to for requesting, in page order.
fn listed(body: &str) -> Vec<String> {
    body.split("href=\"/flows/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/request\"").map(|(id, _)| id.to_owned()))
        .collect()
}

/// The matcher's reason as the page shows it (minijinja escapes quotes).
fn why(body: &str) -> String {
    body.split_once("<p class=\"why\">")
        .and_then(|(_, rest)| rest.split_once("</p>"))
        .map(|(why, _)| why.replace("&#x27;", "'").replace("&quot;", "\""))
        .unwrap_or_default()
}

async fn search(browser: &mut Browser, q: &str) -> String {
    let query: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let page = browser.get(&format!("/catalog?q={query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body
}

#[tokio::test]
async fn search_finds_flows_as_chat_does_best_first_with_the_reason() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    alice.demo_sign_in("alice").await;

    // An abbreviation: "prod db" is the production database, proposed with its reason.
    let page = search(&mut alice, "prod db").await;
    assert_eq!(
        listed(&page).first().map(String::as_str),
        Some("prod-db"),
        "{page}"
    );
    assert!(
        why(&page).contains("Production database write"),
        "{}",
        why(&page)
    );
    assert!(page.contains("Suggested"), "{page}");

    // Another language: "garaje" (Spanish) is the carpark; the substring filter found nothing.
    let page = search(&mut alice, "necesito el garaje").await;
    assert_eq!(
        listed(&page).first().map(String::as_str),
        Some("carpark"),
        "{page}"
    );
    assert!(why(&page).contains("Carpark access"), "{}", why(&page));

    // A typo, read as the word it was meant to be.
    let page = search(&mut alice, "carpak").await;
    assert_eq!(
        listed(&page).first().map(String::as_str),
        Some("carpark"),
        "{page}"
    );
    assert!(why(&page).contains("read as"), "{}", why(&page));

    // Nothing fits: no list, a way back to everything.
    let page = search(&mut alice, "what is for lunch today").await;
    assert!(listed(&page).is_empty(), "{page}");
    assert!(page.contains("Nothing you may request matches"), "{page}");

    // Without a search, everything Alice may request, by category.
    let page = alice.get("/catalog").await.body;
    let mut all = listed(&page);
    all.sort();
    assert_eq!(all, ["badge", "carpark", "laptop", "prod-db"]);
    assert!(page.contains("<h2 id=\"cat-1\">Engineering</h2>"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn search_lists_only_flows_the_person_may_request() {
    let app = demo_app("").await;
    // Otto (auditors only) may request the production database, not the carpark.
    let mut otto = Browser::for_app(&app);
    otto.demo_sign_in("otto").await;
    let page = search(&mut otto, "carpark").await;
    assert!(!listed(&page).contains(&String::from("carpark")), "{page}");
    let page = search(&mut otto, "prod db").await;
    assert_eq!(listed(&page), ["prod-db"], "{page}");
    app.stop().await;
}

#[tokio::test]
async fn with_a_model_search_finds_what_the_words_do_not_reach() {
    let model = FakeModel::start().await;
    let typed = "somewhere to leave my vehicle overnight";
    model.read_as(
        typed,
        "Carpark access. A parking permit for the HQ carpark, valid on weekdays.. Facilities. \
         parking, garage",
    );
    let app = demo_app(&format!(
        "[matcher]\nmodel_url = {:?}\nmodel_name = \"fake-embed\"\nmodel_timeout_ms = 2000\n",
        model.base_url()
    ))
    .await;
    let mut alice = Browser::for_app(&app);
    alice.demo_sign_in("alice").await;
    let page = search(&mut alice, typed).await;
    assert_eq!(
        listed(&page).first().map(String::as_str),
        Some("carpark"),
        "{page}"
    );
    assert!(
        why(&page).contains("reads like Carpark access"),
        "{}",
        why(&page)
    );
    assert!(model.inputs().contains(&typed.to_owned()));
    app.stop().await;
}
