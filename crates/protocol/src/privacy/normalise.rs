//! Folding text to the shape a personal identity number is matched against.
//!
//! Someone who wants a number past the filter, or a keyboard that inserts odd
//! characters, can write the same digits in many ways: fullwidth digits
//! (`８１１２１８`), a non-breaking hyphen (U+2011) or a minus sign instead of
//! `-`, a no-break space, a line break, a zero-width space between two digits.
//! Each original character is folded with Unicode NFKC, then every dash becomes
//! `-`, every space (line breaks and tabs included) a plain space, digits of
//! other scripts their ASCII digit, and invisible characters (zero-width and
//! format characters, combining marks) are dropped.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// One character of the folded text and the byte range of the original character it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Folded {
    /// The folded character: an ASCII digit, `-`, ` `, or anything else unchanged.
    pub c: char,
    /// Byte offset of the original character.
    pub start: usize,
    /// Byte offset just past the original character.
    pub end: usize,
}

/// Folds `text` character by character, keeping each result's place in the original.
pub(super) fn fold(text: &str) -> Vec<Folded> {
    let mut out = Vec::with_capacity(text.len());
    for (start, original) in text.char_indices() {
        let end = start + original.len_utf8();
        for c in std::iter::once(original).nfkc() {
            if is_invisible(c) {
                continue;
            }
            let c = if let Some(d) = script_digit(c) {
                d
            } else if is_dash(c) {
                '-'
            } else if c.is_whitespace() {
                ' '
            } else {
                c
            };
            out.push(Folded { c, start, end });
        }
    }
    out
}

/// Characters that show nothing: zero-width spaces and joiners, the soft hyphen, word
/// joiner, byte-order mark, variation selectors and combining marks.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    ) || is_combining_mark(c)
}

/// Every dash and hyphen of Unicode (general category Pd) and the minus signs.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{058A}' | '\u{05BE}' | '\u{1400}' | '\u{1806}' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2043}'
                | '\u{207B}'
                | '\u{208B}'
                | '\u{2212}'
                | '\u{2E17}'
                | '\u{2E1A}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{2E40}'
                | '\u{301C}'
                | '\u{3030}'
                | '\u{30A0}'
                | '\u{FE31}'
                | '\u{FE32}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{10EAD}'
    )
}

/// First code points of the blocks of ten decimal digits (0–9) that NFKC leaves as they are.
const DIGIT_BLOCKS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0x104A0, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
    0x11730, 0x118E0, 0x16A60, 0x16B50, 0x1E950,
];

/// The ASCII digit for a decimal digit of another script (Arabic-Indic, Devanagari, …).
fn script_digit(c: char) -> Option<char> {
    let cp = c as u32;
    DIGIT_BLOCKS
        .iter()
        .find(|&&b| (b..b + 10).contains(&cp))
        .and_then(|&b| char::from_digit(cp - b, 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> String {
        fold(text).iter().map(|f| f.c).collect()
    }

    #[test]
    fn variants_fold_to_ascii() {
        assert_eq!(folded("８１１２１８\u{2011}９８７６"), "811218-9876");
        assert_eq!(folded("811218\u{00A0}9876"), "811218 9876");
        assert_eq!(folded("81\u{200B}1218\u{2212}98\n76"), "811218-98 76");
        assert_eq!(folded("\u{0668}\u{0661}"), "81");
        assert_eq!(folded("𝟖𝟏"), "81");
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "a８b";
        let f = fold(text);
        assert_eq!(&text[f[1].start..f[1].end], "８");
    }
}
