use super::*;
use sesame_core::time::Span;

#[test]
fn escaping_neutralises_every_control_sequence() {
    for (typed, shown) in [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("<!here>", "&lt;!here&gt;"),
        ("<@U123ABC> please", "&lt;@U123ABC&gt; please"),
        ("<#C123|general>", "&lt;#C123|general&gt;"),
        (
            "<http://evil.example|Approve>",
            "&lt;http://evil.example|Approve&gt;",
        ),
        ("<!subteam^S123>", "&lt;!subteam^S123&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("already &lt; escaped", "already &amp;lt; escaped"),
    ] {
        assert_eq!(escape(typed), shown, "{typed}");
    }
}

#[test]
fn bare_broadcast_words_are_defused_but_emails_are_untouched() {
    let wj = WORD_JOINER;
    assert_eq!(escape("hey @channel"), format!("hey @{wj}channel"));
    assert_eq!(escape("@HERE now"), format!("@{wj}HERE now"));
    assert_eq!(escape("(@everyone)"), format!("(@{wj}everyone)"));
    assert_eq!(escape("me@here.example"), "me@here.example");
    assert_eq!(escape("@alice"), "@alice");
    assert_eq!(plain("@channel", 100), format!("@{wj}channel"));
}

#[test]
fn control_and_bidi_characters_are_removed_but_line_breaks_kept() {
    assert_eq!(escape("a\u{0}b\u{7}c\r\nd\te"), "abc\nd\te");
    assert_eq!(plain("evil\u{202E}devorppa", 100), "evildevorppa");
    assert_eq!(plain("x\u{2066}y\u{2069}", 100), "xy");
}

#[test]
fn truncation_counts_characters_and_ends_with_an_ellipsis_within_the_limit() {
    assert_eq!(truncate("hello", 5), "hello");
    assert_eq!(truncate("hello!", 5), "hell…");
    assert_eq!(truncate("héllo wörld", 6), "héllo…");
    assert_eq!(truncate("🙂🙂🙂", 2), "🙂…");
    assert_eq!(truncate("abc", 0), "");
    assert_eq!(truncate("abc", 1), "…");
    assert_eq!(truncate(&"x".repeat(5000), 3000).chars().count(), 3000);
}

#[test]
fn escaped_truncation_never_splits_an_entity() {
    // "a&b" escapes to "a&amp;b" (7 characters); a cut at 5 must drop the whole entity.
    assert_eq!(mrkdwn_escaped("a&b", 5), "a…");
    assert_eq!(mrkdwn_escaped("a&b", 7), "a&amp;b");
    assert_eq!(mrkdwn_escaped("a&b", 6), "a…");
    assert_eq!(mrkdwn_escaped("a&bc", 7), "a&amp;…");
    assert_eq!(mrkdwn_escaped("<<<<", 10), "&lt;&lt;…");
    let long = "<".repeat(3000);
    let cut = mrkdwn_escaped(&long, 3000);
    assert!(cut.chars().count() <= 3000);
    assert!(cut.trim_end_matches(ELLIPSIS).ends_with("&lt;"));
}

#[test]
fn markup_truncation_keeps_control_sequences_whole() {
    let text = Mrkdwn::literal("Approved by ")
        .then(Mrkdwn::mention("U0123456"))
        .then_literal(" and ")
        .then(Mrkdwn::mention("U0654321"));
    assert_eq!(text.truncated(100), text);
    // 12 characters of prefix, then an 11-character mention: a cut at 20 keeps no half mention.
    assert_eq!(text.truncated(20).as_str(), "Approved by …");
    assert_eq!(text.truncated(24).as_str(), "Approved by <@U0123456>…");
}

#[test]
fn mentions_only_accept_slack_user_ids() {
    assert_eq!(mention("U0123ABC"), "<@U0123ABC>");
    assert_eq!(mention("W0123ABC"), "<@W0123ABC>");
    for (forged, shown) in [
        ("U1>", "U1&gt;"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("u0123abc", "u0123abc"),
        ("U1", "U1"),
        ("C0123ABC", "C0123ABC"),
        ("U0123|x", "U0123|x"),
    ] {
        assert_eq!(mention(forged), shown, "{forged}");
    }
}

#[test]
fn links_escape_the_label_and_refuse_other_schemes() {
    assert_eq!(
        link("https://sesame.example/requests/117", "Carpark access #117"),
        Ok(String::from(
            "<https://sesame.example/requests/117|Carpark access #117>"
        ))
    );
    assert_eq!(
        link("https://x.example/?a=1&b=2", "<b> & @here"),
        Ok(format!(
            "<https://x.example/?a=1&amp;b=2|&lt;b&gt; &amp; @{WORD_JOINER}here>"
        ))
    );
    assert_eq!(
        link("https://x.example/a|b>c", "x"),
        Ok(String::from("<https://x.example/a%7Cb%3Ec|x>"))
    );
    assert_eq!(
        link("HTTP://x.example", ""),
        Ok(String::from("<HTTP://x.example>"))
    );
    for refused in [
        "javascript:alert(1)",
        "slack://open",
        "mailto:a@b.c",
        "ftp://x",
    ] {
        assert_eq!(link(refused, "x"), Err(LinkError::NotHttp), "{refused}");
    }
    for malformed in ["https://", "https:///path", "https://a b", "https://a\nb"] {
        assert_eq!(
            link(malformed, "x"),
            Err(LinkError::Malformed),
            "{malformed:?}"
        );
    }
    assert_eq!(
        Mrkdwn::link("javascript:x", "<click>").as_str(),
        "&lt;click&gt;"
    );
}

#[test]
fn dates_render_in_the_readers_time_zone_with_a_utc_fallback() {
    let at = Timestamp::from_millis(1_764_608_400_000);
    assert_eq!(utc_minutes(at), "2025-12-01 17:00 UTC");
    assert_eq!(
        Mrkdwn::date(at).as_str(),
        "<!date^1764608400^{date_short_pretty} at {time}|2025-12-01 17:00 UTC>"
    );
}

#[test]
fn spans_and_numbers_read_naturally() {
    for (span, words) in [
        ("30d", "30 days"),
        ("1d", "1 day"),
        ("14d", "2 weeks"),
        ("4h", "4 hours"),
        ("90m", "90 minutes"),
        ("61s", "61 seconds"),
    ] {
        assert_eq!(Span::parse(span).unwrap().in_words(), words, "{span}");
    }
    assert_eq!(format_number(8.0), "8");
    assert_eq!(format_number(-2.5), "-2.5");
    assert_eq!(format_number(1e20), "100000000000000000000");
}

#[test]
fn built_mrkdwn_composes_escaped_parts() {
    let line = Mrkdwn::bold(Mrkdwn::literal("Reason"))
        .then_literal(": ")
        .then_escaped("<!channel> *now*");
    assert_eq!(line.as_str(), "*Reason*: &lt;!channel&gt; *now*");
    let joined = Mrkdwn::join([Mrkdwn::escaped("a"), Mrkdwn::escaped("b<")], ", ");
    assert_eq!(joined.as_str(), "a, b&lt;");
    assert!(Mrkdwn::new().is_empty());
    assert_eq!(Mrkdwn::italic(Mrkdwn::literal("x")).as_str(), "_x_");
    assert_eq!(PlainText::new("<b>").truncated(2).as_str(), "<…");
}
