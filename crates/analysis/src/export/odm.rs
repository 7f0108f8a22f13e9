//! [`OdmWriter`]: the casebook as one CDISC ODM 1.3.2 snapshot file.
//!
//! The file holds the study's metadata (visits, forms, items, code lists derived from the
//! protocol types, [`super::metadata`]), the administrative data (users, sites, the
//! investigator's signature meaning) and then one `SubjectData` per participant:
//! visit (`StudyEventData`) → form (`FormData`) → one `ItemGroupData` per record, keyed
//! by the record's key, with the `AuditRecord` of the event that recorded it (who, where,
//! when, why, and the event's hash in the audit chain as `SourceID`). The audit record
//! sits on the item group because all items of one record were recorded by one event.
//!
//! A snapshot holds the current values: superseded and retracted entries stay in the
//! audit trail, not in the file. Signatures in force are written where they were given
//! (casebook on the subject, visit signatures on the visit, the enrolment signature on
//! the enrolment form); queries are annotations on the record they ask about.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use protocol::oversight::{Query, SignScope, Visit};
use protocol::{ESignature, Participant};

use super::metadata::Catalog;
use super::odm_meta::{SIGNATURE_DEF, write_admin, write_study};
use super::records::{Form, Record, records};
use super::xml::{empty, end, start, text};
use super::{ExportCounts, ExportError};
use crate::source::{ParticipantSource, StudyInfo};

/// Writes one ODM 1.3.2 snapshot, one participant at a time.
///
/// ```
/// # use analysis::export::OdmWriter;
/// # fn demo(info: &analysis::source::StudyInfo, people: &[analysis::source::ParticipantSource]) -> Result<(), analysis::export::ExportError> {
/// let mut odm = OdmWriter::new(Vec::new(), info)?;
/// for p in people {
///     odm.participant(p)?;
/// }
/// let bytes = odm.finish()?;
/// # Ok(()) }
/// ```
pub struct OdmWriter<W: Write> {
    w: W,
    catalog: Catalog,
    counts: ExportCounts,
}

impl<W: Write> OdmWriter<W> {
    /// Writes the file's head: the ODM root, the Study with its metadata, the
    /// administrative data, and opens the clinical data.
    pub fn new(mut w: W, info: &StudyInfo) -> Result<Self, ExportError> {
        let cut = &info.cut_off;
        if info.study_oid.trim().is_empty() {
            return Err(ExportError::Invalid("the study has no OID".into()));
        }
        let catalog = Catalog::new();
        let created = timestamp(cut.as_of);
        let file_oid = format!("{}.SNAPSHOT.{}", info.study_oid, cut.head_seq);
        let description = format!(
            "Data cut-off {created}: audit log up to event {} (chain head {}), settings version {}, protocol {}",
            cut.head_seq, cut.head_hash, cut.settings_version, cut.protocol_version
        );
        w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
        let attrs = [
            ("xmlns", "http://www.cdisc.org/ns/odm/v1.3"),
            ("Description", description.as_str()),
            ("FileType", "Snapshot"),
            ("Granularity", "All"),
            ("FileOID", &file_oid),
            ("CreationDateTime", &created),
            ("AsOfDateTime", &created),
            ("ODMVersion", "1.3.2"),
            ("Originator", "her2ex"),
            ("SourceSystem", "her2ex"),
            ("SourceSystemVersion", &cut.software_version),
        ];
        start(&mut w, "ODM", &attrs)?;
        write_study(&mut w, info, &catalog)?;
        write_admin(&mut w, info)?;
        let mdv = mdv_oid(info);
        let attrs = [
            ("StudyOID", info.study_oid.as_str()),
            ("MetaDataVersionOID", &mdv),
        ];
        start(&mut w, "ClinicalData", &attrs)?;
        Ok(OdmWriter {
            w,
            catalog,
            counts: ExportCounts::default(),
        })
    }

    /// Writes one participant's `SubjectData`.
    pub fn participant(&mut self, src: &ParticipantSource) -> Result<(), ExportError> {
        let (p, recs) = records(src)?;
        let subject = Subject::new(src, &p, &recs);
        let w = &mut self.w;
        start(w, "SubjectData", &[("SubjectKey", &src.study_id)])?;
        if let Some(sig) = subject.casebook {
            let id = format!("SIG.{}.casebook", src.study_id);
            signature(w, &id, sig, &subject.site)?;
        }
        empty(
            w,
            "SiteRef",
            &[("LocationOID", &format!("LOC.{}", src.site))],
        )?;
        let mut seq = 0;
        for q in &subject.loose_queries {
            seq += 1;
            annotation(w, seq, q)?;
        }
        for v in Visit::ALL {
            let in_visit: Vec<&Record> = recs.iter().filter(|r| r.visit == v).collect();
            if in_visit.is_empty() {
                continue;
            }
            start(w, "StudyEventData", &[("StudyEventOID", &visit_oid(v))])?;
            if let Some(sig) = subject.visits.get(&v) {
                let id = format!("SIG.{}.{}", src.study_id, v.id());
                signature(w, &id, sig, &subject.site)?;
            }
            let mut forms: Vec<Form> = in_visit.iter().map(|r| r.form).collect();
            forms.dedup();
            for form in forms {
                let meta = self.catalog.form(form);
                start(w, "FormData", &[("FormOID", &meta.oid)])?;
                if form == Form::Enrol
                    && let Some(e) = &p.enrolment
                {
                    let id = format!("SIG.{}.enrolment", src.study_id);
                    signature(w, &id, &e.signature, &subject.site)?;
                }
                for r in in_visit.iter().filter(|r| r.form == form) {
                    let queries = subject.queries.get(r.key.as_str());
                    let n = write_record(w, &self.catalog, src, &subject, r, queries, &mut seq)?;
                    self.counts.data += n;
                }
                end(w, "FormData")?;
            }
            end(w, "StudyEventData")?;
        }
        end(w, "SubjectData")?;
        self.counts.participants += 1;
        Ok(())
    }

    /// What has been written so far.
    pub fn counts(&self) -> ExportCounts {
        self.counts
    }

    /// Closes the file and hands the writer back (flushed).
    pub fn finish(mut self) -> Result<W, ExportError> {
        end(&mut self.w, "ClinicalData")?;
        end(&mut self.w, "ODM")?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// What a participant's signatures and queries are attached to.
struct Subject<'a> {
    site: String,
    casebook: Option<&'a ESignature>,
    visits: BTreeMap<Visit, &'a ESignature>,
    queries: BTreeMap<&'a str, Vec<&'a Query>>,
    loose_queries: Vec<&'a Query>,
}

impl<'a> Subject<'a> {
    fn new(src: &ParticipantSource, p: &'a Participant, recs: &[Record]) -> Subject<'a> {
        let mut s = Subject {
            site: src.site.clone(),
            casebook: None,
            visits: BTreeMap::new(),
            queries: BTreeMap::new(),
            loose_queries: Vec::new(),
        };
        // The last signature in force of each scope is the one that counts.
        for sig in p.oversight.valid_signatures() {
            match &sig.scope {
                SignScope::Casebook => s.casebook = Some(&sig.signature),
                SignScope::Visit { visit } => {
                    s.visits.insert(*visit, &sig.signature);
                }
            }
        }
        for q in &p.oversight.queries {
            match recs.iter().find(|r| r.key == q.point.entry_id) {
                Some(_) => s.queries.entry(&q.point.entry_id).or_default().push(q),
                None => s.loose_queries.push(q),
            }
        }
        s
    }
}

/// Writes one record's item groups; returns the number of `ItemData` written.
fn write_record(
    w: &mut impl Write,
    cat: &Catalog,
    src: &ParticipantSource,
    subject: &Subject<'_>,
    r: &Record,
    queries: Option<&Vec<&Query>>,
    seq: &mut usize,
) -> Result<usize, ExportError> {
    let meta = cat.form(r.form);
    let ev = src.events.get(r.event).ok_or_else(|| {
        ExportError::Invalid(format!("{}: event {} is missing", src.study_id, r.event))
    })?;
    let mut n = 0;
    for (gi, gd) in meta.flatten(&r.key, &r.value).into_iter().enumerate() {
        let group = &meta.groups[gd.group];
        let attrs = [
            ("ItemGroupOID", group.oid.as_str()),
            ("ItemGroupRepeatKey", &gd.key),
        ];
        start(w, "ItemGroupData", &attrs)?;
        start(w, "AuditRecord", &[])?;
        empty(w, "UserRef", &[("UserOID", &format!("USR.{}", ev.actor))])?;
        let site = ev.site.as_deref().unwrap_or(&subject.site);
        empty(w, "LocationRef", &[("LocationOID", &format!("LOC.{site}"))])?;
        text(w, "DateTimeStamp", &[], &timestamp(ev.recorded_at))?;
        if let Some(reason) = r.reason.as_deref().or(ev.reason.as_deref()) {
            text(w, "ReasonForChange", &[], reason)?;
        }
        text(w, "SourceID", &[], &ev.hash)?;
        end(w, "AuditRecord")?;
        // Queries ask about the record, so they sit on its main group.
        if gi == 0 {
            for q in queries.into_iter().flatten() {
                *seq += 1;
                annotation(w, *seq, q)?;
            }
        }
        for (i, value) in &gd.values {
            let it = &group.items[*i];
            empty(w, "ItemData", &[("ItemOID", &it.oid), ("Value", value)])?;
            n += 1;
        }
        end(w, "ItemGroupData")?;
    }
    Ok(n)
}

/// Writes an investigator's e-signature.
///
/// `id` makes the signature's `ID` (`SIG.<subject>.<what>`): unique in the file, and
/// readers such as odmlib require it.
fn signature(
    w: &mut impl Write,
    id: &str,
    sig: &ESignature,
    site: &str,
) -> Result<(), ExportError> {
    start(w, "Signature", &[("ID", id)])?;
    empty(w, "UserRef", &[("UserOID", &format!("USR.{}", sig.signer))])?;
    empty(w, "LocationRef", &[("LocationOID", &format!("LOC.{site}"))])?;
    empty(w, "SignatureRef", &[("SignatureOID", SIGNATURE_DEF)])?;
    text(w, "DateTimeStamp", &[], &timestamp(sig.signed_at))?;
    end(w, "Signature")?;
    Ok(())
}

/// Writes a query as an annotation: its id, status, field and conversation.
fn annotation(w: &mut impl Write, seq: usize, q: &Query) -> Result<(), ExportError> {
    let mut comment = format!(
        "Query {} ({}) on {}",
        q.query_id,
        q.status.label(),
        q.point.entry_id
    );
    if let Some(f) = &q.point.field {
        comment.push('.');
        comment.push_str(f);
    }
    for m in &q.messages {
        let who = m.by.as_ref().map_or("system", |s| s.user.as_str());
        comment.push_str(&format!(
            "\n{} {who} [{}]: {}",
            timestamp(m.at),
            m.status.label(),
            m.text
        ));
    }
    start(w, "Annotation", &[("SeqNum", &seq.to_string())])?;
    text(w, "Comment", &[("SponsorOrSite", "Sponsor")], &comment)?;
    end(w, "Annotation")?;
    Ok(())
}

/// An ISO 8601 UTC time as ODM writes it (`2026-03-02T09:00:00Z`).
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The metadata version's OID: one per protocol version.
pub(crate) fn mdv_oid(info: &StudyInfo) -> String {
    format!("MDV.{}", info.cut_off.protocol_version)
}

/// A visit's study event OID, e.g. `SE.SCREENING`.
pub(crate) fn visit_oid(v: Visit) -> String {
    format!("SE.{}", v.id().to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{arm1_participant, consent_time, study_info};

    /// A writer that fails: the disk is full.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_output_is_an_io_error_not_a_panic() {
        let info = study_info(consent_time(1), 1);
        assert!(matches!(
            OdmWriter::new(Full, &info),
            Err(ExportError::Io(_))
        ));
    }

    #[test]
    fn a_participant_without_events_is_refused_by_name() {
        let info = study_info(consent_time(1), 1);
        let mut w = OdmWriter::new(Vec::new(), &info).unwrap();
        let mut src = arm1_participant("KS", 7, consent_time(7));
        src.events.clear();
        let err = w.participant(&src).unwrap_err();
        assert!(err.to_string().contains("KS-007"), "{err}");
        assert_eq!(w.counts().participants, 0);
    }
}
