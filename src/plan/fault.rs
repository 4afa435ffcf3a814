//! Faults: timed actions from outside the application during a cell's
//! load (a killed or stopped worker, a paused server, a restart, slow
//! clients, a graceful stop), declared in a test next to its mix.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Most faults one test may declare.
pub(crate) const MAX_FAULTS: usize = 16;
/// Most times a repeating fault fires in one cell.
pub(crate) const MAX_FIRINGS: u32 = 1000;
/// Most slow connections one fault opens.
pub(crate) const MAX_SLOW_CONNECTIONS: u32 = 1000;
/// Slow connections of a fault unless told.
pub(crate) const DEFAULT_SLOW_CONNECTIONS: u32 = 20;
/// Between two bytes of a slow client unless told.
pub(crate) const DEFAULT_SLOW_INTERVAL: Duration = Duration::from_secs(1);
/// The body a slow reader asks for unless told.
pub(crate) const DEFAULT_SLOW_BODY: u64 = 16 << 20;
/// Bytes a slow reader reads a second unless told.
pub(crate) const DEFAULT_SLOW_RATE: u64 = 1024;
/// The shortest `every`: a fault needs time to act.
pub(crate) const MIN_EVERY: Duration = Duration::from_millis(100);
/// The load of a test with faults runs this long after its last fault's
/// first firing ends, unless told: long enough to see the server recover.
pub(crate) const RECOVERY_WINDOW: Duration = Duration::from_secs(4);

/// A signal sent to a worker or a server.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, PartialOrd, Ord,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    /// SIGKILL: no clean-up.
    Kill,
    /// SIGTERM: a polite request to stop.
    Term,
    /// SIGINT.
    Int,
    /// SIGQUIT (gunicorn: quick shutdown; uWSGI: a worker's traceback).
    Quit,
    /// SIGHUP (gunicorn, uWSGI: reload the workers).
    Hup,
    /// SIGSEGV, as a crash would.
    Segv,
    /// SIGABRT, as abort() would.
    Abrt,
    /// SIGSTOP: frozen, without a chance to react.
    Stop,
    /// SIGCONT: thawed.
    Cont,
}

impl Signal {
    /// Every signal, for errors.
    pub const ALL: [Signal; 9] = [
        Signal::Kill,
        Signal::Term,
        Signal::Int,
        Signal::Quit,
        Signal::Hup,
        Signal::Segv,
        Signal::Abrt,
        Signal::Stop,
        Signal::Cont,
    ];

    /// The name without `SIG`, as `kill -s` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "KILL",
            Signal::Term => "TERM",
            Signal::Int => "INT",
            Signal::Quit => "QUIT",
            Signal::Hup => "HUP",
            Signal::Segv => "SEGV",
            Signal::Abrt => "ABRT",
            Signal::Stop => "STOP",
            Signal::Cont => "CONT",
        }
    }

    /// The signal's number on Linux.
    pub(crate) fn number(self) -> i32 {
        match self {
            Signal::Kill => 9,
            Signal::Term => 15,
            Signal::Int => 2,
            Signal::Quit => 3,
            Signal::Hup => 1,
            Signal::Segv => 11,
            Signal::Abrt => 6,
            Signal::Stop => 19,
            Signal::Cont => 18,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIG{}", self.name())
    }
}

impl std::str::FromStr for Signal {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        Signal::ALL
            .into_iter()
            .find(|s| s.name() == bare || s.number().to_string() == bare)
            .ok_or_else(|| {
                let names: Vec<&str> = Signal::ALL.iter().map(|s| s.name()).collect();
                format!("{text:?} is not a signal: {}", names.join(", "))
            })
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum FaultAction {
    /// Send `signal` to one worker process (not the master), picked by the
    /// cell's seed; a one-process server's only process is its worker.
    KillWorker {
        /// The signal [default: KILL].
        signal: Signal,
    },
    /// Freeze one worker (SIGSTOP) for `duration`, then thaw it (SIGCONT):
    /// a hung worker, from outside.
    StopWorker {
        /// How long it stays frozen.
        #[serde(with = "crate::units::duration_secs")]
        #[schemars(with = "f64")]
        duration: Duration,
    },
    /// Freeze the whole server for `duration` (Docker's pause; SIGSTOP of
    /// the process group locally).
    Pause {
        /// How long it stays frozen.
        #[serde(with = "crate::units::duration_secs")]
        #[schemars(with = "f64")]
        duration: Duration,
    },
    /// Restart the server (Docker's restart: SIGTERM, the stop grace,
    /// SIGKILL, start).
    Restart,
    /// `connections` extra connections that send a request head one byte
    /// every `interval` and never finish it, for the rest of the load.
    SlowClients {
        /// How many.
        connections: u32,
        /// Between two bytes.
        #[serde(with = "crate::units::duration_secs")]
        #[schemars(with = "f64")]
        interval: Duration,
    },
    /// `connections` extra connections that ask for a `bytes` body and
    /// read `rate` bytes a second of it, for the rest of the load.
    SlowReaders {
        /// How many.
        connections: u32,
        /// The body each asks for.
        bytes: u64,
        /// Bytes read a second.
        rate: u64,
    },
    /// SIGTERM to the server while requests are in flight: how many of
    /// them still complete, how long it takes to exit, whether it refuses
    /// new connections meanwhile.
    GracefulStop,
}

impl FaultAction {
    /// The action's name, as a scenario writes it.
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::KillWorker { .. } => "kill-worker",
            FaultAction::StopWorker { .. } => "stop-worker",
            FaultAction::Pause { .. } => "pause",
            FaultAction::Restart => "restart",
            FaultAction::SlowClients { .. } => "slow-clients",
            FaultAction::SlowReaders { .. } => "slow-readers",
            FaultAction::GracefulStop => "graceful-stop",
        }
    }

    /// The question a test of this fault asks, and what answers it.
    pub fn question(&self) -> (&'static str, &'static str) {
        match self {
            FaultAction::KillWorker { .. } => (
                "how many innocent requests die with a killed worker, how long do they stall, how soon does it answer again?",
                "the rule below; each firing records innocent requests lost during and after it, the time to the next answer, and the funnel places every lost one",
            ),
            FaultAction::StopWorker { .. } => (
                "do innocent requests go round a stopped worker, or wait for it?",
                "the rule below; stalls while the worker is stopped, innocent requests lost, time to the next answer once it runs again",
            ),
            FaultAction::Pause { .. } => (
                "does the server come back whole after a freeze, and what is lost meanwhile?",
                "the rule below; innocent requests lost during and after the pause, time to the next answer after the thaw",
            ),
            FaultAction::Restart => (
                "how long from a restart to the first answer as expected, and how many requests are lost?",
                "the rule below; the firing's time to the first answer as expected and the innocent requests lost",
            ),
            FaultAction::SlowClients { .. } | FaultAction::SlowReaders { .. } => (
                "do innocent requests keep being answered while the slow connections are open?",
                "stalled when innocent requests waited with none back for --stall or longer; the firing's answer rate during against before",
            ),
            FaultAction::GracefulStop => (
                "of the requests the application had started at SIGTERM, how many finish and come back, and how many queued ones are reset?",
                "graceful when every request in hand finished and came back and the server exited, abrupt when one was dropped (the application's own log); refusals after the stop are expected",
            ),
        }
    }

    /// How long one firing lasts: its duration for stop-worker and pause,
    /// the rest of the load for slow clients and readers, an instant
    /// otherwise.
    pub(crate) fn lasts(&self) -> Lasts {
        match self {
            FaultAction::StopWorker { duration } | FaultAction::Pause { duration } => {
                Lasts::For(*duration)
            }
            FaultAction::SlowClients { .. } | FaultAction::SlowReaders { .. } => Lasts::ToTheEnd,
            _ => Lasts::Instant,
        }
    }
}

/// How long a firing lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lasts {
    /// An instant.
    Instant,
    /// This long.
    For(Duration),
    /// Until the load ends.
    ToTheEnd,
}

/// One fault of a test: what, first when, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FaultSpec {
    /// When it first fires, after the load began.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub at: Duration,
    /// Fire again this long after each firing, until the load ends.
    #[serde(default, with = "crate::units::duration_secs_option")]
    #[schemars(with = "Option<f64>")]
    pub every: Option<Duration>,
    /// What it does.
    #[serde(flatten)]
    pub action: FaultAction,
}

impl FaultSpec {
    /// The times it fires, after the load began, within `within`.
    pub(crate) fn firings(&self, within: Duration) -> Vec<Duration> {
        let mut times = Vec::new();
        let mut at = self.at;
        while at < within && times.len() < MAX_FIRINGS as usize {
            times.push(at);
            match self.every {
                Some(every) if !every.is_zero() => at += every,
                _ => break,
            }
        }
        times
    }
}

/// `2 s`, `0.5 s`, `250 ms`.
fn secs(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", duration.as_millis())
    } else if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |d: &Duration| secs(*d);
        match &self.action {
            FaultAction::KillWorker { signal } => write!(f, "{signal} to a worker")?,
            FaultAction::StopWorker { duration } => {
                write!(f, "a worker stopped for {}", secs(duration))?;
            }
            FaultAction::Pause { duration } => {
                write!(f, "the server paused for {}", secs(duration))?
            }
            FaultAction::Restart => write!(f, "the server restarted")?,
            FaultAction::SlowClients {
                connections,
                interval,
            } => write!(
                f,
                "{connections} slow clients (a byte every {})",
                secs(interval)
            )?,
            FaultAction::SlowReaders {
                connections,
                bytes,
                rate,
            } => write!(
                f,
                "{connections} slow readers ({} at {rate} B/s)",
                crate::units::format_bytes(*bytes)
            )?,
            FaultAction::GracefulStop => write!(f, "SIGTERM to the server")?,
        }
        write!(f, " at {}", secs(&self.at))?;
        if let Some(every) = &self.every {
            write!(f, ", every {}", secs(every))?;
        }
        Ok(())
    }
}
