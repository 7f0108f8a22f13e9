use analysis::export::OdmWriter;

use super::common::{hash_of_entry, info, participant};

fn odm(ns: &[u16]) -> (String, analysis::export::ExportCounts) {
    let mut w = OdmWriter::new(Vec::new(), &info()).unwrap();
    for &n in ns {
        w.participant(&participant(n)).unwrap();
    }
    let counts = w.counts();
    (String::from_utf8(w.finish().unwrap()).unwrap(), counts)
}

/// The text of the item group with this repeat key, up to its end.
fn group<'a>(xml: &'a str, key: &str) -> &'a str {
    let at = xml
        .find(&format!("ItemGroupRepeatKey=\"{key}\""))
        .unwrap_or_else(|| panic!("no item group {key}"));
    let start = xml[..at].rfind("<ItemGroupData").unwrap();
    let end = start + xml[start..].find("</ItemGroupData>").unwrap();
    &xml[start..end]
}

/// The values of an attribute over the file.
fn attrs<'a>(xml: &'a str, element: &str, attr: &str) -> Vec<&'a str> {
    let open = format!("<{element} ");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>').unwrap()];
            let at = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
            Some(&tag[at..at + tag[at..].find('"').unwrap()])
        })
        .collect()
}

#[test]
fn the_file_names_its_cut_off_not_the_clock() {
    let (xml, _) = odm(&[1]);
    let info = info();
    assert!(xml.contains("FileType=\"Snapshot\""));
    assert!(xml.contains("ODMVersion=\"1.3.2\""));
    assert!(
        xml.contains("CreationDateTime=\"2026-05-02T09:00:00Z\""),
        "cut-off time"
    );
    assert!(xml.contains("FileOID=\"HER2-EX.SNAPSHOT.5000\""));
    assert!(
        xml.contains(&info.cut_off.head_hash),
        "the chain head is named"
    );
}

#[test]
fn the_same_cut_off_gives_the_same_bytes() {
    assert_eq!(odm(&[1, 2]).0, odm(&[1, 2]).0);
}

#[test]
fn a_corrected_lab_is_exported_with_its_reason_and_the_hash_of_its_event() {
    let src = participant(1);
    let (xml, _) = odm(&[1]);
    let hb = group(&xml, "lab-11");
    assert!(
        hb.contains("<ItemData ItemOID=\"IT.LAB.VALUE\" Value=\"128.0\"/>"),
        "{hb}"
    );
    assert!(
        hb.contains("<ReasonForChange>Typing error, value from the lab report</ReasonForChange>")
    );
    assert!(hb.contains(&format!(
        "<SourceID>{}</SourceID>",
        hash_of_entry(&src, "lab-11")
    )));
    assert!(hb.contains("<UserRef UserOID=\"USR.nurse.demo\"/>"));
    // A snapshot holds current values: the superseded 124 g/L is in the audit trail only.
    assert!(!xml.contains("ItemGroupRepeatKey=\"lab-4\""));
}

#[test]
fn every_datum_has_a_definition_and_nothing_falls_outside_the_naming_rule() {
    let (xml, counts) = odm(&[1, 2, 3]);
    let defined = attrs(&xml, "ItemDef", "OID");
    let used = attrs(&xml, "ItemData", "ItemOID");
    assert_eq!(used.len(), counts.data);
    assert!(used.len() > 3 * 300, "{} data", used.len());
    for oid in &used {
        assert!(defined.contains(oid), "{oid} has no ItemDef");
        assert!(
            !oid.ends_with(".OTHER"),
            "{oid}: a field the schema does not name"
        );
    }
    let groups = attrs(&xml, "ItemGroupDef", "OID");
    for g in attrs(&xml, "ItemGroupData", "ItemGroupOID") {
        assert!(groups.contains(&g), "{g} has no ItemGroupDef");
    }
    assert_eq!(
        attrs(&xml, "SubjectData", "SubjectKey"),
        ["KS-001", "KS-002", "KS-003"]
    );
    assert_eq!(counts.participants, 3);
}

#[test]
fn pet_candidates_are_a_repeating_group_under_their_quantification() {
    let (xml, _) = odm(&[1]);
    let c1 = group(&xml, "petquant.1/1");
    assert!(c1.contains("ItemGroupOID=\"IG.PETQUANT.CANDIDATES\""));
    assert!(c1.contains("<ItemData ItemOID=\"IT.PETQUANT.CANDIDATES.SUV_MAX\" Value=\"9.0\"/>"));
    assert!(xml.contains("<CodeListItem CodedValue=\"arm1\">"));
}

#[test]
fn queries_signatures_and_the_enrolment_signature_are_where_they_were_given() {
    let (xml, _) = odm(&[1]);
    let anc = group(&xml, "lab-2");
    assert!(anc.contains("Query q-1 (open) on lab-2.value"), "{anc}");
    assert!(anc.contains("Please confirm the ANC against the lab report"));
    let screening = &xml[xml.find("StudyEventOID=\"SE.SCREENING\">").unwrap()..];
    assert!(
        screening.starts_with(
            "StudyEventOID=\"SE.SCREENING\">\n<Signature ID=\"SIG.KS-001.screening\">"
        )
    );
    let enrol = &xml[xml.find("<FormData FormOID=\"F.ENROL\">").unwrap()..];
    assert!(enrol.contains("<SignatureRef SignatureOID=\"SD.INVESTIGATOR\"/>"));
    assert!(xml.contains("<SignatureDef OID=\"SD.INVESTIGATOR\" Methodology=\"Electronic\">"));
}
