use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = labour::cli::Cli::parse();
    match labour::run(cli) {
        Ok(finish) => ExitCode::from(finish.exit_code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
