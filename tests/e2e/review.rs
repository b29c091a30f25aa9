//! The review pages over plain HTTP: sessions, redirects, headers and scope, which the browser
//! test (browser.rs) does not reach.

use anjian_core::agency::DocType;
use anjian_e2e::{Device, FACTORY, LI, PASSWORD, Server, block_on};
use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN,
    SET_COOKIE,
};

pub(crate) struct Browser {
    base: String,
    http: reqwest::Client,
    /// The cookies the server set, as a browser keeps them (name, value).
    cookies: Vec<(String, String)>,
    /// The form token of the last page that carried one, as its forms would post it.
    form_token: Option<String>,
}

impl Browser {
    pub(crate) fn new(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
            form_token: None,
        }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Keeps the cookies an answer sets and the form token of a page.
    fn remember(&mut self, headers: &reqwest::header::HeaderMap, body: &str) {
        for cookie in headers.get_all(SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            let (name, value) = cookie.split(';').next().unwrap().split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !cookie.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        if let Some(start) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[start + "name=\"csrf\" value=\"".len()..];
            self.form_token = Some(rest[..rest.find('"').unwrap()].to_string());
        }
    }

    pub(crate) fn get(&mut self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookie_header() {
            request = request.header(COOKIE, cookie);
        }
        let (status, headers, body) = block_on(async {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            (response.status(), headers, response.text().await.unwrap())
        });
        self.remember(&headers, &body);
        (status, headers, body)
    }

    /// A download as it is, bytes and all (`get` reads the body as text).
    pub(crate) fn get_bytes(
        &mut self,
        path: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookie_header() {
            request = request.header(COOKIE, cookie);
        }
        block_on(async {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            (
                response.status(),
                headers,
                response.bytes().await.unwrap().to_vec(),
            )
        })
    }

    /// Posts a form as the last page's form would: with the page's token.
    pub(crate) fn post_form(
        &mut self,
        path: &str,
        body: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let body = match &self.form_token {
            Some(token) if !body.contains("csrf=") => {
                format!(
                    "{body}{}csrf={token}",
                    if body.is_empty() { "" } else { "&" }
                )
            }
            _ => body.to_string(),
        };
        self.post_raw(path, &body, None)
    }

    /// Posts exactly `body`, with an `Origin` header when given.
    pub(crate) fn post_raw(
        &mut self,
        path: &str,
        body: &str,
        origin: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some(cookie) = self.cookie_header() {
            request = request.header(COOKIE, cookie);
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        let (status, headers, body) = block_on(async {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            (response.status(), headers, response.text().await.unwrap())
        });
        self.remember(&headers, &body);
        (status, headers, body)
    }

    /// Opens the login page and logs in through its form.
    pub(crate) fn login(
        &mut self,
        login: &str,
        password: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap) {
        self.get("/review/login");
        let (status, headers, _) = self.post_form(
            "/review/login",
            &format!("login={login}&password={password}&next=%2Freview%2Frecords"),
        );
        (status, headers)
    }
}

fn location(headers: &reqwest::header::HeaderMap) -> &str {
    headers.get(LOCATION).unwrap().to_str().unwrap()
}

#[test]
fn pages_ask_for_a_login_and_a_session_is_an_httponly_cookie_until_logout() {
    let server = Server::start();
    let mut browser = Browser::new(&server.url);

    let (status, headers, _) = browser.get("/review/records?page=2");
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&headers),
        "/review/login?next=/review/records%3Fpage%3D2"
    );
    let (status, _, page) = browser.get("/review/login");
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("账号") && page.contains("密码"));

    let (status, headers) = browser.login("town", "wrong");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(SET_COOKIE).is_none());

    // A login never sends the browser off the site.
    let (status, headers, _) = browser.post_form(
        "/review/login",
        &format!("login=town&password={PASSWORD}&next=https%3A%2F%2Fevil.example%2F"),
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/review/records");

    let (status, headers) = browser.login("town", PASSWORD);
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/review"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let (status, headers, page) = browser.get("/review/records");
    assert_eq!(status, StatusCode::OK, "{page}");
    let policy = headers
        .get(CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(page.contains("钱镇监") && page.contains("没有符合条件的检查记录"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing from elsewhere"
    );
    let (status, _, css) = browser.get("/review/static/review.css");
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("font"));

    let (status, headers, _) = browser.post_form("/review/logout", "");
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The old cookie no longer opens anything: logging out revoked the session's token.
    let (status, headers, _) = browser.get("/review/records");
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&headers).starts_with("/review/login"));
}

#[test]
fn an_enterprise_officer_reads_the_documents_addressed_to_the_enterprise_and_nothing_else() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    let number = zhang
        .store
        .issue_document(&id, DocType::Record, Utc::now())
        .unwrap()
        .number;
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    zhang.sync().unwrap();

    let mut officer = Browser::new(&server.url);
    officer.login("officer", PASSWORD);
    let (status, _, page) = officer.get("/review/records");
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains(&id),
        "an enforcement inspection is not the officer's record to review"
    );
    let (status, _, page) = officer.get(&format!("/review/records/{id}"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("未找到记录"), "{page}");
    let (status, headers, html) = officer.get(&format!("/review/records/{id}/documents/record"));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&number));
    assert!(
        headers
            .get(CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let (status, headers, _) = officer.get(&format!("/review/records/{id}/documents/record/pdf"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "application/pdf");
    // An ASCII name for old clients, the document's Chinese title and number for the rest
    // (现 is E7 8E B0 in UTF-8).
    let disposition = headers.get(CONTENT_DISPOSITION).unwrap().to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"record.pdf\"; filename*=UTF-8''%E7%8E%B0")
            && disposition.ends_with(".pdf"),
        "{disposition}"
    );
    let (status, _, _) = officer.get(&format!("/review/records/{id}/documents/order/pdf"));
    assert_eq!(status, StatusCode::NOT_FOUND, "never issued");
    let (status, _, _) = officer.get(&format!("/review/records/{id}/documents/permit"));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The town supervisor reviews it whole: the lock, the verified receipt and the number.
    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (status, _, page) = town.get(&format!("/review/records/{id}"));
    assert_eq!(status, StatusCode::OK);
    for expected in ["已锁定", "回执验证通过", number.as_str(), "张伟"] {
        assert!(page.contains(expected), "{expected} missing");
    }
}

#[test]
fn the_enterprise_archive_shows_permits_staff_and_history_within_scope() {
    use anjian_server::admin::import_reference;
    use anjian_server::store::ImportKind;

    let server = Server::start();
    let store = server.store.as_ref();
    import_reference(
        store,
        ImportKind::Permits,
        "permits.csv",
        format!(
            "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至\n\
             {FACTORY},安全生产许可证,(鲁)WH安许证字〔2019〕030001号,山东省应急管理厅,2019-01-01,2021-12-31\n\
             {FACTORY},安全生产许可证,(鲁)WH安许证字〔2022〕030001号,山东省应急管理厅,2022-01-01,2099-12-31\n"
        )
        .as_bytes(),
    )
    .unwrap();
    import_reference(
        store,
        ImportKind::Staff,
        "staff.csv",
        format!(
            "统一社会信用代码,人员类别,姓名,证书编号,证书类型,有效期至\n\
             {FACTORY},主要负责人,陈晓东,GM-3703-2023-00871,工贸行业主要负责人安全生产知识和管理能力考核合格证,2099-08-31\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    zhang
        .store
        .answer_item(
            &id,
            "IT-002",
            "fail",
            &anjian_core::inspection::AnswerDetails {
                note: Some("配电箱门未关闭".into()),
                deadline: chrono::NaiveDate::from_ymd_opt(2030, 6, 30),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
    zhang.sync().unwrap();

    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (status, _, list) = town.get("/review/enterprises");
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(FACTORY));
    assert!(
        !list.contains(anjian_e2e::FOREIGN_FACTORY),
        "another district's enterprise is not listed"
    );
    let (status, _, page) = town.get(&format!("/review/enterprises/{FACTORY}"));
    assert_eq!(status, StatusCode::OK, "{page}");
    for expected in [
        "淄博齐林电力设备制造有限公司",
        "(鲁)WH安许证字〔2019〕030001号",
        "badge bad\">已过期",
        "(鲁)WH安许证字〔2022〕030001号",
        "badge ok\">有效",
        "陈晓东",
        "IT-002",
        "2030-06-30",
        id.as_str(),
    ] {
        assert!(
            page.contains(expected),
            "{expected} missing from the archive"
        );
    }
    let (status, _, _) = town.get(&format!(
        "/review/enterprises/{}",
        anjian_e2e::FOREIGN_FACTORY
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = town.get("/review/enterprises/913703039999999999");
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The enterprise's own officer sees its archive, without the enforcement inspection's
    // findings (they reach it as the issued documents).
    let mut officer = Browser::new(&server.url);
    officer.login("officer", PASSWORD);
    let (status, _, page) = officer.get(&format!("/review/enterprises/{FACTORY}"));
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("陈晓东"));
    assert!(!page.contains("2030-06-30") && !page.contains(&id));
}

/// A submitted enforcement inspection with a hazard at each of `failing`.
fn submitted_with_hazards(
    device: &mut Device,
    enterprise: &str,
    colleague: &str,
    failing: &[&str],
) {
    let id = device.start_trade(enterprise, colleague);
    device.answer_required(&id, 0, 1);
    for item in failing {
        device
            .store
            .answer_item(
                &id,
                item,
                "fail",
                &anjian_core::inspection::AnswerDetails {
                    deadline: chrono::NaiveDate::from_ymd_opt(2030, 6, 30),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap();
    }
    device.store.submit_inspection(&id, Utc::now()).unwrap();
    device.sync().unwrap();
}

/// The CSV export's rows without the header: (code, name, count, share).
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let body = body.strip_prefix('\u{feff}').expect("a BOM for Excel");
    body.lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_hazard_analysis_counts_submitted_records_in_scope_and_exports_them() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    submitted_with_hazards(&mut zhang, FACTORY, LI, &["IT-001", "IT-002"]);
    // A draft's hazards are not counted.
    let draft = zhang.start_trade(FACTORY, LI);
    zhang
        .store
        .answer_item(
            &draft,
            "IT-004",
            "fail",
            &anjian_core::inspection::AnswerDetails {
                deadline: chrono::NaiveDate::from_ymd_opt(2030, 6, 30),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
    zhang.sync().unwrap();
    let mut chen = Device::logged_in(&server.url, "chen");
    submitted_with_hazards(
        &mut chen,
        anjian_e2e::FOREIGN_FACTORY,
        anjian_e2e::WU,
        &["IT-005"],
    );

    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (status, headers, csv) = town.get("/review/analyses/hazards?by=town&format=csv");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(CONTENT_TYPE).unwrap(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        csv_rows(&csv),
        [["370303007", "科苑街道", "2", "1"]],
        "only the town's submitted hazards"
    );

    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    let (_, _, csv) = city.get("/review/analyses/hazards?by=district&format=csv");
    assert_eq!(
        csv_rows(&csv),
        [
            ["370303", "张店区", "2", "0.6667"],
            ["370302", "淄川区", "1", "0.3333"]
        ]
    );
    let (_, _, csv) = city.get("/review/analyses/hazards?by=kind&kind=self&format=csv");
    assert_eq!(
        csv_rows(&csv),
        Vec::<Vec<String>>::new(),
        "no self-inspections"
    );
    let (status, headers, _) = city.get("/review/analyses/hazards?by=industry&format=xlsx");
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers
            .get(CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let (status, _, page) = city.get("/review/analyses/hazards?by=month");
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-chart=\"line\"") && page.contains("id=\"total\">3<"));
    // The JSON API gives the same table to a bearer token, within the same scope.
    let api = anjian_e2e::Api::new(&server.url);
    let token = api.login("district", "0190a000-0000-7000-8000-0000000000a1");
    let (status, table) = api.get("/api/v1/analyses/hazards?by=district", Some(&token));
    assert_eq!(status, 200, "{table}");
    assert_eq!(
        table["rows"],
        serde_json::json!([{"key": "370303", "name": "张店区", "hazards": 2, "share": 1.0}]),
        "张店区's supervisor sees only 张店区"
    );
    let (status, _) = api.get("/api/v1/analyses/hazards?by=district", None);
    assert_eq!(status, 401);
    let (status, _, page) = city.get("/review/analyses/hazards?by=weekday");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("分组方式 weekday 无效"));
}

/// The factory's officer runs this month's self-inspection, submits and syncs it.
fn officer_self_inspection(server: &Server) -> (Device, String) {
    let mut officer = Device::logged_in(&server.url, "officer");
    let id = officer.start_self_inspection(FACTORY);
    officer.answer_required(&id, 0, 1);
    officer.store.submit_inspection(&id, Utc::now()).unwrap();
    officer.sync().unwrap();
    (officer, id)
}

#[test]
fn the_monthly_self_inspection_analysis_lists_who_reported_and_who_did_not() {
    use chrono::Datelike;

    let server = Server::start();
    // The enterprise's officer runs this month's self-inspection and submits it at once.
    let (officer, id) = officer_self_inspection(&server);
    assert!(officer.store.is_locked(&id).unwrap());

    let today = anjian_core::time::china_date(Utc::now());
    let this_month = format!("{}-{:02}", today.year(), today.month());
    // Two months back is closed whatever today's date (its deadline was last month).
    let previous = today.with_day(1).unwrap().pred_opt().unwrap();
    let before = previous.with_day(1).unwrap().pred_opt().unwrap();
    let last_month = format!("{}-{:02}", before.year(), before.month());

    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (status, _, page) = town.get(&format!(
        "/review/analyses/self-inspections?from={this_month}&until={this_month}"
    ));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("data-chart=\"stacked-bar\""));
    assert!(
        page.contains("id=\"enterprises\">1<"),
        "科苑街道 has one enterprise"
    );
    assert!(page.contains(&format!(
        "<td data-column=\"month\">{this_month}</td><td data-column=\"on_time\" class=\"num\">1</td>"
    )));

    // That month nobody reported: every enterprise of the city is on the city's list, and only
    // 科苑街道's one enterprise on the town's.
    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    let (status, _, csv) = city.get(&format!(
        "/review/analyses/self-inspections?from={last_month}&until={last_month}&format=csv"
    ));
    assert_eq!(status, StatusCode::OK);
    let rows = csv_rows(&csv);
    let demo_enterprises = anjian_e2e::DEMO_CSV.lines().skip(1).count();
    assert_eq!(rows.len(), demo_enterprises, "{csv}");
    assert!(rows.iter().all(|r| r[0] == last_month && r[4] == "未报"));
    let (_, _, csv) = town.get(&format!(
        "/review/analyses/self-inspections?from={last_month}&until={last_month}&format=csv"
    ));
    assert_eq!(csv_rows(&csv).len(), 1);
    let (status, _, page) = city.get("/review/analyses/self-inspections?from=2026-13");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("YYYY-MM"));
}

#[test]
fn the_hotline_and_mailbox_are_counted_within_scope() {
    use anjian_server::admin::import_reference;
    use anjian_server::store::ImportKind;

    let server = Server::start();
    let store = server.store.as_ref();
    import_reference(
        store,
        ImportKind::Hotline,
        "hotline.csv",
        "工单编号,受理时间,区县代码,行业,类别,统一社会信用代码,内容摘要,办理状态\n\
         12350-20250301-0007,2025-03-01 09:42,370305,,举报,913703050534640908,反映厂区夜间有刺鼻气味,已办结\n\
         12350-20250305-0012,2025-03-05,370303,其他,咨询,,咨询动火作业审批流程,已办结\n\
         12350-20250311-0003,2025-03-11 21:15:30,370303,工贸,投诉,913703030226339277,投诉车间未配发防护用品,处理中\n\
         12350-20250402-0001,2025-04-02,370303,工贸,投诉,,投诉粉尘,待处理\n"
            .as_bytes(),
    )
    .unwrap();
    import_reference(
        store,
        ImportKind::Mailbox,
        "mailbox.csv",
        "信件编号,收信日期,类型,区县代码,内容摘要,办理状态\n\
         JZXX-2025-0031,2025-03-02,建议,,建议增设应急避难场所指示牌,待处理\n\
         JZXX-2025-0032,2025-03-06,投诉,370303,投诉夜间施工噪声,处理中\n\
         JZXX-2025-0040,2025-03-18,咨询,370305,咨询职业病危害项目申报时限,已办结\n\
         JZXX-2025-0051,2025-04-01,投诉,370303,投诉粉尘,待处理\n"
            .as_bytes(),
    )
    .unwrap();

    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    let (status, _, page) = city.get("/review/analyses/public");
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"hotline-total\">4<") && page.contains("id=\"mailbox-total\">4<"));
    assert!(page.contains("data-chart=\"pie\"") && page.contains("data-chart=\"stacked-bar\""));
    let (_, _, csv) = city.get("/review/analyses/public?by=category&format=csv");
    assert_eq!(
        csv_rows(&csv),
        [
            ["投诉", "投诉", "2", "0.5"],
            ["举报", "举报", "1", "0.25"],
            ["咨询", "咨询", "1", "0.25"]
        ]
    );
    let (_, _, csv) = city.get("/review/analyses/public?by=district&until=2025-03-31&format=csv");
    assert_eq!(
        csv_rows(&csv),
        [
            ["370303", "张店区", "2", "0.6667"],
            ["370305", "临淄区", "1", "0.3333"]
        ],
        "March only"
    );
    assert!(page.contains("<td data-column=\"month\">2025-03</td><td data-column=\"suggestions\" class=\"num\">1</td><td data-column=\"complaints\" class=\"num\">1</td><td data-column=\"enquiries\" class=\"num\">1</td>"));

    // 张店区 sees its district's hotline reports and letters, not 临淄区's nor the city-wide letter.
    let mut district = Browser::new(&server.url);
    district.login("district", PASSWORD);
    let (_, _, page) = district.get("/review/analyses/public");
    assert!(page.contains("id=\"hotline-total\">3<"), "{page}");
    assert!(page.contains("id=\"mailbox-total\">2<"));
    let (status, _, _) = district.get("/review/analyses/public?by=weekday");
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn duty_leader_attendance_is_a_rate_per_industry_and_month() {
    use anjian_server::admin::import_reference;
    use anjian_server::store::ImportKind;

    let server = Server::start();
    import_reference(
        server.store.as_ref(),
        ImportKind::Attendance,
        "attendance.csv",
        "统一社会信用代码,日期,班次,带班领导,是否在岗\n\
         91370302016480894K,2025-03-01,白班,赵德明,是\n\
         91370302016480894K,2025-03-01,夜班,钱志刚,否\n\
         91370302016480894K,2025-03-02,白班,赵德明,是\n\
         91370302016480894K,2025-03-02,夜班,钱志刚,是\n\
         913703050534640908,2025-03-01,白班,王建国,否\n"
            .as_bytes(),
    )
    .unwrap();
    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    let (status, _, page) = city.get("/review/analyses/attendance");
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"shifts\">5<") && page.contains("id=\"present\">3<"));
    assert!(page.contains("id=\"rate\">60.0%<") && page.contains("data-chart=\"line\""));
    let (_, _, csv) = city.get("/review/analyses/attendance?format=csv");
    assert_eq!(
        csv_rows(&csv),
        [
            ["2025-03", "危险化学品", "1", "0", "0"],
            ["2025-03", "非煤矿山", "4", "3", "0.75"]
        ]
    );
    // 张店区 has neither enterprise.
    let mut district = Browser::new(&server.url);
    district.login("district", PASSWORD);
    let (_, _, page) = district.get("/review/analyses/attendance");
    assert!(page.contains("id=\"shifts\">0<") && page.contains("无数据"));
}

#[test]
fn towns_are_ranked_by_coverage_and_graded_from_their_indicators() {
    let server = Server::start();
    // 科苑街道's one enterprise: an enforcement inspection that found hazards, and its own
    // self-inspection that found none, both this month.
    let mut zhang = Device::logged_in(&server.url, "zhang");
    submitted_with_hazards(&mut zhang, FACTORY, LI, &["IT-001"]);
    officer_self_inspection(&server);

    // The period: this month so far, whatever today's date.
    use chrono::Datelike;
    let today = anjian_core::time::china_date(Utc::now());
    let period = format!("from={}&until={today}", today.with_day(1).unwrap());

    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (status, _, csv) = town.get(&format!("/review/analyses/coverage?{period}&format=csv"));
    assert_eq!(status, StatusCode::OK, "{csv}");
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 1, "the town's own row: {csv}");
    // rank, code, name, enterprises, then covered and rate for self, resident, expert,
    // enforcement.
    assert_eq!(
        rows[0],
        [
            "1",
            "370303007",
            "科苑街道",
            "1",
            "1",
            "1",
            "0",
            "0",
            "0",
            "0",
            "1",
            "1"
        ]
    );

    let (status, _, csv) = town.get(&format!("/review/analyses/grading?{period}&format=csv"));
    assert_eq!(status, StatusCode::OK);
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 1);
    // With data: self upload 1 (this month's is in), self pass 1, enforcement coverage 1 and
    // pass 0 (it found a hazard), expert coverage 0, health declarations 0. Their weights
    // (15, 10, 15, 10, 10, 5) make 65, of which 40 earned: 61.54 → C.
    assert_eq!(rows[0][..5], ["1", "370303007", "科苑街道", "C", "61.54"]);
    assert_eq!(
        rows[0][5..],
        ["1", "1", "1", "0", "0", "", "", "", "0", ""],
        "rates, empty where there is no data"
    );
    let (status, _, page) = town.get(&format!("/review/analyses/grading?{period}"));
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("科苑街道：<span class=\"grade\">C</span> 级，61.54 分"));
    assert!(page.contains("无数据") && page.contains("data-chart=\"bar\""));

    // The city sees every town with an enterprise, ranked.
    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    let (_, _, csv) = city.get(&format!("/review/analyses/coverage?{period}&format=csv"));
    let rows = csv_rows(&csv);
    assert!(rows.len() > 1);
    assert_eq!(
        rows[0][1], "370303007",
        "the only town with an enforcement inspection leads"
    );
    let (_, _, csv) = city.get(&format!(
        "/review/analyses/coverage?{period}&level=district&format=csv"
    ));
    assert_eq!(csv_rows(&csv)[0][1..3], ["370303", "张店区"]);
    let (status, _, _) = city.get("/review/analyses/grading?format=pdf");
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn certificates_and_permit_overdue_rates_are_counted_within_scope() {
    use anjian_server::admin::import_reference;
    use anjian_server::store::ImportKind;

    let server = Server::start();
    let store = server.store.as_ref();
    import_reference(
        store,
        ImportKind::Staff,
        "staff.csv",
        format!(
            "统一社会信用代码,人员类别,姓名,证书编号,证书类型,有效期至\n\
             {FACTORY},主要负责人,陈晓东,GM-1,主要负责人考核合格证,2099-08-31\n\
             {FACTORY},特种作业人员,王磊,T-1,低压电工作业,2020-01-31\n\
             913703050534640908,安全管理人员,刘芳,GM-2,安全管理人员考核合格证,2099-11-30\n"
        )
        .as_bytes(),
    )
    .unwrap();
    import_reference(
        store,
        ImportKind::Permits,
        "permits.csv",
        "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至\n\
         913703050534640908,安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2021-06-01,2024-05-31\n\
         913703050534640908,安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2024-06-01,2099-05-31\n\
         91370305030246631A,安全生产许可证,(鲁)WH安许证字〔2021〕030013号,山东省应急管理厅,2021-01-01,2024-03-01\n"
            .as_bytes(),
    )
    .unwrap();

    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    let (status, _, csv) = city.get("/review/analyses/certificates?on=2026-01-01&format=csv");
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(
        csv_rows(&csv),
        [
            ["主要负责人", "1", "1", "0", "0", "1"],
            ["安全管理人员", "1", "1", "0", "0", "1"],
            ["特种作业人员", "1", "0", "0", "1", "0"]
        ]
    );
    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (_, _, csv) = town.get("/review/analyses/certificates?on=2026-01-01&format=csv");
    assert_eq!(csv_rows(&csv).len(), 2, "科苑街道's factory only: {csv}");

    // 2024 in 临淄区: one permit renewed the next day, one never: 1 of 2 overdue.
    let (status, _, csv) = city.get("/review/analyses/permits?format=csv");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv_rows(&csv),
        [[
            "2024",
            "危险化学品",
            "2",
            "1",
            "0.5",
            "0.5",
            "临淄区",
            "0.5",
            "0.5"
        ]]
    );
    let (_, _, page) = town.get("/review/analyses/permits");
    assert!(page.contains("<table id=\"permits\">") && !page.contains("临淄区"));
    let (status, _, _) = city.get("/review/analyses/certificates?on=someday");
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn hazard_tracking_follows_rectification_by_reinspection() {
    use anjian_core::agency::DocType;
    use anjian_core::inspection::{AnswerDetails, CoInspector};

    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    let today = anjian_core::time::china_date(Utc::now());
    let soon = today + chrono::Duration::days(3);
    let later = chrono::NaiveDate::from_ymd_opt(2030, 6, 30).unwrap();
    for (item, deadline) in [("IT-001", later), ("IT-002", later), ("IT-003", soon)] {
        zhang
            .store
            .answer_item(
                &id,
                item,
                "fail",
                &AnswerDetails {
                    deadline: Some(deadline),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap();
    }
    for doc_type in [DocType::Record, DocType::Order] {
        zhang
            .store
            .issue_document(&id, doc_type, Utc::now())
            .unwrap();
    }
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    zhang.sync().unwrap();

    // The follow-up visit: IT-001 rectified, IT-002 not (a new deadline).
    let reinspection = zhang
        .store
        .start_reinspection(&id, &[CoInspector::parse(LI).unwrap()], None, Utc::now())
        .unwrap()
        .id;
    zhang
        .store
        .answer_item(
            &reinspection,
            "IT-001",
            "pass",
            &AnswerDetails::default(),
            Utc::now(),
        )
        .unwrap();
    for item in ["IT-002", "IT-003"] {
        zhang
            .store
            .answer_item(
                &reinspection,
                item,
                "fail",
                &AnswerDetails {
                    deadline: Some(later),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap();
    }
    zhang
        .store
        .submit_inspection(&reinspection, Utc::now())
        .unwrap();
    zhang.sync().unwrap();
    assert!(zhang.store.is_locked(&reinspection).unwrap());

    let mut town = Browser::new(&server.url);
    town.login("town", PASSWORD);
    let (status, _, page) = town.get("/review/hazards");
    assert_eq!(status, StatusCode::OK, "{page}");
    for expected in [
        "id=\"count-rectified\">已整改：1<",
        "id=\"count-due\">7 日内到期：1<",
        "id=\"count-open\">整改中：1<",
        "id=\"count-overdue\">已逾期：0<",
    ] {
        assert!(page.contains(expected), "{expected} missing");
    }
    // The list to act on leaves the rectified one out, due soon first.
    let (_, _, csv) = town.get("/review/hazards?format=csv");
    let rows = csv_rows(&csv);
    let listed: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(listed, [("7 日内到期", "IT-003"), ("整改中", "IT-002")]);
    let (_, _, csv) = town.get("/review/hazards?state=rectified&format=csv");
    assert_eq!(csv_rows(&csv)[0][4], "IT-001");
    // By town: one row, a third rectified; the re-inspection adds no hazards of its own.
    let (_, _, page) = town.get("/review/hazards?by=town");
    assert!(page.contains("<td data-column=\"name\">科苑街道</td>"));
    assert!(page.contains("<td data-column=\"total\" class=\"num\">3</td>"));
    // Another district sees none of it.
    let mut foreign = Browser::new(&server.url);
    foreign.login("foreign_town", PASSWORD);
    let (_, _, page) = foreign.get("/review/hazards");
    assert!(page.contains("id=\"count-open\">整改中：0<"));
    let (status, _, _) = town.get("/review/hazards?state=gone");
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn a_self_inspection_hazard_the_officer_rechecks_pass_stands_rectified() {
    use anjian_core::inspection::AnswerDetails;
    use anjian_server::store::RecordScope;

    let server = Server::start();
    let mut officer = Device::logged_in(&server.url, "officer");
    let id = officer.start_self_inspection(FACTORY);
    officer.answer_required(&id, 0, 1);
    let later = chrono::NaiveDate::from_ymd_opt(2030, 6, 30).unwrap();
    let with_deadline = AnswerDetails {
        deadline: Some(later),
        ..Default::default()
    };
    for item in ["SI-002", "SI-003"] {
        officer
            .store
            .answer_item(&id, item, "fail", &with_deadline, Utc::now())
            .unwrap();
    }
    officer.store.submit_inspection(&id, Utc::now()).unwrap();
    officer.sync().unwrap();

    // The officer re-checks both, without any order: SI-002 rectified, SI-003 not yet.
    let reinspection = officer
        .store
        .start_reinspection(&id, &[], None, Utc::now())
        .unwrap()
        .id;
    officer
        .store
        .answer_item(
            &reinspection,
            "SI-002",
            "pass",
            &AnswerDetails::default(),
            Utc::now(),
        )
        .unwrap();
    officer
        .store
        .answer_item(&reinspection, "SI-003", "fail", &with_deadline, Utc::now())
        .unwrap();
    officer
        .store
        .submit_inspection(&reinspection, Utc::now())
        .unwrap();
    officer.sync().unwrap();
    assert!(officer.store.is_locked(&reinspection).unwrap());

    let standings: Vec<(String, bool)> = server
        .store
        .hazard_statuses(&RecordScope::All)
        .unwrap()
        .into_iter()
        .map(|h| {
            assert_eq!(
                (h.record_id.as_str(), h.inspection_kind.as_str()),
                (id.as_str(), "self")
            );
            (h.item, h.rectified_at.is_some())
        })
        .collect();
    assert_eq!(
        standings,
        [("SI-002".to_string(), true), ("SI-003".to_string(), false)],
        "the re-inspection's own outstanding hazard is not counted again"
    );

    // The same through the API, for the officer and for the town's supervisor.
    let api = anjian_e2e::Api::new(&server.url);
    for (login, device) in [
        ("officer", "0190a000-0000-7000-8000-0000000000b1"),
        ("town", "0190a000-0000-7000-8000-0000000000b2"),
    ] {
        let token = api.login(login, device);
        for (query, standing, item) in [
            ("", "整改中", "SI-003"),
            ("?state=rectified", "已整改", "SI-002"),
        ] {
            let (status, body) = api.get(&format!("/api/v1/hazards{query}"), Some(&token));
            assert_eq!(status, 200, "{login}: {body}");
            let rows = body["tables"][0]["rows"].as_array().unwrap();
            assert_eq!(rows.len(), 1, "{login}{query}: {body}");
            assert_eq!(rows[0]["item"], item, "{login}{query}");
            assert_eq!(rows[0]["standing"], standing, "{login}{query}");
        }
    }
}

#[test]
fn every_analysis_is_also_a_json_api_for_a_bearer_token() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    submitted_with_hazards(&mut zhang, FACTORY, LI, &["IT-001"]);
    let api = anjian_e2e::Api::new(&server.url);
    let token = api.login("district", "0190a000-0000-7000-8000-0000000000a2");
    for path in [
        "/api/v1/analyses/self-inspections",
        "/api/v1/analyses/public",
        "/api/v1/analyses/attendance",
        "/api/v1/analyses/coverage",
        "/api/v1/analyses/grading",
        "/api/v1/analyses/certificates",
        "/api/v1/analyses/permits",
        "/api/v1/hazards",
    ] {
        let (status, body) = api.get(path, Some(&token));
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            body["tables"].as_array().is_some_and(|t| !t.is_empty()),
            "{path}: {body}"
        );
        let (status, body) = api.get(path, None);
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthorized")),
            "{path}"
        );
    }
    // This month so far: the default period is the twelve closed months before it.
    use chrono::Datelike;
    let today = anjian_core::time::china_date(Utc::now());
    let (_, body) = api.get(
        &format!(
            "/api/v1/analyses/coverage?level=district&from={}&until={today}",
            today.with_day(1).unwrap()
        ),
        Some(&token),
    );
    let rows = body["tables"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "张店区 only: {body}");
    assert_eq!(rows[0]["code"], "370303");
    // 张店区 has three enterprises in the demo register; one was inspected.
    assert_eq!(rows[0]["enterprises"], 3);
    assert_eq!(rows[0]["enforcement_covered"], 1);
    assert!((rows[0]["enforcement_coverage"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let (_, body) = api.get("/api/v1/hazards", Some(&token));
    assert_eq!(body["tables"][0]["rows"][0]["item"], "IT-001");
    assert_eq!(body["page"]["total"], 1, "{body}");
    // A page past the end is empty but still counts them all; a bad page is refused.
    let (status, body) = api.get("/api/v1/hazards?offset=1&limit=10", Some(&token));
    assert_eq!(status, 200);
    assert_eq!(body["tables"][0]["rows"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        (
            body["page"]["total"].as_i64(),
            body["page"]["offset"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let (status, body) = api.get("/api/v1/analyses/self-inspections?limit=1", Some(&token));
    assert_eq!(status, 200, "{body}");
    let listed = body["tables"][0]["rows"].as_array().map_or(0, Vec::len);
    let total = body["page"]["total"].as_u64().unwrap();
    assert!(listed <= 1 && listed as u64 == total.min(1), "{body}");
    assert!(
        total > 0,
        "the demo district has late or missing months: {body}"
    );
    let (status, body) = api.get("/api/v1/analyses/self-inspections?limit=9999", Some(&token));
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query"))
    );
    // The summary is paged apart from the list, most overdue first.
    let (_, body) = api.get("/api/v1/hazards", Some(&token));
    assert_eq!(body["tables"][1]["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["summary_page"]["total"], 1, "{body}");
    let (_, body) = api.get("/api/v1/hazards?summary_limit=0", Some(&token));
    assert_eq!(body["tables"][1]["rows"].as_array().map(Vec::len), Some(0));
    assert_eq!(body["tables"][0]["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            body["summary_page"]["total"].as_i64(),
            body["summary_page"]["limit"].as_i64()
        ),
        (Some(1), Some(0))
    );
    for bad in [
        "limit=5001",
        "limit=-1",
        "offset=x",
        "summary_limit=5001",
        "summary_offset=-2",
    ] {
        let (status, body) = api.get(&format!("/api/v1/hazards?{bad}"), Some(&token));
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}"
        );
    }
    // Bad input is a JSON error too, whatever format was asked for.
    let (status, body) = api.get(
        "/api/v1/analyses/grading?from=2026-02-30&format=xlsx",
        Some(&token),
    );
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_query");
    // The API answers JSON whatever format is asked for, and the very bytes the page's own
    // format=json gives the same account.
    let mut district = Browser::new(&server.url);
    district.login("district", PASSWORD);
    for (api_path, page_path) in [
        (
            "/api/v1/analyses/self-inspections?limit=1&format=csv",
            "/review/analyses/self-inspections?limit=1&format=json",
        ),
        (
            "/api/v1/analyses/public?by=industry&format=xlsx",
            "/review/analyses/public?by=industry&format=json",
        ),
        (
            "/api/v1/analyses/attendance?format=pdf",
            "/review/analyses/attendance?format=json",
        ),
        (
            "/api/v1/analyses/coverage?level=district&format=csv",
            "/review/analyses/coverage?level=district&format=json",
        ),
        (
            "/api/v1/analyses/grading?format=csv",
            "/review/analyses/grading?format=json",
        ),
        (
            "/api/v1/analyses/certificates?format=csv",
            "/review/analyses/certificates?format=json",
        ),
        (
            "/api/v1/analyses/permits?format=csv",
            "/review/analyses/permits?format=json",
        ),
        (
            "/api/v1/hazards?summary_limit=0&format=csv",
            "/review/hazards?summary_limit=0&format=json",
        ),
    ] {
        let (status, from_api) = api.get_text(api_path, Some(&token));
        assert_eq!(status, 200, "{api_path}: {from_api}");
        let (status, _, from_page) = district.get(page_path);
        assert_eq!(status, StatusCode::OK, "{page_path}: {from_page}");
        assert_eq!(from_api, from_page, "{api_path}");
    }
}
