//! Command-line flags (clap derive). Parsing only: `lib::run` turns them
//! into a plan and runs it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::runtime::{NetworkMode, RestartPolicy, RuntimeChoice};
use crate::scenario::Selection;
use crate::scenario::parse_ratio;
use crate::units::{parse_bytes, parse_duration};

/// Which WSGI server survives a misbehaving application?
///
/// labour builds each WSGI server with a stress application in its own
/// Docker container (or runs it as local processes when no engine answers:
/// see --runtime), sends a weighted mix of requests that make the
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
    /// Each server image (or local virtualenv) is built once; each test
    /// gets a fresh container (or process group).
    /// Exit status: 0 when every cell ran and met the thresholds, 1 when a
    /// threshold failed, 2 on a usage, configuration or environment error
    /// (including a server that could not start), 130 when interrupted.
    #[command(after_help = "Examples:\n  \
        labour bench --servers all --tests all\n  \
        labour bench --servers gunicorn-sync,waitress --tests SIGSEGV -n 500 -c 16\n  \
        labour bench --scenario scenarios/realistic.yaml --max-innocent-failure 1%\n  \
        LABOUR_NETWORK=host LABOUR_BASE_IMAGE=labour/base:bookworm labour bench --output results.json")]
    Bench(Box<BenchArgs>),
    /// List the servers, tests or behaviours labour knows.
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
    /// Send load to any URL, as a plain load generator: 2xx counts as expected.
    ///
    /// The same client as `bench` (worker processes, keep-alive, open-loop
    /// rate, HdrHistogram latencies), pointed at your own deployment.
    #[command(after_help = "Examples:\n  \
        labour load http://127.0.0.1:8000/ -c 64 -d 30s\n  \
        labour load http://127.0.0.1:8000/health -r 2000 -d 1m --format json")]
    Load(LoadCommandArgs),
    /// Print the JSON Schema of the results document (`--format json`, `--output`).
    Schema,
    /// A worker process of the request client (labour starts it itself).
    #[command(name = "load-worker", hide = true)]
    LoadWorker,
}

/// How servers are built and run. Flags left out take the scenario
/// file's value (`--scenario`), then the default.
#[derive(Debug, Clone, Default, Args)]
pub struct ContainerArgs {
    /// Where servers run: `docker` (a container each), `local` (processes
    /// on this machine, each server in a virtualenv in ~/.cache/labour;
    /// servers that need system packages are skipped), or `auto`: Docker
    /// when an engine answers, local otherwise.
    #[arg(long, value_enum, env = "LABOUR_RUNTIME", default_value_t = RuntimeChoice::Auto)]
    pub runtime: RuntimeChoice,

    /// Network of the server containers: `bridge` publishes the server's
    /// port on 127.0.0.1 only; `host` makes it bind 127.0.0.1 on a free
    /// port (for hosts without a Docker bridge) [default: bridge].
    #[arg(long, value_enum, env = "LABOUR_NETWORK")]
    pub network: Option<NetworkMode>,

    /// Base image every server image builds FROM (images/base/build.sh
    /// builds labour/base:bookworm for hosts without Docker Hub)
    /// [default: python:3.12-slim].
    #[arg(long, env = "LABOUR_BASE_IMAGE", value_name = "IMAGE")]
    pub base_image: Option<String>,

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

    /// Longest wait for a started server to answer its first request
    /// [default: 60s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub ready_timeout: Option<Duration>,

    /// Grace between SIGTERM and SIGKILL when stopping a server [default: 10s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub stop_timeout: Option<Duration>,

    /// Memory limit of each server container, as Docker writes it (64m, 1g);
    /// not enforced by the local runtime, which says so.
    #[arg(long, short = 'm', value_parser = parse_bytes, value_name = "SIZE")]
    pub memory: Option<u64>,

    /// Memory plus swap limit [default: equal to --memory, so no swap].
    #[arg(long, value_parser = parse_bytes, value_name = "SIZE")]
    pub memory_swap: Option<u64>,

    /// CPU limit of each server container, in CPUs (0.5, 2); Docker only.
    #[arg(long, value_parser = parse_cpus, value_name = "CPUS")]
    pub cpus: Option<f64>,

    /// Largest number of processes and threads in each server container;
    /// Docker only.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub pids_limit: Option<u64>,

    /// What the engine (or the local runtime) does when a server exits: no, on-failure,
    /// on-failure:N (at most N restarts) or always [default: on-failure].
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<RestartPolicy>,

    /// Run an init process in each server container (reaps zombies,
    /// forwards signals). Without it a server running as PID 1 ignores its
    /// own SIGSEGV and looks falsely robust [default: true].
    #[arg(long, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub init: Option<bool>,
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
    /// Servers to build: `all` or a comma-separated list [default: all].
    #[arg(long, short = 's', value_name = "all|NAME,...")]
    pub servers: Option<Selection>,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub container: ContainerArgs,
}

/// How much load, and how it is sent; shared by `bench` and `load`.
#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// Requests per server and test (with --duration too, whichever ends
    /// first) [default: 1000, or none with --duration].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,

    /// Send for this long (30s, 2m) instead of a number of requests.
    #[arg(long, short = 'd', value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,

    /// Open loop: this many requests per second over all connections, each
    /// request on a schedule; latency counts from when it was meant to
    /// start, so a stalled server cannot hide its stall (wrk2-style)
    /// [default: closed loop, each connection as fast as answers come].
    #[arg(long, short = 'r', value_parser = parse_rate, value_name = "REQ/S")]
    pub rate: Option<f64>,

    /// Connections sending requests at once [default: 8].
    #[arg(long, short = 'c', value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub concurrency: Option<u64>,

    /// Worker processes the connections are spread over, as the seed
    /// forked them [default: the number of CPUs].
    #[arg(long, short = 'p', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub processes: Option<u64>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a number of requests per second above zero"
        )),
    }
}

/// `labour bench` flags. Flags left out take the scenario file's value
/// (`--scenario`), then the default.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// A scenario file (YAML): servers with options and limits, tests
    /// (named or your own mixes), load, thresholds, seed. Flags given too
    /// override it. See scenarios/ for examples.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Servers to test: `all` or a comma-separated list (see `labour list
    /// servers`) [default: all].
    #[arg(long, short = 's', value_name = "all|NAME,...")]
    pub servers: Option<Selection>,

    /// Tests to run: `all` or a comma-separated list of named tests and
    /// the scenario's own (see `labour list tests`) [default: all].
    #[arg(long, short = 't', value_name = "all|NAME,...")]
    pub tests: Option<Selection>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub load: LoadArgs,

    /// Longest wait for one complete answer; a request past it counts as a
    /// timeout [default: 30s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// Stop a cell's load when nothing has come back as expected for this
    /// long: the server is unresponsive [default: 60s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub give_up_after: Option<Duration>,

    /// Reuse connections (HTTP keep-alive). Without it each request gets a
    /// new connection and asks the server to close it, as the seed's client
    /// and nginx's default upstream do.
    #[arg(long)]
    pub keep_alive: bool,

    /// Seed of the request mix: the same seed sends the same requests [default: random,
    /// recorded in the results].
    #[arg(long)]
    pub seed: Option<u64>,

    /// Fail the run (exit status 1) when a cell has a larger share of
    /// requests not as expected: 0.1 or 10%.
    #[arg(long, value_parser = parse_ratio, value_name = "SHARE")]
    pub max_failure: Option<f64>,

    /// Fail the run (exit status 1) when a cell has a larger share of
    /// innocent requests (PlainResponse) that failed: 0.01 or 1%.
    #[arg(long, value_parser = parse_ratio, value_name = "SHARE")]
    pub max_innocent_failure: Option<f64>,

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

/// `labour load` flags.
#[derive(Debug, Clone, Args)]
pub struct LoadCommandArgs {
    /// The URL to load (http only).
    pub url: String,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub load: LoadArgs,

    /// Longest wait for one complete answer [default: 30s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// A new connection for every request (`Connection: close`) instead of
    /// keep-alive.
    #[arg(long)]
    pub no_keep_alive: bool,

    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: LoadFormat,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What `labour load` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadFormat {
    /// Counts and latency percentiles as text.
    Table,
    /// The same as a JSON document.
    Json,
}

/// What `labour list` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// The servers of the catalogue.
    Servers,
    /// The named tests and their mixes.
    Tests,
    /// The behaviours a request can ask for, their parameters and what
    /// counts as expected.
    Behaviours,
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
