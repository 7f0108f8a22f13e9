//! Tumour response in the browser: the reader enters the CT assessments and sees the
//! RECIST 1.1 result and the sum-of-diameters curve.

use super::*;

#[tokio::test]
async fn a_reader_enters_ct_assessments_and_sees_the_response_and_its_curve() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let day = |n: i64| {
        (crate::common::now() - chrono::Duration::days(n))
            .date_naive()
            .to_string()
    };

    let c = connect(&driver).await;
    sign_in(&c, &app, "reader.ks").await;
    c.goto(&app.url(&format!("/participants/{id}")))
        .await
        .expect("overview");
    click(&c, "#response-link a").await;
    heading(&c, |h| h.starts_with("Response")).await;

    // Three liver targets break RECIST (at most two per organ): refused, values kept.
    let (b, s) = (day(120), day(115));
    set_in_form(
        &c,
        "baseline-form",
        &[
            ("scan_date", b.as_str()),
            ("slice_thickness_mm", "2.5"),
            ("t1_organ", "liver"),
            ("t1_mm", "30"),
            ("t2_organ", "liver"),
            ("t2_mm", "20"),
            ("t3_organ", "liver"),
            ("t3_mm", "15"),
        ],
    )
    .await;
    click(&c, "#baseline-form button[type=submit]").await;
    let mut problem = String::new();
    for _ in 0..100 {
        problem = texts(&c, ".error").await.concat();
        if !problem.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&c, "response-refused").await;
    assert!(problem.contains("Refused by rule RECIST"), "{problem:?}");
    assert!(problem.contains("per organ"), "{problem}");
    let kept: Value = c
        .execute(
            "return document.querySelector('#baseline-form [name=t3_organ]').value;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(kept, json!("liver"));

    // Baseline: liver 30 mm + lung 20 mm, a bone non-target.
    set_in_form(
        &c,
        "baseline-form",
        &[
            ("scan_date", b.as_str()),
            ("slice_thickness_mm", "2.5"),
            ("treatment_start", s.as_str()),
            ("t1_organ", "liver"),
            ("t1_mm", "30"),
            ("t2_organ", "lung"),
            ("t2_mm", "20"),
            ("t3_organ", ""),
            ("t3_mm", ""),
            ("n1_organ", "bone"),
        ],
    )
    .await;
    click(&c, "#baseline-form button[type=submit]").await;
    wait_for_count(&c, "#baseline tbody tr", 3).await;
    let baseline = texts(&c, "#baseline tbody tr").await;
    assert_eq!(baseline.len(), 3, "{baseline:?}");

    // Follow-up 1: 18 + 12 = 30 mm (−40 %, PR); follow-up 2: 25 + 15 = 40 mm (PD).
    for (n, (date, t1, t2)) in [(day(60), "18", "12"), (day(10), "25", "15")]
        .into_iter()
        .enumerate()
    {
        set_in_form(
            &c,
            "assessment-form",
            &[
                ("scan_date", date.as_str()),
                ("mm_T1", t1),
                ("mm_T2", t2),
                ("l_NT1", "present"),
                ("new_lesions", "no"),
            ],
        )
        .await;
        click(&c, "#assessment-form button[type=submit]").await;
        wait_for_count(&c, "#response-table tr.timepoint", n + 1).await;
    }

    assert_eq!(texts(&c, "#response-table td.overall").await, ["PR", "PD"]);
    assert_eq!(texts(&c, "#response-table td.sum").await, ["30.0", "40.0"]);
    let rows = texts(&c, "#response-table tr.timepoint").await;
    assert!(rows[0].contains("-40.0 %"), "{rows:?}");
    assert!(rows[1].contains("+33.3 %"), "{rows:?}");
    let best = texts(&c, "#best").await.concat();
    assert!(best.contains("Best overall response: PR"), "{best}");
    let progression = texts(&c, "#progression").await.concat();
    assert!(progression.contains(&day(10)), "{progression}");

    // The curve: baseline and both follow-ups as points, the PD one marked.
    let points: Value = c
        .execute(
            "return Array.from(document.querySelectorAll('#sum-chart .point')).map(p => [p.getAttribute('data-date'), p.getAttribute('data-sum'), p.getAttribute('class')]);",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        points,
        json!([
            [b, "50.0", "point baseline"],
            [day(60), "30.0", "point"],
            [day(10), "40.0", "point pd"],
        ])
    );
    let title = texts(&c, "#sum-chart-title").await;
    assert_eq!(title.len(), 1);
    let lines = c
        .find_all(Locator::Css(
            "#sum-chart line.ref-pr, #sum-chart line.ref-pd",
        ))
        .await
        .expect("lines");
    assert_eq!(lines.len(), 2, "−30 % and +20 % reference lines");
    scroll_to(&c, "response-table").await;
    screenshot(&c, "response").await;
    c.close().await.expect("close");
}
