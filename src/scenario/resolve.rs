//! Flags and a scenario file become one validated [`Plan`]: flags win,
//! then the test's own settings, then the file, then the defaults.

use std::path::Path;
use std::time::Duration;

use thiserror::Error;

use super::file::{FaultFile, ScenarioFile, ScenarioFileError, TestEntry, locate};
use super::{Plan, ScenarioError, Selection, check_unique, named_tests};
use crate::behaviour::Behaviour;
use crate::catalogue::{Catalogue, Server};
use crate::plan::fault::{
    DEFAULT_SLOW_BODY, DEFAULT_SLOW_CONNECTIONS, DEFAULT_SLOW_INTERVAL, DEFAULT_SLOW_RATE,
    MAX_FAULTS, MIN_EVERY,
};
use crate::plan::options::{
    KnobOptions, Layer, LimitOptions, LoadDefaults, LoadOptions, RunOptions, ThresholdOptions,
};
use crate::plan::{
    ContainerOptions, FaultAction, FaultSpec, MixEntry, Signal, TestSpec, Thresholds,
};
use crate::policy::PolicyKind;

/// What the command line said; `None` where it said nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flags {
    /// `--servers`.
    pub servers: Option<Selection>,
    /// `--tests`.
    pub tests: Option<Selection>,
    /// `--workers`, `--threads`...
    pub knobs: KnobOptions,
    /// `--requests`, `--duration`, `--cell-time`, `--rate`...
    pub load: LoadOptions,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--jobs`.
    pub jobs: Option<u64>,
    /// `--repeat`.
    pub repeat: Option<u64>,
    /// `--shard`.
    pub shard: Option<super::Shard>,
    /// `--network`, `--base-image`, `--ready-timeout`...
    pub run: RunOptions,
    /// `--memory`, `--cpus`, `--restart`...
    pub limits: LimitOptions,
    /// `--max-failure`, `--max-innocent-failure`.
    pub thresholds: ThresholdOptions,
    /// `--target-image`, `--target-port`...
    pub target: super::TargetSettings,
}

/// Flags and file cannot make a plan.
#[derive(Debug, Error, PartialEq)]
pub enum PlanError {
    /// A flag names something unknown.
    #[error(transparent)]
    Flags(#[from] ScenarioError),
    /// The file is wrong, at a place in it.
    #[error(transparent)]
    File(#[from] ScenarioFileError),
    /// A combination that cannot run.
    #[error("{0}")]
    Invalid(String),
}

/// A scenario file with its text, for errors that point into it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    /// The file as given.
    pub path: &'a Path,
    /// What it says.
    pub file: &'a ScenarioFile,
    /// Its text.
    pub text: &'a str,
}

impl Source<'_> {
    fn error(&self, needle: &str, message: String) -> PlanError {
        let (line, column) = locate(self.text, needle);
        PlanError::File(ScenarioFileError {
            file: self.path.display().to_string(),
            line,
            column,
            message,
        })
    }
}

/// The container options: flags, then the file, then the defaults.
pub(crate) fn container_options(flags: &Flags, file: Option<&ScenarioFile>) -> ContainerOptions {
    let file = file.map(|f| f.container.run.clone()).unwrap_or_default();
    flags.run.clone().or(file).resolve()
}

/// The servers to run, configured and limited.
pub(super) fn servers(
    flags: &Flags,
    source: Option<Source<'_>>,
    catalogue: &Catalogue,
) -> Result<Vec<Server>, PlanError> {
    let entries = source.and_then(|s| s.file.servers.as_ref());
    if let (Some(source), Some(entries)) = (source, entries) {
        let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        if let Err(error) = check_unique("server", &names) {
            let ScenarioError::Duplicate { name, .. } = &error else {
                unreachable!()
            };
            return Err(source.error(name, error.to_string()));
        }
        for entry in entries {
            if let Err(error) = super::resolve_server(catalogue, &entry.name) {
                return Err(source.error(&entry.name, error.to_string()));
            }
        }
    }
    let selected = match (&flags.servers, entries) {
        (Some(selection), _) => super::select_servers(selection, catalogue)?,
        (None, Some(entries)) => {
            let names = entries.iter().map(|e| e.name.clone()).collect();
            super::select_servers(&Selection::Named(names), catalogue)?
        }
        (None, None) => catalogue.servers().to_vec(),
    };
    let file_limits = source
        .map(|s| s.file.container.limits.clone())
        .unwrap_or_default();
    // The host's cap on listen queues, read once for every server.
    let somaxconn = crate::plan::somaxconn();
    selected
        .into_iter()
        .map(|server| {
            // The entry that names the server, else the first of its groups'.
            let entry = entries.and_then(|e| {
                e.iter()
                    .find(|e| e.name == server.name)
                    .or_else(|| e.iter().find(|e| server.groups.contains(&e.name)))
            });
            let knobs = flags
                .knobs
                .clone()
                .or(entry.map(|e| e.options.clone()).unwrap_or_default());
            let chosen = flags
                .limits
                .clone()
                .or(entry.map(|e| e.container.clone()).unwrap_or_default())
                .or(file_limits.clone());
            let mut configured = server.configure(&knobs, somaxconn);
            configured.limits = chosen.resolve().map_err(|problem| match (source, entry) {
                (Some(source), Some(entry)) => {
                    source.error(&entry.name, format!("server {:?}: {problem}", server.name))
                }
                _ => PlanError::Invalid(format!("{}: {problem}", server.name)),
            })?;
            Ok(configured)
        })
        .collect()
}

fn custom_test(
    source: Source<'_>,
    entry: &TestEntry,
    mix: &[super::file::MixFile],
) -> Result<TestSpec, PlanError> {
    if mix.is_empty() {
        return Err(source.error(
            &entry.name,
            format!("test {:?}: its mix is empty", entry.name),
        ));
    }
    if mix.len() > MAX_MIX_ENTRIES {
        return Err(source.error(
            &entry.name,
            format!(
                "test {:?}: its mix has {} behaviours; at most {MAX_MIX_ENTRIES}",
                entry.name,
                mix.len()
            ),
        ));
    }
    let mut entries = Vec::new();
    for item in mix {
        let behaviour: Behaviour = item.behaviour.parse().map_err(|problem| {
            source.error(&item.behaviour, format!("test {:?}: {problem}", entry.name))
        })?;
        entries.push(MixEntry::new(behaviour, item.weight));
    }
    if entries.iter().all(|e| e.weight == 0) {
        return Err(source.error(
            &entry.name,
            format!(
                "test {:?}: every weight is 0; at least one must be above 0",
                entry.name
            ),
        ));
    }
    Ok(TestSpec {
        name: entry.name.clone(),
        description: entry
            .description
            .clone()
            .unwrap_or_else(|| "from the scenario file".into()),
        policy: entry.policy.unwrap_or(PolicyKind::Random),
        mix: entries,
        load: None,
        throughput: false,
        faults: Vec::new(),
        runs_for: None,
    })
}

/// The servers the flags alone name (no scenario file).
pub(crate) fn resolve_servers(
    flags: &Flags,
    catalogue: &Catalogue,
) -> Result<Vec<Server>, PlanError> {
    servers(flags, None, catalogue)
}

/// The tests to run, each with its load.
pub(super) fn tests(flags: &Flags, source: Option<Source<'_>>) -> Result<Vec<TestSpec>, PlanError> {
    let named = named_tests();
    let file_load = source.map(|s| s.file.load.clone()).unwrap_or_default();
    let global = flags
        .load
        .clone()
        .over(file_load.clone())
        .resolve(LoadDefaults::BENCH)
        .map_err(|problem| match source {
            Some(source) if !flags_decide_time(&flags.load) => {
                source.error("load", format!("load: {problem}"))
            }
            _ => PlanError::Invalid(problem),
        })?;

    // Every test the run can name: the named ones, and the file's mixes.
    let mut available = named.clone();
    let mut from_file = Vec::new();
    if let Some(source) = source
        && let Some(entries) = &source.file.tests
    {
        let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        if let Err(error) = check_unique("test", &names) {
            let ScenarioError::Duplicate { name, .. } = &error else {
                unreachable!()
            };
            return Err(source.error(name, error.to_string()));
        }
        for entry in entries {
            let mut test = match &entry.mix {
                Some(mix) => {
                    if named.iter().any(|t| t.name == entry.name) {
                        return Err(source.error(
                            &entry.name,
                            format!(
                                "test {:?} is a named test; give your mix another name",
                                entry.name
                            ),
                        ));
                    }
                    let test = custom_test(source, entry, mix)?;
                    available.push(test.clone());
                    test
                }
                None => named
                    .iter()
                    .find(|t| t.name == entry.name)
                    .cloned()
                    .ok_or_else(|| {
                        let known: Vec<String> = named.iter().map(|t| t.name.clone()).collect();
                        source.error(
                            &entry.name,
                            format!(
                                "test {:?} has no mix and is not a named test (known tests: {})",
                                entry.name,
                                known.join(", ")
                            ),
                        )
                    })?,
            };
            if entry.mix.is_none() && entry.policy.is_some() {
                return Err(source.error(
                    &entry.name,
                    format!("test {:?}: policy is set only with a mix", entry.name),
                ));
            }
            let own = flags
                .load
                .clone()
                .over(entry.load.clone())
                .over(file_load.clone())
                .resolve(LoadDefaults::BENCH)
                .map_err(|problem| {
                    source.error(&entry.name, format!("test {:?}: {problem}", entry.name))
                })?;
            if let Some(throughput) = entry.throughput {
                test.throughput = throughput;
            }
            if entry.load.duration.is_some() {
                test.runs_for = entry.load.duration;
            }
            if let Some(faults) = &entry.faults {
                test.faults = faults
                    .iter()
                    .map(|fault| {
                        fault_spec(fault).map_err(|problem| {
                            source.error(
                                &fault.action,
                                format!("test {:?}: fault {}: {problem}", entry.name, fault.action),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                if test.faults.len() > MAX_FAULTS {
                    return Err(source.error(
                        &entry.name,
                        format!("test {:?}: at most {MAX_FAULTS} faults", entry.name),
                    ));
                }
            }
            if own != global {
                test.load = Some(own);
            }
            from_file.push(test);
        }
    }
    let mut selected = match (&flags.tests, from_file.is_empty()) {
        (Some(Selection::All), _) => available,
        (Some(Selection::Named(names)), _) => {
            check_unique("test", names)?;
            let mut chosen = Vec::new();
            for name in names {
                let test = from_file
                    .iter()
                    .chain(&available)
                    .find(|t| &t.name == name)
                    .cloned()
                    .ok_or_else(|| ScenarioError::UnknownTest {
                        name: name.clone(),
                        known: available.iter().map(|t| t.name.clone()).collect(),
                    })?;
                chosen.push(test);
            }
            chosen
        }
        (None, false) => from_file,
        (None, true) => named,
    };
    for test in &mut selected {
        let fault_duration = test.fault_duration();
        let load = test.load.get_or_insert_with(|| global.clone());
        if !test.faults.is_empty() {
            // Faults are timed: the load runs for its duration (the run's
            // when one was asked for, else the test's own), whatever its
            // request count.
            load.requests = None;
            load.duration = Some(flags.load.duration.unwrap_or(fault_duration));
        }
    }
    Ok(selected)
}

/// A fault as written in a scenario, checked: the action is known, it has
/// what it needs and nothing it does not take.
pub(super) fn fault_spec(fault: &FaultFile) -> Result<FaultSpec, String> {
    let at = fault
        .at
        .ok_or("it needs `at`, when it first fires after the load began (2s)")?;
    let given: Vec<&str> = [
        ("signal", fault.signal.is_some()),
        ("duration", fault.duration.is_some()),
        ("connections", fault.connections.is_some()),
        ("interval", fault.interval.is_some()),
        ("bytes", fault.bytes.is_some()),
        ("rate", fault.rate.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name)
    .collect();
    let takes = |allowed: &[&str]| -> Result<(), String> {
        match given.iter().find(|key| !allowed.contains(key)) {
            Some(key) => Err(format!(
                "it does not take `{key}` (it takes {})",
                if allowed.is_empty() {
                    "only at and every".to_string()
                } else {
                    allowed.join(", ")
                }
            )),
            None => Ok(()),
        }
    };
    let need = |value: Option<Duration>, key: &str| {
        value
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("it needs `{key}`, above 0 (2s)"))
    };
    let action = match fault.action.as_str() {
        "kill-worker" => {
            takes(&["signal"])?;
            FaultAction::KillWorker {
                signal: fault.signal.unwrap_or(Signal::Kill),
            }
        }
        "stop-worker" => {
            takes(&["duration"])?;
            FaultAction::StopWorker {
                duration: need(fault.duration, "duration")?,
            }
        }
        "pause" => {
            takes(&["duration"])?;
            FaultAction::Pause {
                duration: need(fault.duration, "duration")?,
            }
        }
        "restart" => {
            takes(&[])?;
            FaultAction::Restart
        }
        "slow-clients" => {
            takes(&["connections", "interval"])?;
            FaultAction::SlowClients {
                connections: fault.connections.unwrap_or(DEFAULT_SLOW_CONNECTIONS),
                interval: fault.interval.unwrap_or(DEFAULT_SLOW_INTERVAL),
            }
        }
        "slow-readers" => {
            takes(&["connections", "bytes", "rate"])?;
            FaultAction::SlowReaders {
                connections: fault.connections.unwrap_or(DEFAULT_SLOW_CONNECTIONS),
                bytes: fault.bytes.unwrap_or(DEFAULT_SLOW_BODY),
                rate: fault.rate.unwrap_or(DEFAULT_SLOW_RATE),
            }
        }
        "graceful-stop" => {
            takes(&[])?;
            FaultAction::GracefulStop
        }
        other => {
            return Err(format!(
                "{other:?} is not a fault: kill-worker, stop-worker, pause, restart, \
                 slow-clients, slow-readers or graceful-stop"
            ));
        }
    };
    if fault.every.is_some_and(|every| every < MIN_EVERY) {
        return Err(format!(
            "`every` is at least {} ms: a fault needs time to act",
            MIN_EVERY.as_millis()
        ));
    }
    Ok(FaultSpec {
        at,
        every: fault.every,
        action,
    })
}

/// The most behaviours one mix may have: with each weight at most
/// [`super::file::MAX_WEIGHT`], no mix sums past what a `u32` counts.
const MAX_MIX_ENTRIES: usize = 1000;

/// Whether the flags alone settle the load's time limits.
fn flags_decide_time(load: &LoadOptions) -> bool {
    load.requests.is_some() || load.duration.is_some() || load.cell_time.is_some()
}

/// Cells at once unless told, on a host with `cpus` CPUs. Most cells wait
/// on sleeping, wedged or respawning workers rather than use the CPU, so a
/// host runs several per CPU; throughput cells run alone whatever this is.
pub(crate) fn default_jobs(cpus: usize) -> usize {
    (cpus * 4).clamp(2, 32)
}

/// The thresholds: flags, then the file.
pub(super) fn thresholds(flags: &Flags, file: Option<&ScenarioFile>) -> Thresholds {
    let file = file.map(|f| f.thresholds.clone()).unwrap_or_default();
    flags.thresholds.clone().or(file).resolve()
}

/// The one road to a plan: `flags` over the scenario file at `path`, when
/// there is one, over the defaults. The file comes back too, for what a
/// command reads of it beyond the plan.
pub(crate) fn plan_file(
    flags: &Flags,
    path: Option<&Path>,
    catalogue: &Catalogue,
) -> Result<(Plan, Option<ScenarioFile>), PlanError> {
    let file = match path {
        Some(path) => Some((path, ScenarioFile::read(path)?)),
        None => None,
    };
    let source = file
        .as_ref()
        .map(|(path, (file, text))| Source { path, file, text });
    let plan = plan(flags, source, catalogue)?;
    Ok((plan, file.map(|(_, (file, _))| file)))
}

impl Plan {
    /// The plan the scenario file at `path` describes, over labour's
    /// defaults, with the servers labour knows: what `labour bench
    /// --scenario FILE --dry-run` shows. An error points into the file
    /// (line and column).
    pub fn read(path: &Path) -> Result<Plan, PlanError> {
        Ok(plan_file(&Flags::default(), Some(path), &Catalogue::embedded())?.0)
    }

    /// The plan a scenario written in YAML describes, as [`Plan::read`]
    /// reads it from a file (see `scenarios/` for examples): for instance
    /// `"servers: [waitress]\ntests: [Plain]\nload: {requests: 100}"`.
    pub fn from_yaml(yaml: &str) -> Result<Plan, PlanError> {
        let path = Path::new("<yaml>");
        let file = ScenarioFile::parse(path, yaml)?;
        let source = Source {
            path,
            file: &file,
            text: yaml,
        };
        plan(&Flags::default(), Some(source), &Catalogue::embedded())
    }
}

/// A scenario's target with its relative paths (build context, body
/// files) made relative to the scenario's own folder.
fn relative_to(mut target: super::TargetSettings, file: &Path) -> super::TargetSettings {
    let folder = file.parent().unwrap_or(Path::new(""));
    if let Some(build) = &mut target.build {
        build.context = folder.join(&build.context);
    }
    for request in target.requests.iter_mut().flatten() {
        if let Some(body) = &mut request.body_file {
            *body = folder.join(&*body);
        }
    }
    target
}

/// A target's servers (itself), tests, and the most cells at once.
type TargetPlan = (Vec<Server>, Vec<TestSpec>, Option<u64>);

/// The servers and tests of a run of the user's own deployment: the
/// target alone, with its limits, and every test with the target's
/// innocent requests in the place of `PlainResponse`; and the most cells
/// at once (one when its port is fixed).
fn target_plan(
    flags: &Flags,
    source: Option<Source<'_>>,
    settings: &super::TargetSettings,
) -> Result<TargetPlan, PlanError> {
    let in_file = source.is_some_and(|s| s.file.target.is_some());
    let invalid = |message: String| match source {
        Some(source) if in_file => source.error("target", message),
        _ => PlanError::Invalid(message),
    };
    if flags.servers.is_some() || source.is_some_and(|s| s.file.servers.is_some()) {
        return Err(invalid(
            "target: a target runs alone: drop --servers (and servers: in the scenario)".into(),
        ));
    }
    if flags.knobs != KnobOptions::default() {
        return Err(invalid(
            "target: --workers, --threads, --worker-timeout, --max-requests and --backlog do not \
             apply to a target: its own configuration decides"
                .into(),
        ));
    }
    let (mut server, requests) =
        super::target::resolve(settings, Path::new("")).map_err(invalid)?;
    let file_limits = source
        .map(|s| s.file.container.limits.clone())
        .unwrap_or_default();
    server.limits = flags
        .limits
        .clone()
        .or(file_limits)
        .resolve()
        .map_err(|problem| invalid(format!("{}: {problem}", server.name)))?;
    let tests = tests(flags, source)?
        .iter()
        .map(|test| test.with_requests(&requests))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let fixed_port = server.target.as_ref().is_some_and(|t| !t.takes_port());
    Ok((vec![server], tests, fixed_port.then_some(1)))
}

/// The whole plan.
pub(crate) fn plan(
    flags: &Flags,
    source: Option<Source<'_>>,
    catalogue: &Catalogue,
) -> Result<Plan, PlanError> {
    if let (Some(memory), Some(swap)) = (flags.limits.memory, flags.limits.memory_swap)
        && swap < memory
    {
        return Err(PlanError::Invalid(
            "--memory-swap must be at least --memory (it counts memory plus swap)".into(),
        ));
    }
    let file = source.map(|s| s.file);
    let target = flags.target.clone().or(source
        .and_then(|s| s.file.target.clone().map(|t| relative_to(t, s.path)))
        .unwrap_or_default());
    let (servers, tests, target_jobs) = if target.is_set() {
        target_plan(flags, source, &target)?
    } else {
        (
            servers(flags, source, catalogue)?,
            tests(flags, source)?,
            None,
        )
    };
    if flags.shard.is_some() && flags.seed.or(file.and_then(|f| f.seed)).is_none() {
        return Err(PlanError::Invalid(
            "--shard needs --seed (or a seed in the scenario): every shard must send the \
             requests an unsharded run would"
                .into(),
        ));
    }
    let mut jobs = flags.jobs.or(file.and_then(|f| f.jobs));
    if jobs == Some(0) {
        return Err(PlanError::Invalid("jobs must be at least 1".into()));
    }
    if let Some(most) = target_jobs {
        if jobs.is_some_and(|jobs| jobs > most) {
            return Err(PlanError::Invalid(format!(
                "jobs: the target listens on one fixed port, so its cells run one at a time; \
                 give {{port}} in its command or environment for --jobs {}",
                jobs.unwrap_or(most)
            )));
        }
        jobs = Some(jobs.unwrap_or(most));
    }
    Ok(Plan {
        servers,
        tests,
        seed: flags
            .seed
            .or(file.and_then(|f| f.seed))
            .unwrap_or_else(rand::random),
        jobs: jobs.map_or_else(|| default_jobs(crate::plan::cpus()), |n| n as usize),
        repeat: flags.repeat.map_or(1, |n| n as usize),
        shard: flags.shard,
        container: container_options(flags, file),
        thresholds: thresholds(flags, file),
    })
}
