//! PET response between PET1 and PET2, PERCIST-style categories.
