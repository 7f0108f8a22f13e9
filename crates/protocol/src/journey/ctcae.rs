//! CTCAE v5.0 terms (NCI, 27 Nov 2017; clinical-rules §3.2), embedded from
//! `data/ctcae_v5.0_terms.csv`: 837 terms, each with its MedDRA code (v20.1),
//! system organ class and its own grade texts. A grade whose text is empty does
//! not exist for that term (e.g. "Ejection fraction decreased" has no grade 1).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::{Refusal, Rule};

/// The CTCAE version of the embedded list (stored with each AE, clinical-rules A22).
pub const CTCAE_VERSION: &str = "5.0";

const CSV: &str = include_str!("../../data/ctcae_v5.0_terms.csv");

/// One CTCAE v5.0 term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CtcaeTerm {
    /// MedDRA lowest-level-term code, e.g. 10035742.
    pub meddra_code: u32,
    /// MedDRA system organ class.
    pub soc: String,
    /// The term, e.g. "Pneumonitis".
    pub term: String,
    /// Grade 1–5 texts; `None` where the grade does not exist for this term.
    pub grades: [Option<String>; 5],
    /// Definition.
    pub definition: Option<String>,
    /// Navigational note.
    pub navigational_note: Option<String>,
}

impl CtcaeTerm {
    /// The text of grade 1–5, `None` if the grade does not exist for this term.
    pub fn grade_text(&self, grade: u8) -> Option<&str> {
        let i = usize::from(grade).checked_sub(1)?;
        self.grades.get(i)?.as_deref()
    }

    /// Checks a grade for this term (`CTCAE_GRADE`), returning its text.
    pub fn check_grade(&self, grade: u8) -> Result<&str, Refusal> {
        self.grade_text(grade).ok_or_else(|| {
            let valid: Vec<String> = (1..=5u8)
                .filter(|g| self.grade_text(*g).is_some())
                .map(|g| g.to_string())
                .collect();
            Refusal::new(
                Rule::CTCAE_GRADE,
                format!(
                    "CTCAE v{CTCAE_VERSION} \"{}\" has no grade {grade}; its grades are {}.",
                    self.term,
                    valid.join(", ")
                ),
            )
        })
    }
}

/// A CSV parse failure: line and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CSV line {line}: {message}")]
pub struct CsvError {
    /// 1-based line where the record starts.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

/// Splits CSV text (RFC 4180: quoted fields with commas, doubled quotes and line
/// breaks; CRLF or LF) into records of fields.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut quoted = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                in_quotes = true;
                quoted = true;
            }
            '"' => {
                return Err(CsvError {
                    line,
                    message: "quote inside an unquoted field".into(),
                });
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                quoted = false;
                records.push(std::mem::take(&mut record));
                line += 1;
                record_line = line;
            }
            _ if quoted => {
                return Err(CsvError {
                    line,
                    message: "text after a closing quote".into(),
                });
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError {
            line: record_line,
            message: "unclosed quote".into(),
        });
    }
    if !field.is_empty() || quoted || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// The CTCAE term list with lookups by name and by MedDRA code.
#[derive(Debug, Clone, PartialEq)]
pub struct Ctcae {
    terms: Vec<CtcaeTerm>,
    by_name: BTreeMap<String, usize>,
    by_code: BTreeMap<u32, usize>,
}

fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t != "-").then(|| t.to_owned())
}

impl Ctcae {
    /// Parses the term list (header `meddra_code,meddra_soc,term,grade1..grade5,definition,navigational_note,v5_change`).
    pub fn parse(text: &str) -> Result<Ctcae, CsvError> {
        let rows = parse_csv(text)?;
        let mut terms = Vec::new();
        let mut by_name = BTreeMap::new();
        let mut by_code = BTreeMap::new();
        for (i, row) in rows.iter().enumerate().skip(1) {
            let err = |message: String| CsvError {
                line: i + 1,
                message,
            };
            if row.len() != 11 {
                return Err(err(format!("{} fields, expected 11", row.len())));
            }
            let meddra_code: u32 = row[0]
                .trim()
                .parse()
                .map_err(|_| err(format!("MedDRA code '{}' is not a number", row[0])))?;
            let term = CtcaeTerm {
                meddra_code,
                soc: row[1].trim().to_owned(),
                term: row[2].trim().to_owned(),
                grades: [
                    opt(&row[3]),
                    opt(&row[4]),
                    opt(&row[5]),
                    opt(&row[6]),
                    opt(&row[7]),
                ],
                definition: opt(&row[8]),
                navigational_note: opt(&row[9]),
            };
            let idx = terms.len();
            if by_name.insert(name_key(&term.term), idx).is_some() {
                return Err(err(format!("duplicate term '{}'", term.term)));
            }
            if by_code.insert(meddra_code, idx).is_some() {
                return Err(err(format!("duplicate MedDRA code {meddra_code}")));
            }
            terms.push(term);
        }
        Ok(Ctcae {
            terms,
            by_name,
            by_code,
        })
    }

    /// All terms in file order (by SOC, then term).
    pub fn terms(&self) -> &[CtcaeTerm] {
        &self.terms
    }

    /// A term by name, ignoring case and extra spaces.
    pub fn by_name(&self, name: &str) -> Option<&CtcaeTerm> {
        self.by_name.get(&name_key(name)).map(|&i| &self.terms[i])
    }

    /// A term by MedDRA code.
    pub fn by_meddra_code(&self, code: u32) -> Option<&CtcaeTerm> {
        self.by_code.get(&code).map(|&i| &self.terms[i])
    }

    /// A term by MedDRA code, refusing an unknown code (`CTCAE_TERM`).
    pub fn term(&self, code: u32) -> Result<&CtcaeTerm, Refusal> {
        self.by_meddra_code(code).ok_or_else(|| {
            Refusal::new(
                Rule::CTCAE_TERM,
                format!("MedDRA code {code} is not a CTCAE v{CTCAE_VERSION} term."),
            )
            .with_hint("Pick the term from the CTCAE list, or use \"<SOC> - Other, specify\".")
        })
    }

    /// Terms whose name contains `text` (case-insensitive), for pick lists.
    pub fn search(&self, text: &str) -> Vec<&CtcaeTerm> {
        let key = name_key(text);
        self.terms
            .iter()
            .filter(|t| t.term.to_lowercase().contains(&key))
            .collect()
    }
}

static CTCAE_V5: LazyLock<Ctcae> = LazyLock::new(|| {
    // The file is part of the crate and a test parses it, so failing here means
    // the build shipped a broken data file.
    Ctcae::parse(CSV).expect("embedded CTCAE v5.0 term list parses")
});

/// The embedded CTCAE v5.0 term list.
pub fn ctcae_v5() -> &'static Ctcae {
    &CTCAE_V5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_commas_doubled_quotes_and_line_breaks() {
        let rows = parse_csv("a,\"b, c\",\"say \"\"hi\"\"\"\r\n1,\"two\nlines\",\r\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], vec!["a", "b, c", "say \"hi\""]);
        assert_eq!(rows[1], vec!["1", "two\nlines", ""]);
        assert_eq!(parse_csv("x,\"open").unwrap_err().message, "unclosed quote");
        assert!(parse_csv("a\"b").is_err());
        assert!(parse_csv("\"a\"b").is_err());
    }

    #[test]
    fn embedded_list_has_837_unique_terms() {
        let c = ctcae_v5();
        assert_eq!(c.terms().len(), 837);
        assert_eq!(c.by_name.len(), 837);
        assert_eq!(c.by_code.len(), 837);
    }

    mod props {
        use super::super::parse_csv;
        use proptest::prelude::*;

        fn encode(rows: &[Vec<String>], crlf: bool) -> String {
            let nl = if crlf { "\r\n" } else { "\n" };
            rows.iter()
                .map(|r| {
                    r.iter()
                        .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .map(|line| line + nl)
                .collect()
        }

        proptest! {
            #[test]
            fn quoted_fields_round_trip(
                rows in prop::collection::vec(prop::collection::vec("[a-z ,\"\n]{0,8}", 1..5), 1..6),
                crlf in any::<bool>(),
            ) {
                prop_assert_eq!(parse_csv(&encode(&rows, crlf)).unwrap(), rows);
            }
        }
    }
}
