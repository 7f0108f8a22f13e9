//! Text helpers shared by the pictures: escaping, fixed-decimal numbers (so the same
//! input gives the same bytes) and the width estimate the layouts use to keep labels apart.

/// Width of one character at the 12 px font size, in px. A generous average for
/// system-ui sans-serif, so estimated boxes are rather too wide than too narrow.
pub const CHAR_WIDTH_PX: f64 = 7.0;

/// Escapes text for SVG content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 text.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with one decimal. Non-finite values (which the charts filter out before
/// drawing) print as 0 rather than as "NaN", so no picture ever carries one.
pub(crate) fn c(v: f64) -> String {
    num(v, 1)
}

/// A number with a fixed number of decimals; "-0.0" prints as "0.0" and non-finite as 0.
pub(crate) fn num(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{:.*}", decimals, 0.0);
    }
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|ch| ch == '0' || ch == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Estimated width in px of `s` drawn at `font_px`.
pub(crate) fn width(s: &str, font_px: f64) -> f64 {
    s.chars().count() as f64 * CHAR_WIDTH_PX * font_px / 12.0
}

/// `s` cut to at most `max` characters, with an ellipsis when cut, so a long label
/// cannot run into its neighbour.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The caller's id reduced to characters that are safe in an XML id and a CSS selector.
pub(crate) fn clean_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() || !s.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
        format!("chart-{s}")
    } else {
        s
    }
}

/// "1 value was" / "3 values were" — for the text alternative's notes.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_never_nan() {
        assert_eq!(num(-0.04, 1), "0.0");
        assert_eq!(num(f64::NAN, 2), "0.00");
        assert_eq!(c(12.345), "12.3");
        assert_eq!(num(-2.5, 1), "-2.5");
    }

    #[test]
    fn ids_and_text_are_safe() {
        assert_eq!(clean_id("roc 1\""), "roc-1-");
        assert_eq!(clean_id("1x"), "chart-1x");
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
