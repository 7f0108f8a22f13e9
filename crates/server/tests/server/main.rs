//! End-to-end tests of the web application: one test binary, so it links once.

mod after_end;
mod allocation;
mod api;
mod browser;
mod common;
mod eligibility_paths;
mod journey;
mod lists;
mod pet;
mod response;
mod robustness;
mod tdxd;
