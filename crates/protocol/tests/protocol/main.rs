//! Integration tests of the protocol core, gathered in one test binary.

mod common;
mod consent;
mod corrections;
mod eligibility_ex;
mod eligibility_in;
mod imaging;
mod journey_flow;
mod lesions;
mod privacy;
mod response;
mod serde_roundtrip;
mod states;
mod units;
