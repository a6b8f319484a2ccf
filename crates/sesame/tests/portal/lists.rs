//! Lists that do not stop at a page: true counts, pages beyond 200 rows, oldest work first, and
//! filters by state, flow, person (by name) and order, with plain words when nothing matches or a
//! filter makes no sense.

use super::browser::{demo_app, Browser};
use reqwest::StatusCode;
use serde_json::json;

/// How many requests Alice files: more than the 200 the lists once stopped at.
const FILED: i64 = 205;

#[tokio::test]
async fn lists_page_beyond_two_hundred_with_true_counts_and_filters() {
    let app = demo_app("").await;
    let token = app.token("alice").await;
    for i in 1..=FILED {
        let filed = app
            .post(
                "/api/v1/requests",
                &token,
                json!({
                    "flow": "carpark",
                    "answers": { "plate": format!("P{i}"), "site": "London", "ev": false },
                    "justification": "parking",
                    "duration": "30d"
                }),
            )
            .await;
        assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    }

    // Carol approves them all: the oldest, most overdue, come first, 50 to a page, counted in full.
    let mut carol = Browser::for_app(&app);
    carol.demo_sign_in("carol").await;
    let first = carol.get("/waiting").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("Approvals (205)"), "{}", first.body);
    assert!(first.body.contains("Showing 1–50 of 205"), "{}", first.body);
    let top = first
        .body
        .find("Approve #1<")
        .expect("#1 on the first page");
    let second = first
        .body
        .find("Approve #2<")
        .expect("#2 on the first page");
    assert!(top < second, "oldest first");
    assert!(!first.body.contains("Approve #51<"));
    assert!(first.body.contains("approvals_page=2"));
    let last = carol.get("/waiting?approvals_page=5").await;
    assert!(
        last.body.contains("Showing 201–205 of 205"),
        "{}",
        last.body
    );
    assert!(last.body.contains("Approve #205<"));
    assert!(last.body.contains("rel=\"prev\""));
    assert!(!last.body.contains("rel=\"next\""));

    // Alice's own list: newest first by default, every page reachable, the order can flip.
    let mut alice = Browser::for_app(&app);
    alice.demo_sign_in("alice").await;
    let mine = alice.get("/requests").await;
    assert!(mine.body.contains("Showing 1–50 of 205"), "{}", mine.body);
    assert!(mine.body.find("#205<").unwrap() < mine.body.find("#204<").unwrap());
    let page5 = alice.get("/requests?page=5").await;
    assert!(
        page5.body.contains("Showing 201–205 of 205"),
        "{}",
        page5.body
    );
    assert!(page5.body.contains(">#1<"));
    let oldest = alice.get("/requests?sort=oldest").await;
    assert!(oldest.body.find(">#1<").unwrap() < oldest.body.find(">#2<").unwrap());
    assert!(
        oldest.body.contains("sort=oldest&amp;page=2")
            || oldest.body.contains("sort=oldest&page=2"),
        "the next page keeps the order: {}",
        oldest.body
    );

    // Filters: by the person's name, by state, by flow; plain words when nothing matches.
    let by_name = carol.get("/requests?scope=all&who=Alice").await;
    assert!(by_name.body.contains("of 205"), "{}", by_name.body);
    let nobody = carol.get("/requests?scope=all&who=Zed").await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nobody.body.contains("nobody in the directory is called"),
        "{}",
        nobody.body
    );
    let denied = alice.get("/requests?state=denied").await;
    assert!(
        denied.body.contains("No requests match these filters."),
        "{}",
        denied.body
    );
    let waiting = alice
        .get("/requests?state=pending_approval&flow=carpark")
        .await;
    assert!(waiting.body.contains("of 205"), "{}", waiting.body);
    let bogus = alice.get("/requests?state=lost").await;
    assert_eq!(bogus.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bogus.body.contains("is not a state"), "{}", bogus.body);
    app.stop().await;
}
