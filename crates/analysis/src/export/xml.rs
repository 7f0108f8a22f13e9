//! The little XML the ODM writer needs: escaped text and attributes.

use std::io::{self, Write};

/// Writes `s` escaped for an attribute value or element text.
pub(crate) fn escape(w: &mut impl Write, s: &str) -> io::Result<()> {
    // Most values (numbers, codes, dates) need no escaping: one scan, one write.
    let special = |b: &u8| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') || *b < 0x20;
    if !s.as_bytes().iter().any(special) {
        return w.write_all(s.as_bytes());
    }
    let mut last = 0;
    for (i, c) in s.char_indices() {
        let rep: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            // Line breaks and tabs inside attributes would be normalised to spaces by a
            // reader; character references keep them.
            '\n' => "&#10;",
            '\r' => "&#13;",
            '\t' => "&#9;",
            // Other control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 => "\u{FFFD}",
            _ => continue,
        };
        w.write_all(&s.as_bytes()[last..i])?;
        w.write_all(rep.as_bytes())?;
        last = i + c.len_utf8();
    }
    w.write_all(&s.as_bytes()[last..])
}

/// Writes `<name a="v" …` (without closing the tag).
pub(crate) fn open(w: &mut impl Write, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
    w.write_all(b"<")?;
    w.write_all(name.as_bytes())?;
    for (k, v) in attrs {
        write!(w, " {k}=\"")?;
        escape(w, v)?;
        w.write_all(b"\"")?;
    }
    Ok(())
}

/// Writes `<name a="v"/>`.
pub(crate) fn empty(w: &mut impl Write, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
    open(w, name, attrs)?;
    w.write_all(b"/>\n")
}

/// Writes `<name a="v">` and a line break.
pub(crate) fn start(w: &mut impl Write, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
    open(w, name, attrs)?;
    w.write_all(b">\n")
}

/// Writes `</name>` and a line break.
pub(crate) fn end(w: &mut impl Write, name: &str) -> io::Result<()> {
    writeln!(w, "</{name}>")
}

/// Writes `<name a="v">text</name>`.
pub(crate) fn text(
    w: &mut impl Write,
    name: &str,
    attrs: &[(&str, &str)],
    text: &str,
) -> io::Result<()> {
    open(w, name, attrs)?;
    w.write_all(b">")?;
    escape(w, text)?;
    end(w, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_line_breaks_are_escaped() {
        let mut out = Vec::new();
        text(&mut out, "Comment", &[("a", "x\"<y>")], "a & b\nc").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<Comment a=\"x&quot;&lt;y&gt;\">a &amp; b&#10;c</Comment>\n"
        );
    }
}
