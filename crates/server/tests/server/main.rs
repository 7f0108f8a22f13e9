//! End-to-end tests of the web application: one test binary, so it links once.

mod accounts;
mod admin_pages;
mod after_end;
mod allocation;
mod analyses;
mod api;
mod attestations;
mod browser;
mod chronology;
mod common;
mod dashboard;
mod eligibility_paths;
mod hardening;
mod journey;
mod lists;
mod matrix;
mod oversight;
mod oversight_pages;
mod pet;
mod pet_response;
mod response;
mod robustness;
mod settings_paths;
mod tdxd;
