//! pet
