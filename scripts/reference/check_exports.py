#!/usr/bin/env python3
"""Reads her2ex exports back with independent tools and checks them.

ODM 1.3.2 with odmlib (the CDISC community's object model): every participant is there,
every ItemData is found and has an ItemDef, every record carries an AuditRecord naming a
user, a location and the event hash, the file is a snapshot as of the cut-off.

SDTM-like datasets with pandas: every dataset listed in define.csv loads with exactly the
documented columns, every row names a subject of DM, --SEQ is unique per subject, ISO 8601
columns hold ISO 8601 values and numeric columns hold numbers.

Usage:
  check_exports.py --odm FILE --participants N --items M
  check_exports.py --sdtm DIR --participants N [--rows R]
  (both at once is fine; --subjects-match checks DM's subjects are the ODM's subjects)
Prints a JSON summary; exit code 1 with one line per failure when anything is off.
"""
import argparse
import json
import os
import re
import sys

ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
HASH = re.compile(r"^[0-9a-f]{64}$")


def check_odm(path, participants, items, failures):
    from odmlib import loader, odm_loader

    ld = loader.ODMLoader(odm_loader.XMLODMLoader(model_package="odm_1_3_2"))
    ld.open_odm_document(path)
    odm = ld.load_odm()
    if odm.FileType != "Snapshot":
        failures.append(f"FileType {odm.FileType}, expected Snapshot")
    if odm.ODMVersion != "1.3.2":
        failures.append(f"ODMVersion {odm.ODMVersion}")
    study = odm.Study[0]
    mdv = study.MetaDataVersion[0]
    item_defs = {d.OID for d in mdv.ItemDef}
    group_defs = {d.OID for d in mdv.ItemGroupDef}
    form_defs = {d.OID for d in mdv.FormDef}
    event_defs = {d.OID for d in mdv.StudyEventDef}
    codelists = {c.OID for c in mdv.CodeList}
    for d in mdv.ItemDef:
        if d.CodeListRef is not None and d.CodeListRef.CodeListOID not in codelists:
            failures.append(f"{d.OID}: code list {d.CodeListRef.CodeListOID} is not defined")
    admin = odm.AdminData[0]
    locations = {loc.OID for loc in admin.Location}
    cd = odm.ClinicalData[0]
    if cd.StudyOID != study.OID or cd.MetaDataVersionOID != mdv.OID:
        failures.append("ClinicalData names another study or metadata version")
    subjects, n_items, n_groups = [], 0, 0
    for s in cd.SubjectData:
        subjects.append(s.SubjectKey)
        for se in s.StudyEventData:
            if se.StudyEventOID not in event_defs:
                failures.append(f"{s.SubjectKey}: visit {se.StudyEventOID} not defined")
            for fd in se.FormData:
                if fd.FormOID not in form_defs:
                    failures.append(f"{s.SubjectKey}: form {fd.FormOID} not defined")
                for ig in fd.ItemGroupData:
                    n_groups += 1
                    where = f"{s.SubjectKey}/{ig.ItemGroupRepeatKey}"
                    if ig.ItemGroupOID not in group_defs:
                        failures.append(f"{where}: group {ig.ItemGroupOID} not defined")
                    ar = ig.AuditRecord
                    if ar is None:
                        failures.append(f"{where}: no AuditRecord")
                    else:
                        if not ar.UserRef.UserOID.startswith("USR."):
                            failures.append(f"{where}: audit user {ar.UserRef.UserOID}")
                        if ar.LocationRef.LocationOID not in locations:
                            failures.append(f"{where}: audit location {ar.LocationRef.LocationOID} unknown")
                        if not HASH.match(str(ar.SourceID._content if hasattr(ar.SourceID, "_content") else ar.SourceID)):
                            failures.append(f"{where}: SourceID is not an event hash")
                    for it in ig.ItemData:
                        n_items += 1
                        if it.ItemOID not in item_defs:
                            failures.append(f"{where}: {it.ItemOID} has no ItemDef")
                        if it.Value in ("NaN", "inf", "-inf"):
                            failures.append(f"{where}: {it.ItemOID} = {it.Value}")
    if len(subjects) != participants:
        failures.append(f"{len(subjects)} SubjectData, expected {participants}")
    if len(set(subjects)) != len(subjects):
        failures.append("a SubjectKey appears twice")
    if items is not None and n_items != items:
        failures.append(f"{n_items} ItemData read back, the writer wrote {items}")
    return {"subjects": len(subjects), "item_groups": n_groups, "items": n_items,
            "item_defs": len(item_defs)}, subjects


def check_sdtm(path, participants, rows, failures):
    import pandas as pd

    read = lambda f: pd.read_csv(os.path.join(path, f), dtype=str, keep_default_na=False)
    define = read("define.csv")
    summary, total = {}, 0
    dm_subjects = None
    for domain, spec in define.groupby("DATASET", sort=False):
        f = f"{domain.lower()}.csv"
        ds = read(f)
        documented = list(spec["VARIABLE"])
        if list(ds.columns) != documented:
            failures.append(f"{f}: columns {list(ds.columns)} are not the documented {documented}")
            continue
        if len(ds) and set(ds["DOMAIN"]) != {domain}:
            failures.append(f"{f}: DOMAIN is not {domain} on every row")
        if domain == "DM":
            dm_subjects = set(ds["USUBJID"])
            if len(ds) != participants or len(dm_subjects) != participants:
                failures.append(f"dm.csv: {len(ds)} rows, expected one per participant ({participants})")
        elif dm_subjects is not None and not set(ds["USUBJID"]) <= dm_subjects:
            failures.append(f"{f}: rows of subjects DM does not know")
        seq = f"{domain}SEQ"
        if seq in ds.columns and ds.duplicated(["USUBJID", seq]).any():
            failures.append(f"{f}: {seq} repeats within a subject")
        for _, var in spec.iterrows():
            col = ds[var["VARIABLE"]]
            filled = col[col != ""]
            if var["CODELIST_OR_FORMAT"] == "ISO 8601":
                bad = filled[~filled.str.match(ISO)]
                if len(bad):
                    failures.append(f"{f}: {var['VARIABLE']} not ISO 8601: {list(bad)[:3]}")
            if var["TYPE"] == "Num":
                nums = pd.to_numeric(filled, errors="coerce")
                if nums.isna().any():
                    failures.append(f"{f}: {var['VARIABLE']} not numeric: {list(filled[nums.isna()])[:3]}")
        summary[domain] = len(ds)
        total += len(ds)
    if rows is not None and total != rows:
        failures.append(f"{total} dataset rows read back, the writer wrote {rows}")
    subjects = sorted(dm_subjects or [])
    return summary, subjects


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--odm")
    ap.add_argument("--sdtm")
    ap.add_argument("--participants", type=int, required=True)
    ap.add_argument("--items", type=int)
    ap.add_argument("--rows", type=int)
    ap.add_argument("--study", default="HER2-EX")
    a = ap.parse_args()
    failures, out = [], {}
    odm_subjects = sdtm_subjects = None
    if a.odm:
        out["odm"], odm_subjects = check_odm(a.odm, a.participants, a.items, failures)
    if a.sdtm:
        out["sdtm"], sdtm_subjects = check_sdtm(a.sdtm, a.participants, a.rows, failures)
    if odm_subjects is not None and sdtm_subjects is not None:
        expected = sorted(f"{a.study}-{s}" for s in odm_subjects)
        if expected != sdtm_subjects:
            failures.append("DM's subjects are not the ODM file's subjects")
    print(json.dumps(out, sort_keys=True))
    for f in failures[:50]:
        print(f"FAIL {f}", file=sys.stderr)
    if len(failures) > 50:
        print(f"FAIL … and {len(failures) - 50} more", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
