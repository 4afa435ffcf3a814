//! The `labour` command: everything is in the library (`labour::main_with_args`).

use std::process::ExitCode;

fn main() -> ExitCode {
    labour::main_with_args(std::env::args_os())
}
