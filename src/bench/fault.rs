//! Driving a test's faults during a cell's load: each firing at its time
//! after the load began, its undoing (a thaw, an unpause) when its
//! duration is over or the load ends, whichever comes first; slow
//! connections until the load ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::client::slow::{self, SlowCount};
use crate::plan::{FaultAction, FaultSpec, Signal};
use crate::runtime::{Act, RunningServer, Runtime};

/// One firing of a fault, as it happened.
#[derive(Debug, Clone)]
pub(super) struct Fired {
    /// The fault, as the test declares it.
    pub spec: FaultSpec,
    /// When it was carried out.
    pub at: SystemTime,
    /// When it was undone, or ended (a restart's return, slow connections
    /// closed); `None` for an instant.
    pub until: Option<SystemTime>,
    /// What it reached.
    pub target: Option<String>,
    /// Why it could not be carried out (or undone).
    pub error: Option<String>,
    /// What slow connections met.
    pub slow: Option<SlowCount>,
    /// Its index among the marks the client watched (a graceful stop's).
    pub mark: Option<usize>,
}

/// Something to do at a time after the load began.
enum Step {
    /// Fire fault `spec`'s `firing`th time.
    Fire { spec: usize, mark: Option<usize> },
    /// Undo firing `fired` with `act`.
    Undo { fired: usize, act: Act },
}

/// The marks the client watches: when each graceful stop fires, in order,
/// within `within` of the load's start.
pub(super) fn marks(faults: &[FaultSpec], within: Duration) -> Vec<Duration> {
    let mut marks: Vec<Duration> = faults
        .iter()
        .filter(|f| f.action == FaultAction::GracefulStop)
        .flat_map(|f| f.firings(within))
        .collect();
    marks.sort();
    marks
}

/// A worker pick: the same for the same cell seed, fault and firing.
fn pick(seed: u64, spec: usize, firing: usize) -> u64 {
    crate::units::fnv1a(&[
        &seed.to_le_bytes(),
        &(spec as u64).to_le_bytes(),
        &(firing as u64).to_le_bytes(),
    ])
}

/// What the faults need beyond the runtime.
pub(super) struct Driving<'a> {
    /// The server under load.
    pub running: &'a RunningServer,
    /// Its address, for slow connections.
    pub address: SocketAddr,
    /// The cell's seed (workers are picked by it).
    pub seed: u64,
    /// When the load began.
    pub began: Instant,
    /// How long the load may last.
    pub within: Duration,
    /// Cancelled when the load ends.
    pub load_over: CancellationToken,
}

/// Carry out `faults` on `driving.running` until the load is over; every
/// freeze is thawed before this returns.
pub(super) async fn drive<R: Runtime>(
    runtime: &R,
    faults: &[FaultSpec],
    driving: Driving<'_>,
) -> Vec<Fired> {
    let marks = marks(faults, driving.within);
    let mut steps: Vec<(Duration, Step)> = Vec::new();
    for (index, fault) in faults.iter().enumerate() {
        for at in fault.firings(driving.within) {
            let mark = (fault.action == FaultAction::GracefulStop)
                .then(|| marks.iter().position(|m| *m == at))
                .flatten();
            steps.push((at, Step::Fire { spec: index, mark }));
        }
    }
    let mut fired: Vec<Fired> = Vec::new();
    let mut firings = vec![0usize; faults.len()];
    let mut slow_tasks = Vec::new();
    // The next step in time; ties in the order they were added.
    while let Some(next) = steps
        .iter()
        .enumerate()
        .min_by_key(|(i, (at, _))| (*at, *i))
        .map(|(i, _)| i)
    {
        let (at, step) = steps.remove(next);
        let on_time = tokio::select! {
            _ = driving.load_over.cancelled() => false,
            _ = tokio::time::sleep_until((driving.began + at).into()) => true,
        };
        if !on_time {
            // The load is over: undo what is still frozen, fire nothing new.
            steps.insert(next, (at, step));
            break;
        }
        match step {
            Step::Fire { spec, mark } => {
                let fault = &faults[spec];
                let firing = firings[spec];
                firings[spec] += 1;
                let which = Which {
                    spec,
                    firing,
                    mark,
                    index: fired.len(),
                };
                let (record, undo) = fire(runtime, fault, which, &driving, &mut slow_tasks).await;
                fired.push(record);
                if let Some((after, act)) = undo {
                    steps.push((
                        driving.began.elapsed() + after,
                        Step::Undo {
                            fired: fired.len() - 1,
                            act,
                        },
                    ));
                }
            }
            Step::Undo { fired: index, act } => {
                undo(runtime, driving.running, &mut fired[index], act).await
            }
        }
    }
    for (_, step) in steps {
        if let Step::Undo { fired: index, act } = step {
            undo(runtime, driving.running, &mut fired[index], act).await;
        }
    }
    for (index, task) in slow_tasks {
        let count: Option<SlowCount> = task.await.ok();
        let record: &mut Fired = &mut fired[index];
        record.until = Some(SystemTime::now());
        record.slow = count;
    }
    fired
}

/// Slow connections, running until the load is over, by the index of
/// their fired record.
type SlowTask = (usize, tokio::task::JoinHandle<SlowCount>);

/// Which firing: of which fault, its how-manyth, its mark, and the index
/// its record will have.
struct Which {
    spec: usize,
    firing: usize,
    mark: Option<usize>,
    index: usize,
}

/// Fire `fault`; what it did, and what must undo it after how long.
async fn fire<R: Runtime>(
    runtime: &R,
    fault: &FaultSpec,
    which: Which,
    driving: &Driving<'_>,
    slow_tasks: &mut Vec<SlowTask>,
) -> (Fired, Option<(Duration, Act)>) {
    let Which {
        spec,
        firing,
        mark,
        index,
    } = which;
    let mut record = Fired {
        spec: fault.clone(),
        at: SystemTime::now(),
        until: None,
        target: None,
        error: None,
        slow: None,
        mark,
    };
    let running = driving.running;
    let pick = pick(driving.seed, spec, firing);
    let (act, undo_after) = match &fault.action {
        FaultAction::KillWorker { signal } => (
            Act::SignalWorker {
                signal: *signal,
                pick,
            },
            None,
        ),
        FaultAction::StopWorker { duration } => (
            Act::SignalWorker {
                signal: Signal::Stop,
                pick,
            },
            Some(*duration),
        ),
        FaultAction::Pause { duration } => (Act::Pause, Some(*duration)),
        FaultAction::Restart => (Act::Restart, None),
        FaultAction::GracefulStop => (Act::SignalServer(Signal::Term), None),
        FaultAction::SlowClients {
            connections,
            interval,
        } => {
            let (address, host) = (driving.address, driving.address.to_string());
            let (connections, interval) = (*connections, *interval);
            let stop = driving.load_over.clone();
            slow_tasks.push((
                index,
                tokio::spawn(async move {
                    slow::slow_clients(address, &host, connections, interval, stop).await
                }),
            ));
            record.target = Some(format!("{connections} connection(s)"));
            return (record, None);
        }
        FaultAction::SlowReaders {
            connections,
            bytes,
            rate,
        } => {
            let (address, host) = (driving.address, driving.address.to_string());
            let path = crate::behaviour::Behaviour::BigResponse { bytes: *bytes }.path_and_query();
            let (connections, rate) = (*connections, *rate);
            let stop = driving.load_over.clone();
            slow_tasks.push((
                index,
                tokio::spawn(async move {
                    slow::slow_readers(address, &host, &path, connections, rate, stop).await
                }),
            ));
            record.target = Some(format!("{connections} connection(s)"));
            return (record, None);
        }
    };
    let result = runtime.act(running, act).await;
    match result {
        Ok(target) => {
            record.target = Some(target.description);
            if act == Act::Restart {
                record.until = Some(SystemTime::now());
            }
            let undo = match (act, undo_after) {
                (Act::SignalWorker { .. }, Some(after)) => target.pid.map(|pid| {
                    (
                        after,
                        Act::SignalPid {
                            signal: Signal::Cont,
                            pid,
                        },
                    )
                }),
                (Act::Pause, Some(after)) => Some((after, Act::Unpause)),
                _ => None,
            };
            (record, undo)
        }
        Err(error) => {
            record.error = Some(error.to_string());
            (record, None)
        }
    }
}

async fn undo<R: Runtime>(runtime: &R, running: &RunningServer, record: &mut Fired, act: Act) {
    match runtime.act(running, act).await {
        Ok(_) => record.until = Some(SystemTime::now()),
        Err(error) => {
            record.until = Some(SystemTime::now());
            record.error = Some(format!("undoing it: {error}"));
        }
    }
}
