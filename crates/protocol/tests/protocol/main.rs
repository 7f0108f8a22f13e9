//! Integration tests of the protocol core, gathered in one test binary.

mod attestation;
mod common;
mod consent;
mod corrections;
mod eligibility_ex;
mod eligibility_in;
mod imaging;
mod journey_flow;
mod lesions;
mod oversight;
mod oversight_props;
mod pet_response;
mod privacy;
mod response;
mod response_recist;
mod serde_roundtrip;
mod settings_paths;
mod states;
mod units;
