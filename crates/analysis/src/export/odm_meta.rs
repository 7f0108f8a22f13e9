//! The ODM file's head: the Study with its metadata (every visit, form, item group,
//! item and code list) and the administrative data (users, sites, the signature meaning).

use std::io::{self, Write};

use protocol::oversight::Visit;

use super::metadata::Catalog;
use super::odm::{mdv_oid, visit_oid};
use super::xml::{empty, end, start, text};
use crate::source::StudyInfo;

/// The OID of the investigator's e-signature meaning.
pub(crate) const SIGNATURE_DEF: &str = "SD.INVESTIGATOR";

/// Writes `<Study>` with GlobalVariables and the MetaDataVersion.
pub(crate) fn write_study(w: &mut impl Write, info: &StudyInfo, cat: &Catalog) -> io::Result<()> {
    start(w, "Study", &[("OID", &info.study_oid)])?;
    start(w, "GlobalVariables", &[])?;
    text(w, "StudyName", &[], &info.study_oid)?;
    text(w, "StudyDescription", &[], &info.name)?;
    text(w, "ProtocolName", &[], &info.protocol_name)?;
    end(w, "GlobalVariables")?;
    let mdv = mdv_oid(info);
    let name = format!("Protocol {}", info.cut_off.protocol_version);
    start(w, "MetaDataVersion", &[("OID", &mdv), ("Name", &name)])?;
    start(w, "Protocol", &[])?;
    for (i, v) in Visit::ALL.iter().enumerate() {
        let order = (i + 1).to_string();
        let oid = visit_oid(*v);
        let attrs = [
            ("StudyEventOID", oid.as_str()),
            ("OrderNumber", &order),
            ("Mandatory", "No"),
        ];
        empty(w, "StudyEventRef", &attrs)?;
    }
    end(w, "Protocol")?;
    for v in Visit::ALL {
        write_visit_def(w, v, cat)?;
    }
    write_form_defs(w, cat)?;
    write_items(w, cat)?;
    end(w, "MetaDataVersion")?;
    end(w, "Study")
}

fn write_visit_def(w: &mut impl Write, v: Visit, cat: &Catalog) -> io::Result<()> {
    let oid = visit_oid(v);
    let attrs = [
        ("OID", oid.as_str()),
        ("Name", v.label()),
        ("Repeating", "No"),
        (
            "Type",
            if v == Visit::End {
                "Unscheduled"
            } else {
                "Scheduled"
            },
        ),
    ];
    start(w, "StudyEventDef", &attrs)?;
    let forms = cat.forms().iter().filter(|f| f.form.visits().contains(&v));
    for (i, f) in forms.enumerate() {
        let order = (i + 1).to_string();
        let attrs = [
            ("FormOID", f.oid.as_str()),
            ("OrderNumber", &order),
            ("Mandatory", "No"),
        ];
        empty(w, "FormRef", &attrs)?;
    }
    end(w, "StudyEventDef")
}

fn write_form_defs(w: &mut impl Write, cat: &Catalog) -> io::Result<()> {
    for f in cat.forms() {
        start(
            w,
            "FormDef",
            &[
                ("OID", &f.oid),
                ("Name", f.form.name()),
                ("Repeating", "No"),
            ],
        )?;
        for (i, g) in f.groups.iter().enumerate() {
            let order = (i + 1).to_string();
            let attrs = [
                ("ItemGroupOID", g.oid.as_str()),
                ("OrderNumber", &order),
                ("Mandatory", "No"),
            ];
            empty(w, "ItemGroupRef", &attrs)?;
        }
        end(w, "FormDef")?;
    }
    for f in cat.forms() {
        for g in &f.groups {
            start(
                w,
                "ItemGroupDef",
                &[("OID", &g.oid), ("Name", &g.name), ("Repeating", "Yes")],
            )?;
            for (i, it) in g.items.iter().enumerate() {
                let order = (i + 1).to_string();
                let mut attrs = vec![("ItemOID", it.oid.as_str()), ("OrderNumber", &order)];
                // The record key identifies the repeat: mandatory, the group's key.
                if i == 0 {
                    attrs.extend([("Mandatory", "Yes"), ("KeySequence", "1")]);
                } else {
                    attrs.push(("Mandatory", "No"));
                }
                empty(w, "ItemRef", &attrs)?;
            }
            end(w, "ItemGroupDef")?;
        }
    }
    Ok(())
}

fn write_items(w: &mut impl Write, cat: &Catalog) -> io::Result<()> {
    let items = || {
        cat.forms()
            .iter()
            .flat_map(|f| &f.groups)
            .flat_map(|g| &g.items)
    };
    for it in items() {
        let attrs = [
            ("OID", it.oid.as_str()),
            ("Name", &it.name),
            ("DataType", it.data_type.odm()),
        ];
        start(w, "ItemDef", &attrs)?;
        if let Some(d) = &it.description {
            start(w, "Description", &[])?;
            text(w, "TranslatedText", &[("xml:lang", "en")], d)?;
            end(w, "Description")?;
        }
        if let Some(cl) = it.codelist_oid() {
            empty(w, "CodeListRef", &[("CodeListOID", &cl)])?;
        }
        end(w, "ItemDef")?;
    }
    for it in items() {
        let Some(cl) = it.codelist_oid() else {
            continue;
        };
        start(
            w,
            "CodeList",
            &[("OID", &cl), ("Name", &it.name), ("DataType", "text")],
        )?;
        for c in &it.codes {
            start(w, "CodeListItem", &[("CodedValue", c)])?;
            start(w, "Decode", &[])?;
            text(
                w,
                "TranslatedText",
                &[("xml:lang", "en")],
                &c.replace('_', " "),
            )?;
            end(w, "Decode")?;
            end(w, "CodeListItem")?;
        }
        end(w, "CodeList")?;
    }
    Ok(())
}

/// Writes `<AdminData>`: the users, the sites as locations and the signature meaning.
pub(crate) fn write_admin(w: &mut impl Write, info: &StudyInfo) -> io::Result<()> {
    start(w, "AdminData", &[("StudyOID", &info.study_oid)])?;
    let mut users: Vec<_> = info.users.iter().collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    for u in users {
        let oid = format!("USR.{}", u.username);
        let kind = match (u.role.as_str(), &u.site) {
            ("investigator" | "research_nurse", _) => "Investigator",
            (_, Some(_)) => "Other",
            _ => "Sponsor",
        };
        start(w, "User", &[("OID", &oid), ("UserType", kind)])?;
        text(w, "LoginName", &[], &u.username)?;
        text(w, "DisplayName", &[], &u.display_name)?;
        text(w, "FullName", &[], &u.display_name)?;
        text(w, "Organization", &[], &u.role)?;
        if let Some(site) = &u.site {
            empty(w, "LocationRef", &[("LocationOID", &format!("LOC.{site}"))])?;
        }
        end(w, "User")?;
    }
    let mdv = mdv_oid(info);
    let effective = info.cut_off.as_of.date_naive().to_string();
    let mut sites: Vec<_> = info.sites.iter().collect();
    sites.sort_by(|a, b| a.code.cmp(&b.code));
    for s in sites {
        let oid = format!("LOC.{}", s.code);
        start(
            w,
            "Location",
            &[("OID", &oid), ("Name", &s.name), ("LocationType", "Site")],
        )?;
        let attrs = [
            ("StudyOID", info.study_oid.as_str()),
            ("MetaDataVersionOID", &mdv),
            ("EffectiveDate", &effective),
        ];
        empty(w, "MetaDataVersionRef", &attrs)?;
        end(w, "Location")?;
    }
    start(
        w,
        "SignatureDef",
        &[("OID", SIGNATURE_DEF), ("Methodology", "Electronic")],
    )?;
    text(
        w,
        "Meaning",
        &[],
        "Signed by the responsible investigator: the data are complete and correct",
    )?;
    text(
        w,
        "LegalReason",
        &[],
        "Electronic signature with user name and password (21 CFR Part 11, EU GCP)",
    )?;
    end(w, "SignatureDef")?;
    end(w, "AdminData")
}
