//! Integration tests of the journey after baseline PET (PROTOCOL §7–§9, §11),
//! gathered in one test binary.

mod after_end;
mod allocation;
mod allocation_paths;
mod archival;
mod biopsy;
mod chronology;
mod common;
mod ctcae;
mod end;
mod pathology;
mod plausibility;
mod safety;
mod schedule;
mod serde_schema;
mod settings;
mod settings_paths;
mod tdxd;
mod tdxd_paths;
