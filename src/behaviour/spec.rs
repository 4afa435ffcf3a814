//! The behaviour catalogue: every behaviour's parameters, defaults and
//! expectation, as the stress application declares them in `BEHAVIOURS`.

use std::collections::BTreeMap;

use super::{BadStatusMode, Behaviour};

/// One parameter of a behaviour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Its name in the query string.
    pub name: &'static str,
    /// Its type, in the application's words (`integer`, `seconds`...).
    pub kind: &'static str,
    /// Its default as JSON text (`null` for none).
    pub default: &'static str,
}

/// One behaviour, for listings, parsing and the agreement test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BehaviourSpec {
    /// Name, as in the URL path.
    pub name: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// Its parameters.
    pub params: &'static [ParamSpec],
    /// What counts as expected, in words.
    pub expectation: &'static str,
    /// Whether it kills or wedges the worker (never sent in pre-flight).
    pub destructive: bool,
}

const fn param(name: &'static str, kind: &'static str, default: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
    }
}

const CRASH: &str = "HTTP 5xx, or the connection closed without an answer";

/// Every behaviour the application has, in listing order.
pub const SPECS: &[BehaviourSpec] = &[
    BehaviourSpec {
        name: "PlainResponse",
        summary: "answer at once: 'Pong!' or length bytes, with status",
        params: &[
            param("length", "integer", "null"),
            param("status", "status", "200"),
        ],
        expectation: "that status, with the body asked for",
        destructive: false,
    },
    BehaviourSpec {
        name: "Sleeping",
        summary: "send half the body, sleep, send the rest",
        params: &[param("sleep_duration", "seconds", "1.0")],
        expectation: "HTTP 200",
        destructive: false,
    },
    BehaviourSpec {
        name: "IOBound",
        summary: "read length bytes of filename, then answer",
        params: &[
            param("filename", "path", "\"/dev/zero\""),
            param("length", "integer", "1048576"),
        ],
        expectation: "HTTP 200",
        destructive: false,
    },
    BehaviourSpec {
        name: "LeakMemory",
        summary: "keep how_many more bytes for the life of the worker",
        params: &[param("how_many", "integer", "1024")],
        expectation: "HTTP 200",
        destructive: false,
    },
    BehaviourSpec {
        name: "PythonWedge",
        summary: "spin forever in pure Python",
        params: &[],
        expectation: CRASH,
        destructive: true,
    },
    BehaviourSpec {
        name: "SIGSEGV",
        summary: "send SIGSEGV to the worker's own process",
        params: &[],
        expectation: CRASH,
        destructive: true,
    },
    BehaviourSpec {
        name: "RealSegfault",
        summary: "read address 0 through ctypes: a real invalid memory access",
        params: &[],
        expectation: CRASH,
        destructive: true,
    },
    BehaviourSpec {
        name: "Abort",
        summary: "os.abort(): SIGABRT, no cleanup",
        params: &[],
        expectation: CRASH,
        destructive: true,
    },
    BehaviourSpec {
        name: "WorkerExit",
        summary: "os._exit(exit_code): the worker ends at once",
        params: &[param("exit_code", "exit code", "1")],
        expectation: CRASH,
        destructive: true,
    },
    BehaviourSpec {
        name: "SelfKill",
        summary: "SIGKILL to the worker's own process",
        params: &[],
        expectation: CRASH,
        destructive: true,
    },
    BehaviourSpec {
        name: "RaiseException",
        summary: "an unhandled exception before start_response",
        params: &[],
        expectation: "HTTP 500",
        destructive: false,
    },
    BehaviourSpec {
        name: "BadStatus",
        summary: "misuse start_response: an invalid status line, or a second call",
        params: &[param("mode", "invalid|twice", "\"invalid\"")],
        expectation: "HTTP 500",
        destructive: false,
    },
    BehaviourSpec {
        name: "CpuBurn",
        summary: "a busy Python loop for ms milliseconds",
        params: &[param("ms", "milliseconds", "100")],
        expectation: "HTTP 200",
        destructive: false,
    },
    BehaviourSpec {
        name: "GilWedge",
        summary: "a C-level sleep that holds the GIL",
        params: &[param("seconds", "seconds", "1.0")],
        expectation: "HTTP 200",
        destructive: false,
    },
    BehaviourSpec {
        name: "HeadersThenWedge",
        summary: "send the headers and some body, then spin forever",
        params: &[],
        expectation: "the body cut short (truncated), or the connection closed",
        destructive: true,
    },
    BehaviourSpec {
        name: "TrickleResponse",
        summary: "a slow streamed body: chunks pieces, interval seconds apart",
        params: &[
            param("chunks", "integer", "10"),
            param("interval", "seconds", "0.1"),
        ],
        expectation: "HTTP 200 with the whole body",
        destructive: false,
    },
    BehaviourSpec {
        name: "BigResponse",
        summary: "a body of bytes bytes",
        params: &[param("bytes", "integer", "10485760")],
        expectation: "HTTP 200 with the whole body",
        destructive: false,
    },
    BehaviourSpec {
        name: "EchoUpload",
        summary: "a POST of bytes bytes, read in full; its length echoed",
        params: &[param("bytes", "integer", "1048576")],
        expectation: "HTTP 200 with the length echoed",
        destructive: false,
    },
    BehaviourSpec {
        name: "TruncatedResponse",
        summary: "headers and part of the body, then the worker dies",
        params: &[],
        expectation: "the body cut short (truncated), or the connection closed",
        destructive: true,
    },
    BehaviourSpec {
        name: "FdLeak",
        summary: "open count files and keep them for the life of the worker",
        params: &[param("count", "integer", "10")],
        expectation: "HTTP 200",
        destructive: false,
    },
    BehaviourSpec {
        name: "MemoryBalloon",
        summary: "hold mb MiB, every page touched, for the length of the request",
        params: &[param("mb", "MiB", "64")],
        expectation: "HTTP 200",
        destructive: false,
    },
];

/// The behaviour called `name`.
pub fn spec(name: &str) -> Option<&'static BehaviourSpec> {
    SPECS.iter().find(|spec| spec.name == name)
}

impl BehaviourSpec {
    /// The behaviour with the `given` parameters (by name, as text), the
    /// others at their defaults.
    pub(super) fn build(&self, given: &BTreeMap<&str, &str>) -> Result<Behaviour, String> {
        let text = |name: &str| -> String {
            match given.get(name) {
                Some(value) => (*value).to_string(),
                None => {
                    let default = self
                        .params
                        .iter()
                        .find(|p| p.name == name)
                        .map_or("", |p| p.default);
                    default.trim_matches('"').to_string()
                }
            }
        };
        let bad = |name: &str| {
            let kind = self
                .params
                .iter()
                .find(|p| p.name == name)
                .map_or("", |p| p.kind);
            format!(
                "{}: {name}={:?} is not valid: expected {kind}",
                self.name,
                text(name)
            )
        };
        let int = |name: &str| text(name).parse::<u64>().map_err(|_| bad(name));
        let float = |name: &str| {
            text(name)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(name))
        };
        Ok(match self.name {
            "PlainResponse" => Behaviour::PlainResponse {
                length: match text("length").as_str() {
                    "null" => None,
                    _ => Some(int("length")?),
                },
                status: text("status")
                    .parse::<u16>()
                    .ok()
                    .filter(|s| (200..=599).contains(s) && *s != 204 && *s != 304)
                    .ok_or_else(|| bad("status"))?,
            },
            "Sleeping" => Behaviour::Sleeping {
                sleep_duration: float("sleep_duration")?,
            },
            "IOBound" => Behaviour::IOBound {
                filename: text("filename"),
                length: int("length")?,
            },
            "LeakMemory" => Behaviour::LeakMemory {
                how_many: int("how_many")?,
            },
            "PythonWedge" => Behaviour::PythonWedge,
            "SIGSEGV" => Behaviour::SIGSEGV,
            "RealSegfault" => Behaviour::RealSegfault,
            "Abort" => Behaviour::Abort,
            "WorkerExit" => Behaviour::WorkerExit {
                exit_code: text("exit_code").parse().map_err(|_| bad("exit_code"))?,
            },
            "SelfKill" => Behaviour::SelfKill,
            "RaiseException" => Behaviour::RaiseException,
            "BadStatus" => Behaviour::BadStatus {
                mode: match text("mode").as_str() {
                    "invalid" => BadStatusMode::Invalid,
                    "twice" => BadStatusMode::Twice,
                    _ => return Err(bad("mode")),
                },
            },
            "CpuBurn" => Behaviour::CpuBurn { ms: int("ms")? },
            "GilWedge" => Behaviour::GilWedge {
                seconds: float("seconds")?,
            },
            "HeadersThenWedge" => Behaviour::HeadersThenWedge,
            "TrickleResponse" => Behaviour::TrickleResponse {
                chunks: int("chunks")?,
                interval: float("interval")?,
            },
            "BigResponse" => Behaviour::BigResponse {
                bytes: int("bytes")?,
            },
            "EchoUpload" => Behaviour::EchoUpload {
                bytes: int("bytes")?,
            },
            "TruncatedResponse" => Behaviour::TruncatedResponse,
            "FdLeak" => Behaviour::FdLeak {
                count: int("count")?,
            },
            "MemoryBalloon" => Behaviour::MemoryBalloon { mb: int("mb")? },
            other => return Err(format!("no construction for behaviour {other:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_builds_from_its_defaults_and_names_itself() {
        for spec in SPECS {
            let behaviour = spec.build(&BTreeMap::new()).unwrap();
            assert_eq!(behaviour.name(), spec.name);
            let url_params: Vec<&str> = behaviour.params().iter().map(|(name, _)| *name).collect();
            for name in url_params {
                assert!(
                    spec.params.iter().any(|p| p.name == name),
                    "{}: {name}",
                    spec.name
                );
            }
        }
    }
}
