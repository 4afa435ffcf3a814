//! What a request asks the stress application to do, and which outcomes
//! count as "as expected" for it.
//!
//! The application side lives in `images/app/labour_app.py`; a request is
//! `GET /<Name>?<params>` (`POST` for `EchoUpload`). Names, parameters and
//! defaults must agree with the app's `BEHAVIOURS` table: [`SPECS`] is the
//! Rust side, and a test compares the two.

mod outcome;
mod table;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use outcome::Outcome;
pub use table::{BehaviourSpec, Expect, JsonText, ParamSpec};

use table::{Param, behaviour_enum, behaviours, json};

/// Body of `PlainResponse` when no `length` is given.
pub(crate) const PONG: &[u8] = b"Pong!\n";
/// The body chunk `TrickleResponse` sends per interval.
pub(crate) const TRICKLE_CHUNK: &[u8] = b"trickle\n";

/// The longest body a `PlainResponse` may ask for.
const MAX_LENGTH: u64 = 100 << 20;
/// The most bytes a behaviour may read, keep or send.
const MAX_BYTES: u64 = 1 << 30;
/// The biggest upload: the client holds it in memory.
const MAX_UPLOAD: u64 = 256 << 20;
/// The longest a behaviour may sleep, spin or trickle, in seconds.
const MAX_SECONDS: f64 = 3600.0;

/// How `BadStatus` misuses `start_response`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BadStatusMode {
    /// An invalid status line.
    Invalid,
    /// Called twice without `exc_info`.
    Twice,
}

/// The files `IOBound` may read, as the application allows them:
/// `/dev/zero`, or a file under its fixtures directory (`images/app/fixtures/`),
/// named relative to it (`sample.txt`, on every runtime) or by its path in a
/// container (`/app/fixtures/sample.txt`); never through `..`.
fn readable(filename: &String) -> bool {
    use std::path::{Component, Path};
    let under = |path: &Path| {
        path.components().next().is_some()
            && path.components().all(|c| matches!(c, Component::Normal(_)))
    };
    filename == "/dev/zero"
        || under(Path::new(filename))
        || Path::new(filename)
            .strip_prefix("/app/fixtures")
            .is_ok_and(under)
}

/// A status `PlainResponse` can answer with and still have a body.
fn answerable(status: &u16) -> bool {
    (200..=599).contains(status) && *status != 204 && *status != 304
}

behaviours! {
    /// Answer at once with `status`, and `length` bytes (or "Pong!").
    PlainResponse {
        summary: "answer at once: 'Pong!' or length bytes, with status",
        expect: OwnStatus,
        terse: true,
        params: {
            /// Body length in bytes; `None` answers "Pong!\n".
            length: Option<u64> = None, "integer", max Some(MAX_LENGTH);
            /// HTTP status to answer with.
            status: u16 = 200u16, "status", check answerable;
        },
        body: Some((*status, length.unwrap_or(PONG.len() as u64))),
        upload: None,
    }
    /// Send half of the body, sleep, send the rest.
    Sleeping {
        summary: "send half the body, sleep, send the rest",
        expect: Ok,
        terse: false,
        params: {
            /// Seconds to sleep inside the worker.
            sleep_duration: f64 = 1.0, "seconds", max MAX_SECONDS;
        },
        body: None,
        upload: None,
    }
    /// Read `length` bytes of `filename`, then answer.
    IOBound {
        summary: "read length bytes of filename, then answer",
        expect: Ok,
        terse: false,
        params: {
            /// File read inside the container: `/dev/zero`, or one under
            /// the application's fixtures directory.
            filename: String = "/dev/zero", "path", check readable;
            /// Bytes to read.
            length: u64 = 1u64 << 20, "integer", max MAX_BYTES;
        },
        body: None,
        upload: None,
    }
    /// Keep `how_many` more bytes referenced for the life of the worker.
    LeakMemory {
        summary: "keep how_many more bytes for the life of the worker",
        expect: Ok,
        terse: false,
        params: {
            /// Bytes leaked per request.
            how_many: u64 = 1024u64, "integer", max MAX_BYTES;
        },
        body: None,
        upload: None,
    }
    /// Spin forever in pure Python.
    PythonWedge {
        summary: "spin forever in pure Python",
        expect: Crash,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// Send SIGSEGV to the worker process.
    SIGSEGV {
        summary: "send SIGSEGV to the worker's own process",
        expect: Crash,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// Read address 0 through ctypes: a real invalid memory access.
    RealSegfault {
        summary: "read address 0 through ctypes: a real invalid memory access",
        expect: Crash,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// `os.abort()`.
    Abort {
        summary: "os.abort(): SIGABRT, no cleanup",
        expect: Crash,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// `os._exit(exit_code)`.
    WorkerExit {
        summary: "os._exit(exit_code): the worker ends at once",
        expect: Crash,
        terse: false,
        params: {
            /// The exit code.
            exit_code: u8 = 1u8, "exit code";
        },
        body: None,
        upload: None,
    }
    /// SIGKILL to the worker's own process.
    SelfKill {
        summary: "SIGKILL to the worker's own process",
        expect: Crash,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// An unhandled exception.
    RaiseException {
        summary: "an unhandled exception before start_response",
        expect: ServerError,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// Misuse `start_response`.
    BadStatus {
        summary: "misuse start_response: an invalid status line, or a second call",
        expect: ServerError,
        terse: false,
        params: {
            /// How.
            mode: BadStatusMode = BadStatusMode::Invalid, "invalid|twice";
        },
        body: None,
        upload: None,
    }
    /// A busy Python loop for `ms` milliseconds.
    CpuBurn {
        summary: "a busy Python loop for ms milliseconds",
        expect: Ok,
        terse: false,
        params: {
            /// Milliseconds to spin.
            ms: u64 = 100u64, "milliseconds", max 3_600_000u64;
        },
        body: None,
        upload: None,
    }
    /// A C-level sleep that holds the GIL.
    GilWedge {
        summary: "a C-level sleep that holds the GIL",
        expect: Ok,
        terse: false,
        params: {
            /// Seconds to hold it.
            seconds: f64 = 1.0, "seconds", max MAX_SECONDS;
        },
        body: None,
        upload: None,
    }
    /// Send the headers, then spin forever.
    HeadersThenWedge {
        summary: "send the headers and some body, then spin forever",
        expect: Cut,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// A slow streamed body.
    TrickleResponse {
        summary: "a slow streamed body: chunks pieces, interval seconds apart",
        expect: WholeBody,
        terse: false,
        params: {
            /// Chunks of `trickle\n`.
            chunks: u64 = 10u64, "integer", max 100_000u64;
            /// Seconds between chunks.
            interval: f64 = 0.1, "seconds", max 60.0;
        },
        body: Some((200, chunks * TRICKLE_CHUNK.len() as u64)),
        upload: None,
    }
    /// A big body.
    BigResponse {
        summary: "a body of bytes bytes",
        expect: WholeBody,
        terse: false,
        params: {
            /// Body length.
            bytes: u64 = 10u64 << 20, "integer", max MAX_BYTES;
        },
        body: Some((200, *bytes)),
        upload: None,
    }
    /// A POST whose body is read in full and its length echoed.
    EchoUpload {
        summary: "a POST of bytes bytes, read in full; its length echoed",
        expect: Echo,
        terse: false,
        params: {
            /// Bytes the client sends.
            bytes: u64 = 1u64 << 20, "integer", max MAX_UPLOAD;
        },
        body: Some((200, format!("Received {bytes} bytes\n").len() as u64)),
        upload: Some(*bytes),
    }
    /// Headers and part of the body, then the worker dies.
    TruncatedResponse {
        summary: "headers and part of the body, then the worker dies",
        expect: Cut,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// Open files and keep them.
    FdLeak {
        summary: "open count files and keep them for the life of the worker",
        expect: Ok,
        terse: false,
        params: {
            /// Descriptors leaked per request.
            count: u64 = 10u64, "integer", max 100_000u64;
        },
        body: None,
        upload: None,
    }
    /// Hold `mb` MiB for the length of the request.
    MemoryBalloon {
        summary: "hold mb MiB, every page touched, for the length of the request",
        expect: Ok,
        terse: false,
        params: {
            /// MiB allocated (every page touched).
            mb: u64 = 64u64, "MiB", max 16_384u64;
        },
        body: None,
        upload: None,
    }
    /// `time.sleep(seconds)` in the request: under ASGI, inside the
    /// coroutine, it blocks the event loop and every connection on it.
    LoopBlock {
        summary: "time.sleep(seconds), then answer: under ASGI it blocks the event loop",
        expect: Ok,
        terse: false,
        params: {
            /// Seconds to block.
            seconds: f64 = 1.0, "seconds", max MAX_SECONDS;
        },
        body: None,
        upload: None,
    }
    /// `await asyncio.sleep(seconds)`: the same sleep, awaited.
    AsyncSleep {
        summary: "await asyncio.sleep(seconds), then answer: only this request waits",
        expect: Ok,
        terse: false,
        asgi_only: "a WSGI application cannot await: it has no event loop (LoopBlock is the blocking sleep both have)",
        params: {
            /// Seconds to await.
            seconds: f64 = 1.0, "seconds", max MAX_SECONDS;
        },
        body: None,
        upload: None,
    }
    /// Never answer, using no CPU.
    NeverFinish {
        summary: "never answer: wait forever on an event nobody sets, using no CPU",
        expect: Crash,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
    /// Headers and part of the body, then an exception.
    RaiseAfterStart {
        summary: "send the headers and part of the body, then raise",
        expect: Cut,
        terse: false,
        params: {},
        body: None,
        upload: None,
    }
}

/// The interface a server speaks to the application: WSGI (the stress
/// application `images/app/labour_app.py`) or ASGI (its native async twin,
/// `images/app/labour_asgi.py`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    /// PEP 3333: a callable that returns the body.
    #[default]
    Wsgi,
    /// ASGI 3: a coroutine on an event loop.
    Asgi,
}

impl Interface {
    /// Both, in listing order.
    pub const ALL: [Interface; 2] = [Interface::Wsgi, Interface::Asgi];

    /// Its name, as servers.yaml and the reports write it.
    pub const fn name(self) -> &'static str {
        match self {
            Interface::Wsgi => "wsgi",
            Interface::Asgi => "asgi",
        }
    }

    /// Whether it is WSGI (the catalogue leaves it out then).
    pub(crate) fn is_wsgi(&self) -> bool {
        *self == Interface::Wsgi
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The behaviour called `name`.
pub(crate) fn spec(name: &str) -> Option<&'static BehaviourSpec> {
    SPECS.iter().find(|spec| spec.name == name)
}

impl Behaviour {
    /// `PlainResponse` answering 200 "Pong!": the innocent request.
    pub(crate) fn plain() -> Self {
        Behaviour::PlainResponse {
            length: None,
            status: 200,
        }
    }

    /// The request target: `/<Name>?<params>`.
    pub(crate) fn path_and_query(&self) -> String {
        let params = self.params();
        if params.is_empty() {
            return format!("/{}", self.name());
        }
        let query: Vec<String> = params
            .iter()
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect();
        format!("/{}?{}", self.name(), query.join("&"))
    }

    /// Innocent requests (PlainResponse) are the ones whose failures are
    /// collateral damage of the misbehaving ones.
    pub fn is_innocent(&self) -> bool {
        matches!(self, Behaviour::PlainResponse { .. })
    }

    /// Why the application of `interface` cannot do it (a behaviour only
    /// the ASGI application has, asked of a WSGI one); `None`: it can.
    pub fn unavailable_under(&self, interface: Interface) -> Option<&'static str> {
        let spec = spec(self.name())?;
        match interface {
            Interface::Wsgi => spec.asgi_only,
            Interface::Asgi => None,
        }
    }

    /// Whether it takes a worker down or wedges it: such behaviours are
    /// never sent in pre-flight.
    pub(crate) fn is_destructive(&self) -> bool {
        self.expect().destructive()
    }

    /// Whether what it does adds up over the load (memory or descriptors
    /// kept, workers wedged until a timeout): a mix with it has no steady
    /// state, so its early figures say nothing of its later ones, and its
    /// cells are never ended early (see `LoadSpec::settle`).
    pub(crate) fn accumulates(&self) -> bool {
        matches!(
            self,
            Behaviour::LeakMemory { .. }
                | Behaviour::FdLeak { .. }
                | Behaviour::MemoryBalloon { .. }
                | Behaviour::PythonWedge
                | Behaviour::GilWedge { .. }
                | Behaviour::HeadersThenWedge
                | Behaviour::NeverFinish
        )
    }

    /// Whether pre-flight sends it: everything a correctly set-up server
    /// must answer as expected. Destructive behaviours are left out, and so
    /// are the error-handling ones (RaiseException, BadStatus): a wrong
    /// answer to those is a finding of the run, not a broken setup.
    pub(crate) fn preflight(&self) -> bool {
        !self.is_destructive() && self.expect() != Expect::ServerError
    }

    /// Whether `outcome` is what this behaviour should get from a server
    /// that copes with it.
    pub fn is_expected(&self, outcome: &Outcome) -> bool {
        let status = self.body_check().map_or(200, |(status, _)| status);
        self.expect().accepts(outcome, status)
    }

    /// What this behaviour expects, in words, for listings and reports.
    pub fn expectation(&self) -> String {
        match (self.expect(), self.body_check()) {
            (Expect::OwnStatus, Some((status, _))) => format!("HTTP {status} with its body"),
            (expect, _) => expect.words().to_string(),
        }
    }
}

impl fmt::Display for Behaviour {
    /// `Name` or `Name?param=value&...`, the key used in results.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.path_and_query();
        f.write_str(&target[1..])
    }
}

impl FromStr for Behaviour {
    type Err = String;

    /// `Name` or `Name?param=value&...`, as in the URL; parameters left out
    /// take the application's defaults.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, query) = text.split_once('?').unwrap_or((text, ""));
        let spec = spec(name).ok_or_else(|| {
            let known: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
            format!("unknown behaviour {name:?} (known: {})", known.join(", "))
        })?;
        let mut given: BTreeMap<&str, &str> = BTreeMap::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !spec.params.iter().any(|p| p.name == key) {
                let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                return Err(if names.is_empty() {
                    format!("{name} takes no parameters, got {key:?}")
                } else {
                    format!(
                        "{name} has no parameter {key:?} (it has: {})",
                        names.join(", ")
                    )
                });
            }
            given.insert(key, value);
        }
        build(name, &given)
    }
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_protocol() {
        assert_eq!(Behaviour::plain().path_and_query(), "/PlainResponse");
        let not_found = Behaviour::PlainResponse {
            length: None,
            status: 404,
        };
        assert_eq!(not_found.path_and_query(), "/PlainResponse?status=404");
        assert_eq!(not_found.to_string(), "PlainResponse?status=404");
        let sleep = Behaviour::Sleeping {
            sleep_duration: 0.5,
        };
        assert_eq!(sleep.path_and_query(), "/Sleeping?sleep_duration=0.5");
        let sleep = Behaviour::Sleeping {
            sleep_duration: 2.0,
        };
        assert_eq!(sleep.path_and_query(), "/Sleeping?sleep_duration=2");
        let io = Behaviour::IOBound {
            filename: "/tmp/a b".into(),
            length: 10,
        };
        assert_eq!(
            io.path_and_query(),
            "/IOBound?filename=/tmp/a%20b&length=10"
        );
        assert_eq!(Behaviour::SIGSEGV.path_and_query(), "/SIGSEGV");
    }

    #[test]
    fn behaviours_parse_from_their_urls_with_defaults() {
        assert_eq!("PlainResponse".parse(), Ok(Behaviour::plain()));
        assert_eq!(
            "Sleeping".parse(),
            Ok(Behaviour::Sleeping {
                sleep_duration: 1.0
            })
        );
        assert_eq!(
            "TrickleResponse?chunks=3".parse(),
            Ok(Behaviour::TrickleResponse {
                chunks: 3,
                interval: 0.1
            })
        );
        assert_eq!(
            "BadStatus?mode=twice".parse(),
            Ok(Behaviour::BadStatus {
                mode: BadStatusMode::Twice
            })
        );
        for behaviour in [
            Behaviour::plain(),
            Behaviour::WorkerExit { exit_code: 7 },
            Behaviour::GilWedge { seconds: 0.25 },
            Behaviour::EchoUpload { bytes: 1000 },
        ] {
            assert_eq!(behaviour.to_string().parse(), Ok(behaviour));
        }
    }

    #[test]
    fn every_spec_builds_from_its_defaults_and_names_itself() {
        for spec in SPECS {
            let behaviour: Behaviour = spec.name.parse().unwrap();
            assert_eq!(behaviour.name(), spec.name);
            assert_eq!(behaviour.is_destructive(), spec.destructive);
            for (name, _) in behaviour.params() {
                assert!(
                    spec.params.iter().any(|p| p.name == name),
                    "{}: {name}",
                    spec.name
                );
            }
        }
        let io = spec("IOBound").unwrap();
        let defaults: Vec<String> = io.params.iter().map(|p| p.default.to_string()).collect();
        assert_eq!(defaults, ["\"/dev/zero\"", "1048576"]);
        assert_eq!(
            spec("PlainResponse").unwrap().params[0].default.to_string(),
            "null"
        );
    }

    #[test]
    fn parameters_out_of_their_range_are_refused() {
        assert_eq!(
            "EchoUpload?bytes=999999999999"
                .parse::<Behaviour>()
                .unwrap_err(),
            "EchoUpload: bytes=\"999999999999\" is not valid: expected integer up to 268435456"
        );
        assert_eq!(
            "PlainResponse?status=204".parse::<Behaviour>().unwrap_err(),
            "PlainResponse: status=\"204\" is not valid: expected status"
        );
        assert!("Sleeping?sleep_duration=1e9".parse::<Behaviour>().is_err());
        assert!("Sleeping?sleep_duration=NaN".parse::<Behaviour>().is_err());
        assert!("MemoryBalloon?mb=16384".parse::<Behaviour>().is_ok());
    }

    #[test]
    fn io_bound_reads_only_dev_zero_and_the_fixtures() {
        for ok in [
            "IOBound",
            "IOBound?filename=/dev/zero",
            "IOBound?filename=sample.txt",
            "IOBound?filename=/app/fixtures/sample.txt",
            "IOBound?filename=more/sample.txt&length=10",
        ] {
            assert!(ok.parse::<Behaviour>().is_ok(), "{ok}");
        }
        for refused in [
            "IOBound?filename=/etc/passwd",
            "IOBound?filename=../labour_app.py",
            "IOBound?filename=/app/fixtures/../labour_app.py",
            "IOBound?filename=/app/fixtures",
            "IOBound?filename=/dev/urandom",
            "IOBound?filename=",
        ] {
            assert_eq!(
                refused
                    .parse::<Behaviour>()
                    .unwrap_err()
                    .split(" is not valid")
                    .nth(1),
                Some(": expected path"),
                "{refused}"
            );
        }
    }

    #[test]
    fn the_allocating_behaviours_have_the_apps_bounds() {
        let max = |behaviour: &str, param: &str| {
            spec(behaviour)
                .unwrap()
                .params
                .iter()
                .find(|p| p.name == param)
                .and_then(|p| p.max)
                .map(|max| max.to_string())
        };
        assert_eq!(max("LeakMemory", "how_many").as_deref(), Some("1073741824"));
        assert_eq!(max("MemoryBalloon", "mb").as_deref(), Some("16384"));
        assert_eq!(max("BigResponse", "bytes").as_deref(), Some("1073741824"));
        assert_eq!(max("IOBound", "length").as_deref(), Some("1073741824"));
        assert_eq!(max("FdLeak", "count").as_deref(), Some("100000"));
        assert_eq!(max("IOBound", "filename"), None);
        assert!(
            "LeakMemory?how_many=1073741825"
                .parse::<Behaviour>()
                .is_err()
        );
    }

    #[test]
    fn bad_behaviour_strings_say_what_is_wrong() {
        let error = "Sleepy".parse::<Behaviour>().unwrap_err();
        assert!(error.starts_with("unknown behaviour \"Sleepy\" (known: PlainResponse, Sleeping"));
        assert_eq!(
            "Sleeping?colour=red".parse::<Behaviour>().unwrap_err(),
            "Sleeping has no parameter \"colour\" (it has: sleep_duration)"
        );
        assert_eq!(
            "Sleeping?sleep_duration=soon"
                .parse::<Behaviour>()
                .unwrap_err(),
            "Sleeping: sleep_duration=\"soon\" is not valid: expected seconds"
        );
        assert_eq!(
            "SIGSEGV?x=1".parse::<Behaviour>().unwrap_err(),
            "SIGSEGV takes no parameters, got \"x\""
        );
    }

    #[test]
    fn plain_response_expects_exactly_its_status() {
        let ok = Behaviour::plain();
        assert!(ok.is_expected(&Outcome::Status(200)));
        assert!(!ok.is_expected(&Outcome::Status(404)));
        assert!(!ok.is_expected(&Outcome::WrongBody(200)));
        assert!(!ok.is_expected(&Outcome::Reset));
        assert!(!ok.is_expected(&Outcome::Timeout));
        let not_found = Behaviour::PlainResponse {
            length: None,
            status: 404,
        };
        assert!(not_found.is_expected(&Outcome::Status(404)));
        assert!(!not_found.is_expected(&Outcome::Status(200)));
    }

    #[test]
    fn a_crash_expects_a_server_error_or_a_closed_connection() {
        for behaviour in [
            Behaviour::SIGSEGV,
            Behaviour::PythonWedge,
            Behaviour::RealSegfault,
            Behaviour::Abort,
            Behaviour::WorkerExit { exit_code: 1 },
            Behaviour::SelfKill,
        ] {
            assert!(behaviour.is_expected(&Outcome::Status(500)));
            assert!(behaviour.is_expected(&Outcome::Status(502)));
            assert!(behaviour.is_expected(&Outcome::Reset));
            assert!(!behaviour.is_expected(&Outcome::Status(200)));
            assert!(!behaviour.is_expected(&Outcome::Timeout));
            assert!(!behaviour.is_expected(&Outcome::Refused));
            assert!(behaviour.is_destructive() && !behaviour.preflight());
        }
    }

    #[test]
    fn error_handling_expects_a_500() {
        for behaviour in [
            Behaviour::RaiseException,
            Behaviour::BadStatus {
                mode: BadStatusMode::Invalid,
            },
        ] {
            assert!(behaviour.is_expected(&Outcome::Status(500)));
            assert!(!behaviour.is_expected(&Outcome::Status(502)));
            assert!(!behaviour.is_expected(&Outcome::Reset));
            assert!(!behaviour.is_expected(&Outcome::ProtocolError));
            assert!(!behaviour.preflight());
        }
    }

    #[test]
    fn a_body_cut_short_expects_the_client_to_see_it() {
        for behaviour in [Behaviour::TruncatedResponse, Behaviour::HeadersThenWedge] {
            assert!(behaviour.is_expected(&Outcome::Truncated));
            assert!(behaviour.is_expected(&Outcome::Reset));
            assert!(!behaviour.is_expected(&Outcome::Status(200)));
            assert!(!behaviour.is_expected(&Outcome::Timeout));
        }
    }

    #[test]
    fn bodies_of_known_length_are_checked() {
        let trickle = Behaviour::TrickleResponse {
            chunks: 3,
            interval: 0.0,
        };
        assert_eq!(trickle.body_check(), Some((200, 24)));
        assert_eq!(
            Behaviour::EchoUpload { bytes: 1000 }.body_check(),
            Some((200, "Received 1000 bytes\n".len() as u64))
        );
        assert_eq!(
            Behaviour::EchoUpload { bytes: 1000 }.upload_len(),
            Some(1000)
        );
        assert_eq!(
            Behaviour::BigResponse { bytes: 5 }.body_check(),
            Some((200, 5))
        );
        let not_found = Behaviour::PlainResponse {
            length: None,
            status: 404,
        };
        assert_eq!(not_found.body_check(), Some((404, 6)));
        assert!(Behaviour::plain().preflight());
        assert!(
            Behaviour::Sleeping {
                sleep_duration: 0.1
            }
            .preflight()
        );
    }

    #[test]
    fn outcome_keys_round_trip() {
        for outcome in [
            Outcome::Status(200),
            Outcome::WrongBody(404),
            Outcome::Timeout,
            Outcome::Refused,
            Outcome::Reset,
            Outcome::Truncated,
            Outcome::ProtocolError,
        ] {
            assert_eq!(Outcome::from_key(&outcome.key()), Some(outcome));
        }
        assert_eq!(Outcome::from_key("status_x"), None);
        assert_eq!(Outcome::from_key("nope"), None);
    }
}
