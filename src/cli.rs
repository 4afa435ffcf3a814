//! Command-line flags (clap derive). Parsing only: `lib::run` turns them
//! into a plan and runs it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::runtime::{NetworkMode, RestartPolicy};
use crate::scenario::Selection;
use crate::units::{parse_bytes, parse_duration};

/// Which WSGI server survives a misbehaving application?
///
/// labour builds each WSGI server with a stress application in its own
/// Docker container, sends a weighted mix of requests that make the
/// application sleep, leak, wedge or segfault, and reports per server and
/// test how many requests came back as expected ("OK" never means just
/// "HTTP 200"), and how much the innocent requests suffered.
#[derive(Debug, Parser)]
#[command(name = "labour", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// labour's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run tests against servers and report how many requests came back as expected.
    ///
    /// Each server image is built once; each test gets a fresh container.
    /// Exit status: 0 when every cell ran, 2 on a usage, configuration or
    /// environment error (including a server that could not start), 130
    /// when interrupted.
    #[command(after_help = "Examples:\n  \
        labour bench --servers all --tests all\n  \
        labour bench --servers gunicorn-sync,waitress --tests SIGSEGV -n 500 -c 16\n  \
        LABOUR_NETWORK=host LABOUR_BASE_IMAGE=labour/base:bookworm labour bench --output results.json")]
    Bench(BenchArgs),
    /// List the servers or the tests labour knows.
    List(ListArgs),
    /// Build server images only (to warm a cache, or to check a new server).
    ///
    /// Shows each image's build steps; a failed build names the server and
    /// shows its last lines; the full build log of every server is kept in
    /// a file (see --build-logs).
    Build(BuildArgs),
    /// Start one server with the stress application and keep it up until Ctrl-C.
    ///
    /// Prints the server's URL; try `curl URL/Sleeping?sleep_duration=1`.
    Serve(ServeArgs),
    /// Print the JSON Schema of the results document (`--format json`, `--output`).
    Schema,
}

/// How servers are built and run.
#[derive(Debug, Clone, Args)]
pub struct ContainerArgs {
    /// Network of the server containers: `bridge` publishes the server's
    /// port on 127.0.0.1 only; `host` makes it bind 127.0.0.1 on a free
    /// port (for hosts without a Docker bridge).
    #[arg(long, value_enum, env = "LABOUR_NETWORK", default_value = "bridge")]
    pub network: NetworkMode,

    /// Base image every server image builds FROM (images/base/build.sh
    /// builds labour/base:bookworm for hosts without Docker Hub).
    #[arg(long, env = "LABOUR_BASE_IMAGE", default_value = "python:3.12-slim")]
    pub base_image: String,

    /// Network used while building images [default: host with
    /// --network host, Docker's default otherwise].
    #[arg(long, env = "LABOUR_BUILD_NETWORK", value_name = "NETWORK")]
    pub build_network: Option<String>,

    /// Read server images and the catalogue from DIR instead of the copy
    /// built into labour.
    #[arg(long, env = "LABOUR_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,

    /// Keep each server's full build log in DIR/<server>.log [default:
    /// $XDG_CACHE_HOME/labour/build-logs, or ~/.cache/labour/build-logs].
    #[arg(long, env = "LABOUR_BUILD_LOGS", value_name = "DIR")]
    pub build_logs: Option<PathBuf>,

    /// Longest wait for a started server to answer its first request.
    #[arg(long, value_parser = parse_duration, default_value = "60s", value_name = "DURATION")]
    pub ready_timeout: Duration,

    /// Grace between SIGTERM and SIGKILL when stopping a server.
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub stop_timeout: Duration,

    /// Memory limit of each server container, as Docker writes it (64m, 1g).
    #[arg(long, short = 'm', value_parser = parse_bytes, value_name = "SIZE")]
    pub memory: Option<u64>,

    /// Memory plus swap limit [default: equal to --memory, so no swap].
    #[arg(long, value_parser = parse_bytes, value_name = "SIZE", requires = "memory")]
    pub memory_swap: Option<u64>,

    /// CPU limit of each server container, in CPUs (0.5, 2).
    #[arg(long, value_parser = parse_cpus, value_name = "CPUS")]
    pub cpus: Option<f64>,

    /// Largest number of processes and threads in each server container.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub pids_limit: Option<u64>,

    /// What the engine does when a server exits: no, on-failure,
    /// on-failure:N (at most N restarts) or always.
    #[arg(long, default_value = "on-failure", value_name = "POLICY")]
    pub restart: RestartPolicy,

    /// Run an init process in each server container (reaps zombies,
    /// forwards signals). Without it a server running as PID 1 ignores its
    /// own SIGSEGV and looks falsely robust.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub init: bool,
}

fn parse_cpus(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(cpus) if cpus > 0.0 && cpus.is_finite() => Ok(cpus),
        _ => Err(format!("{text:?} is not a number of CPUs above zero")),
    }
}

/// Server options, mapped per server onto its own flags (see
/// `labour list servers`); a server without the knob says so in the
/// results.
#[derive(Debug, Clone, Default, Args)]
pub struct ServerArgs {
    /// Worker processes [default: per server, see `labour list servers`].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024), value_name = "N")]
    pub workers: Option<u64>,

    /// Threads per worker process.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000), value_name = "N")]
    pub threads: Option<u64>,

    /// Seconds before the server kills and replaces a stuck worker
    /// (gunicorn --timeout, uWSGI --harakiri...).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS")]
    pub worker_timeout: Option<u64>,

    /// Requests after which the server recycles a worker.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub max_requests: Option<u64>,
}

/// `labour build` flags.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Servers to build: `all` or a comma-separated list.
    #[arg(long, short = 's', default_value = "all", value_name = "all|NAME,...")]
    pub servers: Selection,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub container: ContainerArgs,
}

/// `labour bench` flags.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Servers to test: `all` or a comma-separated list (see `labour list servers`).
    #[arg(long, short = 's', default_value = "all", value_name = "all|NAME,...")]
    pub servers: Selection,

    /// Tests to run: `all` or a comma-separated list (see `labour list tests`).
    #[arg(long, short = 't', default_value = "all", value_name = "all|NAME,...")]
    pub tests: Selection,

    /// Requests per server and test.
    #[arg(long, short = 'n', default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: u64,

    /// Connections sending requests at once.
    #[arg(long, short = 'c', default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub concurrency: u64,

    /// Longest wait for one complete answer; a request past it counts as a timeout.
    #[arg(long, value_parser = parse_duration, default_value = "30s", value_name = "DURATION")]
    pub timeout: Duration,

    /// Seed of the request mix: the same seed sends the same requests [default: random,
    /// recorded in the results].
    #[arg(long)]
    pub seed: Option<u64>,

    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Also write the JSON results to FILE, rewritten after every cell, so a
    /// crash keeps what finished.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub server: ServerArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub container: ContainerArgs,
}

/// What `labour list` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// The servers of the catalogue.
    Servers,
    /// The named tests and their mixes.
    Tests,
}

/// `labour list` flags.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: ListWhat,

    /// Servers: also the seed's servers that cannot be installed, and why.
    #[arg(long)]
    pub all: bool,

    /// As JSON, for scripts.
    #[arg(long)]
    pub json: bool,

    /// Read the catalogue from DIR instead of the copy built into labour.
    #[arg(long, env = "LABOUR_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,
}

/// `labour serve` flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The server to start (see `labour list servers`).
    pub server: String,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub options: ServerArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub container: ContainerArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
