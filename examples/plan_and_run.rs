//! Plan one cell (wsgiref x Plain, 200 requests) and run it in a Docker
//! container, as `labour bench` would, then print what came back:
//!
//! ```text
//! cargo run --example plan_and_run
//! ```
//!
//! Without a Docker engine it says why in one line and exits 0, unless
//! `LABOUR_REQUIRE_DOCKER=1` (then it exits 1).

use std::process::ExitCode;

use labour::{Plan, RuntimeChoice};

const SCENARIO: &str = "\
servers: [wsgiref]
tests: [Plain]
load: {requests: 200, concurrency: 4}
seed: 7
";

fn main() -> ExitCode {
    let plan = match Plan::from_yaml(SCENARIO) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("an async runtime");
    match runtime.block_on(labour::run(&plan, RuntimeChoice::Docker)) {
        Ok(results) => {
            for cell in &results.cells {
                println!(
                    "{} / {}: {} of {} requests as expected, verdict {}",
                    cell.server,
                    cell.test,
                    cell.expected,
                    cell.requests,
                    cell.verdict.map_or("-", |verdict| verdict.name())
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) if std::env::var_os("LABOUR_REQUIRE_DOCKER").is_none_or(|v| v != "1") => {
            println!("not run: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
