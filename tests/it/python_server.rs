//! Starting the Python servers the tests talk to (`tests/smtp/server.py`,
//! `tests/oidc/provider.py`): each runs with `target/python` on its path (where
//! scripts/test installs its package), prints "ready …" once it listens, and exits with
//! the test binary (`--parent`).
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Runs `tests/<script>` with `args` and waits for its "ready" line; `help` says what
/// it needs when it does not start.
pub(crate) fn start(script: &str, args: &[&str], help: &str) -> Child {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("python3")
        .arg(format!("{root}/tests/{script}"))
        .args(args)
        .args(["--parent", &std::process::id().to_string()])
        .env("PYTHONPATH", format!("{root}/target/python"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("tests/{script} needs python3: {e}"));
    let mut line = String::new();
    let stdout = child.stdout.take().expect("the server's stdout");
    let _ = BufReader::new(stdout).read_line(&mut line);
    assert!(
        line.starts_with("ready"),
        "tests/{script} did not start ({help}); it said {line:?}"
    );
    child
}
