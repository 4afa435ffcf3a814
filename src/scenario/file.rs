//! Scenario files: servers (with their options and container limits),
//! tests (named, or mixes of behaviours with weights), load, container
//! defaults, thresholds and seed, in YAML. Every error names the file, the
//! line and column, and what was expected; an unknown key is an error.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::plan::options::{
    Key, KnobOptions, Layer, LimitOptions, LoadOptions, RunOptions, Scalar, ScalarKind, Scalarish,
    ThresholdOptions, parse_bool, parse_jobs, parse_name,
};
use crate::policy::PolicyKind;

/// A scenario file as written.
#[derive(Debug, Default)]
pub(crate) struct ScenarioFile {
    /// Seed of the request mix.
    pub seed: Option<u64>,
    /// Cells at once.
    pub jobs: Option<u64>,
    /// Servers to test.
    pub servers: Option<Vec<ServerEntry>>,
    /// Tests to run.
    pub tests: Option<Vec<TestEntry>>,
    /// Load for every test.
    pub load: LoadOptions,
    /// Container settings and limits for every server.
    pub container: ContainerFile,
    /// Limits that make the run fail (exit status 1).
    pub thresholds: ThresholdOptions,
    /// The user's own deployment, run instead of catalogue servers.
    pub target: Option<super::target::TargetSettings>,
}

/// A server: its name, or its name with options and container limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerEntry {
    /// Catalogue name.
    #[serde(deserialize_with = "name")]
    pub name: String,
    /// Knobs: workers, threads, worker_timeout, max_requests.
    #[serde(default)]
    pub options: KnobOptions,
    /// Container limits for this server.
    #[serde(default)]
    pub container: LimitOptions,
}

/// A test: a named one, or a mix of behaviours, with its own load.
#[derive(Debug, Default)]
pub(crate) struct TestEntry {
    /// A named test's name, or this mix's name.
    pub name: String,
    /// One line for reports.
    pub description: Option<String>,
    /// random (default) or repeat.
    pub policy: Option<PolicyKind>,
    /// Behaviours and weights; absent for a named test.
    pub mix: Option<Vec<MixFile>>,
    /// Its headline is throughput: its cells run with nothing else
    /// loading the host.
    pub throughput: Option<bool>,
    /// Its own load: requests, concurrency, timeout... (the keys of `load:`
    /// written in the test's own map).
    pub load: LoadOptions,
    /// Faults during its load, for a mix or on top of a named test's.
    pub faults: Option<Vec<FaultFile>>,
}

/// The keys of a test's map besides its load's.
const TEST_KEYS: &[&str] = &[
    "name",
    "description",
    "policy",
    "mix",
    "throughput",
    "faults",
];

impl<'de> Deserialize<'de> for TestEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TestVisitor;

        impl<'de> Visitor<'de> for TestVisitor {
            type Value = TestEntry;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a test: a name, or a map with a name")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<TestEntry, M::Error> {
                let mut test = TestEntry::default();
                let mut named = false;
                while let Some(key) = map.next_key_seed(Key(test_keys()))? {
                    match key.as_str() {
                        "name" => {
                            test.name = map
                                .next_value_seed(Scalar(ScalarKind::Text, parse_name))?
                                .ok_or_else(|| de::Error::custom("an empty name"))?;
                            named = true;
                        }
                        "description" => test.description = map.next_value()?,
                        "policy" => test.policy = map.next_value()?,
                        "mix" => test.mix = map.next_value()?,
                        "faults" => test.faults = map.next_value()?,
                        "throughput" => {
                            test.throughput =
                                map.next_value_seed(Scalar(ScalarKind::Bool, parse_bool))?;
                        }
                        other => {
                            test.load.read_field(other, &mut map)?;
                        }
                    }
                }
                if !named {
                    return Err(de::Error::missing_field("name"));
                }
                Ok(test)
            }
        }

        deserializer.deserialize_map(TestVisitor)
    }
}

/// Every key a test's map takes: its own, then its load's.
fn test_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        TEST_KEYS
            .iter()
            .chain(LoadOptions::FIELDS)
            .copied()
            .collect()
    });
    &KEYS
}

/// Every key of `container:`: how servers run, and their limits.
fn container_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        RunOptions::FIELDS
            .iter()
            .chain(LimitOptions::FIELDS)
            .copied()
            .collect()
    });
    &KEYS
}

/// One behaviour of a mix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MixFile {
    /// `Name` or `Name?param=value&...`.
    #[serde(deserialize_with = "name")]
    pub behaviour: String,
    /// Relative share of requests.
    #[serde(deserialize_with = "weight")]
    pub weight: u32,
}

/// One fault of a test, as written:
/// `{at: 2s, every: 3s, action: kill-worker, signal: KILL}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultFile {
    /// kill-worker, stop-worker, pause, restart, slow-clients,
    /// slow-readers or graceful-stop.
    #[serde(deserialize_with = "name")]
    pub action: String,
    /// When it first fires, after the load began.
    #[serde(default, deserialize_with = "fault_time")]
    pub at: Option<std::time::Duration>,
    /// Fire again this long after each firing.
    #[serde(default, deserialize_with = "fault_time")]
    pub every: Option<std::time::Duration>,
    /// kill-worker's signal [default: KILL].
    #[serde(default, deserialize_with = "signal")]
    pub signal: Option<crate::plan::Signal>,
    /// How long stop-worker and pause last.
    #[serde(default, deserialize_with = "fault_time")]
    pub duration: Option<std::time::Duration>,
    /// Slow clients' or readers' connections.
    #[serde(default, deserialize_with = "connections")]
    pub connections: Option<u32>,
    /// Between two bytes of a slow client.
    #[serde(default, deserialize_with = "fault_time")]
    pub interval: Option<std::time::Duration>,
    /// The body a slow reader asks for (`10m`).
    #[serde(default, deserialize_with = "size")]
    pub bytes: Option<u64>,
    /// What a slow reader reads a second (`100`, `1k`).
    #[serde(default, deserialize_with = "size")]
    pub rate: Option<u64>,
}

fn fault_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    Scalar(ScalarKind::Text, crate::plan::options::parse_grace).deserialize(d)
}

fn signal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<crate::plan::Signal>, D::Error> {
    Scalar(ScalarKind::Text, |text: &str| text.parse()).deserialize(d)
}

fn connections<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    use crate::plan::fault::MAX_SLOW_CONNECTIONS;
    Scalar(ScalarKind::Integer, |text: &str| {
        text.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_SLOW_CONNECTIONS).contains(n))
            .ok_or_else(|| {
                format!("{text:?} is not a number of connections from 1 to {MAX_SLOW_CONNECTIONS}")
            })
    })
    .deserialize(d)
}

fn size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Scalar(ScalarKind::Text, |text: &str| {
        crate::units::parse_bytes(text)
            .ok()
            .filter(|n| (1..=1 << 30).contains(n))
            .ok_or_else(|| format!("{text:?} is not a size from 1 byte to 1g"))
    })
    .deserialize(d)
}

/// The container settings of every server, and their limits.
#[derive(Debug, Default)]
pub(crate) struct ContainerFile {
    /// How servers are built and run.
    pub run: RunOptions,
    /// Their limits.
    pub limits: LimitOptions,
}

impl<'de> Deserialize<'de> for ContainerFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContainerVisitor;

        impl<'de> Visitor<'de> for ContainerVisitor {
            type Value = ContainerFile;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of container settings")
            }

            fn visit_unit<E: de::Error>(self) -> Result<ContainerFile, E> {
                Ok(ContainerFile::default())
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<ContainerFile, M::Error> {
                let mut container = ContainerFile::default();
                while let Some(key) = map.next_key_seed(Key(container_keys()))? {
                    if !container.run.read_field(&key, &mut map)? {
                        container.limits.read_field(&key, &mut map)?;
                    }
                }
                Ok(container)
            }
        }

        deserializer.deserialize_any(ContainerVisitor)
    }
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

fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Scalar(ScalarKind::Text, parse_name)
        .deserialize(d)?
        .ok_or_else(|| de::Error::custom("an empty name"))
}

/// A mix weight: 0 to a million, so no mix can sum past what the policies
/// count in.
pub(super) fn parse_weight(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|weight| *weight <= MAX_WEIGHT)
        .ok_or_else(|| format!("{text:?} is not a weight from 0 to {MAX_WEIGHT}"))
}

/// The largest weight of one behaviour in a mix.
pub(super) const MAX_WEIGHT: u32 = 1_000_000;

impl Scalarish for u32 {
    const KIND: ScalarKind = ScalarKind::Integer;
}

fn weight<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Scalar(ScalarKind::Integer, parse_weight)
        .deserialize(d)?
        .ok_or_else(|| de::Error::custom("a weight is a number from 0 to 1000000"))
}

fn jobs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Scalar(ScalarKind::Integer, parse_jobs).deserialize(d)
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
        parse_name(name)
            .map(|name| T::with_name(&name))
            .map_err(E::custom)
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// An entry that can be written as its name alone.
pub(super) trait Named {
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
    #[serde(default, deserialize_with = "jobs")]
    jobs: Option<u64>,
    #[serde(default, deserialize_with = "name_or_map_list")]
    servers: Option<Vec<ServerEntry>>,
    #[serde(default, deserialize_with = "name_or_map_list")]
    tests: Option<Vec<TestEntry>>,
    #[serde(default)]
    load: LoadOptions,
    #[serde(default)]
    container: ContainerFile,
    #[serde(default)]
    thresholds: ThresholdOptions,
    #[serde(default)]
    target: Option<super::target::TargetSettings>,
}

/// Where `needle` first stands as a YAML scalar in `text`: (line, column),
/// 1-based; for errors found after parsing.
pub(super) fn locate(text: &str, needle: &str) -> (usize, usize) {
    if needle.is_empty() {
        return (1, 1);
    }
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
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Self, ScenarioFileError> {
        match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(serde_yaml::Value::Null) => return Ok(ScenarioFile::default()),
            Ok(serde_yaml::Value::Mapping(_)) | Err(_) => {}
            Ok(_) => {
                return Err(ScenarioFileError {
                    file: file.display().to_string(),
                    line: 1,
                    column: 1,
                    message: "a scenario is a map with the keys seed, jobs, servers, tests, load, \
                              container, thresholds and target"
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
            jobs: raw.jobs,
            servers: raw.servers,
            tests: raw.tests,
            load: raw.load,
            container: raw.container,
            thresholds: raw.thresholds,
            target: raw.target,
        })
    }

    /// Read and parse `file`.
    pub(crate) fn read(file: &Path) -> Result<(Self, String), ScenarioFileError> {
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
    use std::time::Duration;

    use super::*;
    use crate::plan::RestartPolicy;

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
        assert_eq!(servers[1].options.threads, Some(8));
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
            scenario.container.limits.restart,
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
            "s.yaml:4:3: load: unknown field `colour`, expected one of `requests`, `duration`, `cell_time`, `rate`, `concurrency`, `processes`, `timeout`, `give_up_after`, `keep_alive`, `settle`, `stall`"
        );
    }

    #[test]
    fn empty_names_and_out_of_range_values_are_located_errors() {
        assert_eq!(
            parse("tests: [\"\"]\n").unwrap_err(),
            "s.yaml:1:9: tests[0]: an empty name"
        );
        assert_eq!(
            parse("servers:\n  - name: \"\"\n").unwrap_err(),
            "s.yaml:2:11: servers[0].name: an empty name"
        );
        assert_eq!(
            parse("load: {requests: 0}\n").unwrap_err(),
            "s.yaml:1:18: load.requests: \"0\" is not a number of requests from 1 to 1000000000"
        );
        assert_eq!(
            parse(
                "tests:\n  - name: A\n    mix: [{behaviour: PlainResponse, weight: 4294967295}]\n"
            )
            .unwrap_err(),
            "s.yaml:3:46: tests[0].mix[0].weight: \"4294967295\" is not a weight from 0 to 1000000"
        );
        assert_eq!(locate("a: b\n", ""), (1, 1));
    }

    #[test]
    fn locate_finds_whole_scalars() {
        let text = "servers:\n  - wsgirefx\n  - wsgiref # here\n";
        assert_eq!(locate(text, "wsgiref"), (3, 5));
    }
}
