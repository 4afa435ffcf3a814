//! How a request ended, as the client saw it.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    pub(crate) fn key(&self) -> String {
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
    pub(crate) fn from_key(key: &str) -> Option<Self> {
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

impl schemars::JsonSchema for Outcome {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Outcome".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "how a request ended: status_<code>, wrong_body_<code>, timeout, refused, reset, truncated or protocol_error",
            "type": "string",
            "pattern": "^(status_[0-9]{3}|wrong_body_[0-9]{3}|timeout|refused|reset|truncated|protocol_error)$"
        })
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        Outcome::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown outcome {key:?}")))
    }
}
