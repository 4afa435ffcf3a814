//! What a request asks the stress application to do, and which outcomes
//! count as "as expected" for it.
//!
//! The application side lives in `images/app/labour_app.py`; a request is
//! `GET /<Name>?<params>` (`POST` for `EchoUpload`). Names, parameters and
//! defaults must agree with the app's `BEHAVIOURS` table: [`SPECS`] is the
//! Rust side, and a test compares the two.

mod outcome;
mod spec;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use outcome::Outcome;
pub use spec::{BehaviourSpec, ParamSpec, SPECS, spec};

/// Body of `PlainResponse` when no `length` is given.
pub const PONG: &[u8] = b"Pong!\n";
/// The body chunk `TrickleResponse` sends per interval.
pub const TRICKLE_CHUNK: &[u8] = b"trickle\n";

/// How `BadStatus` misuses `start_response`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BadStatusMode {
    /// An invalid status line.
    Invalid,
    /// Called twice without `exc_info`.
    Twice,
}

/// One thing a request asks the application to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "name", deny_unknown_fields)]
pub enum Behaviour {
    /// Answer at once with `status`, and `length` bytes (or "Pong!").
    PlainResponse {
        /// Body length in bytes; `None` answers "Pong!\n".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u64>,
        /// HTTP status to answer with.
        status: u16,
    },
    /// Send half of the body, sleep, send the rest.
    Sleeping {
        /// Seconds to sleep inside the worker.
        sleep_duration: f64,
    },
    /// Read `length` bytes of `filename`, then answer.
    IOBound {
        /// File read inside the container.
        filename: String,
        /// Bytes to read.
        length: u64,
    },
    /// Keep `how_many` more bytes referenced for the life of the worker.
    LeakMemory {
        /// Bytes leaked per request.
        how_many: u64,
    },
    /// Spin forever in pure Python.
    PythonWedge,
    /// Send SIGSEGV to the worker process.
    SIGSEGV,
    /// Read address 0 through ctypes: a real invalid memory access.
    RealSegfault,
    /// `os.abort()`.
    Abort,
    /// `os._exit(exit_code)`.
    WorkerExit {
        /// The exit code.
        exit_code: u8,
    },
    /// SIGKILL to the worker's own process.
    SelfKill,
    /// An unhandled exception.
    RaiseException,
    /// Misuse `start_response`.
    BadStatus {
        /// How.
        mode: BadStatusMode,
    },
    /// A busy Python loop for `ms` milliseconds.
    CpuBurn {
        /// Milliseconds to spin.
        ms: u64,
    },
    /// A C-level sleep that holds the GIL.
    GilWedge {
        /// Seconds to hold it.
        seconds: f64,
    },
    /// Send the headers, then spin forever.
    HeadersThenWedge,
    /// A slow streamed body.
    TrickleResponse {
        /// Chunks of [`TRICKLE_CHUNK`].
        chunks: u64,
        /// Seconds between chunks.
        interval: f64,
    },
    /// A big body.
    BigResponse {
        /// Body length.
        bytes: u64,
    },
    /// A POST whose body is read in full and its length echoed.
    EchoUpload {
        /// Bytes the client sends.
        bytes: u64,
    },
    /// Headers and part of the body, then the worker dies.
    TruncatedResponse,
    /// Open files and keep them.
    FdLeak {
        /// Descriptors leaked per request.
        count: u64,
    },
    /// Hold `mb` MiB for the length of the request.
    MemoryBalloon {
        /// MiB allocated (every page touched).
        mb: u64,
    },
}

fn number(value: f64) -> String {
    // Python parses either form; keep integers short ("2", not "2.0").
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

impl Behaviour {
    /// `PlainResponse` answering 200 "Pong!": the innocent request.
    pub fn plain() -> Self {
        Behaviour::PlainResponse {
            length: None,
            status: 200,
        }
    }

    /// The behaviour's name, as in the URL path.
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::PlainResponse { .. } => "PlainResponse",
            Behaviour::Sleeping { .. } => "Sleeping",
            Behaviour::IOBound { .. } => "IOBound",
            Behaviour::LeakMemory { .. } => "LeakMemory",
            Behaviour::PythonWedge => "PythonWedge",
            Behaviour::SIGSEGV => "SIGSEGV",
            Behaviour::RealSegfault => "RealSegfault",
            Behaviour::Abort => "Abort",
            Behaviour::WorkerExit { .. } => "WorkerExit",
            Behaviour::SelfKill => "SelfKill",
            Behaviour::RaiseException => "RaiseException",
            Behaviour::BadStatus { .. } => "BadStatus",
            Behaviour::CpuBurn { .. } => "CpuBurn",
            Behaviour::GilWedge { .. } => "GilWedge",
            Behaviour::HeadersThenWedge => "HeadersThenWedge",
            Behaviour::TrickleResponse { .. } => "TrickleResponse",
            Behaviour::BigResponse { .. } => "BigResponse",
            Behaviour::EchoUpload { .. } => "EchoUpload",
            Behaviour::TruncatedResponse => "TruncatedResponse",
            Behaviour::FdLeak { .. } => "FdLeak",
            Behaviour::MemoryBalloon { .. } => "MemoryBalloon",
        }
    }

    /// Parameters in URL order. PlainResponse leaves out its defaults so
    /// the innocent request reads `PlainResponse`; the others say all.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Behaviour::PlainResponse { length, status } => {
                let mut params = Vec::new();
                if let Some(length) = length {
                    params.push(("length", length.to_string()));
                }
                if *status != 200 {
                    params.push(("status", status.to_string()));
                }
                params
            }
            Behaviour::Sleeping { sleep_duration } => {
                vec![("sleep_duration", number(*sleep_duration))]
            }
            Behaviour::IOBound { filename, length } => {
                vec![
                    ("filename", filename.clone()),
                    ("length", length.to_string()),
                ]
            }
            Behaviour::LeakMemory { how_many } => vec![("how_many", how_many.to_string())],
            Behaviour::WorkerExit { exit_code } => vec![("exit_code", exit_code.to_string())],
            Behaviour::BadStatus { mode } => vec![(
                "mode",
                match mode {
                    BadStatusMode::Invalid => "invalid".into(),
                    BadStatusMode::Twice => "twice".into(),
                },
            )],
            Behaviour::CpuBurn { ms } => vec![("ms", ms.to_string())],
            Behaviour::GilWedge { seconds } => vec![("seconds", number(*seconds))],
            Behaviour::TrickleResponse { chunks, interval } => {
                vec![
                    ("chunks", chunks.to_string()),
                    ("interval", number(*interval)),
                ]
            }
            Behaviour::BigResponse { bytes } | Behaviour::EchoUpload { bytes } => {
                vec![("bytes", bytes.to_string())]
            }
            Behaviour::FdLeak { count } => vec![("count", count.to_string())],
            Behaviour::MemoryBalloon { mb } => vec![("mb", mb.to_string())],
            Behaviour::PythonWedge
            | Behaviour::SIGSEGV
            | Behaviour::RealSegfault
            | Behaviour::Abort
            | Behaviour::SelfKill
            | Behaviour::RaiseException
            | Behaviour::HeadersThenWedge
            | Behaviour::TruncatedResponse => Vec::new(),
        }
    }

    /// The request target: `/<Name>?<params>`.
    pub fn path_and_query(&self) -> String {
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

    /// Bytes the request sends as its body (`POST`), if any.
    pub fn upload_len(&self) -> Option<u64> {
        match self {
            Behaviour::EchoUpload { bytes } => Some(*bytes),
            _ => None,
        }
    }

    /// Whether it takes a worker down or wedges it: such behaviours are
    /// never sent in pre-flight.
    pub fn is_destructive(&self) -> bool {
        spec(self.name()).is_some_and(|spec| spec.destructive)
    }

    /// Whether pre-flight sends it: everything a correctly set-up server
    /// must answer as expected. Destructive behaviours are left out, and so
    /// are the error-handling ones (RaiseException, BadStatus): a wrong
    /// answer to those is a finding of the run, not a broken setup.
    pub fn preflight(&self) -> bool {
        !self.is_destructive()
            && !matches!(
                self,
                Behaviour::RaiseException | Behaviour::BadStatus { .. }
            )
    }

    /// Whether `outcome` is what this behaviour should get from a server
    /// that copes with it.
    pub fn is_expected(&self, outcome: &Outcome) -> bool {
        match self {
            Behaviour::PlainResponse { status, .. } => *outcome == Outcome::Status(*status),
            // The worker dies or never answers: the best a server can do is
            // a 5xx from a supervisor, or closing the connection when it
            // loses or kills the worker. Hanging until the client gives up
            // is not.
            Behaviour::PythonWedge
            | Behaviour::SIGSEGV
            | Behaviour::RealSegfault
            | Behaviour::Abort
            | Behaviour::WorkerExit { .. }
            | Behaviour::SelfKill => matches!(outcome, Outcome::Status(500..=599) | Outcome::Reset),
            Behaviour::RaiseException | Behaviour::BadStatus { .. } => {
                *outcome == Outcome::Status(500)
            }
            // The headers are out: all a server can do is end the
            // connection so the client knows the body is incomplete.
            Behaviour::HeadersThenWedge | Behaviour::TruncatedResponse => {
                matches!(outcome, Outcome::Truncated | Outcome::Reset)
            }
            _ => *outcome == Outcome::Status(200),
        }
    }

    /// The status and body length of a correct answer, where the length
    /// is known in advance.
    pub fn body_check(&self) -> Option<(u16, u64)> {
        match self {
            Behaviour::PlainResponse { length, status } => {
                Some((*status, length.unwrap_or(PONG.len() as u64)))
            }
            Behaviour::TrickleResponse { chunks, .. } => {
                Some((200, chunks * TRICKLE_CHUNK.len() as u64))
            }
            Behaviour::BigResponse { bytes } => Some((200, *bytes)),
            Behaviour::EchoUpload { bytes } => {
                Some((200, format!("Received {bytes} bytes\n").len() as u64))
            }
            _ => None,
        }
    }

    /// What this behaviour expects, in words, for listings and reports.
    pub fn expectation(&self) -> String {
        match self {
            Behaviour::PlainResponse { status, .. } => format!("HTTP {status} with its body"),
            Behaviour::RaiseException | Behaviour::BadStatus { .. } => "HTTP 500".into(),
            _ => spec(self.name()).map_or_else(String::new, |spec| spec.expectation.to_string()),
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
        spec.build(&given)
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
