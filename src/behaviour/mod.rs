//! What a request asks the stress application to do, and which outcomes
//! count as "as expected" for it.
//!
//! The application side lives in `images/app/labour_app.py`; a request is
//! `GET /<Name>?<params>`. Names and parameters must agree with the app's
//! `BEHAVIOURS` table (a test checks this).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Body of `PlainResponse` when no `length` is given.
pub const PONG: &[u8] = b"Pong!\n";

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
        #[serde(default = "ok")]
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
}

fn ok() -> u16 {
    200
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
        }
    }

    /// Parameters in URL order, default values left out.
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
                vec![("sleep_duration", sleep_duration.to_string())]
            }
            Behaviour::IOBound { filename, length } => {
                vec![
                    ("filename", filename.clone()),
                    ("length", length.to_string()),
                ]
            }
            Behaviour::LeakMemory { how_many } => vec![("how_many", how_many.to_string())],
            Behaviour::PythonWedge | Behaviour::SIGSEGV => Vec::new(),
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

    /// Whether `outcome` is what this behaviour should get from a server
    /// that copes with it.
    pub fn is_expected(&self, outcome: &Outcome) -> bool {
        match self {
            Behaviour::PlainResponse { status, .. } => *outcome == Outcome::Status(*status),
            Behaviour::Sleeping { .. }
            | Behaviour::IOBound { .. }
            | Behaviour::LeakMemory { .. } => *outcome == Outcome::Status(200),
            // The worker never answers: the best a server can do is a 5xx
            // from a supervisor, or closing the connection when it kills or
            // loses the worker. Hanging until the client gives up is not.
            Behaviour::PythonWedge | Behaviour::SIGSEGV => {
                matches!(outcome, Outcome::Status(500..=599) | Outcome::Reset)
            }
        }
    }

    /// The body length a correct answer has, where it is known in advance.
    pub fn expected_body_len(&self) -> Option<u64> {
        match self {
            Behaviour::PlainResponse { length, .. } => Some(length.unwrap_or(PONG.len() as u64)),
            _ => None,
        }
    }

    /// What this behaviour expects, in words, for listings and reports.
    pub fn expectation(&self) -> String {
        match self {
            Behaviour::PlainResponse { status, .. } => format!("HTTP {status} with its body"),
            Behaviour::Sleeping { .. }
            | Behaviour::IOBound { .. }
            | Behaviour::LeakMemory { .. } => "HTTP 200".to_string(),
            Behaviour::PythonWedge | Behaviour::SIGSEGV => {
                "HTTP 5xx, or the connection closed without an answer".to_string()
            }
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

/// How one request ended, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// A complete response with this status (and, where known, the right body).
    Status(u16),
    /// A complete response with this status but not the body asked for.
    WrongBody(u16),
    /// No complete answer within the request timeout.
    Timeout,
    /// Nothing listened: the connection was refused.
    Refused,
    /// The connection was reset or closed before a response arrived.
    Reset,
    /// Headers arrived, then the connection ended before the full body.
    Truncated,
    /// The server answered something that is not HTTP/1.1.
    ProtocolError,
}

impl Outcome {
    /// Stable machine name, used as the key in JSON results.
    pub fn key(&self) -> String {
        match self {
            Outcome::Status(code) => format!("status_{code}"),
            Outcome::WrongBody(code) => format!("wrong_body_{code}"),
            Outcome::Timeout => "timeout".into(),
            Outcome::Refused => "refused".into(),
            Outcome::Reset => "reset".into(),
            Outcome::Truncated => "truncated".into(),
            Outcome::ProtocolError => "protocol_error".into(),
        }
    }

    /// Parse a key written by [`Outcome::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        let code = |rest: &str| rest.parse::<u16>().ok();
        Some(match key {
            "timeout" => Outcome::Timeout,
            "refused" => Outcome::Refused,
            "reset" => Outcome::Reset,
            "truncated" => Outcome::Truncated,
            "protocol_error" => Outcome::ProtocolError,
            _ => {
                if let Some(rest) = key.strip_prefix("status_") {
                    Outcome::Status(code(rest)?)
                } else if let Some(rest) = key.strip_prefix("wrong_body_") {
                    Outcome::WrongBody(code(rest)?)
                } else {
                    return None;
                }
            }
        })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(code) => write!(f, "HTTP {code}"),
            Outcome::WrongBody(code) => write!(f, "HTTP {code} with a wrong body"),
            Outcome::Timeout => f.write_str("timeout"),
            Outcome::Refused => f.write_str("connection refused"),
            Outcome::Reset => f.write_str("connection reset or closed early"),
            Outcome::Truncated => f.write_str("truncated body"),
            Outcome::ProtocolError => f.write_str("protocol error"),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        Outcome::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown outcome {key:?}")))
    }
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
    fn a_segfault_expects_a_server_error_or_a_closed_connection() {
        for behaviour in [Behaviour::SIGSEGV, Behaviour::PythonWedge] {
            assert!(behaviour.is_expected(&Outcome::Status(500)));
            assert!(behaviour.is_expected(&Outcome::Status(502)));
            assert!(behaviour.is_expected(&Outcome::Reset));
            assert!(!behaviour.is_expected(&Outcome::Status(200)));
            assert!(!behaviour.is_expected(&Outcome::Timeout));
            assert!(!behaviour.is_expected(&Outcome::Refused));
        }
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
