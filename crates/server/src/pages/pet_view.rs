//! The PET exam page's markup (PROTOCOL §6–§7): the IMP administration card, the series
//! to read, the quantification with its MIP and candidate table, the reader's review form
//! and card, and the investigator's biopsy target form. Pure: data in, HTML out.

use std::collections::BTreeMap;

use maud::{Markup, PreEscaped, html};
use protocol::PetTimepoint;
use protocol::imaging::{Discrepancy, PetQuantification, PetReview};
use trial::Capability;
use trial::imaging::{self, MipLayout, PetExam, SeriesView};
use trial::pet_response::PetResponseView;

use super::Redo;
use crate::auth::CurrentUser;

/// Blank rows offered for lesions the reader adds.
pub(super) const ADD_ROWS: usize = 3;

/// One line per time point for the participant overview.
pub fn overview_card(id: &str, exams: &[(PetTimepoint, String)]) -> Markup {
    html! {
        h2 { "HER2-PET" }
        table #pet-exams {
            thead { tr { th { "Exam" } th { "Status" } } }
            tbody {
                @for (tp, status) in exams {
                    tr {
                        td { a href={ "/participants/" (id) "/pet/" (tp.id()) } { (tp.label()) } }
                        td { (status) }
                    }
                }
            }
        }
    }
}

/// The status of an exam in a few words (for PET2 with the PET response read, once confirmed).
pub fn exam_status(p: &protocol::Participant, tp: PetTimepoint) -> String {
    let status = review_status(p, tp);
    match p.pet_response() {
        Some(r) if tp == PetTimepoint::Pet2 => {
            format!("{status}; PET response {}", r.category.code())
        }
        _ => status,
    }
}

fn review_status(p: &protocol::Participant, tp: PetTimepoint) -> String {
    match (
        p.imp_administration(tp),
        p.pet_quantification(tp),
        p.pet_review(tp),
        p.biopsy_target(tp),
    ) {
        (None, ..) => "not done".into(),
        (Some(_), None, ..) => "IMP given; series not yet read".into(),
        (_, Some(q), None, _) => format!(
            "quantified ({} candidates); awaiting the reader",
            q.candidates.len()
        ),
        (_, _, Some(r), None) => format!(
            "reviewed ({} lesions confirmed)",
            r.lesions.iter().filter(|l| l.confirmed()).count()
        ),
        (_, _, _, Some(c)) => format!("reviewed; biopsy target {} chosen", c.label),
    }
}

fn n1(v: f64) -> String {
    format!("{v:.1}")
}

fn n2(v: f64) -> String {
    format!("{v:.2}")
}

fn administration_card(ctx: &Ctx, exam: &PetExam) -> Markup {
    html! {
        h2 { "1. IMP administration" }
        @match &exam.administration {
            None => {
                p.muted { "No administration of [68Ga]Ga-ABY-025 is recorded for " (exam.timepoint.label()) "." }
                @if ctx.user.role.may(Capability::EnterData) {
                    p { a.button href={ "/participants/" (ctx.id) "/do/imp-administration" } { "Record the IMP administration" } }
                }
            }
            Some(a) => {
                table.kv #imp {
                    tbody {
                        tr { th { "Entry" } td { (a.entry_id) } }
                        tr { th { "Injected activity" } td { (n1(a.value.activity_mbq)) " MBq" } }
                        tr { th { "Injection time" } td { (ctx.user.local_time(a.value.injected_at)) } }
                        tr { th { "Weight / height" } td { (n1(a.value.weight_kg)) " kg / " (format!("{:.0}", a.value.height_cm)) " cm" } }
                        @if let Some(s) = a.value.scan_start_at { tr { th { "Scan start" } td { (ctx.user.local_time(s)) } } }
                        tr { th { "Pregnancy test" } td {
                            @match &a.value.pregnancy_test_entry {
                                Some(t) => { "cleared by negative serum test " (t) }
                                None => { "not of child-bearing potential" }
                            }
                        } }
                    }
                }
            }
        }
    }
}

fn series_form(ctx: &Ctx, exam: &PetExam, series: &[SeriesView]) -> Markup {
    let action = format!(
        "/participants/{}/pet/{}/quantify",
        ctx.id,
        exam.timepoint.id()
    );
    html! {
        form.card method="post" action=(action) {
            input type="hidden" name="csrf" value=(ctx.user.csrf);
            input type="hidden" name="expected_version" value=(exam.version);
            @if series.is_empty() {
                p.muted { "No PET series with PatientID " code { (ctx.id) } " has reached the archive yet. The scanner sends to the DICOM receiver (AE title and port as configured), or use "
                    code { "her2ex pet import DIR" } "." }
            } @else {
                fieldset {
                    legend { "Series in the archive with PatientID " (ctx.id) }
                    @for (i, s) in series.iter().enumerate() {
                        div {
                            input type="radio" name="series_instance_uid" id={ "series-" (i) } value=(s.series_instance_uid) checked[i == 0];
                            label for={ "series-" (i) } {
                                " " (s.series_description.clone().unwrap_or_else(|| "PET".into()))
                                " · " (s.series_date.clone().unwrap_or_default())
                                " · " (s.instance_count) " images · received " (ctx.user.local_time(s.last_received_at))
                                br; span.mono.muted { (s.series_instance_uid) }
                            }
                        }
                    }
                }
            }
            div.field {
                label for="other_uid" { "Or another series by its SeriesInstanceUID" }
                input type="text" id="other_uid" name="other_uid" class="mono" maxlength="64";
                small.help { "Only series your site's scanners sent or imported. Use this when the scanner did not send the study id as PatientID: the assignment needs a reason below." }
            }
            div.field {
                label for="assignment_reason" { "Why this series is hers (needed when its PatientID is not " (ctx.id) ")" }
                input type="text" id="assignment_reason" name="assignment_reason" maxlength="4000";
                small.help { "Kept in the audit trail with the quantification." }
            }
            button type="submit" { "Read and quantify" }
            " " span.muted { "An imaging worker reads it in a few seconds: SUV by the QIBA rules, lesion candidates and their metrics. This page follows it." }
        }
    }
}

/// Where the exam's newest quantification job is: while it is queued or running the page
/// says so and reloads itself every few seconds; a failed one says why. A done one is
/// the quantification shown above.
fn job_notice(ctx: &Ctx, job: &trial::jobs::ImagingJobView) -> Markup {
    let asked = chrono::DateTime::parse_from_rfc3339(&job.requested_at)
        .map(|t| ctx.user.local_time(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| job.requested_at.clone());
    html! {
        @match job.state.as_str() {
            "queued" | "running" => {
                div.notice #imaging-job role="status" data-state=(job.state) {
                    meta http-equiv="refresh" content="3";
                    "Quantification " (job.id) " of series " span.mono { (job.series_instance_uid) }
                    ", asked for by " (job.requested_by) " at " (asked) ": "
                    @if job.state == "queued" {
                        strong { "queued" } ", waiting for an imaging worker."
                    } @else {
                        strong { "running" } " (attempt " (job.attempts) "): the series is being read."
                    }
                    br; small.muted { "This page reloads itself until it is done." }
                }
            }
            "failed" => {
                div.error #imaging-job role="alert" data-state="failed" {
                    "Quantification " (job.id) " of series " span.mono { (job.series_instance_uid) }
                    ", asked for at " (asked) ", " strong { "failed" } ": "
                    (job.outcome.clone().unwrap_or_default())
                }
            }
            _ => {}
        }
    }
}

fn discrepancy_box(ds: &[Discrepancy]) -> Markup {
    html! {
        @if !ds.is_empty() {
            div.warning role="alert" #discrepancies {
                strong { "The IMP form and the DICOM header disagree. " }
                "The SUV uses the header (the source of truth); correct the form if it is wrong."
                table {
                    thead { tr { th { "Quantity" } th { "Form" } th { "DICOM header" } th { "Difference" } } }
                    tbody { @for d in ds { tr { td { (d.field) } td { (d.form) } td { (d.header) } td { (d.difference) } } } }
                }
            }
        }
    }
}

/// Candidate numbers the stylesheet can highlight on the MIP (see [`marker_highlight_css`]).
const HIGHLIGHTED_CANDIDATES: u32 = 150;

/// The stylesheet rules that light up a candidate's marker on the MIP while the
/// candidate's row (in the candidate table or the reader's decisions) has the pointer or
/// the keyboard focus: pages carry no script, so one rule per candidate number.
pub fn marker_highlight_css() -> String {
    let mut css = String::from(
        "/* A candidate's marker on the MIP lights up while her row is pointed at or focused. */\n",
    );
    for n in 1..=HIGHLIGHTED_CANDIDATES {
        css.push_str(&format!(
            ".pet-workspace:has(tr[data-candidate=\"{n}\"]:is(:hover, :focus, :focus-within)) circle.marker[data-candidate=\"{n}\"] {{ stroke: #f0b400; }}\n"
        ));
    }
    css
}

/// The MIP picture, clickable to see it at full size, with an invisible ring over each
/// candidate's marker that lights up when her row is focused.
fn mip_pane(q: &PetQuantification, mip: &str, layout: Option<&MipLayout>) -> Markup {
    html! {
        div.mip-pane {
            input.mip-zoom type="checkbox" id="mip-zoom" aria-label="Show the MIP at full size";
            label.mip for="mip-zoom" title="Click to enlarge; click again to go back" {
                span.mip-stack {
                    img #mip src=(mip) alt={ "Coronal maximum-intensity projection of " (q.timepoint.label()) " with " (q.candidates.len()) " numbered candidate markers; grey scale SUV 0 (white) to " (imaging::MIP_MAX_SUV) " (black)." } width="480";
                    @if let Some(l) = layout {
                        svg.markers viewBox={ "0 0 " (l.width) " " (l.height) } preserveAspectRatio="none" aria-hidden="true" {
                            @for m in &l.markers {
                                circle.marker data-candidate=(m.number) cx=(m.x) cy=(m.y) r=(m.radius + 6) stroke-width=(m.radius.max(4) / 2 + 2) {}
                            }
                        }
                    }
                }
            }
            p.muted { "Coronal MIP seen from the front (her right on your left). Red rings: candidates, numbered as in the tables; the row you are on lights up its ring. Click the picture to enlarge it." }
        }
    }
}

fn quantification_card(
    ctx: &Ctx,
    q: &PetQuantification,
    layout: Option<&MipLayout>,
    work: Markup,
) -> Markup {
    let mip = format!("/participants/{}/pet/{}/mip.png", ctx.id, q.timepoint.id());
    html! {
        h2 { "2. Quantification" }
        (discrepancy_box(&q.discrepancies))
        p {
            (q.quantification_id) " · series " span.mono { (q.series_instance_uid) } " · " (q.image_count) " images · "
            (q.parameters.suv_type) " · " (q.algorithm_version) " · settings v" (q.settings_version) @if !q.protocol_version.is_empty() { " (protocol: " (q.protocol_version) ")" } " · " (ctx.user.local_time(q.quantified_at))
        }
        p.muted {
            "Candidates: SUV ≥ " (q.parameters.candidate_threshold_suv) ", at least " (q.parameters.min_volume_ml) " mL, 26-connected; metabolic volume at "
            (format!("{:.0}", q.parameters.mtv_fraction * 100.0)) " % of SUVmax; HER2-avid at SUVmax ≥ " (q.parameters.avid_suvmax_threshold) "."
            @if let Some(rule) = &q.header.scan_datetime_rule { " Scan time from " (rule.replace('_', " ")) "." }
            @if let Some(f) = q.header.suvbw_scale_factor { " SUVbw factor " (format!("{f:.6}")) " g/mL per Bq/mL." }
        }
        @if !q.warnings.is_empty() {
            details.card open {
                summary { (q.warnings.len()) " assumption(s) and warning(s)" }
                ul { @for w in &q.warnings { li { (w) } } }
            }
        }
        div.pet-workspace {
            (mip_pane(q, &mip, layout))
            div.pet-work {
            table #candidates {
                thead { tr { th { "#" } th { "SUVmax" } th { "SUVpeak" } th { "SUVmean" } th { "MTV mL" } th { "TLU" } th { "Centroid mm (x, y, z)" } th { "Flag" } } }
                tbody {
                    @for c in &q.candidates {
                        tr data-candidate=(c.number) tabindex="0" {
                            td { strong { (c.number) } }
                            td { (n2(c.suv_max)) }
                            td { (n2(c.suv_peak)) }
                            td { (n2(c.suv_mean)) }
                            td { (n2(c.mtv_ml)) }
                            td { (n1(c.tlu)) }
                            td.mono { (format!("{:.0}, {:.0}, {:.0}", c.centroid_mm[0], c.centroid_mm[1], c.centroid_mm[2])) }
                            td {
                                @if let Some(o) = &c.physiological { span.status.missing { "likely physiological: " (o) } }
                                @else if c.her2_avid { span.status.met { "HER2-avid" } }
                            }
                        }
                    }
                }
            }
            @if q.candidates.is_empty() { p.muted { "No candidate above the threshold. The reader may add lesions." } }
            (work)
            }
        }
    }
}

fn review_form(
    ctx: &Ctx,
    exam: &PetExam,
    q: &PetQuantification,
    values: &BTreeMap<String, String>,
    refusal: Option<(u32, Markup)>,
) -> Markup {
    let action = format!(
        "/participants/{}/pet/{}/review",
        ctx.id,
        exam.timepoint.id()
    );
    let v = |k: String| values.get(&k).cloned().unwrap_or_default();
    html! {
        form.card #review method="post" action=(action) {
            input type="hidden" name="csrf" value=(ctx.user.csrf);
            input type="hidden" name="expected_version" value=(exam.version);
            input type="hidden" name="quantification_id" value=(q.quantification_id);
            p { "Decide every candidate. A confirmed lesion needs its anatomical site and whether an ultrasound-guided biopsy can reach it. Physiological uptake is proposed as a target only if you confirm it." }
            table {
                thead { tr { th { "#" } th { "Decision" } th { "Anatomical site" } th { "Ultrasound" } th { "Note" } } }
                tbody {
                    @for c in &q.candidates {
                        @let n = c.number;
                        @let d = v(format!("decision_{n}"));
                        @let us = v(format!("us_{n}"));
                        tr data-candidate=(n) {
                            td { label for={ "decision_" (n) } { (n) } }
                            td { select id={ "decision_" (n) } name={ "decision_" (n) } required {
                                option value="" selected[d.is_empty()] { "— choose —" }
                                option value="confirm" selected[d == "confirm"] { "lesion" }
                                option value="reject" selected[d == "reject"] { "not a lesion" }
                            } }
                            td { input type="text" name={ "site_" (n) } aria-label={ "anatomical site of " (n) } value=(v(format!("site_{n}"))) maxlength="120"; }
                            td { select name={ "us_" (n) } aria-label={ "ultrasound access of " (n) } {
                                option value="" selected[us.is_empty()] { "—" }
                                option value="yes" selected[us == "yes"] { "accessible" }
                                option value="no" selected[us == "no"] { "not accessible" }
                            } }
                            td { input type="text" name={ "note_" (n) } aria-label={ "note on " (n) } value=(v(format!("note_{n}"))) maxlength="300"; }
                        }
                        @if let Some((_, p)) = refusal.as_ref().filter(|(at, _)| *at == n) {
                            tr.refusal data-refused=(n) { td colspan="5" { (p) } }
                        }
                    }
                }
            }
            fieldset {
                legend { "Lesions the quantification missed (optional)" }
                table {
                    thead { tr { th { "Anatomical site" } th { "Ultrasound" } th { "SUVmax (if measured)" } th { "Note" } } }
                    tbody {
                        @for k in 1..=ADD_ROWS {
                            tr {
                                td { input type="text" name={ "add_site_" (k) } aria-label={ "added lesion " (k) " site" } value=(v(format!("add_site_{k}"))) maxlength="120"; }
                                td { select name={ "add_us_" (k) } aria-label={ "added lesion " (k) " ultrasound access" } {
                                    option value="no" { "not accessible" }
                                    option value="yes" selected[v(format!("add_us_{k}")) == "yes"] { "accessible" }
                                } }
                                td { input type="number" step="0.01" min="0" name={ "add_suv_" (k) } aria-label={ "added lesion " (k) " SUVmax" } value=(v(format!("add_suv_{k}"))); }
                                td { input type="text" name={ "add_note_" (k) } aria-label={ "added lesion " (k) " note" } value=(v(format!("add_note_{k}"))) maxlength="300"; }
                            }
                        }
                    }
                }
            }
            div.field {
                label for="review_note" { "Overall note" }
                input type="text" id="review_note" name="note" value=(v("note".into())) maxlength="500";
            }
            button type="submit" { "Save the review" }
        }
    }
}

fn review_card(user: &CurrentUser, r: &PetReview) -> Markup {
    html! {
        h2 { "3. Reader's review" }
        p.muted { (r.review_id) " of " (r.quantification_id) " · " (user.local_time(r.reviewed_at)) @if let Some(n) = &r.note { " · " (n) } }
        table #reviewed {
            thead { tr { th { "Lesion" } th { "Decision" } th { "Site" } th { "Ultrasound" } th { "SUVmax" } th { "Note" } } }
            tbody {
                @for l in &r.lesions {
                    tr data-label=(l.label) {
                        td { strong { (l.label) } }
                        td { @if l.confirmed() { "lesion" } @else { "not a lesion" } }
                        td { (l.anatomical_site.clone().unwrap_or_default()) }
                        td { @match l.ultrasound_accessible { Some(true) => "accessible", Some(false) => "not accessible", None => "—" } }
                        td { (l.suv_max.map(n2).unwrap_or_else(|| "—".into())) }
                        td { (l.note.clone().unwrap_or_default()) }
                    }
                }
            }
        }
        h2 { "4. Biopsy target proposal" }
        p.muted { "PROTOCOL §7: ultrasound-accessible lesions with SUVmax at or above the avid threshold, highest first; if none, an accessible non-avid lesion. The program proposes; the investigator decides." }
        table #proposal {
            thead { tr { th { "Rank" } th { "Lesion" } th { "Site" } th { "SUVmax" } th { "Why" } } }
            tbody {
                @for t in &r.proposal {
                    tr data-label=(t.label) data-rank=(t.rank.map(|r| r.to_string()).unwrap_or_default()) {
                        td { @if let Some(k) = t.rank { strong { (k) } } @else { span.muted { "—" } } }
                        td { (t.label) }
                        td { (t.anatomical_site.clone().unwrap_or_default()) }
                        td { (t.suv_max.map(n2).unwrap_or_else(|| "—".into())) }
                        td { (t.reason) }
                    }
                }
            }
        }
    }
}

fn target_form(
    ctx: &Ctx,
    exam: &PetExam,
    r: &PetReview,
    values: &BTreeMap<String, String>,
) -> Markup {
    let action = format!(
        "/participants/{}/pet/{}/target",
        ctx.id,
        exam.timepoint.id()
    );
    let first = r
        .proposal
        .iter()
        .find(|t| t.rank == Some(1))
        .map(|t| t.label.clone());
    let chosen = values.get("lesion").cloned().or(first);
    let meaning = trial::commands::find("biopsy-target")
        .and_then(|s| s.signature_meaning)
        .unwrap_or_default();
    html! {
        form.card #target method="post" action=(action) {
            input type="hidden" name="csrf" value=(ctx.user.csrf);
            input type="hidden" name="expected_version" value=(exam.version);
            div.field {
                label for="lesion" { "Lesion to biopsy" }
                select id="lesion" name="lesion" required {
                    @for t in r.proposal.iter().filter(|t| r.lesions.iter().any(|l| l.label == t.label && l.confirmed())) {
                        option value=(t.label) selected[chosen.as_deref() == Some(t.label.as_str())] {
                            (t.label) " · " (t.anatomical_site.clone().unwrap_or_default())
                            @if let Some(k) = t.rank { " · proposed rank " (k) } @else { " · not proposed" }
                        }
                    }
                }
            }
            div.field {
                label for="reason" { "Reason" }
                input type="text" id="reason" name="reason" required maxlength="500" value=(values.get("reason").cloned().unwrap_or_default());
                small.help { "Say why, also when you follow the proposal." }
            }
            fieldset.card {
                legend { "Electronic signature" }
                p { "By signing you state: " strong { (meaning) } }
                div.field {
                    label for="signature_password" { "Your password" }
                    input type="password" id="signature_password" name="signature_password" autocomplete="current-password" required;
                }
            }
            button type="submit" { "Sign the choice" }
        }
    }
}

/// Who looks at which participant.
pub(super) struct Ctx<'a> {
    pub user: &'a CurrentUser,
    pub id: &'a str,
}

/// What the exam page shows of a loaded exam.
pub(super) struct ExamPage<'a> {
    pub ctx: Ctx<'a>,
    pub tp: PetTimepoint,
    pub state: &'a protocol::State,
    pub exam: &'a PetExam,
    pub series: &'a [SeriesView],
    pub redo: &'a Redo,
    /// The PET response read, on the PET2 page.
    pub pet_response: Option<&'a PetResponseView>,
    /// What was just saved on this page, to confirm.
    pub done: Option<&'a str>,
    /// Where the candidates' markers sit in the MIP picture, when known.
    pub mip_layout: Option<&'a MipLayout>,
    /// The candidate a refused review was refused about: the refusal is shown in her row.
    pub refused_candidate: Option<u32>,
}

/// The reader's review beside the MIP: her form (with its refusal), or what she decided.
fn review_section(
    ctx: &Ctx,
    exam: &PetExam,
    q: &PetQuantification,
    redo: &Redo,
    refused_candidate: Option<u32>,
) -> Markup {
    // A refusal about one candidate goes in her row; any other above the form.
    let in_row = refused_candidate.filter(|n| q.candidates.iter().any(|c| c.number == *n));
    let problem = redo.problem("review");
    html! {
        @match &exam.review {
            Some(r) => { (review_card(ctx.user, r)) }
            None => {
                h2 { "3. Reader's review" }
                @if ctx.user.role.may(Capability::ReviewImaging) {
                    @if in_row.is_none() { @if let Some(p) = &problem { (p) } }
                    (review_form(ctx, exam, q, &redo.values("review"), in_row.zip(problem)))
                } @else {
                    p.muted { "Awaiting the nuclear-medicine reader." }
                }
            }
        }
    }
}

/// The exam page's body: administration, quantification, review, biopsy target.
pub(super) fn exam_body(page: &ExamPage) -> Markup {
    let ExamPage {
        ctx,
        tp,
        state,
        exam,
        series,
        redo,
        pet_response,
        done,
        mip_layout,
        refused_candidate,
    } = page;
    let (user, id, tp) = (ctx.user, ctx.id, *tp);
    let state_ok_for_target = match tp {
        PetTimepoint::Pet1 => **state == protocol::State::BaselinePetDone,
        PetTimepoint::Pet3 => **state == protocol::State::Progression,
        PetTimepoint::Pet2 => false,
    };
    html! {
        h1 { (tp.label()) " · " (id) }
        @if let Some(n) = super::saved_notice(*done) { (n) }
        p { a href={ "/participants/" (id) } { "Back to " (id) } " · state " strong { (state.name().replace('_', " ")) } }
        (administration_card(ctx, exam))
        @if exam.administration.is_some() {
            @if let Some(q) = &exam.quantification {
                (quantification_card(ctx, q, *mip_layout, review_section(ctx, exam, q, redo, *refused_candidate)))
            } @else {
                h2 { "2. Quantification" }
            }
            @if let Some(j) = &exam.job { (job_notice(ctx, j)) }
            @if user.role.may(Capability::QuantifyImaging) && exam.review.is_none() && !exam.job.as_ref().is_some_and(|j| j.is_open()) {
                @if let Some(p) = redo.problem("quantify") { (p) }
                @if exam.quantification.is_some() {
                    details { summary { "Read another series instead (the review starts again)" } (series_form(ctx, exam, series)) }
                } @else {
                    (series_form(ctx, exam, series))
                }
            }
        }
        @if let Some(r) = &exam.review {
            @if tp.guides_biopsy() {
                h2 { "5. Biopsy target" }
                @match &exam.biopsy_target {
                    Some(c) => {
                        div.notice #chosen {
                            "Chosen: " strong { (c.label) } " (" (c.lesion.anatomical_site.clone().unwrap_or_default()) ")"
                            @match c.proposed_rank { Some(k) => { ", proposed rank " (k) }, None => { ", not proposed" } }
                            ". Reason: " (c.reason) ". Signed by " (c.signature.signer) ", " (ctx.user.local_time(c.signature.signed_at)) "."
                        }
                    }
                    None => {
                        @if user.role.may(Capability::InvestigatorSign) && state_ok_for_target {
                            @if let Some(p) = redo.problem("target") { (p) }
                            (target_form(ctx, exam, r, &redo.values("target")))
                        } @else {
                            p.muted { "Awaiting the investigator's choice." }
                        }
                    }
                }
            }
        }
        @if let (Some(r), PetTimepoint::Pet1) = (&exam.review, tp) {
            (phenotype_section(id, exam, r))
        }
        @if let Some(view) = pet_response { (super::pet_response::section(ctx, view, redo)) }
    }
}

/// The whole-body HER2 phenotype of the baseline exam: how much of the confirmed tumour
/// load is HER2-avid, and every lesion's SUVmax by anatomical site.
fn phenotype_section(id: &str, exam: &PetExam, r: &PetReview) -> Markup {
    let Some(q) = &exam.quantification else {
        return html! {};
    };
    let threshold = q.parameters.avid_suvmax_threshold;
    let target = exam.biopsy_target.as_ref().map(|t| t.label.as_str());
    let lesions = analysis::dataset::confirmed_lesions(id, r, Some(q), target, threshold);
    let (Some(ph), Some(fig)) = (
        analysis::dataset::phenotype(&lesions),
        analysis::pictures::heterogeneity_of(id, &lesions, threshold),
    ) else {
        return html! {};
    };
    html! {
        section #phenotype {
            h2 { "Whole-body HER2 phenotype" }
            p {
                strong { (ph.class.label()) } ": " (ph.avid_lesions) " of " (ph.lesions)
                " confirmed lesions HER2-avid (SUVmax ≥ " (n1(threshold)) ")"
                @if let Some(f) = ph.avid_fraction_by_mtv { ", " (format!("{:.0}", f * 100.0)) " % of the metabolic tumour volume" }
                "."
            }
            div.figure { (PreEscaped(&fig.svg)) }
        }
    }
}
