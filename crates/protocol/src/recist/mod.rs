//! RECIST 1.1 response assessment (Eisenhauer et al., Eur J Cancer 2009;45:228–247).
