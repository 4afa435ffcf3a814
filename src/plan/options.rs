//! Options as people give them: every knob of a concern (the load, how
//! servers run, their limits, the thresholds, the server knobs) in one
//! all-optional struct that scenario files (serde) read and the command
//! line's flags (`cli.rs`) convert into. Each option is declared once, with its range (one
//! parse function that both use, so a file accepts exactly what a flag
//! accepts) and its default (shown in `--help`, applied by `resolve`).
//! Layers merge with [`Layer::or`]: flags over the test, over the file,
//! over the defaults.

use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::{ContainerOptions, Limits, LoadSpec, NetworkMode, RestartPolicy, Thresholds, cpus};
use crate::units::{parse_bytes, parse_duration};

/// Requests per cell unless told.
pub(crate) const DEFAULT_REQUESTS: u64 = 1000;
/// Connections unless told.
pub(crate) const DEFAULT_CONCURRENCY: u64 = 8;
/// Longest wait for one answer unless told (the seed's).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// A bench cell's time budget unless told: long enough to see gunicorn's
/// default 30 s worker timeout fire and the worker come back.
pub(crate) const DEFAULT_CELL_TIME: Duration = Duration::from_secs(45);
/// The give-up time, unless told, is this share of the load's time budget.
pub(crate) const GIVE_UP_SHARE_OF_BUDGET: f64 = 0.8;
/// Give-up time unless told, for a load without a time budget.
pub(crate) const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// Base image unless told: the official Python image.
pub(crate) const DEFAULT_BASE_IMAGE: &str = "python:3.12-slim";
/// Base image of the Python 2.7 servers unless told.
pub(crate) const DEFAULT_BASE_IMAGE_PY27: &str = "python:2.7-slim";
/// labour's offline base (`images/base/build.sh`), used unless told where
/// the engine has it and not [`DEFAULT_BASE_IMAGE`].
pub(crate) const OFFLINE_BASE_IMAGE: &str = "labour/base:bookworm";
/// labour's offline Python 2.7 base (`images/base/build-py27.sh`).
pub(crate) const OFFLINE_BASE_IMAGE_PY27: &str = "labour/base:bullseye-py27";
/// Readiness deadline unless told.
pub(crate) const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Stop grace unless told.
pub(crate) const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Network of server containers unless told.
pub(crate) const DEFAULT_NETWORK: NetworkMode = NetworkMode::Auto;
/// Restart policy unless told.
pub(crate) const DEFAULT_RESTART: RestartPolicy = RestartPolicy::OnFailure { max_retries: None };
/// Whether servers get an init process unless told.
pub(crate) const DEFAULT_INIT: bool = true;
/// The least stretch of innocent requests waiting with none back that is a
/// stall (`--stall`).
pub(crate) const DEFAULT_STALL: Duration = Duration::from_secs(1);
/// Whether a bench cell ends once its answer is known (`--settle`).
pub(crate) const DEFAULT_SETTLE: bool = true;
/// A server container's memory limit unless told: a leaking server is
/// OOM-killed instead of taking the host down (the Leak test's 400 MiB of
/// leaks reach it).
pub(crate) const DEFAULT_MEMORY: u64 = 256 << 20;
/// A server container's pids limit unless told: a server that forks or
/// spawns threads without end is stopped there.
pub(crate) const DEFAULT_PIDS_LIMIT: u64 = 512;
/// The listen queue (listen(2) backlog) every server that has the setting
/// is started with unless told; unlike the other knobs, whose default is
/// each server's own, one for all, so that no server drops connections
/// because its own default queue (wsgiref's and cheroot's 5) is short.
/// Capped at the host's `net.core.somaxconn` (see [`super::somaxconn`]).
pub(crate) const DEFAULT_BACKLOG: u64 = 1024;

/// How a default reads in `--help`.
pub(crate) trait ShowDefault {
    /// The default, as a user would type it.
    fn show(&self) -> String;
}

impl ShowDefault for u64 {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl ShowDefault for bool {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl ShowDefault for &str {
    fn show(&self) -> String {
        (*self).to_string()
    }
}

impl ShowDefault for Duration {
    fn show(&self) -> String {
        humantime::format_duration(*self).to_string()
    }
}

impl ShowDefault for RestartPolicy {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl ShowDefault for NetworkMode {
    fn show(&self) -> String {
        self.as_str().into()
    }
}

/// A size as Docker writes it (`256m`, `1g`), for `--help`.
pub(crate) struct Size(pub u64);

impl ShowDefault for Size {
    fn show(&self) -> String {
        match self.0 {
            bytes if bytes % (1 << 30) == 0 => format!("{}g", bytes >> 30),
            bytes if bytes % (1 << 20) == 0 => format!("{}m", bytes >> 20),
            bytes if bytes % (1 << 10) == 0 => format!("{}k", bytes >> 10),
            bytes => bytes.to_string(),
        }
    }
}

/// `help` with its default appended, as `--help` writes defaults.
pub(crate) fn with_default(help: &str, default: &dyn ShowDefault) -> String {
    format!("{} [default: {}]", plain_help(help), default.show())
}

/// `help` as `--help` writes it: no trailing full stop.
pub(crate) fn plain_help(help: &str) -> &str {
    help.trim().trim_end_matches('.')
}

/// What a scenario file may write for a kind of value: integers and
/// floats as YAML numbers, booleans as booleans, and everything with a
/// unit (durations, sizes, shares, policies) as a string or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    /// A whole number (`u64`).
    Integer,
    /// A number (`f64`).
    Number,
    /// `true` or `false`.
    Bool,
    /// A string, or a number read as text (`30` seconds).
    Text,
}

/// The kind of scalar a value type is written as.
pub(crate) trait Scalarish {
    /// Its kind.
    const KIND: ScalarKind;
}

impl Scalarish for u64 {
    const KIND: ScalarKind = ScalarKind::Integer;
}

impl Scalarish for f64 {
    const KIND: ScalarKind = ScalarKind::Number;
}

impl Scalarish for bool {
    const KIND: ScalarKind = ScalarKind::Bool;
}

macro_rules! text_scalars {
    ($($ty:ty),*) => { $(impl Scalarish for $ty { const KIND: ScalarKind = ScalarKind::Text; })* };
}

text_scalars!(Duration, String, PathBuf, RestartPolicy, NetworkMode);

/// A scalar option's value in a scenario file, read through the same parse
/// function as its flag, so the file accepts exactly what the flag accepts
/// and the error points at the value itself.
pub(crate) struct Scalar<T>(pub ScalarKind, pub fn(&str) -> Result<T, String>);

impl<'de, T> DeserializeSeed<'de> for Scalar<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_option(ScalarVisitor(self.0, self.1))
    }
}

struct ScalarVisitor<T>(ScalarKind, fn(&str) -> Result<T, String>);

impl<T> ScalarVisitor<T> {
    fn parse<E: de::Error>(
        &self,
        text: &str,
        given: de::Unexpected,
        fits: bool,
    ) -> Result<Option<T>, E> {
        if !fits {
            return Err(E::invalid_type(given, self));
        }
        (self.1)(text).map(Some).map_err(E::custom)
    }
}

impl<'de, T> Visitor<'de> for ScalarVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            ScalarKind::Integer => "u64",
            ScalarKind::Number => "f64",
            ScalarKind::Bool => "a boolean",
            ScalarKind::Text => "a number or a string",
        })
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
        let fits = self.0 == ScalarKind::Text;
        self.parse(text, de::Unexpected::Str(text), fits)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        let fits = self.0 == ScalarKind::Bool;
        self.parse(&value.to_string(), de::Unexpected::Bool(value), fits)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        let fits = self.0 != ScalarKind::Bool;
        self.parse(&n.to_string(), de::Unexpected::Unsigned(n), fits)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        let fits = self.0 != ScalarKind::Bool;
        self.parse(&n.to_string(), de::Unexpected::Signed(n), fits)
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        let fits = matches!(self.0, ScalarKind::Number | ScalarKind::Text)
            || (self.0 == ScalarKind::Integer && n.fract() == 0.0 && n.is_finite());
        self.parse(&n.to_string(), de::Unexpected::Float(n), fits)
    }
}

/// A map key that must be one of `.0`: an unknown key is an error raised
/// while reading the key itself, so it points at the key.
pub(crate) struct Key(pub &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        struct KeyVisitor(&'static [&'static str]);

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = String;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "one of {}", self.0.join(", "))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
                if self.0.contains(&key) {
                    Ok(key.to_string())
                } else {
                    Err(E::unknown_field(key, self.0))
                }
            }
        }

        deserializer.deserialize_str(KeyVisitor(self.0))
    }
}

/// A set of options read from a map (a scenario file's section, or a
/// test's entry that also has keys of its own).
pub(crate) trait Layer: Default + Sized {
    /// The keys it takes, for "expected one of" errors.
    const FIELDS: &'static [&'static str];

    /// Read `key`'s value from `map` if it is one of these options;
    /// `false` when it is not.
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;

    /// These options, with `fallback`'s where these have none.
    fn or(self, fallback: Self) -> Self;
}

/// Deserialize a map of `L`'s keys only; an unknown key is an error.
pub(crate) fn deserialize_layer<'de, L: Layer, D: Deserializer<'de>>(d: D) -> Result<L, D::Error> {
    struct LayerVisitor<L>(PhantomData<L>);

    impl<'de, L: Layer> Visitor<'de> for LayerVisitor<L> {
        type Value = L;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a map with the keys {}", L::FIELDS.join(", "))
        }

        fn visit_unit<E: de::Error>(self) -> Result<L, E> {
            Ok(L::default())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<L, A::Error> {
            let mut layer = L::default();
            while let Some(key) = map.next_key_seed(Key(L::FIELDS))? {
                layer.read_field(&key, &mut map)?;
            }
            Ok(layer)
        }
    }

    d.deserialize_any(LayerVisitor(PhantomData))
}

/// Declares an all-optional set of options: the struct (read from a
/// scenario file through [`Layer`]), each field once with its help, its
/// parse function and, where it has one, its default for `--help`. The
/// command line's flags (`cli.rs`) take each field's parser and help from
/// here: `LoadOptions::requests` parses `--requests` as the file's
/// `requests:` is parsed, and `LoadOptions::help("requests")` is its help.
macro_rules! options {
    (
        $(#[$outer:meta])*
        pub struct $name:ident {
            $(
                #[doc = $doc:literal]
                $field:ident: $ty:ty $(as $kind:ident)? = $parse:path $(, default $default:expr)?;
            )*
        }
    ) => {
        $(#[$outer])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub(crate) struct $name {
            $(
                #[doc = $doc]
                pub(crate) $field: Option<$ty>,
            )*
        }

        impl $name {
            $(
                #[doc = concat!("Parse `", stringify!($field), "` as its flag and the scenario file do.")]
                pub(crate) fn $field(text: &str) -> Result<$ty, String> {
                    $parse(text)
                }
            )*

            /// A field's help for `--help`, its default appended.
            pub(crate) fn help(field: &str) -> String {
                match field {
                    $(stringify!($field) => options!(@help $doc $(, $default)?),)*
                    other => unreachable!("{} has no option {other}", stringify!($name)),
                }
            }
        }

        impl Layer for $name {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn read_field<'de, A: MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $(stringify!($field) => {
                        let kind = options!(@kind $ty $(, $kind)?);
                        self.$field = map.next_value_seed(Scalar(kind, $parse))?;
                    })*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            fn or(self, fallback: Self) -> Self {
                $name { $($field: self.$field.or(fallback.$field)),* }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_layer(d)
            }
        }
    };
    (@help $doc:literal) => { plain_help($doc).to_string() };
    (@kind $ty:ty) => { <$ty as Scalarish>::KIND };
    (@kind $ty:ty, $kind:ident) => { ScalarKind::$kind };
    (@help $doc:literal, $default:expr) => { with_default($doc, &$default) };
}

// The ranges: one parse function per kind of value, for flags and files.

fn within<T: PartialOrd + fmt::Display + Copy>(
    what: &'static str,
    low: T,
    high: T,
) -> impl Fn(T, &str) -> Result<T, String> {
    move |value, text| {
        if value >= low && value <= high {
            Ok(value)
        } else {
            Err(format!("{text:?} is not {what} from {low} to {high}"))
        }
    }
}

fn whole(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("{text:?} is not a whole number"))
}

fn seconds_within(low: Duration, high: Duration, text: &str) -> Result<Duration, String> {
    let value = parse_duration(text)?;
    if value >= low && value <= high {
        Ok(value)
    } else {
        Err(format!(
            "{text:?} is not a duration from {} to {}",
            low.show(),
            high.show()
        ))
    }
}

/// Requests per cell: 1 to a billion.
pub(crate) fn parse_requests(text: &str) -> Result<u64, String> {
    within("a number of requests", 1, 1_000_000_000)(whole(text)?, text)
}

/// Connections: 1 to 100 000.
pub(crate) fn parse_concurrency(text: &str) -> Result<u64, String> {
    within("a number of connections", 1, 100_000)(whole(text)?, text)
}

/// Worker processes of the client: 1 to 1024.
pub(crate) fn parse_processes(text: &str) -> Result<u64, String> {
    within("a number of processes", 1, 1024)(whole(text)?, text)
}

/// Runs of each cell: 1 to 100.
pub(crate) fn parse_repeat(text: &str) -> Result<u64, String> {
    within("a number of runs", 1, 100)(whole(text)?, text)
}

/// Cells at once: 1 to 256.
pub(crate) fn parse_jobs(text: &str) -> Result<u64, String> {
    within("a number of jobs", 1, 256)(whole(text)?, text)
}

/// How long a load may send: 1 ms to a week.
pub(crate) fn parse_load_time(text: &str) -> Result<Duration, String> {
    seconds_within(
        Duration::from_millis(1),
        Duration::from_secs(7 * 24 * 3600),
        text,
    )
}

/// A timeout or a wait: 1 ms to a day.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    seconds_within(
        Duration::from_millis(1),
        Duration::from_secs(24 * 3600),
        text,
    )
}

/// A stall threshold: 10 ms (the client's resolution is 1 ms) to an hour.
pub(crate) fn parse_stall(text: &str) -> Result<Duration, String> {
    seconds_within(Duration::from_millis(10), Duration::from_secs(3600), text)
}

/// A stop grace: 0 to an hour (Docker takes whole seconds).
pub(crate) fn parse_grace(text: &str) -> Result<Duration, String> {
    seconds_within(Duration::ZERO, Duration::from_secs(3600), text)
}

/// Open-loop rate: 0.01 to ten million requests per second.
pub(crate) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() => {
            within("a number of requests per second", 0.01, 10_000_000.0)(rate, text)
        }
        _ => Err(format!(
            "{text:?} is not a number of requests per second above zero"
        )),
    }
}

/// A yes or no.
pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

/// What `none` (no limit) is read as, where a limit has a default.
const NO_LIMIT: u64 = 0;

/// A memory limit: 6 MiB (Docker's least) to 1 TiB, or `none`.
pub(crate) fn parse_memory(text: &str) -> Result<u64, String> {
    if text.trim() == "none" {
        return Ok(NO_LIMIT);
    }
    let bytes = parse_bytes(text)?;
    if (6 << 20..=1 << 40).contains(&bytes) {
        Ok(bytes)
    } else {
        Err(format!(
            "{text:?} is not a memory limit from 6m to 1024g, or none"
        ))
    }
}

/// A CPU limit: 0.01 to 1024 CPUs.
pub(crate) fn parse_cpus(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(cpus) if cpus.is_finite() && cpus > 0.0 => {
            within("a number of CPUs", 0.01, 1024.0)(cpus, text)
        }
        _ => Err(format!("{text:?} is not a number of CPUs above zero")),
    }
}

/// A pids limit: 16 to a million, or `none`.
pub(crate) fn parse_pids(text: &str) -> Result<u64, String> {
    if text.trim() == "none" {
        return Ok(NO_LIMIT);
    }
    within("a number of processes", 16, 1_000_000)(whole(text)?, text)
}

/// `no`, `on-failure`, `on-failure:N` or `always`.
pub(crate) fn parse_restart(text: &str) -> Result<RestartPolicy, String> {
    text.trim().parse()
}

/// `auto`, `bridge` or `host`.
pub(crate) fn parse_network(text: &str) -> Result<NetworkMode, String> {
    match text.trim() {
        "auto" => Ok(NetworkMode::Auto),
        "bridge" => Ok(NetworkMode::Bridge),
        "host" => Ok(NetworkMode::Host),
        _ => Err(format!("{text:?} is not a network: auto, bridge or host")),
    }
}

/// A name: not empty, no control characters or spaces.
pub(crate) fn parse_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("an empty name".into());
    }
    if let Some(bad) = name.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{text:?} has a character a name cannot have ({bad:?})"
        ));
    }
    Ok(name.to_string())
}

/// A directory.
pub(crate) fn parse_dir(text: &str) -> Result<PathBuf, String> {
    if text.trim().is_empty() {
        return Err("an empty path".into());
    }
    Ok(PathBuf::from(text))
}

/// `0.1` or `"10%"`, between 0 and 1.
pub(crate) fn parse_ratio(text: &str) -> Result<f64, String> {
    let value = match text.trim().strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.trim().parse::<f64>(),
    };
    value
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| format!("{text:?} is not a share like 0.1 or \"10%\""))
}

/// Worker processes of a server: 1 to 1024.
pub(crate) fn parse_workers(text: &str) -> Result<u64, String> {
    within("a number of workers", 1, 1024)(whole(text)?, text)
}

/// Threads per worker: 1 to 10 000.
pub(crate) fn parse_threads(text: &str) -> Result<u64, String> {
    within("a number of threads", 1, 10_000)(whole(text)?, text)
}

/// A worker timeout in whole seconds: 1 to a day.
pub(crate) fn parse_worker_timeout(text: &str) -> Result<u64, String> {
    within("a number of seconds", 1, 86_400)(whole(text)?, text)
}

/// Requests before a worker is recycled: 1 to a billion.
pub(crate) fn parse_max_requests(text: &str) -> Result<u64, String> {
    within("a number of requests", 1, 1_000_000_000)(whole(text)?, text)
}

/// A listen queue length: 1 to 65535.
pub(crate) fn parse_backlog(text: &str) -> Result<u64, String> {
    within("a listen queue length", 1, 65_535)(whole(text)?, text)
}

options! {
    /// How much load, and how it is sent (`load:` in a scenario, or a test's
    /// own keys).
    pub struct LoadOptions {
        #[doc = "Requests per server and test; with a time limit too, whichever ends first."]
        requests: u64 = parse_requests, default DEFAULT_REQUESTS;
        #[doc = "Send for this long (30s, 2m), without a number of requests."]
        duration: Duration = parse_load_time;
        #[doc = "A cell's time budget: its load ends at its request count or when this is spent, whichever comes first, and the cell says which (ended_by). Long enough to see a server's 30 s worker timeout fire and the worker come back."]
        cell_time: Duration = parse_load_time, default DEFAULT_CELL_TIME;
        #[doc = "Open loop: this many requests per second over all connections, each on a schedule; latency counts from when a request was meant to start, so a stalled server cannot hide its stall (wrk2-style) [default: closed loop]."]
        rate: f64 = parse_rate;
        #[doc = "Connections sending requests at once."]
        concurrency: u64 = parse_concurrency, default DEFAULT_CONCURRENCY;
        #[doc = "Worker processes the connections are spread over, as the seed forked them [default: the number of CPUs]."]
        processes: u64 = parse_processes;
        #[doc = "Longest wait for one complete answer; a request past it counts as a timeout."]
        timeout: Duration = parse_timeout, default DEFAULT_TIMEOUT;
        #[doc = "Stop a cell's load when nothing has come back as expected for this long: the server is unresponsive [default: 80% of the cell's time budget]."]
        give_up_after: Duration = parse_timeout;
        #[doc = "Reuse connections (HTTP keep-alive); without it each request has its own connection and asks for Connection: close, as the seed's client and nginx's default upstream do [default: false for bench, true for load]."]
        keep_alive: bool = parse_bool;
        #[doc = "End a cell's load of a number of requests once its answer is known: after 3 s and 200 requests, when the 95% interval of its failure share lies wholly on one side of 10% and the 95% interval of its rate is within 5% of it (ended_by: settled); off runs every cell to its count or budget. Never for a test with faults or with a behaviour that adds up (leaks, wedges)."]
        settle: bool = parse_bool, default DEFAULT_SETTLE;
        #[doc = "A stretch at least this long in which innocent requests waited and none came back is a stall; a cell within 10% that has one is stalled, not held."]
        stall: Duration = parse_stall, default DEFAULT_STALL;
    }
}

options! {
    /// How servers are built and run, for every server (`container:` in a
    /// scenario).
    pub struct RunOptions {
        #[doc = "Network of the server containers: bridge publishes the server's port on the server address only (127.0.0.1 for a local engine); host makes the server bind that address on a free port; auto is bridge where the engine has Docker's bridge network and host where it has none (said at the start and recorded)."]
        network: NetworkMode = parse_network, default DEFAULT_NETWORK;
        #[doc = "Base image every server image builds FROM [default: python:3.12-slim; on an engine without it that has labour's offline base labour/base:bookworm (images/base/build.sh, made by scripts/docker-host.sh), that one, said at the start]."]
        base_image: String = parse_name;
        #[doc = "Base image the Python 2.7 servers (the seed's cogen, fapws3 and the *-py27 variants) build FROM [default: python:2.7-slim, or labour/base:bullseye-py27 (images/base/build-py27.sh) as for --base-image]."]
        base_image_py27: String = parse_name;
        #[doc = "Network used while building images [default: host with --network host, Docker's default otherwise]."]
        build_network: String = parse_name;
        #[doc = "Longest wait for a started server to answer its first request."]
        ready_timeout: Duration = parse_timeout, default DEFAULT_READY_TIMEOUT;
        #[doc = "Grace between SIGTERM and SIGKILL when stopping a server."]
        stop_timeout: Duration = parse_grace, default DEFAULT_STOP_TIMEOUT;
        #[doc = "Keep each server's full build log in DIR/SERVER.log [default: ~/.cache/labour/build-logs]."]
        build_logs: PathBuf = parse_dir;
    }
}

options! {
    /// A server's limits and supervision (`container:` in a scenario, for
    /// every server or one).
    pub struct LimitOptions {
        #[doc = "Memory limit of each server container, as Docker writes it (64m, 1g), or none; not enforced by the local runtime, which says so."]
        memory: u64 as Text = parse_memory, default Size(DEFAULT_MEMORY);
        #[doc = "Memory plus swap limit [default: equal to --memory, so no swap]."]
        memory_swap: u64 as Text = parse_memory;
        #[doc = "CPU limit of each server container, in CPUs (0.5, 2); Docker only."]
        cpus: f64 = parse_cpus;
        #[doc = "Largest number of processes and threads in each server container, or none; Docker only."]
        pids_limit: u64 as Text = parse_pids, default DEFAULT_PIDS_LIMIT;
        #[doc = "What the engine (or the local runtime) does when a server exits: no, on-failure, on-failure:N (at most N restarts) or always."]
        restart: RestartPolicy = parse_restart, default DEFAULT_RESTART;
        #[doc = "Run an init process in each server container (reaps zombies, forwards signals); without it a server running as PID 1 ignores its own SIGSEGV and looks falsely robust."]
        init: bool = parse_bool, default DEFAULT_INIT;
    }
}

options! {
    /// Limits on a cell's failures; a cell past one fails the run
    /// (`thresholds:` in a scenario).
    pub struct ThresholdOptions {
        #[doc = "Fail the run (exit status 1) when a cell has a larger share of requests not as expected: 0.1 or 10%."]
        max_failure_ratio: f64 as Text = parse_ratio;
        #[doc = "Fail the run (exit status 1) when a cell has a larger share of innocent requests (PlainResponse) that failed: 0.01 or 1%."]
        max_innocent_failure_ratio: f64 as Text = parse_ratio;
    }
}

options! {
    /// Server knobs, mapped per server onto its own flags (`options:` of a
    /// server in a scenario); a server without one says so in the results.
    pub struct KnobOptions {
        #[doc = "Worker processes [default: per server, see `labour list servers`]."]
        workers: u64 = parse_workers;
        #[doc = "Threads per worker process."]
        threads: u64 = parse_threads;
        #[doc = "Seconds before the server kills and replaces a stuck worker (gunicorn --timeout, uWSGI --harakiri...)."]
        worker_timeout: u64 = parse_worker_timeout;
        #[doc = "Requests after which the server recycles a worker."]
        max_requests: u64 = parse_max_requests;
        #[doc = "Listen queue length (the listen(2) backlog) of every server that has the setting: connections the kernel holds until the server accepts them; past it, it drops them and the client retries a second later. Capped at the host's net.core.somaxconn."]
        backlog: u64 = parse_backlog, default DEFAULT_BACKLOG;
    }
}

/// What a load defaults to where its options say nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LoadDefaults {
    /// The time budget without `duration` or `cell_time`.
    pub budget: Option<Duration>,
    /// Keep-alive.
    pub keep_alive: bool,
    /// Whether an unresponsive server ends the load.
    pub give_up: bool,
    /// Whether a load may end once its answer is known.
    pub settle: bool,
}

impl LoadDefaults {
    /// A bench cell's: a budget of [`DEFAULT_CELL_TIME`], a new connection
    /// per request, give up on an unresponsive server.
    pub(crate) const BENCH: LoadDefaults = LoadDefaults {
        budget: Some(DEFAULT_CELL_TIME),
        keep_alive: false,
        give_up: true,
        settle: true,
    };
}

impl LoadOptions {
    /// The load these options describe; requests and duration come as a
    /// pair from whichever layer set either (merge layers with
    /// [`Layer::or`] only after pairing, see `scenario`).
    pub(crate) fn resolve(&self, defaults: LoadDefaults) -> Result<LoadSpec, String> {
        if self.duration.is_some() && self.cell_time.is_some() {
            return Err(
                "duration and cell_time both limit the load's time: give one (duration sends for \
                 that long; cell_time caps a load of requests)"
                    .into(),
            );
        }
        let requests = match (self.requests, self.duration) {
            (None, None) => Some(DEFAULT_REQUESTS),
            (requests, _) => requests,
        };
        let duration = self.duration.or(self.cell_time).or(defaults.budget);
        let give_up_after = match (self.give_up_after, defaults.give_up) {
            (Some(given), _) => Some(given),
            (None, false) => None,
            (None, true) => Some(duration.map_or(DEFAULT_GIVE_UP_AFTER, |budget| {
                budget.mul_f64(GIVE_UP_SHARE_OF_BUDGET)
            })),
        };
        Ok(LoadSpec {
            requests,
            duration,
            rate: self.rate,
            concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY) as usize,
            processes: self.processes.map_or_else(cpus, |p| p as usize),
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            give_up_after,
            keep_alive: self.keep_alive.unwrap_or(defaults.keep_alive),
            // A load of a given duration runs for it; only a count may end
            // sooner than asked.
            settle: self.settle.unwrap_or(DEFAULT_SETTLE) && defaults.settle && requests.is_some(),
            stall: self.stall.unwrap_or(DEFAULT_STALL),
        })
    }

    /// These options with `fallback`'s where these have none, requests and
    /// duration taken together from the first that sets either.
    pub(crate) fn over(self, fallback: LoadOptions) -> LoadOptions {
        let paired = self.requests.is_some() || self.duration.is_some();
        let time_set = self.duration.is_some() || self.cell_time.is_some();
        let (requests, duration) = if paired {
            (self.requests, self.duration)
        } else {
            (fallback.requests, fallback.duration)
        };
        let cell_time = if time_set {
            self.cell_time
        } else {
            fallback.cell_time
        };
        LoadOptions {
            requests,
            duration,
            cell_time,
            ..self.or(fallback)
        }
    }
}

impl RunOptions {
    /// How servers are built and run.
    pub(crate) fn resolve(&self) -> ContainerOptions {
        ContainerOptions {
            network: self.network.unwrap_or(DEFAULT_NETWORK),
            base_image: self.base_image.clone(),
            base_image_py27: self.base_image_py27.clone(),
            build_network: self.build_network.clone(),
            ready_timeout: self.ready_timeout.unwrap_or(DEFAULT_READY_TIMEOUT),
            stop_timeout: self.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT),
            build_log_dir: self.build_logs.clone(),
        }
    }
}

impl LimitOptions {
    /// The complete limits, or why these cannot be.
    pub(crate) fn resolve(&self) -> Result<Limits, String> {
        let limit = |given: Option<u64>, default: u64| match given.unwrap_or(default) {
            NO_LIMIT => None,
            value => Some(value),
        };
        let memory = limit(self.memory, DEFAULT_MEMORY);
        if self.memory_swap.is_some() && memory.is_none() {
            return Err("a memory_swap limit needs a memory limit too".into());
        }
        match (memory, self.memory_swap) {
            (None, Some(_)) => return Err("a memory_swap limit needs a memory limit too".into()),
            (Some(memory), Some(swap)) if swap < memory => {
                return Err(
                    "memory_swap must be at least memory (it counts memory plus swap)".into(),
                );
            }
            _ => {}
        }
        Ok(Limits {
            memory_bytes: memory,
            memory_swap_bytes: self.memory_swap.filter(|&swap| swap != NO_LIMIT),
            cpus: self.cpus,
            pids_limit: limit(self.pids_limit, DEFAULT_PIDS_LIMIT),
            restart: self.restart.unwrap_or(DEFAULT_RESTART),
            init: self.init.unwrap_or(DEFAULT_INIT),
        })
    }
}

impl ThresholdOptions {
    /// The thresholds.
    pub(crate) fn resolve(&self) -> Thresholds {
        Thresholds {
            max_failure_ratio: self.max_failure_ratio,
            max_innocent_failure_ratio: self.max_innocent_failure_ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file<L: Layer>(text: &str) -> Result<L, String> {
        let deserializer = serde_yaml::Deserializer::from_str(text);
        deserialize_layer(deserializer).map_err(|e: serde_yaml::Error| e.to_string())
    }

    #[test]
    fn a_file_accepts_what_a_flag_accepts_and_no_more() {
        let load: LoadOptions = file("{requests: 10, timeout: 5s, keep_alive: true}").unwrap();
        assert_eq!(load.requests, Some(10));
        assert_eq!(load.timeout, Some(Duration::from_secs(5)));
        assert_eq!(load.keep_alive, Some(true));
        for (text, problem) in [
            ("{requests: 0}", "from 1 to"),
            ("{concurrency: 0}", "from 1 to"),
            ("{rate: 0.000001}", "from 0.01"),
            ("{timeout: 1e19}", "from 1ms"),
            (
                "{requests: 2.5}",
                "invalid type: floating point `2.5`, expected u64",
            ),
            (
                "{requests: many}",
                "invalid type: string \"many\", expected u64",
            ),
        ] {
            let error = file::<LoadOptions>(text).unwrap_err();
            assert!(error.contains(problem), "{text}: {error}");
        }
        let error = file::<LimitOptions>("{cpus: .nan}").unwrap_err();
        assert!(error.contains("CPUs"), "{error}");
        let error = file::<LimitOptions>("{pids_limit: 0}").unwrap_err();
        assert!(error.contains("from 16 to"), "{error}");
        let knobs: KnobOptions = file("{backlog: 4096}").unwrap();
        assert_eq!(knobs.backlog, Some(4096));
        for text in ["{backlog: 0}", "{backlog: 65536}"] {
            let error = file::<KnobOptions>(text).unwrap_err();
            assert!(
                error.contains("a listen queue length from 1 to 65535"),
                "{error}"
            );
        }
        let error = file::<LoadOptions>("{colour: red}").unwrap_err();
        assert!(
            error.contains("unknown field `colour`, expected one of `requests`"),
            "{error}"
        );
    }

    #[test]
    fn layers_pair_requests_with_duration_and_fill_the_rest() {
        let flags = LoadOptions {
            duration: Some(Duration::from_secs(5)),
            ..LoadOptions::default()
        };
        let file = LoadOptions {
            requests: Some(10),
            concurrency: Some(3),
            ..LoadOptions::default()
        };
        let merged = flags.over(file);
        assert_eq!(
            merged.requests, None,
            "the flag's duration comes without requests"
        );
        assert_eq!(merged.concurrency, Some(3));
        let load = merged.resolve(LoadDefaults::BENCH).unwrap();
        assert_eq!(load.duration, Some(Duration::from_secs(5)));
        assert_eq!(load.give_up_after, Some(Duration::from_secs(4)));
        let plain = LoadOptions::default().resolve(LoadDefaults::BENCH).unwrap();
        assert_eq!(plain.requests, Some(DEFAULT_REQUESTS));
        assert_eq!(plain.duration, Some(DEFAULT_CELL_TIME));
    }

    #[test]
    fn help_shows_the_default_from_its_constant() {
        assert_eq!(
            with_default(" Connections. ", &DEFAULT_CONCURRENCY),
            "Connections [default: 8]"
        );
        assert_eq!(with_default("x", &DEFAULT_CELL_TIME), "x [default: 45s]");
    }
}
