use super::*;
use crate::auth::tests::{cfg, TOKEN};

fn kinds(list: &[Credential]) -> Vec<String> {
    list.iter()
        .map(|c| match c {
            Credential::Session { cookie, .. } => format!("session {cookie}"),
            Credential::Access { token, .. } => format!("access {token}"),
        })
        .collect()
}

#[test]
fn the_session_cookie_is_checked_before_an_access_token() {
    let both = cfg(true, true);
    let cookies = Some("CF_Authorization=jwt-cookie; sk_session=v1.s");
    assert_eq!(kinds(&credentials(&both, cookies, None)), ["session v1.s", "access jwt-cookie"]);
    assert_eq!(
        kinds(&credentials(&both, cookies, Some("jwt-header".into()))),
        ["session v1.s", "access jwt-header"],
        "Access's own header wins over its cookie"
    );
    assert_eq!(
        credentials(&both, cookies, None)[0],
        Credential::Session { token: TOKEN, cookie: "v1.s" },
        "the session is checked against the configured token"
    );
}

#[test]
fn only_the_configured_modes_credentials_are_checked() {
    let cookies = Some("CF_Authorization=jwt; sk_session=v1.s");
    assert_eq!(kinds(&credentials(&cfg(true, false), cookies, Some("h".into()))), ["session v1.s"]);
    assert_eq!(kinds(&credentials(&cfg(false, true), cookies, None)), ["access jwt"]);
    assert!(credentials(&cfg(false, false), cookies, Some("h".into())).is_empty());
    assert!(credentials(&cfg(true, true), Some("other=1"), None).is_empty(), "nothing presented, nothing checked");
}

#[test]
fn a_bad_access_token_falls_through_but_unreachable_keys_stop_with_a_503() {
    assert_eq!(after(Checked::Session { valid: true }), Next::Viewer(None));
    assert_eq!(after(Checked::Session { valid: false }), Next::Continue(None));
    assert_eq!(
        after(Checked::Access(Ok(Some("ann@example.com".into())))),
        Next::Viewer(Some("ann@example.com".into()))
    );
    assert_eq!(after(Checked::Access(Ok(None))), Next::Viewer(Some("Access user".into())));
    assert_eq!(
        after(Checked::Access(Err(Refusal::Token("expired")))),
        Next::Continue(Some(("access_token_refused", "expired".into())))
    );
    match after(Checked::Access(Err(Refusal::KeysUnavailable("certs unreachable".into())))) {
        Next::Stop(e, (event, why)) => {
            assert_eq!((e.status(), event, why.as_str()), (503, "access_keys_unavailable", "certs unreachable"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(nobody().status(), 401);
}

#[test]
fn the_login_checks_the_origin_then_the_settings_then_that_there_is_a_token() {
    let token = cfg(true, false);
    assert_eq!(login_token(&token, true), Ok(TOKEN));
    assert_eq!(login_token(&token, false), Err(LoginRefusal::CrossOrigin));
    let broken = Config { dashboard_token: Some("short".into()), ..Config::default() };
    assert_eq!(login_token(&broken, false), Err(LoginRefusal::CrossOrigin), "another site learns nothing more");
    assert_eq!(login_token(&broken, true), Err(LoginRefusal::Misconfigured));
    assert_eq!(login_token(&cfg(false, true), true), Err(LoginRefusal::NoTokenLogin));
    let statuses: Vec<u16> = [LoginRefusal::CrossOrigin, LoginRefusal::Misconfigured, LoginRefusal::NoTokenLogin]
        .iter()
        .map(|r| r.error(&broken).status())
        .collect();
    assert_eq!(statuses, [403, 503, 400]);
    let why = LoginRefusal::Misconfigured.error(&broken).body()["message"].as_str().unwrap_or_default().to_string();
    assert!(why.contains("DASHBOARD_TOKEN is 5 characters long"), "{why}");
}

#[test]
fn the_session_answer_says_who_and_why_not() {
    let token = Mode::Protected { token: true, access: false };
    let ann = session_answer(Mode::Protected { token: false, access: true }, &Ok(Some("ann".into())));
    assert_eq!(
        ann,
        json!({"mode": "access", "authenticated": true, "unprotected": false, "user": "ann", "login": false, "message": null})
    );
    let out = session_answer(token, &Err(AppError::Unauthenticated));
    assert_eq!(
        (&out["mode"], &out["authenticated"], &out["login"], &out["message"]),
        (&json!("token"), &json!(false), &json!(true), &Value::Null)
    );
    let down = session_answer(token, &Err(AppError::UpstreamUnavailable("keys out of reach".into())));
    assert_eq!(down["message"], "keys out of reach");
    let open = session_answer(Mode::Open, &Ok(None));
    assert_eq!((&open["unprotected"], &open["user"]), (&json!(true), &Value::Null));
    let unconfigured = session_answer(Mode::Unconfigured, &Err(AppError::Unavailable("x".into())));
    assert_eq!(unconfigured["message"], super::super::HOW_TO_CONFIGURE);
}
