//! The PET exam over HTTP (PROTOCOL §6–§7): IMP administration, quantification of an
//! archived series, the MIP picture, the reader's review, the biopsy target proposal and
//! the investigator's choice, with roles and site isolation on every new endpoint.

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Client, PASSWORD, TestApp};

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn imp_data(activity: f64) -> Value {
    let inj = crate::common::now() - Duration::hours(3);
    json!({
        "timepoint": "pet1",
        "activity_mbq": activity,
        "injected_at": ts(inj),
        "weight_kg": 68.0,
        "height_cm": 166.0,
        "scan_start_at": ts(inj + Duration::minutes(120)),
    })
}

async fn quantify(c: &Client, id: &str, uid: &str) -> crate::common::Answer {
    let v = c.version(id).await;
    c.post(
        &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
        &json!({"expected_version": v, "series_instance_uid": uid}),
    )
    .await
}

/// Quantifies a series whose PatientID is not the study id, assigning it with `reason`.
async fn assign(c: &Client, id: &str, uid: &str, reason: &str) -> crate::common::Answer {
    let v = c.version(id).await;
    c.post(
        &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
        &json!({"expected_version": v, "series_instance_uid": uid, "assignment_reason": reason}),
    )
    .await
}

/// Decisions for every candidate: physiological ones rejected, the others confirmed;
/// the hottest confirmed one is not accessible, the rest are.
fn decisions(candidates: &[Value]) -> Vec<Value> {
    let mut first_confirmed = true;
    candidates
        .iter()
        .map(|c| {
            let n = c["number"].as_u64().unwrap();
            if c["physiological"].is_string() {
                json!({"candidate": n, "decision": "reject", "note": "physiological uptake"})
            } else {
                let us = !std::mem::take(&mut first_confirmed);
                json!({"candidate": n, "decision": "confirm", "anatomical_site": format!("site of {n}"), "ultrasound_accessible": us})
            }
        })
        .collect()
}

#[tokio::test]
async fn pet_exam_from_archive_to_biopsy_target() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let truth = app.import_phantom(11).await;
    let nurse = app.client("nurse.ks").await;
    let reader = app.client("reader.ks").await;
    let inv = app.client("inv.ks").await;

    // The scanner did not send the study id: the series is not listed, but can be named.
    let listed = nurse
        .get(&format!("/api/v1/participants/{id}/pet/series"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body, json!([]));

    // Quantification needs the IMP administration first.
    let r = quantify(&reader, &id, &truth.series_uid).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "PET_EXAM");

    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "imp-administration", v, imp_data(150.0))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A series that is not in the archive, and a malformed UID.
    assert_eq!(
        quantify(&reader, &id, "1.2.3.4").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        quantify(&reader, &id, "KS-001; drop").await.status,
        StatusCode::BAD_REQUEST
    );

    // Its PatientID is not her study id: only an explicit assignment with a reason.
    let r = quantify(&reader, &id, &truth.series_uid).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "IMAGING_PARTICIPANT");
    let r = assign(
        &reader,
        &id,
        &truth.series_uid,
        "scanner sent the phantom id",
    )
    .await;
    let job = reader.wait_job(&r).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["attempts"], 1);
    assert!(
        job["outcome"].as_str().unwrap().starts_with("recorded"),
        "{job}"
    );
    let her = reader.get(&format!("/api/v1/participants/{id}")).await;
    assert_eq!(her.body["state"], "baseline_pet_done", "{}", her.text);

    let exam = reader
        .get(&format!("/api/v1/participants/{id}/pet/pet1"))
        .await;
    assert_eq!(exam.status, StatusCode::OK);
    let q = &exam.body["quantification"];
    assert_eq!(q["series_instance_uid"], truth.series_uid.as_str());
    assert_eq!(q["image_count"], 250);
    assert!(
        q["algorithm_version"]
            .as_str()
            .unwrap()
            .starts_with("her2ex-pet ")
    );
    assert_eq!(q["parameters"]["avid_suvmax_threshold"], 6.0);
    assert_eq!(q["header"]["injected_activity_mbq"], 150.0);
    assert_eq!(q["header"]["weight_kg"], 68.0);
    assert_eq!(q["header"]["scan_datetime_rule"], "series_time");
    // The phantom was injected on 2026-03-02 09:00 Stockholm time (08:00 UTC); the form
    // says three hours ago: shown as a discrepancy, activity and weight agree.
    assert_eq!(q["header"]["injected_at"], "2026-03-02T08:00:00Z");
    let fields: Vec<&str> = q["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["injection time"]);
    assert_eq!(q["assignment_reason"], "scanner sent the phantom id");
    let candidates = q["candidates"].as_array().unwrap().clone();
    assert!(candidates.len() >= 3, "{}", candidates.len());
    // Every true lesion of at least 10 mm with SUVmax ≥ 3 outside the organs is a candidate.
    for l in truth
        .lesions
        .iter()
        .filter(|l| l.diameter_mm >= 10.0 && l.true_suv_max >= 3.0)
    {
        let near = candidates.iter().any(|c| {
            let p: Vec<f64> = c["centroid_mm"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            (0..3)
                .map(|i| (p[i] - l.centre_mm[i]).powi(2))
                .sum::<f64>()
                .sqrt()
                < 10.0
        });
        assert!(near, "lesion at {:?} not among the candidates", l.centre_mm);
    }

    let png = reader
        .http
        .get(app.url(&format!("/api/v1/participants/{id}/pet/pet1/mip.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    // Only the reader reviews.
    let review = json!({"timepoint": "pet1", "quantification_id": q["quantification_id"], "decisions": decisions(&candidates)});
    let v = reader.version(&id).await;
    assert_eq!(
        nurse
            .command(&id, "pet-review", v, review.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = reader.command(&id, "pet-review", v, review).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let exam = inv
        .get(&format!("/api/v1/participants/{id}/pet/pet1"))
        .await;
    let proposal = exam.body["review"]["proposal"].as_array().unwrap().clone();
    let first = proposal
        .iter()
        .find(|t| t["rank"] == 1)
        .expect("a proposed target");
    let hottest = candidates
        .iter()
        .find(|c| c["physiological"].is_null())
        .unwrap();
    // The hottest confirmed lesion was marked not accessible: it is listed, not proposed.
    let hottest_label = format!("L{}", hottest["number"]);
    let listed = proposal
        .iter()
        .find(|t| t["label"] == hottest_label.as_str())
        .unwrap();
    assert!(listed["rank"].is_null());
    assert_eq!(listed["reason"], "Not accessible by ultrasound.");
    // Physiological candidates were rejected and never proposed.
    for c in candidates.iter().filter(|c| c["physiological"].is_string()) {
        let t = proposal
            .iter()
            .find(|t| t["label"] == format!("L{}", c["number"]).as_str())
            .unwrap();
        assert!(t["rank"].is_null());
    }

    // The investigator signs the choice; the reader may not.
    let label = first["label"].as_str().unwrap();
    let choice = json!({"expected_version": inv.version(&id).await, "data": {"timepoint": "pet1", "lesion": label, "reason": "Proposal rank 1"}, "signature": {"password": PASSWORD}});
    let path = format!("/api/v1/participants/{id}/commands/biopsy-target");
    assert_eq!(
        reader.post(&path, &choice).await.status,
        StatusCode::FORBIDDEN
    );
    let mut wrong = choice.clone();
    wrong["signature"]["password"] = json!("nope");
    assert_eq!(inv.post(&path, &wrong).await.status, StatusCode::FORBIDDEN);
    let r = inv.post(&path, &choice).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let exam = inv
        .get(&format!("/api/v1/participants/{id}/pet/pet1"))
        .await;
    let t = &exam.body["biopsy_target"];
    assert_eq!(t["label"], label);
    assert_eq!(t["proposed_rank"], 1);
    assert_eq!(t["follows_proposal"], true);
    assert_eq!(t["signature"]["signer"], "inv.ks");
}

#[tokio::test]
async fn pet_endpoints_keep_sites_apart_and_check_roles() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let other = app.client("nurse.uu").await;
    let missing = "KS-999";
    let paths = |p: &str| {
        [
            format!("/api/v1/participants/{p}/pet/series"),
            format!("/api/v1/participants/{p}/pet/pet1"),
            format!("/api/v1/participants/{p}/pet/pet1/mip.png"),
        ]
    };
    for (mine, none) in paths(&id).iter().zip(paths(missing).iter()) {
        let a = other.get(mine).await;
        let b = other.get(none).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{mine}");
        assert_eq!(
            a.text.replace(&id, "ID"),
            b.text.replace(missing, "ID"),
            "{mine}"
        );
    }
    let body = json!({"expected_version": 1, "series_instance_uid": "1.2.3"});
    let a = other
        .post(
            &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
            &body,
        )
        .await;
    let b = other
        .post(
            &format!("/api/v1/participants/{missing}/pet/pet1/quantify"),
            &body,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.text.replace(&id, "ID"), b.text.replace(missing, "ID"));
    // Study-wide roles read; the monitor and the statistician may not quantify.
    for who in ["monitor", "stat"] {
        let c = app.client(who).await;
        assert_eq!(
            c.get(&format!("/api/v1/participants/{id}/pet/pet1"))
                .await
                .status,
            StatusCode::OK
        );
        let r = c
            .post(
                &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
                &body,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
    }
    // An unknown time point is a 404 that names the choices.
    let r = app
        .client("nurse.ks")
        .await
        .get(&format!("/api/v1/participants/{id}/pet/pet9"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("pet1, pet2 or pet3"));
}

#[tokio::test]
async fn imp_is_refused_without_a_negative_serum_test_for_a_woman_of_childbearing_potential() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let nurse = app.client("nurse.ks").await;
    let v = nurse.version(&id).await;
    let r = nurse
        .command(
            &id,
            "childbearing-potential",
            v,
            json!({
                "childbearing_potential": true,
                "contraception_agreed": true,
                "contraception_method": "combined oral contraceptive",
                "assessed_on": crate::common::now().date_naive().to_string(),
                "corrects": null,
            }),
        )
        .await;
    // Child-bearing status is a screening fact: after enrolment it is changed by correction.
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let current =
        nurse.get(&format!("/api/v1/participants/{id}")).await.body["participant"]["childbearing"]
            [0]["entry_id"]
            .clone();
    let r = nurse
        .post(
            &format!("/api/v1/participants/{id}/commands/childbearing-potential"),
            &json!({"expected_version": v, "reason": "premenopausal, recorded wrongly", "data": {
                "childbearing_potential": true,
                "contraception_agreed": true,
                "contraception_method": "combined oral contraceptive",
                "assessed_on": crate::common::now().date_naive().to_string(),
                "corrects": current,
                "correction_reason": "premenopausal, recorded wrongly",
            }}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "imp-administration", v, imp_data(150.0))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "IMP_PREGNANCY");
    let sample = crate::common::now() - Duration::hours(20);
    let r = nurse
        .command(&id, "pregnancy-test", v, json!({"specimen": "serum", "result": "negative", "sample_at": ts(sample), "for_study": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = nurse
        .command(&id, "imp-administration", v + 1, imp_data(150.0))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Her contraception period runs six calendar months from the IMP dose.
    let dose = (crate::common::now() - Duration::hours(3)).date_naive();
    let until = dose
        .checked_add_months(chrono::Months::new(6))
        .unwrap()
        .to_string();
    let journey = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(
        journey.body["contraception"]["until"],
        until.as_str(),
        "{}",
        journey.text
    );
    let page = nurse.get(&format!("/participants/{id}")).await;
    assert!(
        page.text.contains(&format!(
            "Contraception needed until <strong>{until}</strong>"
        )),
        "the participant page shows the end date"
    );
}

/// The SeriesInstanceUIDs listed for a participant.
async fn listed(c: &Client, id: &str) -> Vec<String> {
    let r = c
        .get(&format!("/api/v1/participants/{id}/pet/series"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["series_instance_uid"].as_str().unwrap().to_string())
        .collect()
}

/// Records the IMP administration of PET1 by the site's nurse.
async fn imp_recorded(app: &TestApp, nurse: &str, id: &str) {
    let nurse = app.client(nurse).await;
    let v = nurse.version(id).await;
    let r = nurse
        .command(id, "imp-administration", v, imp_data(150.0))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn imaging_is_bound_to_its_site_and_its_participant() {
    let app = TestApp::start().await;
    let ks = app.enrolled("KS").await;
    let ks2 = app.enrolled("KS").await;
    let uu = app.enrolled("UU").await;
    for (nurse, id) in [("nurse.ks", &ks), ("nurse.ks", &ks2), ("nurse.uu", &uu)] {
        imp_recorded(&app, nurse, id).await;
    }
    // UU's scanner sent UU's exam; KS's sent KS's.
    let uu_series = app.import_phantom_as("UU", 11, Some(&uu)).await.series_uid;
    let ks_series = app.import_phantom_as("KS", 12, Some(&ks)).await.series_uid;
    let reader_ks = app.client("reader.ks").await;
    let reader_uu = app.client("reader.uu").await;

    // KS sees only KS's series, UU only UU's.
    assert_eq!(
        listed(&reader_ks, &ks).await,
        std::slice::from_ref(&ks_series)
    );
    assert!(listed(&reader_ks, &ks2).await.is_empty());
    assert_eq!(
        listed(&reader_uu, &uu).await,
        std::slice::from_ref(&uu_series)
    );

    // UU's series into a KS participant, even with a reason: answered like a series that
    // does not exist.
    let other_site = assign(&reader_ks, &ks, &uu_series, "looks like hers").await;
    let missing_uid = "1.2.826.0.1.3680043.9.999";
    let missing = assign(&reader_ks, &ks, missing_uid, "looks like hers").await;
    assert_eq!(
        other_site.status,
        StatusCode::NOT_FOUND,
        "{}",
        other_site.text
    );
    assert_eq!(
        other_site.text.replace(&uu_series, "UID"),
        missing.text.replace(missing_uid, "UID")
    );

    // Her own series needs no reason; another participant of the site needs one, and
    // then is refused because the series is already the first one's exam.
    let r = quantify(&reader_uu, &uu, &uu_series).await;
    assert_eq!(reader_uu.wait_job(&r).await["state"], "done");
    let r = quantify(&reader_ks, &ks2, &ks_series).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "IMAGING_PARTICIPANT");
    let r = quantify(&reader_ks, &ks, &ks_series).await;
    assert_eq!(reader_ks.wait_job(&r).await["state"], "done");
    let r = assign(&reader_ks, &ks2, &ks_series, "same woman, wrong id").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "IMAGING_PARTICIPANT");
    assert!(r.text.contains("another participant"), "{}", r.text);
}

#[tokio::test]
async fn the_web_server_answers_while_the_dicom_receiver_is_saturated() {
    use std::io::{Read, Write};
    let app = TestApp::start().await;
    let archive = app.state.trial.archive().expect("archive").clone();
    let mut config = archive::ScpConfig::new("HER2EX", "127.0.0.1:0".parse().unwrap())
        .allow(archive::Sender::parse("SCANNER@127.0.0.1=KS").unwrap());
    config.max_associations = 2;
    let scp = archive::Scp::bind(config, archive).unwrap();
    let addr = scp.local_addr();
    let shutdown = archive::Shutdown::new();
    let flag = shutdown.clone();
    let receiver = std::thread::spawn(move || scp.run(&flag));

    // Two connections hold every association slot (silent peers wait for their request).
    let held: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    // The next one is answered A-ASSOCIATE-RJ (PDU type 3) as soon as it asks.
    let mut third = std::net::TcpStream::connect(addr).unwrap();
    third
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    third.write_all(&[0x01, 0, 0, 0, 0, 4, 0, 1, 0, 0]).unwrap();
    let mut pdu_type = [0u8; 1];
    third.read_exact(&mut pdu_type).unwrap();
    assert_eq!(
        pdu_type[0], 0x03,
        "the association over the limit is rejected"
    );

    // The web application answers all the same.
    let page = app.anonymous().get("/signin").await;
    assert_eq!(page.status, StatusCode::OK);
    let nurse = app.client("nurse.ks").await;
    assert_eq!(
        nurse.get("/api/v1/participants").await.status,
        StatusCode::OK
    );

    drop(held);
    shutdown.trigger();
    receiver.join().unwrap().unwrap();
}
