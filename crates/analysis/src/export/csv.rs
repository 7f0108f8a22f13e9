//! RFC 4180 rows: comma separated, CRLF line ends, a field quoted when it holds a comma,
//! a quote or a line break, quotes doubled inside.

use std::io::{self, Write};

/// Writes one row of fields, RFC 4180 quoted, ended by CRLF.
pub fn write_row<S: AsRef<str>>(w: &mut impl Write, fields: &[S]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write_field(w, f.as_ref())?;
    }
    w.write_all(b"\r\n")
}

/// Writes one field, quoted when it needs to be.
fn write_field(w: &mut impl Write, f: &str) -> io::Result<()> {
    if f.contains([',', '"', '\n', '\r']) {
        w.write_all(b"\"")?;
        w.write_all(f.replace('"', "\"\"").as_bytes())?;
        w.write_all(b"\"")
    } else {
        w.write_all(f.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_and_line_breaks_are_quoted() {
        let mut out = Vec::new();
        write_row(&mut out, &["a", "b,c", "say \"hi\"", "two\nlines", ""]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }
}
