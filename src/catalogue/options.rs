//! Server options, the seed's wish to "enrich server creation (number of
//! processes, etc.)": five knobs, each mapped per server onto its own flags,
//! or declared missing with a reason. Four default to each server's own
//! value; the listen queue (`backlog`) defaults to labour's one value for
//! all, capped at the host's `net.core.somaxconn`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Server;
use crate::plan::options::{DEFAULT_BACKLOG, KnobOptions};

/// A server setting labour knows how to ask for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Knob {
    /// Worker processes.
    Workers,
    /// Threads per worker process.
    Threads,
    /// Seconds before a stuck worker is killed and replaced.
    WorkerTimeout,
    /// Requests before a worker is recycled.
    MaxRequests,
    /// Connections the kernel queues until the server accepts them (the
    /// listen(2) backlog).
    Backlog,
}

impl Knob {
    /// Every knob, in listing order.
    pub const ALL: [Knob; 5] = [
        Knob::Workers,
        Knob::Threads,
        Knob::WorkerTimeout,
        Knob::MaxRequests,
        Knob::Backlog,
    ];

    /// The value `options` asks for this knob.
    pub(crate) fn asked(self, options: &KnobOptions) -> Option<u64> {
        match self {
            Knob::Workers => options.workers,
            Knob::Threads => options.threads,
            Knob::WorkerTimeout => options.worker_timeout,
            Knob::MaxRequests => options.max_requests,
            Knob::Backlog => options.backlog,
        }
    }

    /// The value labour passes to every server that has this knob when the
    /// user gives none: only the listen queue has one
    /// ([`DEFAULT_BACKLOG`]); the others keep each server's own default
    /// (or the catalogue's).
    pub(crate) fn labour_default(self) -> Option<u64> {
        match self {
            Knob::Backlog => Some(DEFAULT_BACKLOG),
            _ => None,
        }
    }

    /// Whether the host's `net.core.somaxconn` caps it.
    pub(crate) fn capped_by_somaxconn(self) -> bool {
        self == Knob::Backlog
    }

    /// The `bench` flag that sets it.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Knob::Workers => "--workers",
            Knob::Threads => "--threads",
            Knob::WorkerTimeout => "--worker-timeout",
            Knob::MaxRequests => "--max-requests",
            Knob::Backlog => "--backlog",
        }
    }
}

impl fmt::Display for Knob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Knob::Workers => "workers",
            Knob::Threads => "threads",
            Knob::WorkerTimeout => "worker_timeout",
            Knob::MaxRequests => "max_requests",
            Knob::Backlog => "backlog",
        })
    }
}

/// How a server takes one knob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnobSpec {
    /// Arguments to add; `{}` is replaced by the value.
    pub args: Vec<String>,
    /// The value labour passes when the user gives none; without one the
    /// server's own default holds and nothing is passed (the listen queue
    /// has labour's default for every server instead, never one here).
    #[serde(default)]
    pub default: Option<u64>,
    /// The least value the server takes (granian: no backlog below 128); a
    /// value below it is raised to it, with a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub least: Option<u64>,
}

/// Where a knob's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnobSource {
    /// The user's flag.
    Flag,
    /// The catalogue's default for this server.
    Catalogue,
    /// labour's default for every server that has the knob (the listen
    /// queue's `DEFAULT_BACKLOG`).
    Labour,
    /// The host's `net.core.somaxconn`, lower than the value asked or
    /// defaulted (the note says which): the kernel grants no longer queue.
    Somaxconn,
    /// Nothing passed: the server's built-in default holds.
    Server,
}

/// One knob as a server was started with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KnobSetting {
    /// The knob.
    pub knob: Knob,
    /// The value in force, when labour knows it.
    pub value: Option<u64>,
    /// Where it came from.
    pub source: KnobSource,
    /// Whether labour passed a value to the server (false: the server has
    /// no such knob, or its own default holds).
    pub applied: bool,
    /// Why not, when it was asked for and not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Placeholder element of a command that the knob arguments replace.
pub(crate) const OPTIONS_PLACEHOLDER: &str = "{options}";

impl Server {
    /// This server with `asked` applied: the command's `{options}` element
    /// replaced by the knob arguments, and `settings_used` saying, knob by
    /// knob, what was used and what the server could not take. `somaxconn`
    /// is the host's `net.core.somaxconn`, which caps the listen queue.
    pub(crate) fn configure(&self, asked: &KnobOptions, somaxconn: Option<u64>) -> Server {
        let mut args = Vec::new();
        let mut used = Vec::new();
        for knob in Knob::ALL {
            let asked = knob.asked(asked);
            let setting = match (self.options.get(&knob), asked) {
                (Some(spec), _) => {
                    let setting = self.setting(knob, spec, asked, somaxconn);
                    if let Some(value) = setting.value {
                        args.extend(
                            spec.args
                                .iter()
                                .map(|a| a.replace("{}", &value.to_string())),
                        );
                    }
                    setting
                }
                (None, Some(value)) => KnobSetting {
                    knob,
                    value: Some(value),
                    source: KnobSource::Flag,
                    applied: false,
                    note: Some(
                        self.unsupported
                            .get(&knob)
                            .cloned()
                            .unwrap_or_else(|| format!("{} has no {knob} setting", self.name)),
                    ),
                },
                (None, None) => continue,
            };
            used.push(setting);
        }
        let mut configured = self.clone();
        configured.command = self
            .command
            .iter()
            .flat_map(|arg| {
                if arg == OPTIONS_PLACEHOLDER {
                    args.clone()
                } else {
                    vec![arg.clone()]
                }
            })
            .collect();
        configured.settings_used = used;
        configured
    }

    /// The value in force of a knob this server has, and where it came
    /// from: asked, else the catalogue's default, else labour's, else the
    /// server's own; capped at `somaxconn` for the listen queue and raised
    /// to the server's least, each with a note.
    fn setting(
        &self,
        knob: Knob,
        spec: &KnobSpec,
        asked: Option<u64>,
        somaxconn: Option<u64>,
    ) -> KnobSetting {
        let (mut value, mut source) = match (asked, spec.default, knob.labour_default()) {
            (Some(value), _, _) => (Some(value), KnobSource::Flag),
            (None, Some(value), _) => (Some(value), KnobSource::Catalogue),
            (None, None, Some(value)) => (Some(value), KnobSource::Labour),
            (None, None, None) => (None, KnobSource::Server),
        };
        let mut notes = Vec::new();
        if let (Some(wanted), Some(cap)) = (value, somaxconn.filter(|_| knob.capped_by_somaxconn()))
            && wanted > cap
        {
            let from = match source {
                KnobSource::Flag => "asked",
                _ => "labour's default",
            };
            notes.push(format!(
                "{from} {wanted}, capped at the host's net.core.somaxconn ({cap}): the kernel grants no longer queue"
            ));
            value = Some(cap);
            source = KnobSource::Somaxconn;
        }
        if let (Some(wanted), Some(least)) = (value, spec.least)
            && wanted < least
        {
            notes.push(format!(
                "{} takes no {knob} below {least}: {wanted} raised to {least}",
                self.name
            ));
            value = Some(least);
        }
        KnobSetting {
            knob,
            value,
            source,
            applied: value.is_some(),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }

    /// The value in force of `knob`, when labour passed one.
    pub(crate) fn setting_in_force(&self, knob: Knob) -> Option<u64> {
        self.settings_used
            .iter()
            .find(|s| s.knob == knob && s.applied)
            .and_then(|s| s.value)
    }

    /// Knobs asked for that this server cannot take, with why.
    pub(crate) fn ignored_settings(&self) -> impl Iterator<Item = &KnobSetting> {
        self.settings_used
            .iter()
            .filter(|s| !s.applied && s.source == KnobSource::Flag)
    }

    /// Knobs applied with another value than asked or defaulted (capped at
    /// `net.core.somaxconn`, raised to the server's least), with why.
    pub(crate) fn adjusted_settings(&self) -> impl Iterator<Item = &KnobSetting> {
        self.settings_used
            .iter()
            .filter(|s| s.applied && s.note.is_some())
    }

    /// The knobs it takes, for listings: `workers=2 threads max_requests`.
    pub(crate) fn knobs_summary(&self) -> String {
        let knobs: Vec<String> = self
            .options
            .iter()
            .map(
                |(knob, spec)| match spec.default.or(knob.labour_default()) {
                    Some(default) => format!("{knob}={default}"),
                    None => knob.to_string(),
                },
            )
            .collect();
        if knobs.is_empty() {
            "-".into()
        } else {
            knobs.join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn server() -> Server {
        Server {
            name: "pool".into(),
            description: String::new(),
            version: "1".into(),
            interface: Default::default(),
            concurrency: vec![],
            command: vec!["serve".into(), OPTIONS_PLACEHOLDER.into(), "app".into()],
            options: BTreeMap::from([
                (
                    Knob::Workers,
                    KnobSpec {
                        args: vec!["-w".into(), "{}".into()],
                        default: Some(2),
                        least: None,
                    },
                ),
                (
                    Knob::MaxRequests,
                    KnobSpec {
                        args: vec!["--max={}".into()],
                        default: None,
                        least: None,
                    },
                ),
                (
                    Knob::Backlog,
                    KnobSpec {
                        args: vec!["--backlog={}".into()],
                        default: None,
                        least: Some(128),
                    },
                ),
            ]),
            unsupported: BTreeMap::from([(Knob::Threads, "one thread per worker".into())]),
            cap_add: BTreeMap::new(),
            local_skip: None,
            python: None,
            groups: Vec::new(),
            settings_used: Vec::new(),
            limits: Default::default(),
            lock_sha256: None,
            target: None,
        }
    }

    fn backlog(server: &Server) -> &KnobSetting {
        server
            .settings_used
            .iter()
            .find(|s| s.knob == Knob::Backlog)
            .unwrap()
    }

    #[test]
    fn defaults_and_flags_become_arguments_in_place() {
        let configured = server().configure(&KnobOptions::default(), Some(4096));
        assert_eq!(
            configured.command,
            ["serve", "-w", "2", "--backlog=1024", "app"]
        );
        let settings = KnobOptions {
            workers: Some(4),
            max_requests: Some(100),
            backlog: Some(2000),
            ..KnobOptions::default()
        };
        let configured = server().configure(&settings, Some(4096));
        assert_eq!(
            configured.command,
            ["serve", "-w", "4", "--max=100", "--backlog=2000", "app"]
        );
        assert!(configured.settings_used.iter().all(|s| s.applied));
        assert_eq!(configured.setting_in_force(Knob::Backlog), Some(2000));
        assert_eq!(configured.setting_in_force(Knob::Threads), None);
    }

    #[test]
    fn the_backlog_defaults_to_labours_value_capped_at_somaxconn() {
        let configured = server().configure(&KnobOptions::default(), Some(4096));
        let setting = backlog(&configured);
        assert_eq!(
            (setting.value, setting.source, setting.applied),
            (Some(DEFAULT_BACKLOG), KnobSource::Labour, true)
        );
        assert_eq!(setting.note, None);
        assert_eq!(configured.adjusted_settings().count(), 0);

        let configured = server().configure(&KnobOptions::default(), Some(512));
        let setting = backlog(&configured);
        assert_eq!(
            (setting.value, setting.source),
            (Some(512), KnobSource::Somaxconn)
        );
        assert!(configured.command.contains(&"--backlog=512".to_string()));
        let note = setting.note.as_deref().unwrap();
        assert!(note.contains("labour's default 1024"), "{note}");
        assert!(note.contains("net.core.somaxconn (512)"), "{note}");
        assert_eq!(configured.adjusted_settings().count(), 1);

        let asked = KnobOptions {
            backlog: Some(60_000),
            ..KnobOptions::default()
        };
        let configured = server().configure(&asked, Some(4096));
        let setting = backlog(&configured);
        assert_eq!(
            (setting.value, setting.source),
            (Some(4096), KnobSource::Somaxconn)
        );
        assert!(setting.note.as_deref().unwrap().starts_with("asked 60000"));
        // Where somaxconn cannot be read, nothing caps the value.
        let configured = server().configure(&asked, None);
        assert_eq!(configured.setting_in_force(Knob::Backlog), Some(60_000));
    }

    #[test]
    fn a_value_below_the_servers_least_is_raised_to_it_with_a_note() {
        let asked = KnobOptions {
            backlog: Some(1),
            ..KnobOptions::default()
        };
        let configured = server().configure(&asked, Some(4096));
        let setting = backlog(&configured);
        assert_eq!(
            (setting.value, setting.source),
            (Some(128), KnobSource::Flag)
        );
        assert_eq!(
            setting.note.as_deref(),
            Some("pool takes no backlog below 128: 1 raised to 128")
        );
        assert!(configured.command.contains(&"--backlog=128".to_string()));
    }

    #[test]
    fn a_server_without_a_listen_queue_setting_says_why_when_asked() {
        let mut server = server();
        server.options.remove(&Knob::Backlog);
        server
            .unsupported
            .insert(Knob::Backlog, "compiled in".into());
        let configured = server.configure(&KnobOptions::default(), Some(4096));
        assert!(
            configured
                .settings_used
                .iter()
                .all(|s| s.knob != Knob::Backlog),
            "not asked, not recorded"
        );
        let asked = KnobOptions {
            backlog: Some(64),
            ..KnobOptions::default()
        };
        let configured = server.configure(&asked, Some(4096));
        let ignored: Vec<_> = configured.ignored_settings().collect();
        assert_eq!(ignored.len(), 1);
        assert_eq!(ignored[0].knob, Knob::Backlog);
        assert_eq!(ignored[0].note.as_deref(), Some("compiled in"));
    }

    #[test]
    fn a_missing_knob_is_recorded_with_its_reason_not_dropped() {
        let settings = KnobOptions {
            threads: Some(8),
            worker_timeout: Some(5),
            ..KnobOptions::default()
        };
        let configured = server().configure(&settings, Some(4096));
        let ignored: Vec<(Knob, Option<String>)> = configured
            .ignored_settings()
            .map(|s| (s.knob, s.note.clone()))
            .collect();
        assert_eq!(
            ignored,
            [
                (Knob::Threads, Some("one thread per worker".into())),
                (
                    Knob::WorkerTimeout,
                    Some("pool has no worker_timeout setting".into())
                ),
            ]
        );
        assert_eq!(
            configured.command,
            ["serve", "-w", "2", "--backlog=1024", "app"]
        );
    }

    #[test]
    fn knobs_summary_lists_defaults() {
        assert_eq!(
            server().knobs_summary(),
            "workers=2 max_requests backlog=1024"
        );
    }
}
