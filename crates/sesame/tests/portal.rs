//! The web portal without a browser: sign-in (the demo sign-in, and OpenID Connect against an
//! in-process provider), CSRF refusal, security headers, visibility, escaping, link offers, and
//! comments reaching Slack. The browser suite (scripts/browser-tests.sh) drives the same pages in
//! Chromium against a real provider.

mod portal {
    pub mod browser;
    mod chat_links;
    mod decisions;
    pub mod fake_oidc;
    mod lists;
    mod oidc;
    mod pages;
    mod search;
    mod sessions;
}
