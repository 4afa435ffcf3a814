//! The library's examples (`examples/*.rs`) do what they say: reading a
//! saved results file gives a verdict per cell, and planning and running
//! one cell either runs it or says in one line why not.

use std::path::{Path, PathBuf};
use std::process::Command;

use labour::results::Results;

use crate::util::docker_available;

#[allow(dead_code)]
#[path = "../../examples/read_results.rs"]
mod read_results;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// An example's binary, built by `cargo test` (not by `cargo test --test
/// integration` alone): `None` then.
fn example(name: &str) -> Option<PathBuf> {
    let labour = PathBuf::from(env!("CARGO_BIN_EXE_labour"));
    let path = labour.parent()?.join("examples").join(name);
    path.is_file().then_some(path)
}

const EXPECTED: &str = "\
wsgiref            SIGSEGV      failed         98.0% failed
wsgiref            HeavySleep   stalled         0.0% failed
wsgiref            Plain        held            0.0% failed
gunicorn-sync      SIGSEGV      held            0.0% failed
gunicorn-sync      HeavySleep   stalled         0.0% failed
gunicorn-sync      Plain        held            0.0% failed
waitress           SIGSEGV      failed         98.0% failed
waitress           HeavySleep   stalled         0.0% failed
waitress           Plain        held            0.0% failed
";

#[test]
fn read_results_prints_a_verdict_per_cell() {
    let fixture = root().join("tests/fixtures/results-small.json");
    let results = Results::read(&fixture).unwrap();
    assert_eq!(read_results::verdicts(&results), EXPECTED);
    match example("read_results") {
        Some(binary) => {
            let output = Command::new(binary).arg(&fixture).output().unwrap();
            assert!(output.status.success(), "{output:?}");
            assert_eq!(String::from_utf8(output.stdout).unwrap(), EXPECTED);
        }
        None => eprintln!("read_results: example not built (run `cargo test`); its code ran above"),
    }
}

#[test]
fn plan_and_run_runs_one_cell_or_says_why_not() {
    let Some(binary) = example("plan_and_run") else {
        eprintln!(
            "plan_and_run_runs_one_cell_or_says_why_not skipped: example not built (run `cargo test`)"
        );
        return;
    };
    // No engine: one line, exit 0.
    let output = Command::new(&binary)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env_remove("LABOUR_REQUIRE_DOCKER")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("not run: no Docker engine answers"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    if !docker_available("plan_and_run_runs_one_cell_or_says_why_not") {
        return;
    }
    let output = Command::new(&binary)
        .env("LABOUR_REQUIRE_DOCKER", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("wsgiref / Plain: "), "{stdout}");
    assert!(
        stdout.contains(" requests as expected, verdict "),
        "{stdout}"
    );
}
