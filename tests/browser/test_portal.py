"""The portal in a real browser, signed in through a real OpenID Connect provider. The tests run
in file order and build on each other: Dave asks for a parking permit, Carol (his manager)
approves it, Dave comments and cancels a second request, Olivia (an administrator) reads and
exports the audit log."""

import json
import re

from conftest import shot, sign_in, submit

# What earlier tests created, for later ones.
made = {}

HOSTILE = '<script>alert("x")</script><b>bold</b>'


def request_number(page) -> int:
    match = re.search(r"/requests/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def test_signing_in_shows_the_catalog_with_security_headers(browser, sesame):
    context, page = sign_in(browser, sesame, "dave@example.com")
    response = page.goto(sesame.url("/catalog"))
    headers = response.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["sesame_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert "Dave Diaz" in page.inner_text("header")
    assert page.get_by_role("heading", name="Facilities").is_visible()
    assert page.get_by_role("link", name="Carpark access").is_visible()
    shot(page, "catalog")
    page.fill("#q", "parking")
    submit(page, "button:has-text('Search')")
    assert page.get_by_role("link", name="Carpark access").is_visible()
    assert page.get_by_role("link", name="VPN access").count() == 0
    context.close()


def test_the_form_keeps_answers_and_shows_errors_next_to_fields(browser, sesame):
    context, page = sign_in(browser, sesame, "dave@example.com", "/flows/carpark/request")
    page.select_option("#f-site", "Berlin")
    page.fill("#justification", HOSTILE)
    submit(page, "button:has-text('Submit request')")
    # The plate is required: the error sits by its field and the other answers are kept.
    assert page.locator("#f-plate-error").inner_text() == "this question needs an answer"
    assert page.locator("#f-plate").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-site").input_value() == "Berlin"
    assert page.locator("#justification").input_value() == HOSTILE
    shot(page, "request-form-errors")
    page.fill("#f-plate", "AB12 CDE")
    page.check("input[name='q.ev'][value='no']")
    page.fill("#duration", "14d")
    submit(page, "button:has-text('Submit request')")
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    made["first"] = request_number(page)
    assert "Waiting for approval" in page.inner_text(".status")
    # User text is shown as text, never as markup.
    assert HOSTILE in page.inner_text("main")
    assert page.locator("main b").count() == 0
    assert page.locator("main script").count() == 0
    shot(page, "request-page")
    # A second request, to cancel later.
    page.goto(sesame.url("/flows/carpark/request"))
    page.fill("#f-plate", "XY99 ZZZ")
    page.select_option("#f-site", "London")
    page.fill("#justification", "Second car for the week")
    submit(page, "button:has-text('Submit request')")
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    made["second"] = request_number(page)
    context.close()


def test_the_manager_approves_from_waiting_for_me(browser, sesame):
    context, page = sign_in(browser, sesame, "carol@example.com", "/waiting")
    first = made["first"]
    assert page.get_by_role("link", name=f"Carpark access #{first}").is_visible()
    shot(page, "waiting-for-me")
    submit(page, f"button:has-text('Approve #{first}')")
    page.wait_for_url(sesame.url("/waiting"))
    assert page.get_by_role("link", name=f"Carpark access #{first}").count() == 0
    page.goto(sesame.url(f"/requests/{first}"))
    timeline = page.inner_text(".timeline")
    assert "Approved by Carol Chen" in timeline
    assert "Asked: Alice Archer, Bob Baker" in timeline
    context.close()


def test_comments_and_cancel_on_the_request_page(browser, sesame):
    context, page = sign_in(browser, sesame, "dave@example.com", f"/requests/{made['first']}")
    page.fill("#comment-text", "Thanks <i>Carol</i>!")
    submit(page, "button:has-text('Comment')")
    page.wait_for_url(re.compile(rf".*/requests/{made['first']}(#comments)?$"))
    comments = page.inner_text(".comments")
    assert "Thanks <i>Carol</i>!" in comments
    assert page.locator(".comments i").count() == 0
    # The timeline shows who was asked and who decided.
    assert "Approved by Carol Chen" in page.inner_text(".timeline")
    page.goto(sesame.url(f"/requests/{made['second']}"))
    page.fill("#cancel-reason", "Not needed after all")
    submit(page, "button:has-text('Cancel request')")
    page.wait_for_url(sesame.url(f"/requests/{made['second']}"))
    assert page.inner_text(".status").strip() == "Canceled"
    assert "Not needed after all" in page.inner_text("main")
    page.goto(sesame.url("/requests"))
    rows = page.inner_text("table")
    assert f"#{made['first']}" in rows and f"#{made['second']}" in rows
    shot(page, "my-requests")
    context.close()


def test_guessing_another_persons_request_number_finds_nothing(browser, sesame):
    context, page = sign_in(browser, sesame, "nina@example.com")
    response = page.goto(sesame.url(f"/requests/{made['first']}"))
    assert response.status == 404
    assert "AB12 CDE" not in page.content()
    missing = page.goto(sesame.url("/requests/999999"))
    assert missing.status == 404
    context.close()


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(browser, sesame):
    context, page = sign_in(browser, sesame, "dave@example.com", f"/requests/{made['first']}")
    before = page.inner_text(".status")
    refused = context.request.post(
        sesame.url(f"/requests/{made['first']}/cancel"),
        form={"reason": "forged"},
    )
    assert refused.status == 403
    wrong = context.request.post(
        sesame.url(f"/requests/{made['first']}/comments"),
        form={"text": "forged", "csrf": "0" * 64},
    )
    assert wrong.status == 403
    page.reload()
    assert page.inner_text(".status") == before
    assert "forged" not in page.inner_text("main")
    context.close()


def test_the_administrator_filters_and_exports_the_audit_log(browser, sesame):
    context, page = sign_in(browser, sesame, "olivia@example.com", "/admin/audit")
    page.fill("#f-request", str(made["first"]))
    submit(page, "button:has-text('Filter')")
    page.wait_for_url(re.compile(rf".*/admin/audit\?request={made['first']}&.*"))
    page.wait_for_load_state("load")
    table = page.inner_text("table.audit")
    assert "submitted" in table and "step approved" in table and "comment added" in table, (page.url, table)
    shot(page, "admin-audit")
    csv = context.request.get(sesame.url(f"/admin/audit.csv?request={made['first']}"))
    assert csv.status == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text().strip().splitlines()
    assert lines[0] == "id,at,request,actor,kind,detail"
    assert any(",carol,step_approved," in line for line in lines), lines
    exported = json.loads(context.request.get(sesame.url(f"/admin/audit.json?request={made['first']}")).text())
    assert {"submitted", "step_approved", "comment_added"} <= {e["kind"] for e in exported}
    assert all(e["request"] == made["first"] for e in exported)
    page.goto(sesame.url("/admin/flows"))
    assert "Carpark access" in page.inner_text("main")
    shot(page, "admin-flows")
    page.goto(sesame.url("/admin/identities"))
    shot(page, "admin-identities")
    page.goto(sesame.url("/admin/directory"))
    assert "Olivia Owens" in page.inner_text("table")
    page.goto(sesame.url("/admin/outbox"))
    assert page.get_by_role("heading", name="Undelivered messages").is_visible()
    context.close()


def test_people_who_are_not_administrators_cannot_read_the_audit_log(browser, sesame):
    context, page = sign_in(browser, sesame, "dave@example.com")
    response = page.goto(sesame.url("/admin/audit"))
    assert response.status == 403
    export = context.request.get(sesame.url("/admin/audit.csv"))
    assert export.status == 403
    context.close()


def test_a_person_confirms_a_chat_account_link(browser, sesame):
    url = sesame.cli("identities", "offer-link", "teams", "8f1c0a52-0005-4c1e-9a11-000000000005").strip()
    assert re.match(r"^http://localhost:\d+/link/[0-9a-f]{64}$", url), url
    path = url[len(sesame.base_url):]
    context, page = sign_in(browser, sesame, "dave@example.com", path)
    text = page.inner_text("main")
    assert "Link Microsoft Teams account 8f1c0a52-0005-4c1e-9a11-000000000005 to you (Dave Diaz, dave@example.com)?" in text
    shot(page, "link-confirm")
    submit(page, "button:has-text('Confirm')")
    assert "is now linked to you" in page.inner_text("main")
    # The offer is used up.
    again = page.goto(url)
    assert again.status == 410
    assert "already used" in page.inner_text("main")
    unknown = page.goto(sesame.url("/link/" + "a" * 64))
    assert unknown.status == 404
    context.close()
    admin, page = sign_in(browser, sesame, "olivia@example.com", "/admin/directory")
    assert "8f1c0a52-0005-4c1e-9a11-000000000005" in page.inner_text("table")
    admin.close()


def test_unknown_and_deactivated_people_are_refused_with_a_clear_page(browser, sesame):
    for email, expected in [
        ("stranger@example.org", "Sesame does not know you"),
        ("trent@example.com", "Your account is deactivated"),
    ]:
        context = browser.new_context()
        page = context.new_page()
        page.goto(sesame.url("/catalog"))
        page.fill("input[name=sub]", email)
        submit(page, "button:has-text('Authorize')")
        page.wait_for_load_state()
        assert expected in page.inner_text("h1")
        assert not any(c["name"] == "sesame_session" for c in context.cookies())
        context.close()


def test_signing_out_ends_the_session(browser, sesame):
    context, page = sign_in(browser, sesame, "dave@example.com", "/requests", mobile=True)
    shot(page, "my-requests-phone")
    submit(page, "button:has-text('Sign out')")
    assert "You are signed out" in page.inner_text("main")
    response = page.goto(sesame.url("/requests"))
    # Back to the provider's sign-in page: the old session no longer works.
    assert "/oauth2/authorize" in page.url, (response.status, page.url)
    context.close()
