//! The OpenAPI 3.1 document of the JSON API, built from the same types and the same
//! command table the handlers use, so it cannot drift from them.

use axum::Json;
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

use trial::commands;

fn schema<T: JsonSchema>(defs: &mut Map<String, Value>) -> Value {
    let mut s = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
    lift_defs(&mut s, defs);
    s
}

/// Moves a schema's `$defs` into the document's components and rewrites its references.
fn lift_defs(s: &mut Value, defs: &mut Map<String, Value>) {
    if let Some(Value::Object(local)) = s.as_object_mut().and_then(|o| o.remove("$defs")) {
        for (k, mut v) in local {
            rewrite_refs(&mut v);
            defs.entry(k).or_insert(v);
        }
    }
    if let Some(o) = s.as_object_mut() {
        o.remove("$schema");
    }
    rewrite_refs(s);
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            o.values_mut().for_each(rewrite_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn errors() -> Value {
    let e = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    let with = |d: &str| {
        let mut x = e.clone();
        x["description"] = json!(d);
        x
    };
    json!({
        "400": with("malformed request"),
        "401": with("not signed in"),
        "403": with("role may not do this, or missing CSRF token"),
        "404": with("no such participant at your site"),
        "409": with("stale expected_version"),
        "422": with("refused by a protocol rule (see `rule`)"),
        "429": with("too many failed sign-ins; the Retry-After header says how many seconds to wait"),
    })
}

/// The account paths: her own password, and the administrator's account lifecycle.
fn account_paths(paths: &mut Map<String, Value>, defs: &mut Map<String, Value>) {
    use crate::account_api::{PasswordChange, PasswordReset, Reason, RoleChange, SiteChange};
    let done = || json!({"description": "done; recorded in the audit trail"});
    paths.insert("/api/v1/account/password".into(), json!({
        "post": op("Change your own password (the current one is checked; the new one needs 12 characters and may not be a common password). Allowed to a session whose password must be changed.", Some(schema::<PasswordChange>(defs)), "204", done()),
    }));
    let user_param = json!([{"name": "username", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the account's user name"}]);
    let admin = |summary: &str, body: Value| {
        let mut o = json!({"post": op(summary, Some(body), "204", done())});
        o["post"]["parameters"] = user_param.clone();
        o
    };
    let base = "/api/v1/admin/users/{username}";
    paths.insert(format!("{base}/reset-password"), admin("Set a new password the user must change at her next sign-in; her sessions end (administrator)", schema::<PasswordReset>(defs)));
    paths.insert(
        format!("{base}/deactivate"),
        admin(
            "Deactivate the account: no sign-in, its sessions end (administrator)",
            schema::<Reason>(defs),
        ),
    );
    paths.insert(
        format!("{base}/reactivate"),
        admin(
            "Reactivate the account (administrator)",
            schema::<Reason>(defs),
        ),
    );
    paths.insert(
        format!("{base}/unlock"),
        admin(
            "Unlock an account locked after failed passwords (administrator)",
            schema::<Reason>(defs),
        ),
    );
    paths.insert(
        format!("{base}/role"),
        admin(
            "Change the user's role, with its site; her sessions end (administrator)",
            schema::<RoleChange>(defs),
        ),
    );
    paths.insert(
        format!("{base}/site"),
        admin(
            "Move the user to another site in the same role; her sessions end (administrator)",
            schema::<SiteChange>(defs),
        ),
    );
}

/// The oversight paths: data points, queries, verification, freeze and lock, casebook
/// signatures, deviations, and the whole study's freeze and lock.
fn oversight_paths(paths: &mut Map<String, Value>, defs: &mut Map<String, Value>) {
    use crate::oversight_api::{
        AssessRequest, DeviationRequest, HoldRequest, OversightWritten, RaiseRequest,
        ResolveRequest, StudyHoldRequest, StudyOversightView, VerifyRequest,
    };
    use trial::oversight::{AnswerRequest, DataPointRow, QueryRow, SignRequest};
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "study id, e.g. KS-014"});
    let query_id = json!({"name": "query_id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "query id, e.g. q-1"});
    let deviation_id = json!({"name": "deviation_id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "deviation id, e.g. dev-1"});
    let written = schema::<OversightWritten>(defs);
    let recorded = || {
        ok(
            "recorded; the participant's oversight after it",
            written.clone(),
        )
    };
    let with = |mut o: Value, params: Vec<Value>| {
        for op in o.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
            op["parameters"] = Value::Array(params.clone());
        }
        o
    };
    let base = "/api/v1/participants/{id}";
    paths.insert(format!("{base}/data-points"), with(json!({
        "get": op("Every recorded entry as a readable row (what, value with unit, when, by whom) with its status: current or corrected, verification, active queries, freeze or lock, signature", None, "200", ok("rows, current entries first", schema::<Vec<DataPointRow>>(defs))),
    }), vec![id.clone()]));
    let mut list = json!({"get": op("The queries you may see (a site user: her site's), oldest first", None, "200", ok("queries", schema::<Vec<QueryRow>>(defs)))});
    list["get"]["parameters"] = json!([
        {"name": "status", "in": "query", "required": false, "schema": {"type": "string", "enum": ["open", "answered", "closed", "cancelled"]}},
        {"name": "site", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Only this site (study-wide roles)"},
        {"name": "study_id", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Only this participant"},
    ]);
    paths.insert("/api/v1/queries".into(), list);
    paths.insert(format!("{base}/queries"), with(json!({
        "get": op("The participant's queries with their conversation, oldest first", None, "200", ok("queries", schema::<Vec<QueryRow>>(defs))),
        "post": op("Raise a query on a data point (monitor, data manager); refused on locked data (LOCKED)", Some(schema::<RaiseRequest>(defs)), "200", recorded()),
    }), vec![id.clone()]));
    paths.insert(format!("{base}/queries/{{query_id}}"), with(json!({
        "get": op("One query with its conversation", None, "200", ok("query", schema::<QueryRow>(defs))),
    }), vec![id.clone(), query_id.clone()]));
    paths.insert(format!("{base}/queries/{{query_id}}/answer"), with(json!({
        "post": op("Answer an open query (investigator, research nurse), optionally with a correction of the queried entry: `correction.command` is the command's id (e.g. lab) and `correction.data` its data with `corrects` and `correction_reason`; signed commands are corrected through their own route", Some(schema::<AnswerRequest>(defs)), "200", recorded()),
    }), vec![id.clone(), query_id.clone()]));
    for (action, summary) in [
        (
            "close",
            "Close an answered query (the raiser's role; automatic queries: monitor or data manager)",
        ),
        (
            "requery",
            "Send an answered query back to the site, with a text (the raiser's role)",
        ),
        (
            "cancel",
            "Withdraw an open query, with a text (the raiser's role)",
        ),
    ] {
        paths.insert(
            format!("{base}/queries/{{query_id}}/{action}"),
            with(
                json!({
                    "post": op(summary, Some(schema::<ResolveRequest>(defs)), "200", recorded()),
                }),
                vec![id.clone(), query_id.clone()],
            ),
        );
    }
    paths.insert(format!("{base}/verify"), with(json!({
        "post": op("Verify entries against the source (monitor): the entries named, or every current entry of a form, a visit or the participant", Some(schema::<VerifyRequest>(defs)), "200", recorded()),
    }), vec![id.clone()]));
    for (action, summary) in [
        (
            "freeze",
            "Freeze an entry, a form, a visit or the participant: no data changes (monitor, data manager)",
        ),
        (
            "lock",
            "Lock frozen data: no changes, no queries, no verification (data manager)",
        ),
        (
            "unlock",
            "Unlock locked data back to frozen, with a reason (data manager); voids the signatures it covers",
        ),
        (
            "unfreeze",
            "Unfreeze frozen data, with a reason (data manager)",
        ),
    ] {
        paths.insert(
            format!("{base}/{action}"),
            with(
                json!({
                    "post": op(summary, Some(schema::<HoldRequest>(defs)), "200", recorded()),
                }),
                vec![id.clone()],
            ),
        );
        paths.insert(format!("/api/v1/study/{action}"), json!({
            "post": op(&format!("The whole study: {}", summary.to_lowercase()), Some(schema::<StudyHoldRequest>(defs)), "200", ok("the study-wide hold after it", schema::<StudyOversightView>(defs))),
        }));
    }
    paths.insert("/api/v1/study/oversight".into(), json!({
        "get": op("The whole study's freeze or lock, with its version", None, "200", ok("the study-wide hold", schema::<StudyOversightView>(defs))),
    }));
    paths.insert(format!("{base}/signatures"), with(json!({
        "get": op("The casebook and visit signatures, in force and voided (with when and why)", None, "200", ok("signatures, oldest first", schema::<Vec<protocol::oversight::CasebookSignature>>(defs))),
        "post": op("Sign the casebook or a visit (investigator), the password entered again; a wrong password is 403", Some(schema::<SignRequest>(defs)), "200", recorded()),
    }), vec![id.clone()]));
    paths.insert(format!("{base}/deviations"), with(json!({
        "post": op("Record a deviation by hand (monitor, investigator)", Some(schema::<DeviationRequest>(defs)), "200", recorded()),
    }), vec![id.clone()]));
    paths.insert(format!("{base}/deviations/{{deviation_id}}/assess"), with(json!({
        "post": op("Assess or close a deviation (monitor, data manager); closed is final", Some(schema::<AssessRequest>(defs)), "200", recorded()),
    }), vec![id, deviation_id]));
}

/// The administration paths: sites, the user list and new accounts, protocol settings.
fn admin_paths(paths: &mut Map<String, Value>, defs: &mut Map<String, Value>) {
    use crate::admin_api::{Account, NewAccount, SettingsHistory, SettingsProposal, Site};
    let done = || json!({"description": "done; recorded in the audit trail"});
    paths.insert("/api/v1/admin/users".into(), json!({
        "get": op("Every user account with its role, site and status (administrator)", None, "200", ok("the accounts", schema::<Vec<Account>>(defs))),
        "post": op("Create a user account (administrator)", Some(schema::<NewAccount>(defs)), "204", done()),
    }));
    paths.insert("/api/v1/admin/sites".into(), json!({
        "get": op("The trial sites (administrator)", None, "200", ok("the sites", schema::<Vec<Site>>(defs))),
        "post": op("Add a trial site (administrator)", Some(schema::<Site>(defs)), "204", done()),
    }));
    paths.insert("/api/v1/admin/settings".into(), json!({
        "get": op("Every version of the protocol settings with who put it in force, when and why, and how many recorded decisions name each version (administrator)", None, "200", ok("the history", schema::<SettingsHistory>(defs))),
        "post": op("Put a change of the protocol settings in force: the complete new settings, the version raised by one, with a reason (administrator)", Some(schema::<SettingsProposal>(defs)), "204", done()),
    }));
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn op(summary: &str, body: Option<Value>, ok_status: &str, response: Value) -> Value {
    let mut responses = errors();
    responses[ok_status] = response;
    let mut o = json!({"summary": summary, "responses": responses});
    if let Some(b) = body {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": b}}});
    }
    o
}

/// A GET with query parameters.
fn op_with(summary: &str, params: Vec<Value>, response: Value) -> Value {
    let mut o = op(summary, None, "200", response);
    o["parameters"] = Value::Array(params);
    o
}

/// The study's analyses.
fn analyses_paths(paths: &mut Map<String, Value>) {
    let as_of = json!({"name": "as_of", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}, "description": "Data cut-off (RFC 3339, or a local date and time of the sites); default now. Only events recorded by then count"});
    paths.insert("/api/v1/analyses".into(), json!({
        "get": op_with("Every analysis of the study as of a data cut-off (statistician, study director), recorded in the audit trail as an output. A value that cannot be estimated is {\"not_estimable\": reason}. Keys: docs/analysis.md", vec![as_of], ok("analyses", json!({"type": "object", "required": ["cut_off", "rules", "counts", "diagnostic", "response", "pfs", "safety"]}))),
    }));
}

/// The study dashboard and the study-wide deviation list.
fn dashboard_paths(paths: &mut Map<String, Value>, defs: &mut Map<String, Value>) {
    let param = |name: &str, about: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": about});
    let site = param(
        "site",
        "Only this site (study-wide roles; a site's staff always see their own site)",
    );
    paths.insert("/api/v1/dashboard".into(), json!({
        "get": op_with("The study dashboard, from the read tables: recruitment by month against the target, the participant flow (CONSORT), overdue visits and open windows, serious adverse events with the 24-hour clock, deviations by site, open queries by age and site", vec![site.clone()], ok("dashboard", schema::<trial::dashboard::Dashboard>(defs))),
    }));
    let filters = vec![
        site,
        param("severity", "Only this severity: major or minor"),
        param("status", "Only this status: open, assessed or closed"),
    ];
    let mut with_format = filters.clone();
    with_format.push(param(
        "format",
        "csv for a CSV file (text/csv), json (the default) for JSON",
    ));
    let mut list = op_with(
        "Every protocol deviation of the participants you may see, by site, study id and deviation id; x-total-count gives the number listed",
        with_format,
        ok(
            "deviations",
            schema::<Vec<trial::dashboard::DeviationRow>>(defs),
        ),
    );
    list["responses"]["200"]["content"]["text/csv"] = json!({"schema": {"type": "string"}});
    paths.insert("/api/v1/deviations".into(), json!({"get": list}));
    let csv = json!({"description": "the deviation list as CSV, a header row first", "content": {"text/csv": {"schema": {"type": "string"}}}});
    paths.insert("/api/v1/deviations.csv".into(), json!({
        "get": op_with("The deviation list as a CSV file (columns study_id, site, deviation_id, severity, rule, description, occurred_at, entry_id, status)", filters, csv),
    }));
}

/// The receipts of the DICOM objects that arrived.
fn receipts_paths(paths: &mut Map<String, Value>, defs: &mut Map<String, Value>) {
    let q = |name: &str, ty: &str, what: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}, "description": what});
    let params = vec![
        q(
            "limit",
            "integer",
            "Rows per page (default 100, at most 1000)",
        ),
        q("offset", "integer", "Rows to skip"),
        q(
            "site",
            "string",
            "Only this site (study-wide roles; a site's staff always see their own site)",
        ),
    ];
    paths.insert("/api/v1/receipts".into(), json!({
        "get": op_with("A page of the receipts of the DICOM objects that arrived, newest first: each association of the receiver, folder import and PACS pull round that brought or refused something, with where from, the site, the counts new/duplicate/conflict/refused, how it ended and the objects per series (a site's staff: her site's); x-total-count gives the number matching", params, ok("receipts", schema::<Vec<trial::receipts::ReceiptRow>>(defs))),
    }));
}

/// Builds the document.
pub fn build() -> Value {
    let mut defs = Map::new();
    let error = schema::<crate::error::ErrorBody>(&mut defs);
    defs.insert("ErrorBody".into(), error);
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "study id, e.g. KS-014"}]);
    let mut paths = Map::new();
    paths.insert("/api/v1/session".into(), json!({
        "post": op("Sign in; sets the session cookie and returns the CSRF token", Some(schema::<crate::api::SignIn>(&mut defs)), "200", ok("signed in", schema::<crate::api::Me>(&mut defs))),
        "delete": op("Sign out", None, "204", json!({"description": "signed out"})),
    }));
    paths.insert("/api/v1/me".into(), json!({
        "get": op("The signed-in user", None, "200", ok("the user", schema::<crate::api::Me>(&mut defs))),
    }));
    let q = |name: &str, ty: &str, what: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}, "description": what});
    let page_params = [
        q(
            "limit",
            "integer",
            "Rows per page (default 100, at most 1000)",
        ),
        q("offset", "integer", "Rows to skip"),
        q("site", "string", "Only this site (study-wide roles)"),
        q("q", "string", "Only study ids containing this text"),
    ];
    let mut list_params = page_params.to_vec();
    list_params.push(q("state", "string", "Only this state, e.g. screening"));
    paths.insert("/api/v1/participants".into(), json!({
        "get": op_with("A page of the participants you may see; x-total-count gives the number matching", list_params, ok("list", schema::<Vec<trial::participants::ParticipantSummary>>(&mut defs))),
        "post": op("Register a participant (the study id is assigned)", Some(schema::<trial::participants::Registration>(&mut defs)), "201", ok("registered", schema::<trial::Written>(&mut defs))),
    }));
    let mut show = json!({"get": op("One participant", None, "200", ok("the participant", schema::<trial::participants::ParticipantDetail>(&mut defs)))});
    show["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}".into(), show);
    let mut ev = json!({"get": op("The participant's audit trail", None, "200", ok("events", schema::<Vec<trial::participants::TimelineEntry>>(&mut defs)))});
    ev["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/events".into(), ev);
    let mut el = json!({"get": op("Eligibility: every criterion with status and evidence", None, "200", ok("report", schema::<protocol::EligibilityReport>(&mut defs)))});
    el["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/eligibility".into(), el);
    let tp_params = json!([
        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "study id, e.g. KS-014"},
        {"name": "timepoint", "in": "path", "required": true, "schema": {"type": "string", "enum": ["pet1", "pet2", "pet3"]}},
    ]);
    let mut se = json!({"get": op("The participant's PET series in the DICOM archive (PatientID = study id), newest first", None, "200", ok("series", schema::<Vec<trial::imaging::SeriesView>>(&mut defs)))});
    se["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/pet/series".into(), se);
    let mut ex = json!({"get": op("A PET exam: IMP administration, quantification, reader review with the biopsy target proposal, chosen target", None, "200", ok("exam", schema::<trial::imaging::PetExam>(&mut defs)))});
    ex["get"]["parameters"] = tp_params.clone();
    paths.insert("/api/v1/participants/{id}/pet/{timepoint}".into(), ex);
    let mut qu = json!({"post": op("Queue the quantification of an archived series as this exam (SUV, lesion candidates): every check is made now, a worker reads the series and records it with the algorithm version and settings; follow the job at its url", Some(schema::<crate::pet_api::QuantifyRequest>(&mut defs)), "202", ok("queued", schema::<trial::jobs::ImagingJobView>(&mut defs)))});
    qu["post"]["parameters"] = tp_params.clone();
    paths.insert(
        "/api/v1/participants/{id}/pet/{timepoint}/quantify".into(),
        qu,
    );
    let mut jl = json!({"get": op("The participant's imaging jobs (quantifications asked for), newest first", None, "200", ok("jobs", schema::<Vec<trial::jobs::ImagingJobView>>(&mut defs)))});
    jl["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/imaging-jobs".into(), jl);
    let mut jb = json!({"get": op("One imaging job: queued, running, done (what was recorded) or failed (why)", None, "200", ok("job", schema::<trial::jobs::ImagingJobView>(&mut defs)))});
    let mut job_params = id_param.clone();
    if let Some(list) = job_params.as_array_mut() {
        list.push(
            json!({"name": "job", "in": "path", "required": true, "schema": {"type": "integer"}}),
        );
    }
    jb["get"]["parameters"] = job_params;
    paths.insert("/api/v1/participants/{id}/imaging-jobs/{job}".into(), jb);
    let mi = json!({"get": {"summary": "Coronal maximum-intensity projection with numbered candidate markers", "parameters": tp_params, "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "404": errors()["404"].clone()}}});
    paths.insert(
        "/api/v1/participants/{id}/pet/{timepoint}/mip.png".into(),
        mi,
    );
    let mut pr = json!({"get": op("The PET response read PET1 → PET2 (PERCIST-style, arm 1): the proposed comparison for the reader, the confirmed read with its category and algorithm version, and the history; confirm with the command pet-response", None, "200", ok("pet response", schema::<trial::pet_response::PetResponseView>(&mut defs)))});
    pr["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/pet-response".into(), pr);
    let mut jo = json!({"get": op("The journey after PET: arm, biopsies, pathology, T-DXd course, adverse events with the SAE clock, visits, deviations", None, "200", ok("journey", schema::<trial::journey::JourneyView>(&mut defs)))});
    jo["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/journey".into(), jo);
    paths.insert("/api/v1/work".into(), json!({
        "get": op("What your role has to do now: signatures, reads, reports, overdue visits, queries to answer or close, entries to verify, participants ready to freeze or lock", None, "200", ok("work list", schema::<trial::worklist::WorkList>(&mut defs))),
    }));
    paths.insert("/api/v1/visits".into(), json!({
        "get": op_with("A page of the upcoming, due and overdue visits of the participants you may see, overdue first; x-total-count gives the number matching", page_params.to_vec(), ok("visits", schema::<Vec<trial::journey::SiteVisit>>(&mut defs))),
    }));
    let mut ct = json!({"get": op("CTCAE v5.0 terms whose name contains q (or whose MedDRA code is q), at most 50", None, "200", ok("terms", schema::<Vec<trial::journey::CtcaeView>>(&mut defs)))});
    ct["get"]["parameters"] =
        json!([{"name": "q", "in": "query", "required": false, "schema": {"type": "string"}}]);
    paths.insert("/api/v1/ctcae".into(), ct);
    let mut cc = json!({"get": op("One CTCAE v5.0 term with its grade texts", None, "200", ok("term", schema::<trial::journey::CtcaeView>(&mut defs)))});
    cc["get"]["parameters"] = json!([{"name": "code", "in": "path", "required": true, "schema": {"type": "integer"}, "description": "MedDRA code"}]);
    paths.insert("/api/v1/ctcae/{code}".into(), cc);
    let mut re = json!({"get": op("Tumour response: baseline CT, follow-ups and the RECIST 1.1 result per time point with the engine version", None, "200", ok("response", schema::<trial::response::ResponseView>(&mut defs)))});
    re["get"]["parameters"] = id_param.clone();
    paths.insert("/api/v1/participants/{id}/response".into(), re);
    let envelope = schema::<trial::participants::CommandRequest>(&mut defs);
    let written = schema::<trial::Written>(&mut defs);
    for spec in commands::all() {
        let mut data = (spec.schema)();
        lift_defs(&mut data, &mut defs);
        let mut body = envelope.clone();
        body["properties"]["data"] = data;
        let mut summary = format!("{}: {}", spec.title, spec.summary);
        if let Some(meaning) = spec.signature_meaning {
            summary.push_str(&format!(
                " Signed (send signature.password); meaning: \"{meaning}\""
            ));
        }
        let mut o =
            json!({"post": op(&summary, Some(body), "200", ok("recorded", written.clone()))});
        o["post"]["parameters"] = id_param.clone();
        o["post"]["operationId"] = json!(spec.name);
        paths.insert(
            format!("/api/v1/participants/{{id}}/commands/{}", spec.name),
            o,
        );
    }
    let batch = schema::<trial::batch::BatchRequest>(&mut defs);
    let mut ba = json!({"post": op("Several commands of one kind as one write, all or nothing (e.g. `attestation`: every open attestation under one signature). Each item is the `data` of the command's own path; one refusal (422, naming the item) records none.", Some(batch), "200", ok("recorded", written.clone()))});
    let mut params = id_param.clone();
    if let Some(list) = params.as_array_mut() {
        list.push(json!({"name": "command", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the command's id, e.g. attestation"}));
    }
    ba["post"]["parameters"] = params;
    ba["post"]["operationId"] = json!("batch");
    paths.insert(
        "/api/v1/participants/{id}/commands/{command}/batch".into(),
        ba,
    );
    account_paths(&mut paths, &mut defs);
    oversight_paths(&mut paths, &mut defs);
    admin_paths(&mut paths, &mut defs);
    dashboard_paths(&mut paths, &mut defs);
    analyses_paths(&mut paths);
    receipts_paths(&mut paths, &mut defs);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "her2ex API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HER2-Ex PET trial. Sign in at /api/v1/session; send the returned csrf_token in the x-csrf-token header of every write. Every write is recorded in the audit trail.",
        },
        "paths": paths,
        "components": {"schemas": defs, "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE}}},
        "security": [{"session": []}],
    })
}

/// `GET /api/openapi.json`.
pub async fn document() -> Json<Value> {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(build).clone())
}
