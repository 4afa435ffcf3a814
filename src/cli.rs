//! Command-line flags (clap derive), and nothing else uses clap. Parsing
//! only: each command's flags become one [`Flags`] (the options as
//! `plan::options` has them, `None` where a flag is not given), which
//! `scenario` layers over the scenario file and the defaults into the
//! plan. Each option's parser and help come from `plan::options`, so a
//! flag accepts exactly what the file accepts.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use clap::builder::PossibleValue;

use crate::plan::options::{
    KnobOptions, LimitOptions, LoadOptions, RunOptions, ThresholdOptions, parse_jobs, parse_ratio,
    parse_repeat,
};
use crate::plan::{NetworkMode, RestartPolicy};
use crate::report::Format;
use crate::runtime::RuntimeChoice;
use crate::scenario::{Flags, Selection, Shard};

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
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// labour's subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Render saved results (JSON from `bench --output`) in any format; several files are merged first.
    ///
    /// No Docker engine or runtime is needed: a report reads the document
    /// only. Several files (the shards of one run, or one per CI job) are
    /// merged as `labour merge` would, and refused the same way.
    #[command(after_help = "Examples:\n  \
        labour report results.json --format html --output report.html\n  \
        labour report results.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n  \
        labour report shard-*.json --format csv --output cells.csv")]
    Report(ReportArgs),
    /// Compare two saved runs cell by cell; exit 1 when a cell got worse than allowed.
    ///
    /// Cells are matched by server and test; each side is its cell's
    /// figures, or the median of its runs with `bench --repeat` (then a
    /// change within the run-to-run noise says so). Exit status 1 when a
    /// cell's f% or innocent f% grew by more than --max-regression.
    #[command(after_help = "Examples:\n  \
        labour compare main.json branch.json\n  \
        labour compare main.json branch.json --max-regression 2% --format markdown")]
    Compare(CompareArgs),
    /// Join saved results (the shards of one run, or one per CI job) into one document.
    ///
    /// Refuses documents from different labour versions, tests, load or
    /// seeds (unless --force, which records the difference) and a cell that
    /// is in two documents. Each cell keeps the run, and so the machine and
    /// engine, that measured it.
    #[command(after_help = "Example:\n  \
        labour merge shard-1.json shard-2.json shard-3.json --output all.json")]
    Merge(MergeArgs),
    /// Remove what earlier runs left on this host: containers, image tags and local servers.
    ///
    /// A run removes everything it made on every way out it can see
    /// (Ctrl-C, SIGTERM, an error); after `kill -9`, a panic or a power cut
    /// it cannot, and the next `bench`, `serve` or `build` removes what
    /// such runs left. This does it now, and lists what it removed. Only
    /// objects carrying labour's labels (and processes carrying its
    /// marker) are touched.
    Clean(CleanArgs),
    /// Write a compose file: every server as a service, built with the stress application.
    ///
    /// Each service builds from the images tree (context ../images, so the
    /// file belongs in a folder beside images/, as compose/ is), runs the
    /// server as labour does by default (its knobs, limits and hardening),
    /// and publishes its port on 127.0.0.1 only, at 18000 plus its place in
    /// the catalogue. The checked-in compose/docker-compose.yml is this
    /// output; a test fails when it drifts from the catalogue.
    #[command(after_help = "Examples:\n  \
        labour compose -o compose/docker-compose.yml\n  \
        docker compose -f compose/docker-compose.yml up -d --build wsgiref")]
    Compose(ComposeArgs),
    /// Print the JSON Schema of the results document (`--format json`, `--output`).
    Schema,
    /// A worker process of the request client (labour starts it itself).
    #[command(name = "load-worker", hide = true)]
    LoadWorker,
    /// The keeper of a local server's process group (labour starts it
    /// itself): the group dies with labour, however labour dies.
    #[command(name = "keep-group", hide = true)]
    KeepGroup {
        /// The server's command.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
}

/// Where and how servers run. Flags left out take the scenario file's
/// value (`--scenario`), then the default.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ContainerArgs {
    /// Where servers run: `docker` (a container each), `local` (processes
    /// on this machine, each server in a virtualenv in ~/.cache/labour;
    /// servers that need system packages are skipped), or `auto`: Docker
    /// when an engine answers, local otherwise.
    #[arg(long, value_enum, env = "LABOUR_RUNTIME", default_value_t = RuntimeChoice::Auto)]
    pub runtime: RuntimeChoice,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// Read server images and the catalogue from DIR instead of the copy
    /// built into labour.
    #[arg(long, env = "LABOUR_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Which Docker engine, beyond what the environment says. Without these
/// the engine is found as the docker CLI finds it: `DOCKER_HOST` (with
/// `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`), then `DOCKER_CONTEXT`, then
/// the CLI's current context, then /var/run/docker.sock.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct EngineArgs {
    /// Use the docker CLI context NAME (`docker context ls`), as `docker
    /// --context` does; it wins over DOCKER_HOST.
    #[arg(long, value_name = "NAME", value_parser = crate::plan::options::parse_name)]
    pub context: Option<String>,

    /// The address servers are published on and the client dials
    /// [default: the engine's host for tcp:// and ssh:// engines, 127.0.0.1
    /// for a local one].
    #[arg(long, env = "LABOUR_SERVER_HOST", value_name = "ADDR", value_parser = crate::plan::options::parse_name)]
    pub server_host: Option<String>,
}

impl EngineArgs {
    /// The connection these flags describe.
    pub(crate) fn connection(&self) -> crate::runtime::Connection {
        crate::runtime::Connection {
            context: self.context.clone(),
            server_host: self.server_host.clone(),
        }
    }
}

/// `labour build` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct BuildArgs {
    /// Servers to build: `all` or a comma-separated list [default: all].
    #[arg(long, short = 's', value_name = "all|NAME,...")]
    pub servers: Option<Selection>,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub container: ContainerArgs,
}

/// `labour bench` flags. Flags left out take the scenario file's value
/// (`--scenario`), then the default.
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchArgs {
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
    pub load: LoadArgs,

    /// Cells that run at once, each with its own server. Cells whose
    /// headline is throughput (Plain) always run alone [default: 4 per
    /// CPU, at least 2, at most 32].
    #[arg(long, short = 'j', value_parser = parse_jobs, value_name = "N")]
    pub jobs: Option<u64>,

    /// Run each cell N times and report, per cell, the median of its runs
    /// and their coefficient of variation, so `labour compare` can tell a
    /// change from run-to-run noise [default: 1].
    #[arg(long, value_parser = parse_repeat, value_name = "N")]
    pub repeat: Option<u64>,

    /// Run only slice K of N of the plan's cells (server by server), so N
    /// machines or CI jobs run the whole plan between them; `labour merge`
    /// joins their results. Needs --seed, the same for every shard.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,

    /// Seed of the request mix: the same seed sends the same requests
    /// [default: random, recorded in the results].
    #[arg(long)]
    pub seed: Option<u64>,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Also write the JSON results to FILE, rewritten after every cell, so a
    /// crash keeps what finished.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a report to FILE when the run ends, in the format its
    /// extension names: .html, .md, .csv, .txt or .json (repeatable).
    #[arg(long, value_name = "FILE", value_parser = parse_report)]
    pub report: Vec<ReportFile>,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Check the flags and the scenario, print the plan as resolved
    /// (servers, tests, mixes, load, limits, seed; as JSON with --format
    /// json), and start nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub knobs: KnobArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub container: ContainerArgs,
}

/// Your own deployment instead of catalogue servers: your image, your
/// command and configuration, your port and readiness URL, your innocent
/// requests. Flags given win over the scenario's `target:` section.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Your own deployment (instead of --servers)")]
pub(crate) struct TargetArgs {
    /// Run this image (one the engine has: labour does not pull or
    /// rebuild it) as labour runs its servers: its labels, limits, least
    /// privilege, events and cleanup.
    #[arg(long, value_name = "IMAGE", conflicts_with = "target_build")]
    pub target_image: Option<String>,

    /// Or build the image from DIR (its Dockerfile, see
    /// --target-dockerfile); labour's base image is its BASE_IMAGE build
    /// argument.
    #[arg(long, value_name = "DIR")]
    pub target_build: Option<PathBuf>,

    /// The Dockerfile in --target-build's DIR [default: Dockerfile].
    #[arg(long, value_name = "FILE", requires = "target_build")]
    pub target_dockerfile: Option<String>,

    /// The port your server listens on (in its container; on the host
    /// with --network host, unless its command or environment takes
    /// {port}, which labour then fills with a free port).
    #[arg(long, value_name = "PORT")]
    pub target_port: Option<u16>,

    /// The path that answers 2xx once your server is ready [default: /].
    #[arg(long, value_name = "PATH")]
    pub target_ready: Option<String>,

    /// Its name in reports [default: target].
    #[arg(long, value_name = "NAME")]
    pub target_name: Option<String>,

    /// Its command, split on spaces [default: the image's own]; {host}
    /// and {port} are the address to bind.
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    pub target_cmd: Option<String>,

    /// An environment variable of your server, {host} and {port} filled
    /// in (repeatable): GUNICORN_CMD_ARGS=--bind={host}:{port}.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_env)]
    pub target_env: Vec<(String, String)>,

    /// Add labour's middleware to your application, whose WSGI (or ASGI)
    /// callable is MODULE:CALLABLE: a derived image runs your command
    /// pointed at the wrapped callable, so requests under /_labour/ make
    /// your own workers sleep, leak or segfault. Without it, tests that
    /// need a behaviour are skipped; the fault tests run as they are.
    #[arg(long, value_name = "MODULE:CALLABLE")]
    pub target_wrap: Option<String>,

    /// The interface your application speaks [default: wsgi].
    #[arg(long, value_name = "wsgi|asgi", value_parser = parse_interface)]
    pub target_interface: Option<crate::behaviour::Interface>,

    /// An innocent request of yours, `METHOD PATH [STATUS]` (repeatable;
    /// status 200 unless given); they replace PlainResponse in every
    /// test's mix. Headers, bodies, weights and body checks are in the
    /// scenario's `target.requests` [default: GET of --target-ready].
    #[arg(long, value_name = "REQUEST")]
    pub target_request: Vec<String>,
}

impl TargetArgs {
    /// The settings these flags give.
    pub(crate) fn settings(&self) -> Result<crate::scenario::TargetSettings, String> {
        use crate::scenario::{BuildSettings, CommandSetting, RequestSettings, TargetSettings};
        let requests = self
            .target_request
            .iter()
            .map(|text| {
                RequestSettings::parse_flag(text)
                    .map_err(|problem| format!("--target-request: {problem}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TargetSettings {
            name: self.target_name.clone(),
            image: self.target_image.clone(),
            build: self.target_build.as_ref().map(|context| BuildSettings {
                context: context.clone(),
                dockerfile: self.target_dockerfile.clone(),
            }),
            command: self.target_cmd.clone().map(CommandSetting::Text),
            env: (!self.target_env.is_empty()).then(|| self.target_env.iter().cloned().collect()),
            port: self.target_port,
            ready: self.target_ready.clone(),
            interface: self.target_interface,
            wrap: self.target_wrap.clone(),
            requests: (!requests.is_empty()).then_some(requests),
        })
    }
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

fn parse_interface(text: &str) -> Result<crate::behaviour::Interface, String> {
    crate::behaviour::Interface::ALL
        .into_iter()
        .find(|interface| interface.name() == text)
        .ok_or_else(|| format!("{text:?} is not wsgi or asgi"))
}

/// `labour load` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct LoadCommandArgs {
    /// The URL to load (http only).
    pub url: String,

    #[command(flatten)]
    pub load: LoadArgs,

    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: LoadFormat,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What `labour load` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LoadFormat {
    /// Counts and latency percentiles as text.
    Table,
    /// The same as a JSON document.
    Json,
}

/// `labour report` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReportArgs {
    /// Results documents (`bench --output`); several are merged.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The format [default: from --output's extension, else table].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Merge documents of different labour versions, scenarios or seeds
    /// anyway (the differences are recorded in the merged document).
    #[arg(long)]
    pub force: bool,

    /// Exit 1, as `bench` does, when a cell failed the scenario's
    /// thresholds (`--max-failure`, `--max-innocent-failure`),
    /// after writing the report: a CI job that merges shards fails there.
    #[arg(long)]
    pub check: bool,
}

/// `labour merge` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct MergeArgs {
    /// Results documents to join.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Where the joined document goes.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,

    /// Merge documents of different labour versions, tests, load or seeds
    /// anyway (the differences are recorded in `merge_differences`).
    #[arg(long)]
    pub force: bool,
}

/// `labour clean` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct CleanArgs {
    /// Remove every run's leftovers, not only those whose labour is gone
    /// on this host: runs still going, and runs of other hosts sharing
    /// this engine, included.
    #[arg(long)]
    pub all_runs: bool,

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `labour compare` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct CompareArgs {
    /// The run to compare against (`bench --output`).
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The run to judge.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// The most a cell's f% or innocent f% may grow, as a share: 0.01 or 1%
    /// is one point.
    #[arg(long, value_parser = parse_ratio, value_name = "SHARE", default_value = "0.01")]
    pub max_regression: f64,

    /// What to print.
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
}

/// The formats of `labour compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompareFormat {
    /// A text table.
    Table,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
    /// The comparison as JSON.
    Json,
}

/// What `labour list` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListWhat {
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
pub(crate) struct ListArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: ListWhat,

    /// Servers: also the seed's servers that cannot be installed, and why.
    #[arg(long)]
    pub all: bool,

    /// As JSON, for scripts.
    #[arg(long)]
    pub json: bool,

    /// Servers: a CI matrix, one line of JSON: the server names (the form
    /// GitHub Actions' fromJSON and GitLab's parallel:matrix take), or
    /// with --tests the server x test pairs.
    #[arg(long)]
    pub matrix: bool,

    /// With --matrix: these servers (`all`, a group, or names).
    #[arg(long, short = 's', value_name = "all|NAME,...", requires = "matrix")]
    pub servers: Option<Selection>,

    /// With --matrix: list server x test pairs for these tests.
    #[arg(long, short = 't', value_name = "all|NAME,...", requires = "matrix")]
    pub tests: Option<Selection>,

    /// With --matrix: the servers (and tests) of this scenario file.
    #[arg(long, value_name = "FILE", requires = "matrix")]
    pub scenario: Option<PathBuf>,

    /// Read the catalogue from DIR instead of the copy built into labour.
    #[arg(long, env = "LABOUR_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,
}

/// `labour compose` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct ComposeArgs {
    /// Write the file to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Read the catalogue from DIR instead of the copy built into labour.
    #[arg(long, env = "LABOUR_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,
}

/// `labour serve` flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// The server to start (see `labour list servers`).
    pub server: String,

    #[command(flatten)]
    pub options: KnobArgs,

    #[command(flatten)]
    pub container: ContainerArgs,
}

/// Declares the flags of one set of options (see `plan::options`): a clap
/// struct whose every flag takes its parser and its help from the option
/// it sets, and its one conversion into those options, which names every
/// field (the compiler refuses a flag without its option, or one of
/// another type).
macro_rules! flags {
    (
        $(#[$outer:meta])*
        $args:ident => $options:ident {
            $( #[arg($($arg:tt)*)] $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$outer])*
        #[derive(Debug, Clone, Default, Args)]
        pub(crate) struct $args {
            $(
                #[arg(
                    $($arg)*,
                    value_parser = $options::$field,
                    help = $options::help(stringify!($field))
                )]
                $field: Option<$ty>,
            )*
        }

        impl From<$args> for $options {
            fn from(args: $args) -> Self {
                $options { $($field: args.$field),* }
            }
        }
    };
}

flags! {
    /// How much load, and how it is sent.
    LoadArgs => LoadOptions {
        #[arg(long, short = 'n', value_name = "N")] requests: u64,
        #[arg(long, short = 'd', value_name = "DURATION")] duration: Duration,
        #[arg(long, value_name = "DURATION", conflicts_with = "duration")] cell_time: Duration,
        #[arg(long, short = 'r', value_name = "REQ/S")] rate: f64,
        #[arg(long, short = 'c', value_name = "N")] concurrency: u64,
        #[arg(long, short = 'p', value_name = "N")] processes: u64,
        #[arg(long, value_name = "DURATION")] timeout: Duration,
        #[arg(long, value_name = "DURATION")] give_up_after: Duration,
        #[arg(
            long,
            value_name = "BOOL",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "true"
        )]
        keep_alive: bool,
        #[arg(long, value_name = "on|off")] settle: bool,
        #[arg(long, value_name = "DURATION")] stall: Duration,
    }
}

flags! {
    /// How servers are built and run, for every server.
    RunArgs => RunOptions {
        #[arg(long, env = "LABOUR_NETWORK", value_name = "auto|bridge|host")] network: NetworkMode,
        #[arg(long, env = "LABOUR_BASE_IMAGE", value_name = "IMAGE")] base_image: String,
        #[arg(long, env = "LABOUR_BASE_IMAGE_PY27", value_name = "IMAGE")] base_image_py27: String,
        #[arg(long, env = "LABOUR_BUILD_NETWORK", value_name = "NETWORK")] build_network: String,
        #[arg(long, value_name = "DURATION")] ready_timeout: Duration,
        #[arg(long, value_name = "DURATION")] stop_timeout: Duration,
        #[arg(long, env = "LABOUR_BUILD_LOGS", value_name = "DIR")] build_logs: PathBuf,
    }
}

flags! {
    /// A server's limits and supervision.
    LimitArgs => LimitOptions {
        #[arg(long, short = 'm', value_name = "SIZE")] memory: u64,
        #[arg(long, value_name = "SIZE")] memory_swap: u64,
        #[arg(long, value_name = "CPUS")] cpus: f64,
        #[arg(long, value_name = "N")] pids_limit: u64,
        #[arg(long, value_name = "POLICY")] restart: RestartPolicy,
        #[arg(long, value_name = "BOOL")] init: bool,
    }
}

flags! {
    /// Limits on a cell's failures.
    ThresholdArgs => ThresholdOptions {
        #[arg(long = "max-failure", value_name = "SHARE")] max_failure_ratio: f64,
        #[arg(long = "max-innocent-failure", value_name = "SHARE")] max_innocent_failure_ratio: f64,
    }
}

flags! {
    /// Server knobs, mapped per server onto its own flags.
    KnobArgs => KnobOptions {
        #[arg(long, value_name = "N")] workers: u64,
        #[arg(long, value_name = "N")] threads: u64,
        #[arg(long, value_name = "SECONDS")] worker_timeout: u64,
        #[arg(long, value_name = "N")] max_requests: u64,
        #[arg(long, value_name = "N")] backlog: u64,
    }
}

/// A `--report FILE`: the file, and the format its extension names
/// (checked once, here, as the flag is read).
#[derive(Debug, Clone)]
pub(crate) struct ReportFile {
    /// Where the report goes.
    pub(crate) path: PathBuf,
    /// What its extension says it is.
    pub(crate) format: Format,
}

fn parse_report(text: &str) -> Result<ReportFile, String> {
    let path = PathBuf::from(text);
    match Format::of_path(&path) {
        Some(format) => Ok(ReportFile { path, format }),
        None => Err(format!(
            "{text}: the extension says no format (use .html, .md, .csv, .txt or .json)"
        )),
    }
}

impl Cli {
    /// Parse `args` (the program's name first); `--help`, `--version` and
    /// a usage error print and exit with status 0 or 2.
    pub(crate) fn parse_args<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::parse_from(args)
    }

    /// Parse `args` (the program's name first) without exiting on an
    /// error: the error says what clap would print.
    #[cfg(test)]
    pub(crate) fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args)
    }
}

impl ContainerArgs {
    /// The plan flags every command that runs servers has.
    fn flags(&self) -> Flags {
        Flags {
            run: self.run.clone().into(),
            limits: self.limits.clone().into(),
            ..Flags::default()
        }
    }
}

impl BenchArgs {
    /// What these flags say of the plan; `None` where they say nothing.
    pub(crate) fn flags(&self) -> Flags {
        Flags {
            servers: self.servers.clone(),
            tests: self.tests.clone(),
            knobs: self.knobs.clone().into(),
            load: self.load.clone().into(),
            seed: self.seed,
            jobs: self.jobs,
            repeat: self.repeat,
            shard: self.shard,
            thresholds: self.thresholds.clone().into(),
            ..self.container.flags()
        }
    }
}

impl BuildArgs {
    /// What these flags say of the plan: the servers, and how they run.
    pub(crate) fn flags(&self) -> Flags {
        Flags {
            servers: self.servers.clone(),
            ..self.container.flags()
        }
    }
}

impl ServeArgs {
    /// What these flags say of the plan: the one server, its knobs, and how
    /// it runs.
    pub(crate) fn flags(&self) -> Flags {
        Flags {
            servers: Some(Selection::Named(vec![self.server.clone()])),
            knobs: self.options.clone().into(),
            ..self.container.flags()
        }
    }
}

impl ListArgs {
    /// What these flags say of the plan (`--matrix`): the servers and tests.
    pub(crate) fn flags(&self) -> Flags {
        Flags {
            servers: self.servers.clone(),
            tests: self.tests.clone(),
            seed: Some(0),
            ..Flags::default()
        }
    }
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Format::Table,
            Format::Plain,
            Format::Markdown,
            Format::Csv,
            Format::Html,
            Format::Json,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Format::Table => PossibleValue::new("table").help(
                "The seed's table of failure percent and requests/sec, then what each server \
                 process did, latency, and the failure breakdown",
            ),
            Format::Plain => PossibleValue::new("plain").help(
                "The seed's PlainReport, per cell: requests, how many came back OK, time, \
                 requests/sec",
            ),
            Format::Markdown => PossibleValue::new("markdown").help(
                "GitHub-flavoured Markdown, for a CI job's step summary or a pull-request \
                 comment: the seed's table, durability, failing cells",
            ),
            Format::Csv => PossibleValue::new("csv").help(
                "One row per cell with every scalar figure (the first line names the columns)",
            ),
            Format::Html => PossibleValue::new("html").help(
                "One self-contained HTML page: the matrix as a heatmap and, per cell, the \
                 timeline with the container's events, latency, memory and CPU, workers, \
                 failures and the log",
            ),
            Format::Json => PossibleValue::new("json").help("The whole results document"),
        })
    }
}

impl ValueEnum for RuntimeChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            RuntimeChoice::Auto,
            RuntimeChoice::Docker,
            RuntimeChoice::Local,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            RuntimeChoice::Auto => PossibleValue::new("auto")
                .help("Docker when an engine answers, local processes otherwise"),
            RuntimeChoice::Docker => PossibleValue::new("docker")
                .help("Docker containers; an error when no engine answers"),
            RuntimeChoice::Local => PossibleValue::new("local")
                .help("Processes on this machine, each server in a virtualenv"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_base_image_variables_are_labours_own() {
        use crate::runtime::docker::compose::{BASE_IMAGE_PY27_VARIABLE, BASE_IMAGE_VARIABLE};
        let cli = Cli::command();
        let bench = cli.find_subcommand("bench").unwrap();
        let env = |id: &str| {
            bench
                .get_arguments()
                .find(|arg| arg.get_id() == id)
                .and_then(|arg| arg.get_env())
                .map(|env| env.to_string_lossy().into_owned())
        };
        assert_eq!(env("base_image").as_deref(), Some(BASE_IMAGE_VARIABLE));
        assert_eq!(
            env("base_image_py27").as_deref(),
            Some(BASE_IMAGE_PY27_VARIABLE)
        );
    }
}
