//! Who may do what, and where: every API route of the OpenAPI document and every page,
//! for a user of every role at the participant's own site, at another site and at the
//! sponsor, and for nobody signed in. A route the matrix does not classify fails the
//! test, so a route added later must say who may use it.
//!
//! What each cell must show: a role without the capability is refused (403 for the API);
//! a site-bound user of another site gets the answer a participant that does not exist
//! gets, byte for byte (same status, same headers but `Date`, same body but the id), so
//! an answer never tells her that a study id is in use elsewhere; everyone else is let
//! through (the request may still be refused by the protocol, but not by access).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use trial::admin::NewUser;
use trial::{Actor, Capability, Role};

use crate::common::{Client, PASSWORD, TestApp, USERS};

/// What a route needs.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// Nothing: anyone, signed in or not.
    Public,
    /// Any signed-in user, whatever her role.
    SignedIn,
    /// A capability, and for a participant's route, sight of her site.
    Cap(Capability),
}

/// Who is asking, relative to the participant (of site KS).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Where {
    OwnSite,
    OtherSite,
    Sponsor,
}

/// The users of the matrix: the common test users and the roles they lack.
const EXTRA_USERS: [(&str, Role, Option<&str>); 3] = [
    ("path.uu", Role::Pathologist, Some("UU")),
    ("dm", Role::DataManager, None),
    ("director", Role::StudyDirector, None),
];

/// The capability a command needs, by its id.
fn command_cap(name: &str) -> Capability {
    trial::commands::find(name)
        .unwrap_or_else(|| panic!("no command {name}"))
        .capability
}

/// Who may use an API route, by its method and OpenAPI path; `None` for a route the
/// matrix does not know (which fails the test).
fn classify_api(method: &str, path: &str) -> Option<Need> {
    use Capability::*;
    let read = Some(Need::Cap(ReadParticipants));
    if let Some(name) = path
        .strip_prefix("/api/v1/participants/{id}/commands/")
        .filter(|n| !n.contains('/'))
        && method == "post"
    {
        return trial::commands::find(name).map(|s| Need::Cap(s.capability));
    }
    match (method, path) {
        ("post", "/api/v1/session") => Some(Need::Public),
        ("delete", "/api/v1/session") | ("get", "/api/v1/me") => Some(Need::SignedIn),
        ("get", "/api/v1/participants") => read,
        ("post", "/api/v1/participants") => Some(Need::Cap(EnterData)),
        (
            "get",
            "/api/v1/participants/{id}"
            | "/api/v1/participants/{id}/events"
            | "/api/v1/participants/{id}/eligibility"
            | "/api/v1/participants/{id}/pet/series"
            | "/api/v1/participants/{id}/pet/{timepoint}"
            | "/api/v1/participants/{id}/pet/{timepoint}/mip.png"
            | "/api/v1/participants/{id}/pet-response"
            | "/api/v1/participants/{id}/journey"
            | "/api/v1/participants/{id}/response"
            | "/api/v1/participants/{id}/imaging-jobs"
            | "/api/v1/participants/{id}/imaging-jobs/{job}",
        ) => read,
        ("post", "/api/v1/participants/{id}/pet/{timepoint}/quantify") => {
            Some(Need::Cap(QuantifyImaging))
        }
        // The batch is requested for `attestation` below.
        ("post", "/api/v1/participants/{id}/commands/{command}/batch") => {
            Some(Need::Cap(command_cap("attestation")))
        }
        ("get", "/api/v1/visits") => read,
        // Oversight: whoever sees the participant reaches the protocol, which decides by
        // role (ROLE); the study-wide routes likewise.
        (
            "get",
            "/api/v1/participants/{id}/data-points"
            | "/api/v1/participants/{id}/queries"
            | "/api/v1/participants/{id}/queries/{query_id}"
            | "/api/v1/participants/{id}/signatures"
            | "/api/v1/queries"
            | "/api/v1/study/oversight",
        ) => read,
        (
            "post",
            "/api/v1/participants/{id}/queries"
            | "/api/v1/participants/{id}/queries/{query_id}/answer"
            | "/api/v1/participants/{id}/queries/{query_id}/close"
            | "/api/v1/participants/{id}/queries/{query_id}/requery"
            | "/api/v1/participants/{id}/queries/{query_id}/cancel"
            | "/api/v1/participants/{id}/verify"
            | "/api/v1/participants/{id}/freeze"
            | "/api/v1/participants/{id}/lock"
            | "/api/v1/participants/{id}/unlock"
            | "/api/v1/participants/{id}/unfreeze"
            | "/api/v1/participants/{id}/deviations"
            | "/api/v1/participants/{id}/deviations/{deviation_id}/assess"
            | "/api/v1/study/freeze"
            | "/api/v1/study/lock"
            | "/api/v1/study/unlock"
            | "/api/v1/study/unfreeze",
        ) => read,
        ("post", "/api/v1/participants/{id}/signatures") => Some(Need::Cap(InvestigatorSign)),
        // The dashboard and the deviation list: their own site's for a site's staff.
        ("get", "/api/v1/dashboard" | "/api/v1/deviations" | "/api/v1/deviations.csv") => read,
        // Her own work list: what her role has to do over what she may see.
        ("get", "/api/v1/work") => read,
        // The study's answers: the statistician and the study director.
        ("get", "/api/v1/analyses") => Some(Need::Cap(Analyse)),
        // The DICOM receipts: everyone, a site's staff their own site's.
        ("get", "/api/v1/receipts") => Some(Need::Cap(ReadReceipts)),
        // The CTCAE dictionary is reference data, no participant's.
        ("get", "/api/v1/ctcae" | "/api/v1/ctcae/{code}") => Some(Need::SignedIn),
        // Her own password: anyone signed in.
        ("post", "/api/v1/account/password") => Some(Need::SignedIn),
        // Accounts of others: the administrator only.
        (
            "post",
            "/api/v1/admin/users/{username}/reset-password"
            | "/api/v1/admin/users/{username}/deactivate"
            | "/api/v1/admin/users/{username}/reactivate"
            | "/api/v1/admin/users/{username}/unlock"
            | "/api/v1/admin/users/{username}/role"
            | "/api/v1/admin/users/{username}/site",
        ) => Some(Need::Cap(Administer)),
        // Administration: the administrator only.
        (
            "get" | "post",
            "/api/v1/admin/users" | "/api/v1/admin/sites" | "/api/v1/admin/settings",
        ) => Some(Need::Cap(Administer)),
        _ => None,
    }
}

/// Every page route: method, path, and what it needs.
fn pages() -> Vec<(&'static str, &'static str, Need)> {
    use Capability::*;
    let read = Need::Cap(ReadParticipants);
    vec![
        ("GET", "/signin", Need::Public),
        ("GET", "/account/password", Need::SignedIn),
        ("GET", "/participants", read),
        ("GET", "/visits", read),
        ("GET", "/dashboard", read),
        ("GET", "/deviations", read),
        ("GET", "/work", read),
        ("GET", "/analyses", Need::Cap(Analyse)),
        ("GET", "/analyses/report", Need::Cap(Analyse)),
        ("GET", "/planning", Need::Cap(Analyse)),
        ("GET", "/exports", Need::Cap(Export)),
        ("GET", "/exports/odm.xml", Need::Cap(Export)),
        ("GET", "/queries", read),
        ("GET", "/receipts", Need::Cap(ReadReceipts)),
        ("GET", "/study/holds", read),
        ("POST", "/study/holds", Need::Cap(Freeze)),
        ("GET", "/participants/{id}/verify", read),
        ("POST", "/participants/{id}/verify", Need::Cap(VerifySource)),
        ("POST", "/participants/{id}/queries", Need::Cap(RaiseQuery)),
        ("GET", "/participants/{id}/holds", read),
        ("POST", "/participants/{id}/holds", Need::Cap(Freeze)),
        (
            "GET",
            "/participants/{id}/sign",
            Need::Cap(InvestigatorSign),
        ),
        (
            "POST",
            "/participants/{id}/sign",
            Need::Cap(InvestigatorSign),
        ),
        ("POST", "/participants/{id}/deviations", read),
        ("GET", "/participants/new", Need::Cap(EnterData)),
        ("POST", "/participants/new", Need::Cap(EnterData)),
        ("GET", "/participants/{id}", read),
        ("GET", "/participants/{id}/eligibility", read),
        ("GET", "/participants/{id}/timeline", read),
        (
            "GET",
            "/participants/{id}/do/consent",
            Need::Cap(command_cap("consent")),
        ),
        (
            "POST",
            "/participants/{id}/do/consent",
            Need::Cap(command_cap("consent")),
        ),
        (
            "GET",
            "/participants/{id}/do/enrol",
            Need::Cap(command_cap("enrol")),
        ),
        (
            "POST",
            "/participants/{id}/do/enrol",
            Need::Cap(command_cap("enrol")),
        ),
        (
            "POST",
            "/participants/{id}/attestations",
            Need::Cap(command_cap("attestation")),
        ),
        (
            "GET",
            "/participants/{id}/ae/new",
            Need::Cap(command_cap("adverse-event")),
        ),
        (
            "POST",
            "/participants/{id}/ae/new",
            Need::Cap(command_cap("adverse-event")),
        ),
        ("GET", "/participants/{id}/pet/pet1", read),
        ("GET", "/participants/{id}/pet/pet1/mip.png", read),
        (
            "POST",
            "/participants/{id}/pet/pet1/quantify",
            Need::Cap(QuantifyImaging),
        ),
        (
            "POST",
            "/participants/{id}/pet/pet1/review",
            Need::Cap(command_cap("pet-review")),
        ),
        (
            "POST",
            "/participants/{id}/pet/pet1/target",
            Need::Cap(command_cap("biopsy-target")),
        ),
        (
            "POST",
            "/participants/{id}/pet/pet1/response",
            Need::Cap(command_cap("pet-response")),
        ),
        ("GET", "/participants/{id}/response", read),
        (
            "POST",
            "/participants/{id}/response/baseline",
            Need::Cap(command_cap("tumour-baseline")),
        ),
        (
            "POST",
            "/participants/{id}/response/assessment",
            Need::Cap(command_cap("tumour-assessment")),
        ),
        // Administration: the administrator only. The forms are sent empty, so the
        // administrator is let through to a refusal and no cell changes anything.
        ("GET", "/admin", Need::Cap(Administer)),
        ("GET", "/admin/users", Need::Cap(Administer)),
        ("POST", "/admin/users", Need::Cap(Administer)),
        ("GET", "/admin/users/dm", Need::Cap(Administer)),
        ("POST", "/admin/users/dm/deactivate", Need::Cap(Administer)),
        ("POST", "/admin/users/dm/reactivate", Need::Cap(Administer)),
        ("POST", "/admin/users/dm/unlock", Need::Cap(Administer)),
        ("POST", "/admin/users/dm/role", Need::Cap(Administer)),
        ("POST", "/admin/users/dm/site", Need::Cap(Administer)),
        ("POST", "/admin/users/dm/password", Need::Cap(Administer)),
        ("GET", "/admin/sites", Need::Cap(Administer)),
        ("POST", "/admin/sites", Need::Cap(Administer)),
        ("GET", "/admin/settings", Need::Cap(Administer)),
        ("POST", "/admin/settings", Need::Cap(Administer)),
        ("GET", "/admin/settings/1", Need::Cap(Administer)),
    ]
}

/// An answer as the wire carried it.
#[derive(Debug)]
struct Raw {
    status: StatusCode,
    /// Every header but `Date`, in order.
    headers: Vec<(String, String)>,
    body: String,
}

async fn send(
    client: &Client,
    method: &Method,
    path: &str,
    body: Option<Value>,
    form: bool,
) -> Raw {
    let mut req = client
        .http
        .request(method.clone(), format!("{}{}", client.base, path))
        .header("x-csrf-token", &client.csrf);
    if form {
        let csrf = serde_urlencoded::to_string([("csrf", client.csrf.as_str())]).unwrap();
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(csrf);
    } else if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let headers = r
        .headers()
        .iter()
        .filter(|(k, _)| *k != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = r.text().await.unwrap_or_default();
    Raw {
        status,
        headers,
        body,
    }
}

/// A well-formed body for an API route, so that what answers is the access check, not
/// the JSON parser; never one that could be recorded.
fn api_body(method: &str, path: &str) -> Option<Value> {
    if method != "post" {
        return None;
    }
    Some(if path == "/api/v1/account/password" {
        // Refused by the password policy whoever asks: no cell changes a password, and
        // the current password is right so no cell counts towards a lockout.
        json!({"current_password": PASSWORD, "new_password": "short"})
    } else if let Some(action) = path.strip_prefix("/api/v1/admin/users/{username}/") {
        // For an account no one has: the administrator is let through to a 404, no cell
        // changes an account.
        match action {
            "reset-password" => {
                json!({"new_password": "matrix-password-long-1", "reason": "access matrix"})
            }
            "role" => json!({"role": "research_nurse", "site": "KS", "reason": "access matrix"}),
            "site" => json!({"site": "KS", "reason": "access matrix"}),
            _ => json!({"reason": "access matrix"}),
        }
    } else if let Some(body) = oversight_body(path) {
        body
    } else if path == "/api/v1/admin/users" {
        // Refused by the password policy: no cell creates an account.
        json!({"username": "matrix.user", "role": "monitor", "password": "short"})
    } else if path == "/api/v1/admin/sites" {
        // Not a site code: no cell adds a site.
        json!({"code": "k", "name": "access matrix"})
    } else if path == "/api/v1/admin/settings" {
        // The settings in force, the version not raised: no cell changes them.
        json!({"settings": protocol::Settings::default(), "reason": "access matrix"})
    } else if path.ends_with("/batch") {
        json!({"expected_version": 0, "items": []})
    } else if path.ends_with("/quantify") {
        json!({"expected_version": 0, "series_instance_uid": "1.2.3.4"})
    } else if path == "/api/v1/participants" {
        json!({"year_of_birth": 1970, "sex": "female"})
    } else {
        json!({"expected_version": 0, "data": {}})
    })
}

/// A well-formed body for an oversight route, on a version the record never had (0, or
/// -1 for the study), so whoever is let through meets a conflict and nothing is recorded.
fn oversight_body(path: &str) -> Option<Value> {
    let act = path
        .strip_prefix("/api/v1/participants/{id}/")
        .or_else(|| path.strip_prefix("/api/v1/"))?;
    let text = "access matrix";
    Some(match act {
        "queries" => json!({"expected_version": 0, "point": {"entry_id": "lab-1"}, "text": text}),
        "verify" => json!({"expected_version": 0, "entry_ids": ["lab-1"]}),
        "freeze" | "lock" | "unlock" | "unfreeze" => {
            json!({"expected_version": 0, "scope": {"scope": "participant"}, "reason": text})
        }
        "study/freeze" | "study/lock" | "study/unlock" | "study/unfreeze" => {
            json!({"expected_version": -1, "reason": text})
        }
        "signatures" => {
            json!({"expected_version": 0, "scope": {"signs": "casebook"}, "password": PASSWORD})
        }
        "deviations" => json!({
            "expected_version": 0, "category": "other", "severity": "minor",
            "description": text, "occurred_at": "2026-11-01T10:00:00Z",
        }),
        a if a.starts_with("queries/{query_id}/") => json!({"expected_version": 0, "text": text}),
        a if a.ends_with("/assess") => {
            json!({"expected_version": 0, "status": "assessed", "note": text})
        }
        _ => return None,
    })
}

/// Whether the route changes the whole study's freeze or lock: whoever may is let
/// through to a conflict (the body's version is one the study never had).
fn study_hold_route(path: &str) -> bool {
    path.starts_with("/api/v1/study/") && path != "/api/v1/study/oversight"
}

/// A user name no account has.
const NO_ONE: &str = "no.one.matrix";

/// Whether the route acts on an account or a password, or is an administrative write:
/// whoever may use it is let through to a refusal of what she asks (an unknown account,
/// a too-short password, settings whose version is not raised), so the cell shows
/// access without changing anything.
fn account_route(method: &str, path: &str) -> bool {
    path == "/api/v1/account/password"
        || path.starts_with("/api/v1/admin/users/")
        || (method == "post" && path.starts_with("/api/v1/admin/"))
}

/// Fills an OpenAPI path template with `id`.
fn concrete(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{timepoint}", "pet1")
        .replace("{command}", "attestation")
        .replace("{code}", "10028813")
        .replace("{username}", NO_ONE)
        .replace("{query_id}", "q-1")
        .replace("{deviation_id}", "dev-1")
        .replace("{job}", "1")
}

fn may(role: Role, need: Need) -> bool {
    match need {
        Need::Public | Need::SignedIn => true,
        Need::Cap(c) => role.may(c),
    }
}

/// Checks one user's answers to one participant route: for the participant of KS
/// (`real`) and for a study id no one has (`fake`, as long as `real`).
#[allow(clippy::too_many_arguments)]
fn check_cell(
    what: &str,
    role: Role,
    place: Where,
    need: Need,
    real_id: &str,
    fake_id: &str,
    real: &Raw,
    fake: &Raw,
) {
    let as_if_real = fake.body.replace(fake_id, real_id);
    let same =
        real.status == fake.status && real.headers == fake.headers && real.body == as_if_real;
    let cell = format!(
        "{what} as {role:?} ({place:?}): {} {}",
        real.status, real.body
    );
    if !may(role, need) {
        assert_eq!(real.status, StatusCode::FORBIDDEN, "{cell}");
        assert!(same, "{cell}\nvs unknown id: {} {}", fake.status, fake.body);
    } else if place == Where::OtherSite {
        assert_eq!(real.status, StatusCode::NOT_FOUND, "{cell}");
        assert!(
            same,
            "another site's participant must answer as none: {cell}\nvs unknown id: {:?} {}",
            fake.headers, fake.body
        );
    } else {
        assert!(
            !matches!(
                real.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ),
            "{cell}"
        );
        assert!(!same, "let through, so not the unknown id's answer: {cell}");
    }
}

/// Whether a page answer refused: an error status, or a redirect to sign in.
fn page_refused(r: &Raw) -> bool {
    r.status.is_client_error()
}

#[tokio::test]
async fn every_route_answers_every_role_at_every_site_as_the_roles_table_says() {
    let mut app = TestApp::start().await;
    let cli = Actor::command_line();
    for (username, role, site) in EXTRA_USERS {
        let user = NewUser {
            username: username.into(),
            display_name: username.into(),
            role,
            site: site.map(Into::into),
            password: PASSWORD.into(),
        };
        app.state.trial.add_user(&cli, user).await.expect("user");
    }
    let real_id = app.eligible("KS").await;
    // Her imaging job 1 (no worker can do it: she has no PET), for the job's route.
    app.stop_worker();
    let job = app
        .state
        .store()
        .queue_job(&store::NewImagingJob {
            study_id: real_id.clone(),
            site: "KS".into(),
            timepoint: "pet1".into(),
            series_uid: "1.2.826.0.1.3680043.9.1".into(),
            assignment_reason: None,
            requested_by: "reader.ks".into(),
            requested_at: crate::common::present(),
        })
        .await
        .expect("queued")
        .expect("the first job");
    assert_eq!(job.id, 1);
    // An id of the same length that no participant has.
    let fake_id: String = real_id
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_digit((d + 5) % 10, 10).unwrap_or(c),
            None => c,
        })
        .collect();
    assert!(
        app.state
            .store()
            .participant(&fake_id)
            .await
            .unwrap()
            .is_none()
    );

    // Every API route of the OpenAPI document must be classified.
    let doc = app.anonymous().get("/api/openapi.json").await.body;
    let mut routes = Vec::new();
    let mut unclassified = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            match classify_api(method, path) {
                Some(need) => routes.push((method.clone(), path.clone(), need)),
                None => {
                    unclassified.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    assert!(
        unclassified.is_empty(),
        "routes the access matrix does not classify: {unclassified:?}"
    );
    assert!(routes.len() > 30, "{}", routes.len());
    // Sign-out ends the session the other cells use: it goes last.
    routes.sort_by_key(|(m, p, _)| (m == "delete" && p == "/api/v1/session", p.clone()));

    let users: Vec<(&str, Role, Option<&str>)> =
        USERS.iter().chain(EXTRA_USERS.iter()).copied().collect();
    let roles: BTreeSet<&str> = users.iter().map(|u| u.1.id()).collect();
    assert_eq!(roles.len(), Role::ALL.len(), "a user of every role");

    let anonymous = app.anonymous();
    let mut cells = 0;
    for (username, role, site) in users {
        let place = match site {
            Some("KS") => Where::OwnSite,
            Some(_) => Where::OtherSite,
            None => Where::Sponsor,
        };
        let client = app.client(username).await;
        for (method, path, need) in &routes {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = api_body(method, path);
            let what = format!("{} {path}", m);
            let real = send(&client, &m, &concrete(path, &real_id), body.clone(), false).await;
            assert!(!real.status.is_server_error(), "{what}: {}", real.body);
            if path.contains("{id}") {
                let fake = send(&client, &m, &concrete(path, &fake_id), body, false).await;
                check_cell(&what, role, place, *need, &real_id, &fake_id, &real, &fake);
            } else if matches!(need, Need::Cap(_)) && !may(role, *need) {
                assert_eq!(real.status, StatusCode::FORBIDDEN, "{what} as {role:?}");
            } else if account_route(method, path) || study_hold_route(path) {
                assert!(
                    !matches!(
                        real.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ) && real.status.is_client_error(),
                    "{what} as {role:?}: {} {}",
                    real.status,
                    real.body
                );
            } else if !matches!(need, Need::Public) {
                assert!(
                    real.status.is_success(),
                    "{what} as {role:?}: {} {}",
                    real.status,
                    real.body
                );
                // Lists never show another site's participant.
                if place == Where::OtherSite {
                    assert!(
                        !real.body.contains(&real_id),
                        "{what} as {role:?} shows {real_id}"
                    );
                }
            }
            cells += 1;
        }

        // The pages, signed in again (the API cells ended with signing out).
        let client = app.client(username).await;
        for (method, path, need) in pages() {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let form = method == "POST";
            let what = format!("page {method} {path}");
            let real = send(&client, &m, &path.replace("{id}", &real_id), None, form).await;
            assert!(!real.status.is_server_error(), "{what}: {}", real.body);
            if path.contains("{id}") {
                let fake = send(&client, &m, &path.replace("{id}", &fake_id), None, form).await;
                let as_if_real = fake.body.replace(&fake_id, &real_id);
                let same = real.status == fake.status
                    && real.headers == fake.headers
                    && real.body == as_if_real;
                let cell = format!("{what} as {role:?} ({place:?}): {}", real.status);
                if place == Where::OtherSite {
                    assert!(page_refused(&real), "{cell}");
                    assert!(same, "{cell}: {}\nvs unknown id: {}", real.body, fake.body);
                } else if !may(role, need) {
                    // She may know the participant exists; she may not act.
                    assert!(page_refused(&real), "{cell}");
                } else {
                    assert!(
                        !matches!(
                            real.status,
                            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                        ),
                        "{cell}: {}",
                        real.body
                    );
                    assert!(!same, "{cell}: let through, so not the unknown id's page");
                    if form || path.ends_with("mip.png") {
                        continue;
                    }
                    assert_eq!(real.status, StatusCode::OK, "{cell}");
                }
            } else if !may(role, need) {
                assert!(page_refused(&real), "{what} as {role:?}: {}", real.status);
            } else if method == "GET" {
                assert_eq!(real.status, StatusCode::OK, "{what} as {role:?}");
                if place == Where::OtherSite {
                    assert!(
                        !real.body.contains(&real_id),
                        "{what} as {role:?} shows {real_id}"
                    );
                }
            }
            cells += 1;
        }
    }

    // Nobody signed in: the API says 401 and the pages send her to sign in.
    for (method, path, need) in &routes {
        if matches!(need, Need::Public) {
            continue;
        }
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = send(
            &anonymous,
            &m,
            &concrete(path, &real_id),
            api_body(method, path),
            false,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{m} {path} signed out: {}",
            r.body
        );
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path, need) in pages() {
        if matches!(need, Need::Public) || method != "GET" {
            continue;
        }
        let r = no_redirects
            .get(app.url(&path.replace("{id}", &real_id)))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_redirection(),
            "{path} signed out: {}",
            r.status()
        );
        assert_eq!(
            r.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/signin"),
            "{path}"
        );
    }
    assert!(cells > 500, "{cells}");
}
