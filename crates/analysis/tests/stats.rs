//! The estimators of `analysis::stats` against the reference fixtures that
//! `scripts/reference/stats_fixtures.py` computed with scikit-learn, statsmodels, lifelines
//! and a plain numpy DeLong. One test binary; one module per estimator.

mod stats {
    mod fixture;
    mod kappa;
    mod logrank;
    mod properties;
    mod proportion;
    mod roc;
    mod survival;
}
