//! Issue 10, points 10 and 12 through the JSON API: an earlier biopsy judged against
//! PET1 and the recorded treatment lines, and IN4/IN5 met by two different lesions.

use chrono::{DateTime, Duration, Utc};
use protocol::{Command, RecordArchivalBiopsy, RecordTreatmentLine, TreatmentSetting};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Client, TestApp, now};

fn criterion<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["criteria"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

fn lesion(id: &str, accessible: bool, intended: bool, imaged: DateTime<Utc>) -> Value {
    json!({
        "lesion_id": id, "organ": "liver", "lesion_type": "non_nodal", "metastatic": true,
        "longest_diameter_mm": 25.0, "previously_irradiated": false,
        "progressed_after_irradiation": false, "accessible_for_ultrasound_biopsy": accessible,
        "intended_for_biopsy": intended, "imaging_date": imaged.date_naive(),
        "slice_thickness_mm": 3.0
    })
}

async fn eligibility(c: &Client, id: &str) -> Value {
    let r = c
        .get(&format!("/api/v1/participants/{id}/eligibility"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

#[tokio::test]
async fn in4_and_in5_name_two_different_lesions() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let consent_at = now() - Duration::days(10);
    let screening: Vec<Command> =
        protocol::testing::eligible_screening_commands("KS", &id, consent_at)
            .into_iter()
            .filter(|c| !matches!(c, Command::RecordLesion(_)))
            .collect();
    app.run("nurse.ks", &id, &screening).await;
    let nurse = app.client("nurse.ks").await;

    // L1 is marked for biopsy but cannot be reached; L2 can: L2 meets IN4 only.
    for l in [
        lesion("L1", false, true, consent_at),
        lesion("L2", true, false, consent_at),
    ] {
        let v = nurse.version(&id).await;
        let r = nurse.command(&id, "lesion", v, l).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let report = eligibility(&nurse, &id).await;
    assert_eq!(report["overall"], "not_eligible", "{report}");
    assert_eq!(criterion(&report, "IN4")["status"], "met");
    let in5 = criterion(&report, "IN5");
    assert_eq!(in5["status"], "not_met", "{in5}");
    assert!(
        in5["evidence"]
            .to_string()
            .contains("IN4 (for biopsy): lesion L2; IN5 (index lesion): none"),
        "{in5}"
    );

    // A third measurable lesion is the index lesion; both criteria name their lesion.
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "lesion", v, lesion("L3", false, false, consent_at))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let report = eligibility(&nurse, &id).await;
    assert_eq!(report["overall"], "eligible", "{report}");
    assert_eq!(
        criterion(&report, "IN5")["summary"],
        "Met: lesion L3 is a measurable index lesion, besides biopsy lesion L2"
    );
    assert_eq!(
        criterion(&report, "IN4")["summary"],
        "Met: lesion L2 available for biopsy"
    );
}

#[tokio::test]
async fn an_archival_biopsy_with_a_later_treatment_line_is_refused_or_a_major_deviation() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let consent_at = now() - Duration::days(10);
    let day = consent_at.date_naive();
    let mut cmds = protocol::testing::eligible_screening_commands("KS", &id, consent_at);
    // An earlier biopsy after the last capecitabine (consent − 40 days), its form saying
    // "no therapy since"; eribulin was nevertheless started after it.
    cmds.push(Command::RecordArchivalBiopsy(RecordArchivalBiopsy {
        biopsy_date: day - Duration::days(20),
        lesion_id: Some("L2".into()),
        site_description: "lung metastasis, core needle".into(),
        systemic_therapy_since: false,
        her2_targeted_therapy_since: false,
        radiotherapy_to_lesion_since: false,
        corrects: None,
        correction_reason: None,
    }));
    cmds.push(Command::RecordTreatmentLine(RecordTreatmentLine {
        setting: TreatmentSetting::Palliative,
        regimen: "eribulin".into(),
        is_chemotherapy: true,
        is_her2_targeted: false,
        start_date: day - Duration::days(15),
        end_date: Some(day - Duration::days(2)),
        progression_date: None,
        corrects: None,
        correction_reason: None,
    }));
    app.run("nurse.ks", &id, &cmds).await;
    let pet_at = consent_at + Duration::days(1);
    let enrol = protocol::testing::enrol_command(pet_at - Duration::hours(1));
    app.run_at(pet_at - Duration::minutes(59), "inv.ks", &id, &[enrol])
        .await;
    let pet = protocol::testing::baseline_pet_commands(pet_at);
    app.run_at(pet_at + Duration::hours(2), "inv.ks", &id, &pet)
        .await;

    let inv = app.client("inv.ks").await;
    let data = |late: bool| json!({"archival_entry": "archival-1", "used_on": now().date_naive(), "late_entry_of_fact": late});
    let v = inv.version(&id).await;
    let r = inv
        .command(&id, "use-archival-biopsy", v, data(false))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "ARCHIVAL_BIOPSY");
    assert!(
        r.text
            .contains("systemic therapy since the biopsy: eribulin"),
        "{}",
        r.text
    );
    assert_eq!(inv.version(&id).await, v, "nothing recorded");

    let r = inv.command(&id, "use-archival-biopsy", v, data(true)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "biopsy_done");
    let j = inv.get(&format!("/api/v1/participants/{id}/journey")).await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.text);
    let dev = &j.body["deviations"][0];
    assert_eq!(dev["rule"], "ARCHIVAL_BIOPSY", "{}", j.body["deviations"]);
    assert_eq!(dev["severity"], "major");
    assert!(dev["description"].to_string().contains("eribulin"), "{dev}");
}
