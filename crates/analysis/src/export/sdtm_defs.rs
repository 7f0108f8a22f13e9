//! The SDTM-like datasets' variables: one table drives the CSV headers and the data
//! dictionary (`define.csv`), so the two cannot disagree.

use std::io::{self, Write};

use super::csv::write_row;

/// One variable of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// SDTM variable name, e.g. `AESTDTC`.
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// `Char` or `Num`.
    pub kind: &'static str,
    /// Code list or format (`ISO 8601`, `Y/N`, a list of values), empty when free.
    pub format: &'static str,
}

/// One dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset {
    /// Domain code and file stem, e.g. `AE` (`ae.csv`).
    pub domain: &'static str,
    /// Label.
    pub label: &'static str,
    /// Variables in column order.
    pub variables: &'static [Variable],
}

impl Dataset {
    /// The file name, e.g. `ae.csv`.
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.domain.to_lowercase())
    }

    /// The column names in order.
    pub fn columns(&self) -> Vec<&'static str> {
        self.variables.iter().map(|v| v.name).collect()
    }
}

const fn v(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    format: &'static str,
) -> Variable {
    Variable {
        name,
        label,
        kind,
        format,
    }
}

const ISO: &str = "ISO 8601";

macro_rules! ids {
    ($d:literal) => {
        [
            v("STUDYID", "Study Identifier", "Char", ""),
            v("DOMAIN", "Domain Abbreviation", "Char", $d),
            v(
                "USUBJID",
                "Unique Subject Identifier",
                "Char",
                "STUDYID-SUBJID",
            ),
        ]
    };
}

const fn join<const A: usize, const B: usize, const N: usize>(
    a: [Variable; A],
    b: [Variable; B],
) -> [Variable; N] {
    let mut out = [v("", "", "", ""); N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

const DM: [Variable; 14] = join(
    ids!("DM"),
    [
        v("SUBJID", "Subject Identifier for the Study", "Char", ""),
        v("SITEID", "Study Site Identifier", "Char", ""),
        v(
            "BRTHDTC",
            "Date/Time of Birth (year only, PROTOCOL §3)",
            "Char",
            ISO,
        ),
        v("SEX", "Sex", "Char", "F; M; U"),
        v("RFICDTC", "Date/Time of Informed Consent", "Char", ISO),
        v(
            "RFSTDTC",
            "Subject Reference Start Date/Time (enrolment)",
            "Char",
            ISO,
        ),
        v("DTHDTC", "Date/Time of Death", "Char", ISO),
        v("DTHFL", "Subject Death Flag", "Char", "Y"),
        v(
            "ARMCD",
            "Planned Arm Code",
            "Char",
            "ARM1; ARM2; empty when not allocated",
        ),
        v("ARM", "Description of Planned Arm", "Char", ""),
        v(
            "DSSTATE",
            "Journey state at the data cut-off (her2ex)",
            "Char",
            "protocol state names",
        ),
    ],
);

const AE: [Variable; 19] = join(
    ids!("AE"),
    [
        v("AESEQ", "Sequence Number", "Num", ""),
        v(
            "AESPID",
            "Sponsor-Defined Identifier (entry id)",
            "Char",
            "",
        ),
        v("AETERM", "Reported Term for the Adverse Event", "Char", ""),
        v(
            "AEDECOD",
            "Dictionary-Derived Term (CTCAE v5.0)",
            "Char",
            "CTCAE v5.0",
        ),
        v("AEPTCD", "Preferred Term Code (MedDRA)", "Num", "MedDRA"),
        v(
            "AEBODSYS",
            "Body System or Organ Class",
            "Char",
            "MedDRA SOC",
        ),
        v(
            "AETOXGR",
            "Standard Toxicity Grade",
            "Char",
            "1; 2; 3; 4; 5",
        ),
        v("AESER", "Serious Event", "Char", "Y; N"),
        v(
            "AERELIMP",
            "Causality to the HER2-PET IMP (her2ex)",
            "Char",
            "causality codes",
        ),
        v("AEREL", "Causality to T-DXd", "Char", "causality codes"),
        v("AEACN", "Action Taken with T-DXd", "Char", "action codes"),
        v("AEOUT", "Outcome of Adverse Event", "Char", "outcome codes"),
        v("AESTDTC", "Start Date/Time of Adverse Event", "Char", ISO),
        v("AEENDTC", "End Date/Time of Adverse Event", "Char", ISO),
        v("AEDTC", "Date/Time the site became aware", "Char", ISO),
        v(
            "AEREASND",
            "Reason for the last correction (her2ex)",
            "Char",
            "",
        ),
    ],
);

const TU: [Variable; 12] = join(
    ids!("TU"),
    [
        v("TUSEQ", "Sequence Number", "Num", ""),
        v("TULNKID", "Link ID (lesion)", "Char", ""),
        v(
            "TUTESTCD",
            "Tumor Identification Short Name",
            "Char",
            "TUMIDENT",
        ),
        v("TUTEST", "Tumor Identification Test Name", "Char", ""),
        v(
            "TUORRES",
            "Tumor Identification Result",
            "Char",
            "TARGET; NON-TARGET; HER2 AVID; NOT AVID",
        ),
        v("TULOC", "Location of the Tumor", "Char", ""),
        v("TUMETHOD", "Method of Identification", "Char", "CT; PET"),
        v("VISIT", "Visit Name", "Char", "visit ids"),
        v("TUDTC", "Date/Time of Tumor Identification", "Char", ISO),
    ],
);

const TR: [Variable; 15] = join(
    ids!("TR"),
    [
        v("TRSEQ", "Sequence Number", "Num", ""),
        v("TRLNKID", "Link ID (lesion)", "Char", ""),
        v(
            "TRTESTCD",
            "Tumor Assessment Short Name",
            "Char",
            "LDIAM; SUVMAX; SUVPEAK; MTV",
        ),
        v("TRTEST", "Tumor Assessment Test Name", "Char", ""),
        v("TRORRES", "Result or Finding in Original Units", "Char", ""),
        v(
            "TRORRESU",
            "Original Units",
            "Char",
            "mm; mL; (SUV has none)",
        ),
        v("TRSTRESN", "Numeric Result in Standard Units", "Num", ""),
        v("TRSTRESU", "Standard Units", "Char", ""),
        v(
            "TRMETHOD",
            "Method Used to Identify the Tumor",
            "Char",
            "CT; PET",
        ),
        v("VISIT", "Visit Name", "Char", "visit ids"),
        v("TRDTC", "Date/Time of Tumor Measurement", "Char", ISO),
        v(
            "TRGRPID",
            "Group ID (assessment or quantification)",
            "Char",
            "",
        ),
    ],
);

const RS: [Variable; 10] = join(
    ids!("RS"),
    [
        v("RSSEQ", "Sequence Number", "Num", ""),
        v("RSLNKGRP", "Link Group ID (assessment)", "Char", ""),
        v(
            "RSTESTCD",
            "Assessment Short Name",
            "Char",
            "OVRLRESP; BESTRESP",
        ),
        v("RSTEST", "Assessment Name", "Char", ""),
        v(
            "RSORRES",
            "Result or Finding in Original Units",
            "Char",
            "RECIST 1.1 response codes",
        ),
        v("RSEVAL", "Evaluator", "Char", "RECIST 1.1 engine"),
        v("RSDTC", "Date/Time of Assessment", "Char", ISO),
    ],
);

const EC: [Variable; 13] = join(
    ids!("EC"),
    [
        v("ECSEQ", "Sequence Number", "Num", ""),
        v("ECSPID", "Sponsor-Defined Identifier", "Char", ""),
        v(
            "ECTRT",
            "Name of Treatment",
            "Char",
            "HER2-PET IMP; TRASTUZUMAB DERUXTECAN",
        ),
        v("ECCAT", "Category", "Char", "IMP; STUDY TREATMENT"),
        v("ECDOSE", "Dose", "Num", ""),
        v("ECDOSU", "Dose Units", "Char", "MBq; mg"),
        v("ECROUTE", "Route of Administration", "Char", "INTRAVENOUS"),
        v("ECLVL", "Dose level or PET time point (her2ex)", "Char", ""),
        v("ECSTDTC", "Start Date/Time of Treatment", "Char", ISO),
        v("ECADJ", "Reason for Dose Adjustment", "Char", ""),
    ],
);

const DV: [Variable; 10] = join(
    ids!("DV"),
    [
        v("DVSEQ", "Sequence Number", "Num", ""),
        v("DVSPID", "Sponsor-Defined Identifier", "Char", ""),
        v("DVTERM", "Protocol Deviation Term", "Char", ""),
        v(
            "DVDECOD",
            "Protocol Deviation Coded Term (rule id)",
            "Char",
            "PROTOCOL.md rule ids",
        ),
        v(
            "DVCAT",
            "Category (severity)",
            "Char",
            "deviation severities",
        ),
        v(
            "DVSTAT",
            "Review status (her2ex)",
            "Char",
            "open; assessed; closed",
        ),
        v("DVSTDTC", "Start Date/Time of Deviation", "Char", ISO),
    ],
);

/// Every dataset, in file order.
pub const DATASETS: [Dataset; 7] = [
    Dataset {
        domain: "DM",
        label: "Demographics",
        variables: &DM,
    },
    Dataset {
        domain: "AE",
        label: "Adverse Events",
        variables: &AE,
    },
    Dataset {
        domain: "TU",
        label: "Tumor/Lesion Identification",
        variables: &TU,
    },
    Dataset {
        domain: "TR",
        label: "Tumor/Lesion Results (CT diameters, PET SUV and MTV)",
        variables: &TR,
    },
    Dataset {
        domain: "RS",
        label: "Disease Response (RECIST 1.1)",
        variables: &RS,
    },
    Dataset {
        domain: "EC",
        label: "Exposure as Collected (IMP and T-DXd)",
        variables: &EC,
    },
    Dataset {
        domain: "DV",
        label: "Protocol Deviations",
        variables: &DV,
    },
];

/// Writes the data dictionary: one row per dataset variable.
pub fn write_define(w: &mut impl Write) -> io::Result<()> {
    write_row(
        w,
        &[
            "DATASET",
            "DATASET_LABEL",
            "VARIABLE",
            "LABEL",
            "TYPE",
            "CODELIST_OR_FORMAT",
        ],
    )?;
    for d in &DATASETS {
        for var in d.variables {
            write_row(
                w,
                &[d.domain, d.label, var.name, var.label, var.kind, var.format],
            )?;
        }
    }
    w.flush()
}
