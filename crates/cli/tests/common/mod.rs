//! What the CLI test binaries share.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Standard output and standard error together, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// How many participants `her2ex demo` says it built (its "demo data built … N
/// participants" line).
pub fn demo_participants(o: &Output) -> usize {
    let out = text(o);
    let line = out
        .lines()
        .find(|l| l.starts_with("demo data built"))
        .unwrap_or_else(|| panic!("the demo says what it built: {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "participants")
        .expect("count");
    words[at - 1].parse().expect("a number")
}

/// Runs `her2ex` on the data directory `data`, its checkpoint key inside it (a real study
/// keeps the key beside the data directory; a test's goes away with its folder).
pub fn her2ex(data: &Path, args: &[&str]) -> Output {
    her2ex_with(data, args, None)
}

/// [`her2ex`] with `stdin` written to its standard input when given (a password, say).
/// A PACS password of the environment is not passed on.
pub fn her2ex_with(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_her2ex"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env(
            "HER2EX_KEY_FILE",
            data.join("test-keys").join("checkpoint.key"),
        )
        .env_remove("HER2EX_PEER_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run her2ex");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}
