//! Integration tests of the RECIST 1.1 engine, its JSON format and the PET response read.

#[path = "recist/support.rs"]
mod support;

#[path = "recist/baseline.rs"]
mod baseline;
#[path = "recist/best.rs"]
mod best;
#[path = "recist/format.rs"]
mod format;
#[path = "recist/pet.rs"]
mod pet;
#[path = "recist/tables.rs"]
mod tables;
#[path = "recist/target.rs"]
mod target;
