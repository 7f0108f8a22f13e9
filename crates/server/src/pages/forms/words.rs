//! Words for people: doc comments turned into help texts, and messages with code names
//! ("`correction_reason`", "screen_failed") turned into the words the forms use.

/// A doc comment as a help text: code marks and link brackets dropped ("[`Rule`]" →
/// "Rule", "`L2`" → "L2").
pub fn plain_doc(doc: &str) -> String {
    doc.replace("[`", "")
        .replace("`]", "")
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether two texts say the same words (case and punctuation aside).
pub(super) fn same_words(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}

/// A message for a page: field and command code names become the words the forms use
/// ("`correction_reason`" → "Reason for the correction", "`record_lab`" → "Lab value",
/// "screen_failed" → "screen failed"); the rule id stays with the caller.
pub fn plain(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        if i % 2 == 1 {
            // Between backticks: a code name.
            out.push_str(&code_words(part));
            continue;
        }
        let mut word = String::new();
        for c in part.chars().chain(std::iter::once('\0')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if is_code_name(&word) {
                out.push_str(&code_words(&word));
            } else {
                out.push_str(&word);
            }
            word.clear();
            if c != '\0' {
                out.push(c);
            }
        }
    }
    out
}

/// A snake_case name: lowercase words joined by underscores.
fn is_code_name(word: &str) -> bool {
    word.contains('_')
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The words for one code name: a command's title, a field's label, or the name with
/// spaces.
fn code_words(code: &str) -> String {
    if let Some(spec) = trial::commands::all()
        .iter()
        .find(|s| s.kind.name() == code)
    {
        return format!("“{}”", spec.title);
    }
    trial::commands::field_label(code)
        .map(str::to_string)
        .unwrap_or_else(|| code.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_on_pages_use_the_forms_words() {
        assert_eq!(
            plain("A correction needs a reason (`correction_reason`)."),
            "A correction needs a reason (Reason for the correction)."
        );
        assert_eq!(
            plain(
                "`record_lab` is not allowed while the participant is screen_failed; see VALUE_REQUIRED."
            ),
            "“Lab value” is not allowed while the participant is screen failed; see VALUE_REQUIRED."
        );
        assert_eq!(
            plain("`The start date` (2026-05-01) is in the future."),
            "The start date (2026-05-01) is in the future."
        );
        assert_eq!(
            plain("WHO performance status 5 is not possible (0–4)."),
            "WHO performance status 5 is not possible (0–4)."
        );
    }
}
