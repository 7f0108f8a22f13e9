//! The exports read back: what a data manager or statistician relies on when the ODM
//! file and the SDTM-like datasets leave the system.

mod export {
    pub mod common;
    mod odm;
    mod sdtm;
}
