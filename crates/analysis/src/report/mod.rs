//! The study report: one self-contained HTML file with every picture inline, the numbers
//! in tables, and what they rest on (data cut-off, audit chain head, settings, protocol
//! and software versions).
//!
//! No script, no external file, no web font: it opens the same offline, in an archive,
//! years later. The same results give the same bytes (nothing in it reads a clock).

mod tables;

use std::fmt::Write as _;

use crate::analyses::Analyses;
use crate::dataset::Dataset;
use crate::pictures::{Figure, figures, heterogeneity};
use crate::source::StudyInfo;

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report's style sheet (inline: the file stands alone).
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;\
padding:1rem 1.5rem;color:#111;line-height:1.4}h1{font-size:1.6rem;margin-bottom:.2rem}\
h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}\
table{border-collapse:collapse;margin:.6rem 0 1rem}th,td{border:1px solid #ccc;\
padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f2f5f8}\
td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1rem 0 1.6rem}\
figcaption{color:#444;font-size:.92rem;max-width:760px}.meta td:first-child{font-weight:600}\
.ne{color:#8a4b00}.grid{display:flex;flex-wrap:wrap;gap:1rem}.grid figure{margin:0}\
.wide{overflow-x:auto}code{font-size:.9em}";

/// The content security policy under which the report may be served from the web
/// application: no script, nothing from elsewhere, and as style only the report's own
/// sheet, named by its hash.
pub fn content_security_policy() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(STYLE.as_bytes());
    format!(
        "default-src 'none'; style-src 'sha256-{}'; img-src data:; form-action 'none'; \
         frame-ancestors 'none'; base-uri 'none'",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

fn push_figure(out: &mut String, f: &Figure) {
    let _ = write!(
        out,
        "<figure id=\"{}-figure\">{}<figcaption><strong>{}.</strong> {}</figcaption></figure>",
        esc(&f.id),
        f.svg,
        esc(&f.title),
        esc(&f.caption)
    );
}

/// The whole report.
pub fn html(study: &StudyInfo, ds: &Dataset, a: &Analyses) -> String {
    let figs = figures(ds, a);
    let fig = |id: &str| figs.iter().find(|f| f.id == id);
    let mut out = String::with_capacity(256 * 1024);
    let c = &study.cut_off;
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{} study report, data cut-off {}</title><style>{STYLE}</style></head><body>\
         <h1>{} study report</h1><p>{}</p>",
        esc(&study.study_oid),
        c.as_of.format("%Y-%m-%d %H:%M UTC"),
        esc(&study.study_oid),
        esc(&study.name),
    );
    tables::provenance(&mut out, study);
    out.push_str("<h2 id=\"participants\">Participants</h2>");
    tables::counts(&mut out, a);
    out.push_str("<h2 id=\"diagnostic\">Baseline HER2-PET against the biopsy</h2>");
    for id in ["fig-suv-patient", "fig-suv-biopsied"] {
        if let Some(f) = fig(id) {
            push_figure(&mut out, f);
        }
    }
    tables::by_category(&mut out, a);
    if let Some(f) = fig("fig-roc") {
        push_figure(&mut out, f);
    }
    tables::diagnostic(&mut out, a);
    out.push_str("<h2 id=\"phenotype\">Whole-body HER2 phenotype</h2>");
    tables::phenotypes(&mut out, a, ds);
    let het: Vec<Figure> = ds
        .participants
        .iter()
        .filter_map(|r| heterogeneity(ds, &r.study_id))
        .collect();
    if !het.is_empty() {
        out.push_str("<div class=\"grid\">");
        for f in &het {
            push_figure(&mut out, f);
        }
        out.push_str("</div>");
    }
    out.push_str("<h2 id=\"response\">Response to T-DXd (arm 1)</h2>");
    tables::response(&mut out, a);
    for id in ["fig-waterfall", "fig-swimmer", "fig-spider"] {
        if let Some(f) = fig(id) {
            push_figure(&mut out, f);
        }
    }
    out.push_str("<h2 id=\"pfs\">Progression-free survival by baseline PET status</h2>");
    if let Some(f) = fig("fig-pfs") {
        push_figure(&mut out, f);
    }
    tables::pfs(&mut out, a);
    out.push_str("<h2 id=\"safety\">Safety</h2>");
    tables::safety(&mut out, a);
    if let Some(f) = fig("fig-ae") {
        push_figure(&mut out, f);
    }
    out.push_str("<h2 id=\"listing\">Participant listing</h2>");
    tables::listing(&mut out, ds);
    tables::methods(&mut out, a);
    out.push_str("</body></html>\n");
    out
}
