//! What to run: servers x tests, load, seed and container options, resolved
//! into one validated [`Plan`] before any side effect.

mod file;
mod named;
mod resolve;
mod target;

use thiserror::Error;

pub use file::ScenarioFileError;
pub use named::named_tests;
pub use resolve::PlanError;
pub(crate) use resolve::{Flags, container_options, plan_file, resolve_servers};
pub(crate) use target::{BuildSettings, CommandSetting, RequestSettings, TargetSettings};

use crate::catalogue::{Catalogue, Server};
use crate::plan::{ContainerOptions, TestSpec, Thresholds};

/// `all`, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Everything known.
    All,
    /// These, in this order.
    Named(Vec<String>),
}

impl std::str::FromStr for Selection {
    type Err = String;

    /// `all` or `a,b,c` (spaces around names are ignored).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim() == "all" {
            return Ok(Selection::All);
        }
        let names: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(String::from)
            .collect();
        if names.is_empty() {
            return Err("expected `all` or a comma-separated list of names".into());
        }
        Ok(Selection::Named(names))
    }
}

/// A scenario that cannot run as given.
#[derive(Debug, Error, PartialEq)]
pub enum ScenarioError {
    /// A server name not in the catalogue, nor a group's.
    #[error("unknown server {name:?} (known servers and groups: {})", known.join(", "))]
    UnknownServer {
        /// The name given.
        name: String,
        /// Every server and group name the catalogue has.
        known: Vec<String>,
    },
    /// A test name that is not a named test.
    #[error("unknown test {name:?} (known tests: {})", known.join(", "))]
    UnknownTest {
        /// The name given.
        name: String,
        /// Every named test.
        known: Vec<String>,
    },
    /// The same name twice in one selection.
    #[error("{kind} {name:?} is selected twice")]
    Duplicate {
        /// `server` or `test`.
        kind: &'static str,
        /// The repeated name.
        name: String,
    },
}

/// Everything a bench run needs, validated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// Servers, configured and limited, in the order they run.
    pub servers: Vec<Server>,
    /// Tests, each with its load, in the order they run on each server.
    pub tests: Vec<TestSpec>,
    /// Seed of the policies; the same seed sends the same requests.
    pub seed: u64,
    /// Cells that may run at once (`--jobs`).
    pub jobs: usize,
    /// Runs of each cell (`--repeat`).
    pub repeat: usize,
    /// The slice of the cells this run takes (`--shard K/N`).
    pub shard: Option<Shard>,
    /// How servers are built and run.
    pub container: ContainerOptions,
    /// Limits that fail the run.
    pub thresholds: Thresholds,
}

/// One of N deterministic slices of a plan's cells (`--shard K/N`): the N
/// shards together run every cell exactly once, with the seeds an
/// unsharded run would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N`, with 1 <= K <= N <= 1000.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not a shard like 2/5 (the second of five)");
        let (index, count) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count || count > 1000 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One cell of a plan: indexes of its server and test, and its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CellKey {
    /// The server, in `Plan::servers`.
    pub server: usize,
    /// The test, in `Plan::tests`.
    pub test: usize,
    /// The run, from 0 (`--repeat`).
    pub repeat: usize,
}

impl Plan {
    /// The cells this run takes: every server x test x run in plan order
    /// (server by server), or its shard's contiguous slice of them, so a
    /// shard builds few images.
    pub(crate) fn cells(&self) -> Vec<CellKey> {
        let all: Vec<CellKey> = (0..self.servers.len())
            .flat_map(|server| {
                (0..self.tests.len()).flat_map(move |test| {
                    (0..self.repeat).map(move |repeat| CellKey {
                        server,
                        test,
                        repeat,
                    })
                })
            })
            .collect();
        match self.shard {
            None => all,
            Some(Shard { index, count }) => {
                let (from, to) = (all.len() * (index - 1) / count, all.len() * index / count);
                all[from..to].to_vec()
            }
        }
    }
}

/// Resolve a server selection against the catalogue: a group's name
/// (`seed`) stands for its servers; a server named twice (itself and in a
/// group) runs once, where it first appears.
pub(crate) fn select_servers(
    selection: &Selection,
    catalogue: &Catalogue,
) -> Result<Vec<Server>, ScenarioError> {
    match selection {
        Selection::All => Ok(catalogue.servers().to_vec()),
        Selection::Named(names) => {
            check_unique("server", names)?;
            let mut selected: Vec<Server> = Vec::new();
            for name in names {
                for server in resolve_server(catalogue, name)? {
                    if !selected.iter().any(|s| s.name == server.name) {
                        selected.push(server.clone());
                    }
                }
            }
            Ok(selected)
        }
    }
}

/// The servers `name` stands for (a server, or a group's servers).
pub(crate) fn resolve_server<'a>(
    catalogue: &'a Catalogue,
    name: &str,
) -> Result<Vec<&'a Server>, ScenarioError> {
    catalogue
        .resolve(name)
        .ok_or_else(|| ScenarioError::UnknownServer {
            name: name.to_string(),
            known: catalogue
                .names()
                .into_iter()
                .chain(catalogue.groups())
                .collect(),
        })
}

/// Resolve a test selection against the named tests.
#[cfg(test)]
fn select_tests(selection: &Selection) -> Result<Vec<TestSpec>, ScenarioError> {
    let tests = named_tests();
    match selection {
        Selection::All => Ok(tests),
        Selection::Named(names) => {
            check_unique("test", names)?;
            names
                .iter()
                .map(|name| {
                    tests
                        .iter()
                        .find(|test| &test.name == name)
                        .cloned()
                        .ok_or_else(|| ScenarioError::UnknownTest {
                            name: name.clone(),
                            known: tests.iter().map(|test| test.name.clone()).collect(),
                        })
                })
                .collect()
        }
    }
}

pub(crate) fn check_unique(kind: &'static str, names: &[String]) -> Result<(), ScenarioError> {
    for (index, name) in names.iter().enumerate() {
        if names[..index].contains(name) {
            return Err(ScenarioError::Duplicate {
                kind,
                name: name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::file::ScenarioFile;
    use super::resolve::{Source, plan};
    use super::*;

    #[test]
    fn selections_parse() {
        assert_eq!("all".parse(), Ok(Selection::All));
        assert_eq!(
            "Plain, SIGSEGV".parse(),
            Ok(Selection::Named(vec!["Plain".into(), "SIGSEGV".into()]))
        );
        assert!(",".parse::<Selection>().is_err());
    }

    #[test]
    fn unknown_tests_list_the_known_ones() {
        let error = select_tests(&"Plain,Nope".parse().unwrap()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown test \"Nope\" (known tests: Plain, LightSleep, HeavySleep, SIGSEGV, Wedge, GilWedge, LoopBlock, Leak, Exceptions, Crash, SlowStream, BigBodies, Chaos, KillWorker, StopWorker, PauseServer, Restart, SlowClients, SlowReaders, GracefulStop)"
        );
    }

    fn plan_of(text: &str) -> Result<Plan, String> {
        let path = std::path::Path::new("faults.yaml");
        let file = ScenarioFile::parse(path, text).map_err(|e| e.to_string())?;
        let catalogue =
            crate::catalogue::Catalogue::load(&crate::images::Images::Embedded).unwrap();
        let source = Source {
            path,
            file: &file,
            text,
        };
        plan(&Flags::default(), Some(source), &catalogue).map_err(|e| e.to_string())
    }

    #[test]
    fn faults_in_a_scenario_are_checked_and_make_the_load_timed() {
        use crate::plan::{FaultAction, Signal};
        let plan = plan_of(
            "servers: [gunicorn-sync]\ntests:\n  - name: Kills\n    mix: [{behaviour: PlainResponse, weight: 1}]\n    \
             faults:\n      - {at: 2s, every: 3s, action: kill-worker, signal: TERM}\n      \
             - {at: 1, action: pause, duration: 500ms}\n  - name: KillWorker\n    duration: 4s\n",
        )
        .unwrap();
        let kills = &plan.tests[0];
        assert_eq!(kills.faults.len(), 2);
        assert_eq!(
            kills.faults[0].action,
            FaultAction::KillWorker {
                signal: Signal::Term
            }
        );
        assert_eq!(
            kills.faults[0].every,
            Some(std::time::Duration::from_secs(3))
        );
        let load = kills.load.as_ref().unwrap();
        assert_eq!(load.requests, None, "a test with faults is timed");
        // The pause ends at 1.5 s, the kill's first firing at 2 s; then the
        // recovery window.
        assert_eq!(load.duration, Some(std::time::Duration::from_secs(6)));
        // A named fault test keeps its faults; its own duration wins.
        let named = &plan.tests[1];
        assert_eq!(named.faults.len(), 1);
        assert_eq!(
            named.load.as_ref().unwrap().duration,
            Some(std::time::Duration::from_secs(4))
        );

        for (fault, problem) in [
            ("{at: 1s, action: explode}", "\"explode\" is not a fault"),
            ("{action: restart}", "it needs `at`"),
            ("{at: 1s, action: pause}", "it needs `duration`"),
            (
                "{at: 1s, action: pause, duration: 1s, signal: KILL}",
                "does not take `signal`",
            ),
            (
                "{at: 1s, action: kill-worker, signal: LOUD}",
                "\"LOUD\" is not a signal",
            ),
            (
                "{at: 1s, every: 10ms, action: restart}",
                "`every` is at least 100 ms",
            ),
            (
                "{at: 1s, action: slow-clients, connections: 0}",
                "from 1 to 1000",
            ),
            (
                "{at: 1s, action: restart, colour: red}",
                "unknown field `colour`",
            ),
        ] {
            let text = format!(
                "tests:\n  - name: T\n    mix: [{{behaviour: PlainResponse, weight: 1}}]\n    faults: [{fault}]\n"
            );
            let error = plan_of(&text).unwrap_err();
            assert!(error.contains(problem), "{fault}: {error}");
            assert!(
                error.starts_with("faults.yaml:"),
                "{fault}: located: {error}"
            );
        }
    }

    #[test]
    fn a_target_runs_alone_with_its_own_requests_in_every_mix() {
        let plan = plan_of(
            "target:\n  name: shop\n  image: shop:1\n  port: 8000\n  wrap: app:app\n  \
             requests:\n    - {path: /health}\n    - {path: /orders, weight: 3}\n\
             tests: [Plain, KillWorker]\n",
        )
        .unwrap();
        assert_eq!(plan.servers.len(), 1);
        assert_eq!(plan.servers[0].name, "shop");
        assert_eq!(plan.servers[0].behaviour_prefix(), "/_labour");
        assert_eq!(plan.jobs, 1, "a fixed port: one cell at a time");
        let mix = |test: &TestSpec| -> Vec<(String, u32)> {
            test.mix.iter().map(|e| (e.label(), e.weight)).collect()
        };
        // Plain's 99 innocent and 1 404: the 404 is a behaviour, weighed
        // by the requests' total to keep the ratio.
        assert_eq!(
            mix(&plan.tests[0]),
            [
                ("GET /health".to_string(), 99),
                ("GET /orders".to_string(), 297),
                ("PlainResponse?status=404".to_string(), 4)
            ]
        );
        assert_eq!(
            mix(&plan.tests[1]),
            [
                ("GET /health".to_string(), 1),
                ("GET /orders".to_string(), 3)
            ]
        );
        assert!(plan.tests[1].needs_behaviour().is_none());
        assert!(plan.tests[0].needs_behaviour().is_some());

        let error = plan_of("target:\n  image: shop:1\n  port: 8000\n  colour: red\n").unwrap_err();
        assert!(
            error.starts_with("faults.yaml:4:3: target: unknown field `colour`"),
            "{error}"
        );
        let error = plan_of("servers: [uwsgi]\ntarget: {image: shop:1, port: 8000}\n").unwrap_err();
        assert!(error.contains("a target runs alone"), "{error}");
        let error = plan_of("target: {image: shop:1}\n").unwrap_err();
        assert!(
            error.starts_with("faults.yaml:1:1: target: no port"),
            "{error}"
        );
    }

    #[test]
    fn a_name_twice_is_an_error() {
        let error = select_tests(&"Plain,Plain".parse().unwrap()).unwrap_err();
        assert_eq!(error.to_string(), "test \"Plain\" is selected twice");
    }
}
