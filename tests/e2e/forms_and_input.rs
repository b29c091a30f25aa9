//! Issue 19's input and form findings through the running server: text the documents cannot
//! render refused on upload, the review forms' Origin and token checks, the headers every
//! answer carries, transport errors in the API's JSON form, and the password policy.

use anjian_e2e::{Api, Device, FACTORY, LI, Server, block_on};
use reqwest::StatusCode;
use serde_json::json;

use crate::review::Browser;

const DEVICE: &str = "0190a000-0000-7000-8000-00000000001b";

#[test]
fn an_upload_with_text_the_documents_cannot_render_is_refused_and_not_stored() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.answered_trade(FACTORY, LI);
    // A crafted device writes the note straight into the document, past core's input check.
    zhang
        .store
        .update_record(&id, |doc, record| {
            let (item, answer) = record.answers.iter().next().unwrap();
            let mut answer = answer.clone();
            answer.note = Some("护栏缺失😀".into());
            doc.put_answer(item, &answer)
        })
        .unwrap();
    let report = zhang.sync().unwrap();
    let outcome = report.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(outcome.code.as_deref(), Some("invalid_text"), "{outcome:?}");
    let message = outcome.message.as_deref().unwrap();
    assert!(
        message.contains("备注") && message.contains("“😀”（U+1F600）"),
        "{message}"
    );
    assert!(server.store.record(&id).unwrap().is_none());
}

#[test]
fn review_forms_refuse_a_foreign_origin_or_a_missing_token() {
    let server = Server::start();
    let mut town = Browser::new(&server.url);
    town.get("/review/login");
    // A login posted from another site (another port of the same host is another origin).
    let login = format!("login=town&password={}", anjian_e2e::PASSWORD);
    let (status, headers, page) =
        town.post_raw("/review/login", &login, Some("http://127.0.0.1:1"));
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("其他网站"), "{page}");
    assert!(headers.get("set-cookie").is_none());
    // Without the login page's token.
    let (status, _, _) = town.post_raw("/review/login", &login, None);
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = town.login("town", anjian_e2e::PASSWORD);
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = town.get("/review/records");
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("name=\"csrf\""),
        "the logout form carries the token"
    );
    for (body, origin) in [
        // The session's cookie rides along, but the origin is foreign.
        ("", Some("http://evil.example")),
        ("", Some("null")),
        // Same origin (or none, as a script sends it), but no token or a wrong one.
        ("", None),
        ("csrf=00000000000000000000000000000000", None),
    ] {
        let (status, _, page) = town.post_raw("/review/logout", body, origin);
        assert_eq!(status, StatusCode::FORBIDDEN, "{body} {origin:?}: {page}");
    }
    let (status, _, _) = town.get("/review/records");
    assert_eq!(
        status,
        StatusCode::OK,
        "the session survived every forged logout"
    );
    // The page's own form, from the page's own origin, works.
    let (status, _, _) = town.post_form("/review/logout", "");
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = town.get("/review/records");
    assert_eq!(status, StatusCode::SEE_OTHER, "logged out");
}

/// Status, headers and body of a request as it is, without following redirects.
fn raw(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, String) {
    block_on(async {
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        (
            response.status().as_u16(),
            headers,
            response.text().await.unwrap(),
        )
    })
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

#[test]
fn every_answer_says_nosniff_documents_carry_a_policy_and_transport_errors_are_json() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.answered_trade(FACTORY, LI);
    zhang
        .store
        .issue_document(
            &id,
            anjian_core::agency::DocType::Record,
            chrono::Utc::now(),
        )
        .unwrap();
    zhang.sync().unwrap();
    let api = Api::new(&server.url);
    let token = api.login("zhang", DEVICE);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| format!("{}{path}", server.url);

    let (status, headers, _) = raw(http
        .get(url(&format!("/api/v1/records/{id}/documents/record")))
        .bearer_auth(&token));
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(
        header(&headers, "content-security-policy").contains("default-src 'none'"),
        "{headers:?}"
    );
    for path in [
        "/api/v1/health",
        "/api/v1/openapi.json",
        "/review/login",
        "/review/static/review.css",
        "/api/v1/no-such-thing",
    ] {
        let (_, headers, _) = raw(http.get(url(path)));
        assert_eq!(
            header(&headers, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
    }

    // Errors axum raises before a handler runs, answered in the API's form.
    let long = format!("/api/v1/records?enterprise={}", "9".repeat(9000));
    let (status, headers, body) = raw(http.get(url(&long)).bearer_auth(&token));
    assert_eq!(status, 414, "{body}");
    assert!(header(&headers, "content-type").starts_with("application/json"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], json!("uri_too_long"), "{body}");
    let (status, headers, body) = raw(http.get(url("/api/v1/records/%FF%FE")).bearer_auth(&token));
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(
        header(&headers, "content-type").starts_with("application/json"),
        "{body}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    // A review form over the limit is an error page, not bare text.
    let mut browser = Browser::new(&server.url);
    browser.get("/review/login");
    let (status, headers, _) =
        browser.post_form("/review/login", &format!("login={}", "a".repeat(64 * 1024)));
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(header(&headers, "content-type").starts_with("text/html"));
}

#[test]
fn the_password_policy_holds_on_the_admin_api() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let admin = api.login("admin", DEVICE);
    let account = |login: &str, password: &str| {
        json!({ "login": login, "name": "王芳", "role": "town_supervisor", "scope": "370303007",
                "password": password })
    };
    for (login, password, wanted) in [
        ("wangfang", "12345678", "常见"),
        ("wangfang", "password", "常见"),
        (
            "wangfang",
            "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}",
            "U+0000",
        ),
        ("wangfang", "WangFang", "账号"),
        ("wangfang", "安全生产检查", "至少 8 个字符"),
    ] {
        let (status, body) = api.post_json(
            "/api/v1/admin/users",
            Some(&admin),
            &account(login, password),
        );
        assert_eq!(status, 400, "{password:?}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(wanted),
            "{password:?}: {body}"
        );
    }
    let (status, body) = api.post_json(
        "/api/v1/admin/users",
        Some(&admin),
        &account("wangfang", "安全生产执法检查员"),
    );
    assert_eq!(status, 201, "{body}");
}
