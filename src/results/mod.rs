//! The results of a run: one JSON document with everything measured, from
//! which every report renders. Versioned by [`SCHEMA_VERSION`].

mod durability;
mod fault;
pub mod funnel;
mod journal;
mod load;
mod load_run;
mod merge;
mod provenance;
mod verdict;

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) use durability::OUTAGES_KEPT;
pub use durability::{
    Durability, EventAction, EventRecord, Outage, Phase, Recovery, ResourceSample, Resources,
};
pub(crate) use fault::LATE_FIRING;
pub use fault::{FaultRecord, GracefulRecord, SlowRecord};
pub use funnel::Funnel;
pub(crate) use journal::Journal;
pub use load::{
    BehaviourResult, FailureSample, LatencySplit, LatencySummary, Timeline, WorkerSeen,
};
pub(crate) use load_run::LoadResults;
pub use merge::ResultsError;
pub(crate) use merge::merge;
pub use provenance::BaseImageDigest;
pub(crate) use provenance::differences;
pub(crate) use verdict::{STALLS_KEPT, verdict};
pub use verdict::{StallRecord, Stalls, Verdict};

use crate::behaviour::{Interface, Outcome};
use crate::catalogue::Server;
use crate::plan::{ContainerOptions, TestSpec, Thresholds};
use crate::scenario::Plan;

/// Version of the results document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 4;

/// A cell is reported as `Failed` when more than this share of its
/// requests came back not as expected (the seed's 10%).
pub(crate) const DISQUALIFYING_FAILURE_RATIO: f64 = 0.10;

/// One run: environment, scenario, seed and a cell per server x test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Results {
    /// [`SCHEMA_VERSION`] of this document.
    pub schema_version: u32,
    /// Version of labour that measured it.
    pub labour_version: String,
    /// The run id; every container carried it as a label.
    pub run_id: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the run ended, if it has.
    pub finished_at: Option<String>,
    /// Whether every cell of the plan (or of its shard) ran.
    pub complete: bool,
    /// Cells the plan (or its shard) had.
    #[serde(default)]
    pub planned_cells: usize,
    /// Whether the run was cut short by a signal.
    pub interrupted: bool,
    /// Where it ran (the first run's, for a merged document).
    pub environment: Environment,
    /// Every run whose cells this document holds: itself, or the runs a
    /// merge joined, each with its own machine and engine.
    #[serde(default)]
    pub runs: Vec<RunRecord>,
    /// What differed between merged documents that `merge --force` joined
    /// anyway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merge_differences: Vec<String>,
    /// What was asked, as resolved.
    pub scenario: ScenarioRecord,
    /// Seed of the request policies; each cell's own seed derives from it.
    pub seed: u64,
    /// Cells that could run at once (`--jobs`).
    pub jobs: usize,
    /// Runs of each server x test (`--repeat`).
    #[serde(default = "one")]
    pub repeat: usize,
    /// Seconds from the first prepare to the end of the last cell.
    pub wall_secs: f64,
    /// Seconds of the wall time in which no cell was sending load:
    /// builds, starts, pre-flight, teardown and waiting, the run's overhead.
    pub orchestration_secs: f64,
    /// `orchestration_secs / wall_secs`.
    pub orchestration_share: f64,
    /// CPU seconds (user and system) labour's own process used over the
    /// run: scheduling, talking to the engine, recording, writing results
    /// (not its client's worker processes, which each cell records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labour_cpu_secs: Option<f64>,
    /// `labour_cpu_secs` over the wall time: the share of one CPU that
    /// labour's own process took from the servers it measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labour_cpu_share: Option<f64>,
    /// Each server's preparation (image build or virtualenv), in run order.
    #[serde(default)]
    pub prepares: Vec<PrepareRecord>,
    /// One per server x test (per run, with `--repeat`) that ran or tried
    /// to, in plan order.
    pub cells: Vec<Cell>,
    /// With `--repeat`, per server x test: the median of its runs' figures
    /// and their coefficient of variation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeated: Vec<Repeated>,
    /// When the engine went away mid-run: where it was and what it said.
    /// The run stopped there (exit 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_lost: Option<String>,
    /// Every threshold a cell failed, in words; non-empty means exit 1.
    pub threshold_failures: Vec<String>,
}

/// Which runtime ran the servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// Docker containers.
    #[default]
    Docker,
    /// Processes on labour's own machine.
    Local,
}

/// The engine and host the servers ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Engine {
    /// Which runtime.
    pub runtime: RuntimeKind,
    /// Why this runtime, in words (`--runtime`, or what `auto` found).
    #[serde(default)]
    pub selection: String,
    /// Engine version (the interpreter, for the local runtime).
    pub version: String,
    /// API version in use.
    pub api_version: String,
    /// Kernel of the engine's host.
    pub kernel: String,
    /// Operating system of the engine's host.
    pub os: String,
    /// CPUs the engine sees.
    pub cpus: u64,
    /// Memory the engine sees, in bytes.
    pub memory_bytes: u64,
    /// Where labour reached the engine (`unix:///var/run/docker.sock`,
    /// `tcp://host:2376 (TLS)`, `ssh://user@host`; `local`).
    #[serde(default)]
    pub endpoint: String,
    /// The name of the engine's host.
    #[serde(default)]
    pub host: String,
    /// The address the servers were published on and dialled at.
    #[serde(default)]
    pub server_address: String,
    /// The network the servers used: `bridge` or `host`.
    #[serde(default)]
    pub network: String,
    /// The base images server images were built on.
    #[serde(default)]
    pub base_images: Vec<String>,
    /// What the engine had under each of `base_images` when the run began
    /// (absent where it had none yet, and in documents from before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_image_digests: Vec<BaseImageDigest>,
    /// What labour settled because nothing said otherwise, one line each.
    #[serde(default)]
    pub choices: Vec<String>,
}

impl Engine {
    /// The runtime's name: `docker` or `local`.
    pub(crate) fn runtime_name(&self) -> &'static str {
        match self.runtime {
            RuntimeKind::Docker => "docker",
            RuntimeKind::Local => "local",
        }
    }
}

/// The machine labour and the servers ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// The engine that ran the servers.
    pub engine: Engine,
    /// CPUs labour's own host has.
    pub client_cpus: u64,
    /// The host's `net.core.somaxconn`, which capped every server's listen
    /// queue (`backlog` in `settings_used`); absent where it could not be
    /// read, or in documents from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub somaxconn: Option<u64>,
}

/// The scenario as resolved from flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioRecord {
    /// Servers, in run order.
    pub servers: Vec<Server>,
    /// Tests, in run order, each with its load.
    pub tests: Vec<TestSpec>,
    /// Container settings.
    pub container: ContainerOptions,
    /// Limits that fail the run.
    pub thresholds: Thresholds,
}

fn one() -> usize {
    1
}

/// The middle and the spread of one figure over repeated runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Spread {
    /// The median of the runs.
    pub median: f64,
    /// Their sample standard deviation; `None` for a single run.
    pub stddev: Option<f64>,
    /// The standard deviation over the mean (the coefficient of
    /// variation); `None` for a single run or a mean of zero.
    pub cv: Option<f64>,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub(crate) fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let stddev = (n > 1).then(|| {
            let variance = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            variance.sqrt()
        });
        let cv = stddev.filter(|_| mean != 0.0).map(|sd| sd / mean.abs());
        Some(Spread { median, stddev, cv })
    }
}

/// A server x test run several times (`--repeat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Repeated {
    /// Server name.
    pub server: String,
    /// Test name.
    pub test: String,
    /// Runs that sent load.
    pub runs: u32,
    /// Share of requests not as expected.
    pub failure_ratio: Spread,
    /// Share of innocent requests that failed.
    pub innocent_failure_ratio: Spread,
    /// Requests per second as the table shows them: leaving out the time
    /// every connection waited in a stalled connect, where the document
    /// counted it.
    pub requests_per_sec: Spread,
    /// Median time to recover after a death, of the runs that had one.
    pub recover_median_secs: Option<Spread>,
    /// Peak memory, of the runs that have a figure.
    pub memory_peak_bytes: Option<Spread>,
    /// The longest stall, of the runs that have stalls counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_stall_secs: Option<Spread>,
    /// Requests lost inside the application, of the runs with its account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_inside_application: Option<Spread>,
    /// Requests lost before the application saw them (refused included),
    /// of the runs with its account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_before_application: Option<Spread>,
}

/// The repeated runs of each server x test that sent load.
fn repeated(cells: &[Cell]) -> Vec<Repeated> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for cell in cells {
        let key = (cell.server.as_str(), cell.test.as_str());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .filter_map(|(server, test)| {
            let runs: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.server == server && c.test == test && !c.status.sent_no_load())
                .collect();
            let figure = |pick: &dyn Fn(&Cell) -> Option<f64>| {
                Spread::of(&runs.iter().filter_map(|c| pick(c)).collect::<Vec<f64>>())
            };
            Some(Repeated {
                server: server.to_string(),
                test: test.to_string(),
                runs: runs.len() as u32,
                failure_ratio: figure(&|c| Some(c.failure_ratio))?,
                innocent_failure_ratio: figure(&|c| Some(c.innocent_failure_ratio))?,
                requests_per_sec: figure(&|c| Some(c.shown_requests_per_sec()))?,
                recover_median_secs: figure(&|c| c.durability.time_to_recover_median_secs),
                memory_peak_bytes: figure(&|c| c.resources.peak().map(|b| b as f64)),
                longest_stall_secs: figure(&|c| c.stalls.as_ref().map(|s| s.longest_secs)),
                lost_inside_application: figure(&|c| {
                    c.funnel.as_ref().map(|f| f.lost.inside_application as f64)
                }),
                lost_before_application: figure(&|c| {
                    c.funnel
                        .as_ref()
                        .map(|f| (f.lost.refused + f.lost.before_application) as f64)
                }),
            })
        })
        .collect()
}

/// One run a document holds cells of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// Its run id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Its shard of the plan (`K/N`), if it ran one.
    pub shard: Option<String>,
    /// Where it ran.
    pub environment: Environment,
}

/// One server's preparation for its cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PrepareRecord {
    /// The server.
    pub server: String,
    /// Seconds since the run started when it began.
    pub started_secs: f64,
    /// How long it took.
    pub secs: f64,
    /// Whether its cells could run.
    pub ready: bool,
}

/// What ended a cell's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// Every request was sent and counted.
    Requests,
    /// It ran for its duration, as planned (a load with no request count,
    /// such as a test with faults).
    Duration,
    /// Its time budget (`load.duration`) ran out first; requests in flight
    /// then are not counted.
    Budget,
    /// Nothing came back as expected for the give-up time.
    Unresponsive,
    /// The server died and its restart policy did not bring it back.
    ServerDown,
    /// The run was interrupted by a signal.
    Interrupted,
    /// The engine went away: the load stopped, and what the server did is
    /// unknown.
    EngineLost,
    /// Its answer was known before its count or budget: the failure
    /// share's interval lay wholly on one side of 10% and the rate's was
    /// narrow (see `client::settle`, `--settle`).
    Settled,
}

/// How long each phase of a cell took, in seconds; `None` for a phase it
/// did not reach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phases {
    /// From the start of the run until the cell could begin (its server
    /// prepared, a job free, or the host quiet for a throughput cell).
    pub queued_secs: Option<f64>,
    /// Its server's preparation (image build or virtualenv), shared by the
    /// server's cells.
    pub prepare_secs: Option<f64>,
    /// From starting the server until it answered.
    pub start_secs: Option<f64>,
    /// Pre-flight requests.
    pub preflight_secs: Option<f64>,
    /// A throughput cell's wait for other cells' teardown to end.
    pub quiet_secs: Option<f64>,
    /// The load.
    pub load_secs: Option<f64>,
    /// Stopping the server (SIGTERM, grace, SIGKILL), off the critical path.
    pub stop_secs: Option<f64>,
    /// Removing it and settling its events.
    pub remove_secs: Option<f64>,
}

/// What else used the host while a cell sent its load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Overlap {
    /// Other cells (`server / test`) that were starting, loading or tearing
    /// down at some point of this cell's load.
    pub cells: Vec<String>,
    /// Servers whose preparation (image build) ran during this cell's load.
    pub builds: Vec<String>,
    /// The share of the host's CPU time that was busy (not idle, not
    /// waiting on I/O) over the cell's load, from /proc/stat: how loaded
    /// the host was while the cell measured; `None` where it cannot be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_cpu_busy: Option<f64>,
}

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// The load ran to its end: every request, or its time budget (see
    /// `ended_by`).
    Completed,
    /// Cut short by a signal; the counts are what was done.
    Interrupted,
    /// The server died and its restart policy did not bring it back: the
    /// load stopped then (see `durability.down_at_secs`).
    ServerDown,
    /// Nothing came back as expected for the give-up time: the load
    /// stopped (see `durability.unresponsive_since_secs`).
    Unresponsive,
    /// A behaviour of the test did not come back as expected when asked
    /// once before the load; nothing else was sent (see `preflight`).
    PreflightFailed,
    /// The server could not be built or started; nothing was sent.
    Error,
    /// The runtime cannot run this server (the local runtime and a server
    /// that needs system packages), or the test means nothing under the
    /// server's interface (a behaviour only the ASGI application has, on a
    /// WSGI server); nothing was sent, and it is not a failure (see `error`
    /// for why).
    Skipped,
    /// The engine went away during the load: the counts are what was done
    /// until then; the run stopped there.
    EngineLost,
    /// The load ran but sent no request (its client never got going, or
    /// the server never took a connection): no measurement, and an error
    /// of the run (see `error` for why).
    NoLoad,
    /// A fault landed later than half a second after its declared time
    /// (every firing's lateness is in `faults`): the cell measured another
    /// moment than its test declares, so it is not a measurement of it.
    FaultLate,
}

impl CellStatus {
    /// Whether the cell sent no load because its server could not be
    /// built or started: an error of the setup, not a finding.
    pub fn could_not_run(self) -> bool {
        matches!(
            self,
            CellStatus::Error | CellStatus::NoLoad | CellStatus::FaultLate
        )
    }

    /// Whether the cell sent no load, for whatever reason.
    pub(crate) fn sent_no_load(self) -> bool {
        matches!(
            self,
            CellStatus::Error
                | CellStatus::PreflightFailed
                | CellStatus::Skipped
                | CellStatus::NoLoad
        )
    }
}

/// The client's own side of a cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientRecord {
    /// Worker processes the connections were spread over (1: in labour's
    /// own process).
    pub processes: usize,
    /// Their CPU time and peak memory together, when they were processes.
    pub cpu_secs: Option<f64>,
    /// Their peak resident memory, summed.
    pub peak_rss_bytes: Option<u64>,
    /// Worker processes that died or did not report, and how: their
    /// requests are missing from the counts.
    pub worker_failures: Vec<String>,
    /// A digest of the requests every connection sent, in order (hex):
    /// equal in two cells exactly when they sent the same sequence.
    #[serde(default)]
    pub sequence_digest: Option<String>,
    /// The connections it opened, and those that stalled.
    #[serde(flatten)]
    pub connects: Connects,
    /// Seconds of the load in which at least one connection was sending
    /// and every connection sending waited in a stalled connect: no
    /// request could reach the server. What `requests_per_sec_excluding_stalls`
    /// leaves out.
    #[serde(default)]
    pub all_stalled_secs: f64,
}

/// The connections a load opened, timed: shared by a cell's client record
/// and `labour load`'s results, in both at the top level of the object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Connects {
    /// Connects that succeeded: connections opened (one per request
    /// without keep-alive).
    #[serde(rename = "connects")]
    pub count: u64,
    /// How long those connects took.
    #[serde(rename = "connect_time")]
    pub time: LatencySummary,
    /// Connects that took over 900 ms: each waited for the kernel to send
    /// its SYN again (after 1 s), as when a full listen queue dropped the
    /// first. Their requests count by their outcome (as expected when they
    /// were served); the stall is counted here, never hidden.
    #[serde(rename = "connect_stalls")]
    pub stalls: u64,
    /// Seconds spent in stalled connects, summed over connections.
    #[serde(rename = "connect_stalled_secs")]
    pub stalled_secs: f64,
}

/// One behaviour asked once before the load, and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PreflightRecord {
    /// `Name?params`.
    pub behaviour: String,
    /// What came back.
    pub outcome: Outcome,
    /// Whether it was as expected.
    pub expected: bool,
    /// The error, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Why a cell could not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CellError {
    /// The error, on one line.
    pub message: String,
    /// Build output or server log that explains it.
    pub log_tail: Vec<String>,
}

/// One server under one test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cell {
    /// Server name.
    pub server: String,
    /// Server version from the catalogue.
    pub server_version: String,
    /// The Python the server's application ran on, as it said
    /// (`X-Labour-Python`); `None` when it never answered.
    #[serde(default)]
    pub python: Option<String>,
    /// Test name.
    pub test: String,
    /// The run that measured it (see `runs`).
    #[serde(default)]
    pub run_id: String,
    /// Seed of this cell's request policies, derived from the run's seed
    /// and the test: the same in every server's cell of a test, whatever
    /// `--jobs` or `--shard`.
    pub seed: u64,
    /// Which run of this server and test it is, from 0 (`--repeat`).
    #[serde(default)]
    pub repeat: u32,
    /// How the cell ended.
    pub status: CellStatus,
    /// What ended its load, for a cell that sent one.
    pub ended_by: Option<EndedBy>,
    /// How long each phase took.
    pub phases: Phases,
    /// What else used the host during its load.
    pub overlap: Overlap,
    /// Why it could not run, for `error`; why it was skipped, for
    /// `skipped`.
    pub error: Option<CellError>,
    /// Image tag the server ran from.
    pub image_tag: Option<String>,
    /// Image id the server ran from.
    pub image_id: Option<String>,
    /// Seconds from container start until it answered.
    pub startup_secs: Option<f64>,
    /// Requests sent.
    pub requests: u64,
    /// Requests that came back as expected.
    pub expected: u64,
    /// Requests that did not.
    pub failed: u64,
    /// `failed / requests`.
    pub failure_ratio: f64,
    /// Innocent requests (PlainResponse) sent.
    pub innocent_requests: u64,
    /// Innocent requests that did not come back as expected: collateral.
    pub innocent_failed: u64,
    /// `innocent_failed / innocent_requests`.
    pub innocent_failure_ratio: f64,
    /// Seconds from the first request to the last answer.
    pub duration_secs: f64,
    /// `requests / duration_secs`.
    pub requests_per_sec: f64,
    /// `requests / (duration_secs - client.all_stalled_secs)`: the rate
    /// with the stretches in which every connection waited for a SYN
    /// retry left out, so that one stall (a second of the kernel's timer)
    /// cannot dominate a short load. Equal to `requests_per_sec` when no
    /// such stretch happened; the table shows it. Absent in documents from
    /// before labour counted connects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_sec_excluding_stalls: Option<f64>,
    /// Latency of innocent and misbehaving requests, apart.
    pub latency: LatencySplit,
    /// The client that sent the load.
    pub client: ClientRecord,
    /// Per behaviour of the mix.
    pub behaviours: Vec<BehaviourResult>,
    /// Worker pids that answered.
    pub workers_seen: Vec<WorkerSeen>,
    /// The faults of its test, each firing as it happened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultRecord>,
    /// As expected / not, over time.
    pub timeline: Timeline,
    /// The first few failures of each kind.
    pub failure_samples: Vec<FailureSample>,
    /// Exit code of the container's main process after stop.
    pub exit_code: Option<i64>,
    /// Whether the container's last run ended in an OOM kill.
    pub oom_killed: bool,
    /// Each behaviour asked once before the load, and what came back.
    pub preflight: Vec<PreflightRecord>,
    /// Deaths, OOM kills, restarts, recovery and downtime.
    pub durability: Durability,
    /// The time innocent requests waited with none coming back; `None`
    /// for a cell that sent no load, or from a document before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalls: Option<Stalls>,
    /// What the cell says the server did (see [`Verdict`]), computed once
    /// from its figures; every report shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Where its requests went, the client's account matched with the
    /// application's: sent, connected, reached, finished, came back, and
    /// where each lost request died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel: Option<Funnel>,
    /// Why it has no funnel (the application's log could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel_missing: Option<String>,
    /// Everything the engine reported about the container.
    pub events: Vec<EventRecord>,
    /// Memory and CPU use of the container.
    pub resources: Resources,
    /// Limits asked for that the runtime did not enforce, in words (the
    /// local runtime has no cgroup, for example).
    #[serde(default)]
    pub not_enforced: Vec<String>,
    /// Last lines of the server's log when it stopped.
    pub log_tail: Vec<String>,
}

impl Cell {
    /// A cell of `server` x `test` with nothing measured yet.
    pub fn new(server: &Server, test: &TestSpec, status: CellStatus) -> Self {
        Cell::named(&server.name, &server.version, &test.name, status)
    }

    /// A cell of the server and test of these names, with nothing measured
    /// yet.
    pub(crate) fn named(server: &str, version: &str, test: &str, status: CellStatus) -> Self {
        Cell {
            server: server.to_string(),
            server_version: version.to_string(),
            python: None,
            test: test.to_string(),
            run_id: String::new(),
            seed: 0,
            repeat: 0,
            faults: Vec::new(),
            status,
            ended_by: None,
            phases: Phases::default(),
            overlap: Overlap::default(),
            error: None,
            image_tag: None,
            image_id: None,
            startup_secs: None,
            requests: 0,
            expected: 0,
            failed: 0,
            failure_ratio: 0.0,
            innocent_requests: 0,
            innocent_failed: 0,
            innocent_failure_ratio: 0.0,
            duration_secs: 0.0,
            requests_per_sec: 0.0,
            requests_per_sec_excluding_stalls: None,
            latency: LatencySplit::default(),
            client: ClientRecord::default(),
            behaviours: Vec::new(),
            workers_seen: Vec::new(),
            timeline: Timeline::default(),
            failure_samples: Vec::new(),
            exit_code: None,
            oom_killed: false,
            preflight: Vec::new(),
            durability: Durability::default(),
            stalls: None,
            verdict: None,
            funnel: None,
            funnel_missing: None,
            events: Vec::new(),
            resources: Resources::default(),
            not_enforced: Vec::new(),
            log_tail: Vec::new(),
        }
    }

    /// The thresholds this cell fails, in words.
    pub(crate) fn threshold_failures(&self, thresholds: &Thresholds) -> Vec<String> {
        if !thresholds.any() {
            return Vec::new();
        }
        let name = format!("{} / {}", self.server, self.test);
        // A graceful stop is judged by the stop: its refusals after SIGTERM
        // and the server left down are what a stop is, not failures.
        let stop = self.faults.iter().find_map(|f| f.graceful.as_ref());
        match (self.verdict, stop) {
            (Some(Verdict::Graceful), _) => return Vec::new(),
            (Some(Verdict::Abrupt), Some(stop)) => {
                return vec![format!(
                    "{name}: a graceful stop dropped {} of the {} request(s) the application had \
                     in hand at SIGTERM",
                    stop.in_hand.unwrap_or(0) - stop.in_hand_came_back.unwrap_or(0),
                    stop.in_hand.unwrap_or(0)
                )];
            }
            _ => {}
        }
        let mut failures = Vec::new();
        match self.status {
            CellStatus::ServerDown => failures.push(format!(
                "{name}: the server went down{}",
                self.durability
                    .down_at_secs
                    .map(|at| format!(" at {at:.2} s"))
                    .unwrap_or_default()
            )),
            CellStatus::Unresponsive => failures.push(format!(
                "{name}: the server stopped answering as expected{}",
                self.durability
                    .unresponsive_since_secs
                    .map(|at| format!(" at {at:.2} s"))
                    .unwrap_or_default()
            )),
            CellStatus::PreflightFailed => failures.push(format!(
                "{name}: {}",
                self.error
                    .as_ref()
                    .map_or("pre-flight failed", |e| e.message.as_str())
            )),
            _ => {}
        }
        if let Some(limit) = thresholds.max_failure_ratio
            && self.failure_ratio > limit
        {
            failures.push(format!(
                "{name}: {:.2}% of requests not as expected, above {:.2}%",
                self.failure_ratio * 100.0,
                limit * 100.0
            ));
        }
        if let Some(limit) = thresholds.max_innocent_failure_ratio
            && self.innocent_failure_ratio > limit
        {
            failures.push(format!(
                "{name}: {:.2}% of innocent requests failed, above {:.2}%",
                self.innocent_failure_ratio * 100.0,
                limit * 100.0
            ));
        }
        failures
    }

    /// The requests per second the table shows: excluding connect stalls
    /// where the document counted them, `requests_per_sec` otherwise.
    pub(crate) fn shown_requests_per_sec(&self) -> f64 {
        self.requests_per_sec_excluding_stalls
            .unwrap_or(self.requests_per_sec)
    }

    /// Whether the shown requests per second leave out time in which
    /// every connection waited for a SYN retry (and so differ from
    /// `requests_per_sec`).
    pub(crate) fn rate_excludes_stalls(&self) -> bool {
        self.requests_per_sec_excluding_stalls.is_some() && self.client.all_stalled_secs > 0.0
    }

    /// Whether the seed's table shows this cell as `Failed`.
    pub fn is_disqualified(&self) -> bool {
        self.failure_ratio > DISQUALIFYING_FAILURE_RATIO
    }
}

/// The JSON Schema of the results document (checked in as
/// `schema/results.schema.json`).
pub(crate) fn json_schema() -> String {
    let schema = schemars::schema_for!(Results);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

/// Now, as RFC 3339 in UTC, to the second.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

impl Results {
    /// An empty document for `plan`, run `run_id` on `engine`.
    pub fn new(run_id: &str, plan: &Plan, engine: Engine) -> Self {
        let started_at = now_rfc3339();
        let environment = Environment {
            engine,
            client_cpus: std::thread::available_parallelism()
                .map(|n| n.get() as u64)
                .unwrap_or(1),
            somaxconn: crate::plan::somaxconn(),
        };
        Results {
            runs: vec![RunRecord {
                run_id: run_id.to_string(),
                started_at: started_at.clone(),
                finished_at: None,
                shard: plan.shard.map(|shard| shard.to_string()),
                environment: environment.clone(),
            }],
            merge_differences: Vec::new(),
            schema_version: SCHEMA_VERSION,
            labour_version: env!("CARGO_PKG_VERSION").to_string(),
            run_id: run_id.to_string(),
            started_at,
            finished_at: None,
            complete: false,
            planned_cells: plan.cells().len(),
            interrupted: false,
            environment,
            scenario: ScenarioRecord {
                servers: plan.servers.clone(),
                tests: plan.tests.clone(),
                container: plan.container.clone(),
                thresholds: plan.thresholds.clone(),
            },
            seed: plan.seed,
            jobs: plan.jobs,
            repeat: plan.repeat,
            wall_secs: 0.0,
            orchestration_secs: 0.0,
            orchestration_share: 0.0,
            labour_cpu_secs: None,
            labour_cpu_share: None,
            prepares: Vec::new(),
            cells: Vec::new(),
            repeated: Vec::new(),
            engine_lost: None,
            threshold_failures: Vec::new(),
        }
    }

    /// Mark the run as ended.
    pub fn finish(&mut self, interrupted: bool) {
        self.finished_at = Some(now_rfc3339());
        self.interrupted = interrupted;
        if let Some(run) = self.runs.iter_mut().find(|r| r.run_id == self.run_id) {
            run.finished_at = self.finished_at.clone();
        }
        self.settle();
    }

    /// Work out what follows from the cells: whether the plan is complete,
    /// the repeated runs' spreads, the thresholds failed.
    pub(crate) fn settle(&mut self) {
        // A document from before verdicts: each cell's, from its figures.
        for cell in &mut self.cells {
            if cell.verdict.is_none() {
                cell.verdict = Some(verdict(cell));
            }
        }
        let interrupted = self.interrupted;
        self.complete = !interrupted
            && self.cells.len() == self.planned_cells
            && self
                .cells
                .iter()
                .all(|c| c.status != CellStatus::Interrupted);
        self.repeated = if self.repeat > 1 {
            repeated(&self.cells)
        } else {
            Vec::new()
        };
        self.threshold_failures = if interrupted {
            Vec::new()
        } else {
            self.cells
                .iter()
                .flat_map(|cell| cell.threshold_failures(&self.scenario.thresholds))
                .collect()
        };
    }

    /// The tests of the scenario, in run order.
    pub(crate) fn test_names(&self) -> Vec<&str> {
        self.scenario
            .tests
            .iter()
            .map(|t| t.name.as_str())
            .collect()
    }

    /// The servers of the scenario that have at least one cell, in run
    /// order.
    pub(crate) fn servers_that_ran(&self) -> Vec<&str> {
        self.scenario
            .servers
            .iter()
            .map(|s| s.name.as_str())
            .filter(|server| self.cells.iter().any(|c| c.server == *server))
            .collect()
    }

    /// The interface `server` speaks to the application, as the scenario
    /// recorded it (WSGI for a server it does not name, and in documents
    /// from before ASGI).
    pub(crate) fn interface_of(&self, server: &str) -> Interface {
        self.scenario
            .servers
            .iter()
            .find(|s| s.name == server)
            .map(|s| s.interface)
            .unwrap_or_default()
    }

    /// Whether any server of the run speaks ASGI: the reports then show
    /// each server's interface beside it.
    pub(crate) fn has_asgi(&self) -> bool {
        self.scenario
            .servers
            .iter()
            .any(|s| s.interface == Interface::Asgi)
    }

    /// The repeated runs of `server` x `test`, with `--repeat`.
    pub fn repeated(&self, server: &str, test: &str) -> Option<&Repeated> {
        self.repeated
            .iter()
            .find(|r| r.server == server && r.test == test)
    }

    /// The cell for `server` x `test` (its first run), if it ran.
    pub fn cell(&self, server: &str, test: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|cell| cell.server == server && cell.test == test)
    }

    /// Write the document to `path` atomically: a reader sees the old
    /// version or the new one, never half of one.
    pub(crate) fn write_atomic(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        // A results file is for reading by anyone who may read the folder,
        // not private like the temporary file it is written as.
        {
            use std::os::unix::fs::PermissionsExt;
            file.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        serde_json::to_writer_pretty(&mut file, self)?;
        file.write_all(b"\n")?;
        file.as_file().sync_all()?;
        file.persist(path).map_err(|error| error.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_checked_in_schema_is_current() {
        let checked_in = include_str!("../../schema/results.schema.json");
        assert!(
            checked_in == super::json_schema(),
            "schema/results.schema.json is stale: run `cargo run -- schema > schema/results.schema.json`"
        );
    }
}
