//! The words a form shows for a command's fields: clinicians read "WHO performance
//! status", never `who_ps`. A field's label is looked up by command and field name, then
//! by field name alone (most names mean the same in every command); the command table
//! writes it into the command's JSON Schema as the property's `title`, where the forms
//! and the OpenAPI document read it.

use serde_json::Value;

/// Labels that differ from the common one for the same field name: (command, field, label).
const BY_COMMAND: &[(&str, &str, &str)] = &[
    ("prior-her2-result", "metastatic", "Biopsy of a metastasis"),
    (
        "archival-biopsy",
        "lesion_id",
        "Lesion label (if in the lesion list)",
    ),
    ("tdxd", "weight_kg", "Body weight used for the dose (kg)"),
    ("tdxd", "date", "Date given"),
    ("biopsy-target", "reason", "Why this lesion"),
    (
        "correct-allocation",
        "reason",
        "Why the allocation is corrected",
    ),
    ("end-participation", "reason", "Reason for ending"),
    ("screen-fail", "reason", "Reason for the screen failure"),
    ("withdraw-consent", "reason", "Reason given"),
    ("retract-entry", "reason", "Why the entry is retracted"),
    ("pet-review", "note", "Overall note"),
];

/// The common label of a field name.
const BY_FIELD: &[(&str, &str)] = &[
    // Shared bookkeeping.
    ("corrects", "Corrects entry"),
    ("correction_reason", "Reason for the correction"),
    ("note", "Note"),
    ("reason", "Reason"),
    ("late_entry_of_fact", "Taken before consent, entered late"),
    // Consent and the end of participation.
    ("form_version", "Consent form version"),
    ("signed_at", "Date and time of signature"),
    ("age_at_consent", "Age at consent (years)"),
    ("withdrawn_at", "Date and time of withdrawal"),
    ("died_on", "Date of death"),
    ("cause", "Cause of death"),
    ("last_contact_on", "Date of last contact"),
    ("ended_on", "Date of the last study contact"),
    ("entry_id", "Entry to retract"),
    // Treatment history.
    ("setting", "Treatment setting"),
    ("regimen", "Regimen"),
    ("is_chemotherapy", "Chemotherapy"),
    ("is_her2_targeted", "HER2-targeted therapy"),
    ("start_date", "Start date"),
    ("end_date", "End date"),
    ("progression_date", "Progression or relapse date"),
    // Lesions.
    ("lesion_id", "Lesion label"),
    ("organ", "Organ"),
    ("lesion_type", "Lesion type"),
    ("metastatic", "Metastasis (not the primary tumour)"),
    ("longest_diameter_mm", "Longest diameter (mm)"),
    ("short_axis_mm", "Short axis (mm)"),
    ("previously_irradiated", "In a previously irradiated field"),
    (
        "progressed_after_irradiation",
        "Progressed since irradiation",
    ),
    (
        "accessible_for_ultrasound_biopsy",
        "Accessible for ultrasound-guided biopsy",
    ),
    ("intended_for_biopsy", "Intended study biopsy target"),
    ("imaging_date", "Imaging date"),
    ("slice_thickness_mm", "CT slice thickness (mm)"),
    // Labs, weight, performance status, pregnancy.
    ("analyte", "Test"),
    ("value", "Value"),
    ("unit", "Unit"),
    ("uln", "Upper limit of normal (ULN)"),
    ("lln", "Lower limit of normal (LLN)"),
    ("sample_at", "Sample taken"),
    ("origin", "Sample taken for"),
    ("weight_kg", "Body weight (kg)"),
    ("measured_on", "Date measured"),
    ("who_ps", "WHO performance status"),
    ("assessed_on", "Date assessed"),
    ("childbearing_potential", "Of child-bearing potential"),
    ("basis", "Basis"),
    ("contraception_agreed", "Adequate contraception agreed"),
    ("contraception_method", "Contraception method"),
    ("specimen", "Specimen"),
    ("result", "Result"),
    ("for_study", "Taken for the study"),
    // Medical history, earlier biopsies, other malignancies.
    ("disease_extent", "Disease extent"),
    (
        "earlier_metastatic_biopsies",
        "Earlier biopsy of a metastasis",
    ),
    ("other_malignancies_known", "Other malignancy known"),
    ("known_bleeding_disorder", "Known bleeding disorder"),
    (
        "anticoagulant_cannot_be_paused",
        "Anticoagulant or antiplatelet drug that cannot be paused",
    ),
    ("liver_metastases", "Liver metastases"),
    (
        "ild_history",
        "History of interstitial lung disease or pneumonitis",
    ),
    ("details", "Details"),
    ("reviewed_on", "Date reviewed"),
    ("biopsy_date", "Biopsy date"),
    ("site_description", "Biopsy site"),
    ("ihc_score", "HER2 IHC score"),
    ("ish", "ISH result"),
    ("malignancy_type", "Type of malignancy"),
    ("description", "Description"),
    ("diagnosed_on", "Date of diagnosis"),
    ("manifest", "Manifest now"),
    (
        "systemic_therapy_since",
        "Systemic anti-cancer therapy since the biopsy",
    ),
    (
        "her2_targeted_therapy_since",
        "HER2-targeted therapy since the biopsy",
    ),
    (
        "radiotherapy_to_lesion_since",
        "Radiotherapy to the lesion since the biopsy",
    ),
    // Attestation.
    ("criterion", "Criterion"),
    ("answer", "Answer"),
    // HER2-PET.
    ("timepoint", "PET time point"),
    ("activity_mbq", "Injected activity (MBq)"),
    ("injected_at", "Injection time"),
    ("height_cm", "Height (cm)"),
    ("peptide_mass_ug", "Peptide mass (µg)"),
    ("scan_start_at", "Scan start"),
    ("quantification_id", "Quantification"),
    ("pet2_quantification_id", "PET2 quantification"),
    ("background_suv", "Background SUV on PET2"),
    ("decisions", "Decisions on the candidates"),
    ("added", "Lesions added by the reader"),
    ("lesion", "Lesion"),
    // Biopsy and pathology.
    ("performed_at", "Biopsy taken"),
    ("anticoagulant", "Anticoagulant or antiplatelet drug"),
    ("anticoagulant_paused", "Drug paused before the biopsy"),
    ("anticoagulant_last_dose_at", "Last dose before the biopsy"),
    ("complication", "Complication"),
    ("complication_meddra_code", "Complication (MedDRA code)"),
    ("complication_grade", "Complication CTCAE grade"),
    ("archival_entry", "Earlier biopsy"),
    ("used_on", "Date of the decision"),
    ("biopsy_id", "Biopsy"),
    ("specimen_id", "Specimen (block)"),
    ("read", "Read"),
    ("reader", "Pathologist"),
    ("reported_on", "Report date"),
    ("non_diagnostic_reason", "Non-diagnostic specimen: reason"),
    ("stained_pct", "Tumour cells with membrane staining (%)"),
    ("intensity", "Staining intensity"),
    ("completeness", "Staining completeness"),
    ("antibody_clone", "Antibody clone"),
    ("ish_ratio", "ISH HER2/CEP17 ratio"),
    ("ish_mean_copies", "ISH mean HER2 copy number per cell"),
    ("ish_result", "ISH result"),
    ("arm", "Arm"),
    // T-DXd.
    ("date", "Date"),
    ("dose_level", "Dose level (mg/kg)"),
    ("dose_mg", "Dose given (mg)"),
    ("reduction_reason", "Reason for a dose reduction"),
    ("delay_reason", "Reason for a delay"),
    // Adverse events and pregnancy reports.
    ("meddra_code", "CTCAE term (MedDRA code)"),
    ("verbatim", "Verbatim term"),
    ("grade", "CTCAE grade"),
    ("onset", "Onset date"),
    ("resolved", "Resolution date"),
    ("serious_death", "Serious: results in death"),
    ("serious_life_threatening", "Serious: life-threatening"),
    (
        "serious_hospitalisation",
        "Serious: requires or prolongs hospitalisation",
    ),
    (
        "serious_disability",
        "Serious: persistent or significant disability",
    ),
    (
        "serious_congenital_anomaly",
        "Serious: congenital anomaly or birth defect",
    ),
    (
        "serious_important_medical_event",
        "Serious: important medical event",
    ),
    ("relation_imp", "Relation to the IMP ([68Ga]Ga-ABY-025)"),
    ("relation_tdxd", "Relation to T-DXd"),
    ("action_tdxd", "Action taken with T-DXd"),
    ("outcome", "Outcome"),
    ("site_aware_at", "Site aware since"),
    ("reported_to_sponsor_at", "Reported to the sponsor"),
    ("estimated_conception", "Estimated date of conception"),
    ("exposed_to_tdxd", "Exposed to T-DXd"),
    // Tumour response (RECIST 1.1).
    ("scan_date", "Scan date"),
    ("treatment_start", "Start of T-DXd (cycle 1 day 1)"),
    ("lesions", "Lesions"),
    ("targets", "Target lesions"),
    ("non_targets", "Non-target lesions"),
    ("new_lesions", "New lesions"),
];

/// The label of a command's field, if one is written down.
pub fn label(command: &str, field: &str) -> Option<&'static str> {
    BY_COMMAND
        .iter()
        .find(|(c, f, _)| *c == command && *f == field)
        .map(|(_, _, l)| *l)
        .or_else(|| field_label(field))
}

/// The common label of a field name, if one is written down.
pub fn field_label(field: &str) -> Option<&'static str> {
    BY_FIELD.iter().find(|(f, _)| *f == field).map(|(_, l)| *l)
}

/// Writes each property's label into a command schema as its `title`.
pub fn labelled(command: &str, mut schema: Value) -> Value {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, prop) in props.iter_mut() {
            if let (Some(l), Some(obj)) = (label(command, name), prop.as_object_mut()) {
                obj.insert("title".into(), Value::from(l));
            }
        }
    }
    schema
}
