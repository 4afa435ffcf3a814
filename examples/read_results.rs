//! Read a saved results file (`labour bench --output results.json`) and
//! print each cell's verdict, one line per cell:
//!
//! ```text
//! cargo run --example read_results -- tests/fixtures/results-small.json
//! ```

use std::path::Path;
use std::process::ExitCode;

use labour::results::Results;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: read_results RESULTS.json");
        return ExitCode::from(2);
    };
    match Results::read(Path::new(&path)) {
        Ok(results) => {
            print!("{}", verdicts(&results));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// One line per cell: server, test, verdict, and the share of its
/// requests that did not come back as expected.
pub fn verdicts(results: &Results) -> String {
    let mut out = String::new();
    for cell in &results.cells {
        let verdict = cell.verdict.map_or("-", |verdict| verdict.name());
        out.push_str(&format!(
            "{:<18} {:<12} {:<12} {:>6.1}% failed\n",
            cell.server,
            cell.test,
            verdict,
            cell.failure_ratio * 100.0
        ));
    }
    out
}
