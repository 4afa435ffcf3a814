//! Flags and a scenario file become one validated [`Plan`]: flags win,
//! then the file, then the defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use super::file::{LimitsFile, LoadFile, ScenarioFile, ScenarioFileError, TestEntry, locate};
use super::{
    MixEntry, Plan, ScenarioError, Selection, TestSpec, Thresholds, check_unique, named_tests,
};
use crate::behaviour::Behaviour;
use crate::catalogue::{Catalogue, Server, ServerSettings};
use crate::client::LoadSpec;
use crate::policy::PolicyKind;
use crate::runtime::{ContainerOptions, Limits, NetworkMode};

/// Requests per cell unless told.
pub const DEFAULT_REQUESTS: u64 = 1000;
/// Connections unless told.
pub const DEFAULT_CONCURRENCY: u64 = 8;
/// Request timeout unless told (the seed's).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Give-up time unless told.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(60);
// LoadSpec::default() says the same; keep them one.
const _: () = assert!(DEFAULT_REQUESTS == 1000 && DEFAULT_CONCURRENCY == 8);
/// Base image unless told.
pub const DEFAULT_BASE_IMAGE: &str = "python:3.12-slim";
/// Base image of the Python 2.7 servers unless told.
pub const DEFAULT_BASE_IMAGE_PY27: &str = "python:2.7-slim";
/// Readiness deadline unless told.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Stop grace unless told.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the command line said; `None` where it said nothing.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--servers`.
    pub servers: Option<Selection>,
    /// `--tests`.
    pub tests: Option<Selection>,
    /// `--workers`, `--threads`...
    pub settings: ServerSettings,
    /// `--requests`, `--duration`, `--rate`, `--concurrency`,
    /// `--processes`, `--timeout`, `--give-up-after`, `--keep-alive`.
    pub load: LoadFile,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--network`.
    pub network: Option<NetworkMode>,
    /// `--base-image`.
    pub base_image: Option<String>,
    /// `--base-image-py27`.
    pub base_image_py27: Option<String>,
    /// `--build-network`.
    pub build_network: Option<String>,
    /// `--ready-timeout`.
    pub ready_timeout: Option<Duration>,
    /// `--stop-timeout`.
    pub stop_timeout: Option<Duration>,
    /// `--build-logs`, or the default directory.
    pub build_log_dir: Option<PathBuf>,
    /// `--memory`, `--cpus`, `--restart`...
    pub limits: LimitsFile,
    /// `--max-failure`, `--max-innocent-failure`.
    pub thresholds: Thresholds,
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
pub struct Source<'a> {
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

/// The complete limits: `chosen` where set, the defaults elsewhere.
pub fn limits(chosen: &LimitsFile) -> Result<Limits, String> {
    let defaults = Limits::default();
    let limits = Limits {
        memory_bytes: chosen.memory,
        memory_swap_bytes: chosen.memory_swap,
        cpus: chosen.cpus,
        pids_limit: chosen.pids_limit,
        restart: chosen.restart.unwrap_or(defaults.restart),
        init: chosen.init.unwrap_or(defaults.init),
    };
    match (limits.memory_bytes, limits.memory_swap_bytes) {
        (None, Some(_)) => Err("a memory_swap limit needs a memory limit too".into()),
        (Some(memory), Some(swap)) if swap < memory => {
            Err("memory_swap must be at least memory (it counts memory plus swap)".into())
        }
        _ => Ok(limits),
    }
}

/// The container options: flags, then the file, then the defaults.
pub fn container_options(flags: &Flags, file: Option<&ScenarioFile>) -> ContainerOptions {
    let file = file.map(|f| &f.container);
    ContainerOptions {
        network: flags
            .network
            .or(file.and_then(|c| c.network))
            .unwrap_or(NetworkMode::Bridge),
        base_image: flags
            .base_image
            .clone()
            .or(file.and_then(|c| c.base_image.clone()))
            .unwrap_or_else(|| DEFAULT_BASE_IMAGE.to_string()),
        base_image_py27: flags
            .base_image_py27
            .clone()
            .or(file.and_then(|c| c.base_image_py27.clone()))
            .unwrap_or_else(|| DEFAULT_BASE_IMAGE_PY27.to_string()),
        build_network: flags
            .build_network
            .clone()
            .or(file.and_then(|c| c.build_network.clone())),
        ready_timeout: flags
            .ready_timeout
            .or(file.and_then(|c| c.ready_timeout))
            .unwrap_or(DEFAULT_READY_TIMEOUT),
        stop_timeout: flags
            .stop_timeout
            .or(file.and_then(|c| c.stop_timeout))
            .unwrap_or(DEFAULT_STOP_TIMEOUT),
        build_log_dir: flags.build_log_dir.clone(),
    }
}

/// The servers to run, configured and limited.
pub fn servers(
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
        .map(|s| s.file.container.limits())
        .unwrap_or_default();
    selected
        .into_iter()
        .map(|server| {
            // The entry that names the server, else the first of its groups'.
            let entry = entries.and_then(|e| {
                e.iter()
                    .find(|e| e.name == server.name)
                    .or_else(|| e.iter().find(|e| server.groups.contains(&e.name)))
            });
            let mut settings = ServerSettings {
                values: entry.map(|e| e.options.clone()).unwrap_or_default(),
            };
            settings.values.extend(flags.settings.values.clone());
            let chosen = flags
                .limits
                .or(&entry.map(|e| e.container.clone()).unwrap_or_default())
                .or(&file_limits);
            let mut configured = server.configure(&settings);
            configured.limits = limits(&chosen).map_err(|problem| match (source, entry) {
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
    })
}

/// The servers the flags alone name (no scenario file).
pub fn resolve_servers(flags: &Flags, catalogue: &Catalogue) -> Result<Vec<Server>, PlanError> {
    servers(flags, None, catalogue)
}

/// The tests to run, each with its load.
pub fn tests(flags: &Flags, source: Option<Source<'_>>) -> Result<Vec<TestSpec>, PlanError> {
    let named = named_tests();
    let file_load = source.map(|s| s.file.load.clone()).unwrap_or_default();
    let global = merge_load(&[&flags.load, &file_load]).map_err(PlanError::Invalid)?;

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
            let own = merge_load(&[&flags.load, &entry.load(), &file_load]).map_err(|problem| {
                source.error(&entry.name, format!("test {:?}: {problem}", entry.name))
            })?;
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
        test.load.get_or_insert_with(|| global.clone());
    }
    Ok(selected)
}

/// The load from settings in order of precedence: the first that sets a
/// value wins; requests and duration go together, from the first layer
/// that sets either.
pub fn merge_load(layers: &[&LoadFile]) -> Result<LoadSpec, String> {
    let first = |pick: &dyn Fn(&LoadFile) -> Option<u64>| layers.iter().find_map(|l| pick(l));
    let (requests, duration) = layers
        .iter()
        .find(|l| l.requests.is_some() || l.duration.is_some())
        .map_or((Some(DEFAULT_REQUESTS), None), |l| (l.requests, l.duration));
    let load = LoadSpec {
        requests,
        duration,
        rate: layers.iter().find_map(|l| l.rate),
        concurrency: first(&|l| l.concurrency).unwrap_or(DEFAULT_CONCURRENCY) as usize,
        processes: first(&|l| l.processes).map_or_else(crate::client::cpus, |p| p as usize),
        timeout: layers
            .iter()
            .find_map(|l| l.timeout)
            .unwrap_or(DEFAULT_TIMEOUT),
        give_up_after: Some(
            layers
                .iter()
                .find_map(|l| l.give_up_after)
                .unwrap_or(DEFAULT_GIVE_UP_AFTER),
        ),
        keep_alive: layers.iter().find_map(|l| l.keep_alive).unwrap_or(false),
    };
    if load.requests == Some(0) {
        return Err("requests must be at least 1".into());
    }
    if load.concurrency == 0 || load.processes == 0 {
        return Err("concurrency and processes must be at least 1".into());
    }
    if load.duration.is_some_and(|d| d.is_zero()) {
        return Err("duration must be more than zero".into());
    }
    if load
        .rate
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        return Err("rate must be a number of requests per second above zero".into());
    }
    if load.timeout.is_zero() || load.give_up_after.is_some_and(|g| g.is_zero()) {
        return Err("timeouts must be more than zero".into());
    }
    Ok(load)
}

/// The thresholds: flags, then the file.
pub fn thresholds(flags: &Flags, file: Option<&ScenarioFile>) -> Thresholds {
    let file = file.map(|f| &f.thresholds);
    Thresholds {
        max_failure_ratio: flags
            .thresholds
            .max_failure_ratio
            .or(file.and_then(|t| t.max_failure_ratio)),
        max_innocent_failure_ratio: flags
            .thresholds
            .max_innocent_failure_ratio
            .or(file.and_then(|t| t.max_innocent_failure_ratio)),
    }
}

/// The whole plan.
pub fn plan(
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
    let servers = servers(flags, source, catalogue)?;
    let tests = tests(flags, source)?;
    Ok(Plan {
        servers,
        tests,
        seed: flags
            .seed
            .or(file.and_then(|f| f.seed))
            .unwrap_or_else(rand::random),
        container: container_options(flags, file),
        thresholds: thresholds(flags, file),
    })
}
