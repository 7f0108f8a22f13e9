//! The pictures of `analysis::svg`: byte-for-byte snapshots with realistic study data,
//! well-formedness and accessibility of every chart, the axis helpers, and the edges
//! (empty input, non-finite values).
//!
//! Snapshots live in `tests/snapshots/`; after an intended change, regenerate them with
//! `HER2EX_UPDATE_SNAPSHOTS=1 cargo test -p analysis --test svg` and look at the diff.

mod svg {
    pub mod axes;
    pub mod charts;
    pub mod edges;
    pub mod fixtures;
    pub mod snapshots;
    pub mod wellformed;
}
