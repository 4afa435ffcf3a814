//! Scenario files: servers (with their options and container limits),
//! tests (named, or mixes of behaviours with weights), load, container
//! defaults, thresholds and seed, in YAML. Every error names the file, the
//! line and column, and what was expected; an unknown key is an error.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::catalogue::Knob;
use crate::policy::PolicyKind;
use crate::runtime::{NetworkMode, RestartPolicy};
use crate::units::{parse_bytes, parse_duration};

/// A scenario file as written.
#[derive(Debug, Default)]
pub struct ScenarioFile {
    /// Seed of the request mix.
    pub seed: Option<u64>,
    /// Servers to test.
    pub servers: Option<Vec<ServerEntry>>,
    /// Tests to run.
    pub tests: Option<Vec<TestEntry>>,
    /// Load for every test.
    pub load: LoadFile,
    /// Container settings for every server.
    pub container: ContainerFile,
    /// Limits that make the run fail (exit status 1).
    pub thresholds: ThresholdsFile,
}

/// A server: its name, or its name with options and container limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    /// Catalogue name.
    pub name: String,
    /// Knobs: workers, threads, worker_timeout, max_requests.
    #[serde(default)]
    pub options: BTreeMap<Knob, u64>,
    /// Container limits for this server.
    #[serde(default)]
    pub container: LimitsFile,
}

/// A test: a named one, or a mix of behaviours.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEntry {
    /// A named test's name, or this mix's name.
    pub name: String,
    /// One line for reports.
    pub description: Option<String>,
    /// random (default) or repeat.
    pub policy: Option<PolicyKind>,
    /// Behaviours and weights; absent for a named test.
    pub mix: Option<Vec<MixFile>>,
    /// Requests for this test.
    pub requests: Option<u64>,
    /// Connections for this test.
    pub concurrency: Option<u64>,
    /// Request timeout for this test.
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
    /// Give-up time for this test.
    #[serde(default, deserialize_with = "duration")]
    pub give_up_after: Option<Duration>,
    /// Keep-alive for this test.
    pub keep_alive: Option<bool>,
    /// Duration for this test.
    #[serde(default, deserialize_with = "duration")]
    pub duration: Option<Duration>,
    /// Rate for this test.
    pub rate: Option<f64>,
    /// Worker processes for this test.
    pub processes: Option<u64>,
}

impl TestEntry {
    /// This test's own load settings.
    pub fn load(&self) -> LoadFile {
        LoadFile {
            requests: self.requests,
            duration: self.duration,
            rate: self.rate,
            concurrency: self.concurrency,
            processes: self.processes,
            timeout: self.timeout,
            give_up_after: self.give_up_after,
            keep_alive: self.keep_alive,
        }
    }
}

/// One behaviour of a mix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixFile {
    /// `Name` or `Name?param=value&...`.
    pub behaviour: String,
    /// Relative share of requests.
    pub weight: u32,
}

/// Load settings.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadFile {
    /// Requests per cell.
    pub requests: Option<u64>,
    /// How long to send.
    #[serde(default, deserialize_with = "duration")]
    pub duration: Option<Duration>,
    /// Open loop: requests per second.
    pub rate: Option<f64>,
    /// Connections at once.
    pub concurrency: Option<u64>,
    /// Worker processes.
    pub processes: Option<u64>,
    /// Longest wait for one answer.
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
    /// Stop after this long without an answer as expected.
    #[serde(default, deserialize_with = "duration")]
    pub give_up_after: Option<Duration>,
    /// Reuse connections.
    pub keep_alive: Option<bool>,
}

/// Limits that can differ per server.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Memory limit.
    #[serde(default, deserialize_with = "bytes")]
    pub memory: Option<u64>,
    /// Memory plus swap.
    #[serde(default, deserialize_with = "bytes")]
    pub memory_swap: Option<u64>,
    /// CPUs.
    pub cpus: Option<f64>,
    /// Processes and threads.
    pub pids_limit: Option<u64>,
    /// Restart policy.
    #[serde(default, deserialize_with = "restart")]
    pub restart: Option<RestartPolicy>,
    /// An init process.
    pub init: Option<bool>,
}

/// Container settings for every server.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerFile {
    /// bridge or host.
    pub network: Option<NetworkMode>,
    /// Base image.
    pub base_image: Option<String>,
    /// Base image of the Python 2.7 servers.
    pub base_image_py27: Option<String>,
    /// Network for builds.
    pub build_network: Option<String>,
    /// Readiness deadline.
    #[serde(default, deserialize_with = "duration")]
    pub ready_timeout: Option<Duration>,
    /// Grace before SIGKILL.
    #[serde(default, deserialize_with = "duration")]
    pub stop_timeout: Option<Duration>,
    /// Memory limit.
    #[serde(default, deserialize_with = "bytes")]
    pub memory: Option<u64>,
    /// Memory plus swap.
    #[serde(default, deserialize_with = "bytes")]
    pub memory_swap: Option<u64>,
    /// CPUs.
    pub cpus: Option<f64>,
    /// Processes and threads.
    pub pids_limit: Option<u64>,
    /// Restart policy.
    #[serde(default, deserialize_with = "restart")]
    pub restart: Option<RestartPolicy>,
    /// An init process.
    pub init: Option<bool>,
}

impl ContainerFile {
    /// The limits part, for every server.
    pub fn limits(&self) -> LimitsFile {
        LimitsFile {
            memory: self.memory,
            memory_swap: self.memory_swap,
            cpus: self.cpus,
            pids_limit: self.pids_limit,
            restart: self.restart,
            init: self.init,
        }
    }
}

impl LimitsFile {
    /// These limits, with `fallback`'s where these have none.
    pub fn or(&self, fallback: &LimitsFile) -> LimitsFile {
        LimitsFile {
            memory: self.memory.or(fallback.memory),
            memory_swap: self.memory_swap.or(fallback.memory_swap),
            cpus: self.cpus.or(fallback.cpus),
            pids_limit: self.pids_limit.or(fallback.pids_limit),
            restart: self.restart.or(fallback.restart),
            init: self.init.or(fallback.init),
        }
    }
}

/// Limits on a cell's failures.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsFile {
    /// Largest share of requests not as expected (0.1 or "10%").
    #[serde(default, deserialize_with = "ratio")]
    pub max_failure_ratio: Option<f64>,
    /// Largest share of innocent requests that failed.
    #[serde(default, deserialize_with = "ratio")]
    pub max_innocent_failure_ratio: Option<f64>,
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScenarioFileError {
    /// The file, as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// Deserialize an optional scalar (number or string) through `parse`,
/// so an error points at the scalar itself.
fn parsed<'de, D, T>(
    deserializer: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Scalar<T>(fn(&str) -> Result<T, String>);

    impl<'de, T> Visitor<'de> for Scalar<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or a string")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            (self.0)(text).map(Some).map_err(E::custom)
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            self.visit_str(&n.to_string())
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            self.visit_str(&n.to_string())
        }

        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
            self.visit_str(&n.to_string())
        }
    }

    deserializer.deserialize_option(Scalar(parse))
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    parsed(d, parse_duration)
}

fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    parsed(d, parse_bytes)
}

fn parse_restart(text: &str) -> Result<RestartPolicy, String> {
    text.parse()
}

fn restart<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RestartPolicy>, D::Error> {
    parsed(d, parse_restart)
}

/// `0.1` or `"10%"`, between 0 and 1.
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    let value = match text.trim().strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.trim().parse::<f64>(),
    };
    value
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| format!("{text:?} is not a share like 0.1 or \"10%\""))
}

fn ratio<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    parsed(d, parse_ratio)
}

/// Accept `name` as well as `{name: ..., ...}` where a list entry can be
/// just a name.
struct NameOrMap<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for NameOrMap<T>
where
    T: Deserialize<'de> + Default + Named,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name, or a map with a name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<T, E> {
        Ok(T::with_name(name))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// An entry that can be written as its name alone.
pub trait Named {
    /// The entry with this name and nothing else.
    fn with_name(name: &str) -> Self;
}

impl Named for ServerEntry {
    fn with_name(name: &str) -> Self {
        ServerEntry {
            name: name.to_string(),
            ..ServerEntry::default()
        }
    }
}

impl Named for TestEntry {
    fn with_name(name: &str) -> Self {
        TestEntry {
            name: name.to_string(),
            ..TestEntry::default()
        }
    }
}

/// Deserialize a list whose entries may be names or maps.
fn name_or_map_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default + Named,
{
    struct Entry<T>(T);
    impl<'de, T: Deserialize<'de> + Default + Named> Deserialize<'de> for Entry<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer
                .deserialize_any(NameOrMap(PhantomData))
                .map(Entry)
        }
    }
    let entries = Option::<Vec<Entry<T>>>::deserialize(deserializer)?;
    Ok(entries.map(|entries| entries.into_iter().map(|Entry(t)| t).collect()))
}

/// The raw file, with name-or-map lists.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    seed: Option<u64>,
    #[serde(default, deserialize_with = "name_or_map_list")]
    servers: Option<Vec<ServerEntry>>,
    #[serde(default, deserialize_with = "name_or_map_list")]
    tests: Option<Vec<TestEntry>>,
    #[serde(default)]
    load: LoadFile,
    #[serde(default)]
    container: ContainerFile,
    #[serde(default)]
    thresholds: ThresholdsFile,
}

/// Where `needle` first stands as a YAML scalar in `text`: (line, column),
/// 1-based; for errors found after parsing.
pub fn locate(text: &str, needle: &str) -> (usize, usize) {
    for (index, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or(line);
        let mut from = 0;
        while let Some(found) = code[from..].find(needle) {
            let start = from + found;
            let end = start + needle.len();
            let before = code[..start].chars().next_back();
            let after = code[end..].chars().next();
            let boundary = |c: Option<char>| {
                c.is_none_or(|c| {
                    matches!(
                        c,
                        ' ' | '\t' | ':' | ',' | '[' | ']' | '{' | '}' | '"' | '\'' | '-'
                    )
                })
            };
            if boundary(before) && boundary(after) {
                return (index + 1, start + 1);
            }
            from = end;
        }
    }
    (1, 1)
}

impl ScenarioFile {
    /// Parse `text`, read from `file` (named in errors as given).
    pub fn parse(file: &Path, text: &str) -> Result<Self, ScenarioFileError> {
        match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(serde_yaml::Value::Null) => return Ok(ScenarioFile::default()),
            Ok(serde_yaml::Value::Mapping(_)) | Err(_) => {}
            Ok(_) => {
                return Err(ScenarioFileError {
                    file: file.display().to_string(),
                    line: 1,
                    column: 1,
                    message: "a scenario is a map with the keys seed, servers, tests, load, \
                              container and thresholds"
                        .into(),
                });
            }
        }
        let raw: RawScenario = serde_yaml::from_str(text).map_err(|error| {
            let (line, column) = error.location().map_or((1, 1), |l| (l.line(), l.column()));
            let mut message = error.to_string();
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            ScenarioFileError {
                file: file.display().to_string(),
                line,
                column,
                message,
            }
        })?;
        Ok(ScenarioFile {
            seed: raw.seed,
            servers: raw.servers,
            tests: raw.tests,
            load: raw.load,
            container: raw.container,
            thresholds: raw.thresholds,
        })
    }

    /// Read and parse `file`.
    pub fn read(file: &Path) -> Result<(Self, String), ScenarioFileError> {
        let text = std::fs::read_to_string(file).map_err(|error| ScenarioFileError {
            file: file.display().to_string(),
            line: 1,
            column: 1,
            message: format!("cannot read it: {error}"),
        })?;
        Ok((ScenarioFile::parse(file, &text)?, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ScenarioFile, String> {
        ScenarioFile::parse(Path::new("s.yaml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn names_and_maps_mix_in_lists() {
        let scenario = parse(
            "servers:\n  - wsgiref\n  - name: waitress\n    options: {threads: 8}\n    container: {memory: 64m}\n\
             tests:\n  - Plain\n  - name: Mine\n    mix:\n      - {behaviour: PlainResponse, weight: 9}\n",
        )
        .unwrap();
        let servers = scenario.servers.unwrap();
        assert_eq!(servers[0].name, "wsgiref");
        assert_eq!(servers[1].options[&Knob::Threads], 8);
        assert_eq!(servers[1].container.memory, Some(64 << 20));
        let tests = scenario.tests.unwrap();
        assert!(tests[0].mix.is_none());
        assert_eq!(tests[1].mix.as_ref().unwrap()[0].weight, 9);
    }

    #[test]
    fn units_parse_from_numbers_and_strings() {
        let scenario = parse(
            "load: {timeout: 5s, give_up_after: 90}\ncontainer: {restart: \"on-failure:2\", memory: 1g}\n\
             thresholds: {max_failure_ratio: \"5%\", max_innocent_failure_ratio: 0.01}\n",
        )
        .unwrap();
        assert_eq!(scenario.load.timeout, Some(Duration::from_secs(5)));
        assert_eq!(scenario.load.give_up_after, Some(Duration::from_secs(90)));
        assert_eq!(
            scenario.container.restart,
            Some(RestartPolicy::OnFailure {
                max_retries: Some(2)
            })
        );
        assert_eq!(scenario.thresholds.max_failure_ratio, Some(0.05));
    }

    #[test]
    fn errors_carry_file_line_and_column() {
        assert_eq!(
            parse("seed: 1\nload:\n  requests: 10\n  colour: red\n").unwrap_err(),
            "s.yaml:4:3: load: unknown field `colour`, expected one of `requests`, `duration`, `rate`, `concurrency`, `processes`, `timeout`, `give_up_after`, `keep_alive`"
        );
    }

    #[test]
    fn locate_finds_whole_scalars() {
        let text = "servers:\n  - wsgirefx\n  - wsgiref # here\n";
        assert_eq!(locate(text, "wsgiref"), (3, 5));
    }
}
