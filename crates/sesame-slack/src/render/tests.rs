use super::fixtures::*;
use super::*;

#[test]
fn button_values_round_trip_and_refuse_forgeries() {
    assert_eq!(step_action_value(RequestNumber(117), 1), "117:1");
    assert_eq!(
        parse_step_action_value("117:1"),
        Ok((RequestNumber(117), 1))
    );
    assert_eq!(request_action_value(RequestNumber(117)), "117");
    assert_eq!(parse_request_action_value("117"), Ok(RequestNumber(117)));
    for forged in [
        "", "abc", "117", "117:", ":1", "117:x", "117:-1", "0:1", "-5:1", "+5:1", "1:2:3",
    ] {
        assert!(parse_step_action_value(forged).is_err(), "{forged:?}");
    }
    for forged in ["", "0", "-1", "+1", "1.5", "99999999999999999999", "117:1"] {
        assert!(parse_request_action_value(forged).is_err(), "{forged:?}");
    }
}

#[test]
fn people_are_mentioned_when_linked_and_escaped_otherwise() {
    let ctx = render_context();
    assert_eq!(ctx.person(&uid("mark")).as_str(), "<@U0MARK>");
    assert_eq!(ctx.person(&uid("fred")).as_str(), "Fred");
    assert_eq!(ctx.person(&uid("nobody")).as_str(), "nobody");
    assert_eq!(ctx.name(&uid("rita")), "Rita <!here>");
    assert_eq!(ctx.actor("sesame").as_str(), "Sesame");
    assert_eq!(ctx.actor("fay").as_str(), "<@U0FAY>");
    assert_eq!(ctx.actor("<!channel>").as_str(), "&lt;!channel&gt;");
    let people = [uid("mark"), uid("fay"), uid("fred"), uid("alice")];
    assert_eq!(
        ctx.people_list(&people, 2).as_str(),
        "<@U0MARK>, <@U0FAY> and 2 others"
    );
    assert_eq!(
        ctx.people_list(&people[..3], 2).as_str(),
        "<@U0MARK>, <@U0FAY> and 1 other"
    );
    assert_eq!(
        ctx.request_url(RequestNumber(5)),
        "https://sesame.example/requests/5"
    );
}

#[test]
fn a_forged_slack_id_in_the_directory_cannot_mention_or_ping() {
    let forged = |_: &UserId| Person {
        display_name: String::from("Eve <!channel>"),
        slack_user_id: Some(String::from("U1> <!channel")),
    };
    let ctx = RenderContext {
        people: &forged,
        portal_base_url: "javascript:alert(1)",
    };
    assert_eq!(ctx.person(&uid("eve")).as_str(), "Eve &lt;!channel&gt;");
    assert_eq!(
        ctx.title_link(&submitted_carpark()).as_str(),
        "Carpark access #117",
        "a portal URL that is not http(s) is not linked"
    );
}
