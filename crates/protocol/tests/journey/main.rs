//! Integration tests of the journey after baseline PET (PROTOCOL §7–§9, §11),
//! gathered in one test binary.

mod allocation;
mod allocation_paths;
mod biopsy;
mod common;
mod ctcae;
mod end;
mod pathology;
mod safety;
mod schedule;
mod serde_schema;
mod settings;
mod tdxd;
mod tdxd_paths;
