//! Driving a test's faults during a cell's load: each firing at its time
//! after the load began, its undoing (a thaw, an unpause) when its
//! duration is over or the load ends, whichever comes first; slow
//! connections until the load ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::client::slow::{self, SlowCount};
use crate::plan::{FaultAction, FaultSpec, Signal};
use crate::record::Fired;
use crate::runtime::{Act, ActTarget, DirectActs, RunningServer, Runtime, RuntimeError};

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

/// What the faults need beyond the runtime and the server.
pub(super) struct Driving {
    /// The server's address, for slow connections.
    pub address: SocketAddr,
    /// The cell's seed (workers are picked by it).
    pub seed: u64,
    /// The client's shared counts: when the load began.
    pub shared: std::sync::Arc<crate::client::Shared>,
    /// How long the load may last.
    pub within: Duration,
    /// Cancelled when the load ends.
    pub load_over: CancellationToken,
    /// The acts this host carries out itself, found before the load.
    pub direct: Option<Arc<dyn DirectActs>>,
}

/// An act the clock asks the runtime to carry out, and where the answer goes.
type EngineAct = (Act, oneshot::Sender<Result<ActTarget, RuntimeError>>);

/// How the clock carries out an act: on this host at once when it can,
/// else through the runtime (on the run's async runtime, which owns the
/// engine's connections).
struct Hands {
    direct: Option<Arc<dyn DirectActs>>,
    engine: mpsc::UnboundedSender<EngineAct>,
}

impl Hands {
    async fn act(&self, act: Act) -> Result<ActTarget, RuntimeError> {
        if let Some(direct) = self.direct.as_ref().filter(|d| d.can(act)) {
            return direct.act(act);
        }
        let (answer, answered) = oneshot::channel();
        self.engine
            .send((act, answer))
            .map_err(|_| RuntimeError::Interrupted)?;
        answered.await.unwrap_or(Err(RuntimeError::Interrupted))
    }
}

/// Carry out `faults` on `running` until the load is over; every freeze is
/// thawed before this returns.
///
/// The faults keep their own time on a thread of their own (with its own
/// small async runtime): nothing the run does meanwhile (other cells,
/// writing results, drawing progress) can make a firing late. Acts this
/// host can do itself (signals) land at once; the others (pause, restart)
/// are sent back here, to the runtime.
pub(super) async fn drive<R: Runtime>(
    runtime: &R,
    running: &RunningServer,
    faults: &[FaultSpec],
    driving: Driving,
) -> Vec<Fired> {
    if faults.is_empty() {
        return Vec::new();
    }
    let (engine, mut asked) = mpsc::unbounded_channel::<EngineAct>();
    let (done, mut finished) = oneshot::channel();
    let faults = faults.to_vec();
    let hands = Hands {
        direct: driving.direct.clone(),
        engine,
    };
    let clock = std::thread::Builder::new()
        .name("labour-faults".into())
        .spawn(move || {
            let fired = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|clock| clock.block_on(keep_time(&faults, &driving, &hands)));
            let _ = done.send(fired.unwrap_or_default());
        });
    if clock.is_err() {
        return Vec::new();
    }
    loop {
        tokio::select! {
            fired = &mut finished => return fired.unwrap_or_default(),
            Some((act, answer)) = asked.recv() => {
                let _ = answer.send(runtime.act(running, act).await);
            }
        }
    }
}

/// The faults' clock: each firing at its time after the load began.
async fn keep_time(faults: &[FaultSpec], driving: &Driving, hands: &Hands) -> Vec<Fired> {
    // Times are after the load began, as the client counts them.
    let began = loop {
        if let Some(began) = driving.shared.started() {
            break began;
        }
        tokio::select! {
            _ = driving.load_over.cancelled() => return Vec::new(),
            _ = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
    };
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
        let due = began + at;
        let on_time = tokio::select! {
            _ = driving.load_over.cancelled() => false,
            _ = tokio::time::sleep_until(due.into()) => true,
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
                    due,
                    planned: at,
                };
                let (record, undo) = fire(hands, fault, which, driving, &mut slow_tasks).await;
                fired.push(record);
                if let Some((after, act)) = undo {
                    steps.push((
                        began.elapsed() + after,
                        Step::Undo {
                            fired: fired.len() - 1,
                            act,
                        },
                    ));
                }
            }
            Step::Undo { fired: index, act } => undo(hands, &mut fired[index], act).await,
        }
    }
    for (_, step) in steps {
        if let Step::Undo { fired: index, act } = step {
            undo(hands, &mut fired[index], act).await;
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

/// Which firing: of which fault, its how-manyth, its mark, the index its
/// record will have, and when it was due (an instant, and after the load
/// began).
struct Which {
    spec: usize,
    firing: usize,
    mark: Option<usize>,
    index: usize,
    due: Instant,
    planned: Duration,
}

/// Fire `fault`; what it did, and what must undo it after how long.
async fn fire(
    hands: &Hands,
    fault: &FaultSpec,
    which: Which,
    driving: &Driving,
    slow_tasks: &mut Vec<SlowTask>,
) -> (Fired, Option<(Duration, Act)>) {
    let Which {
        spec,
        firing,
        mark,
        index,
        due,
        planned,
    } = which;
    let mut record = Fired {
        spec: fault.clone(),
        planned,
        late: due.elapsed(),
        at: SystemTime::now(),
        until: None,
        target: None,
        error: None,
        slow: None,
        mark,
    };
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
    let result = hands.act(act).await;
    // A signal or a freeze counts from when it landed (through the engine,
    // that takes a while); a restart from when it began, until it was done.
    if act == Act::Restart {
        record.until = Some(SystemTime::now());
    } else {
        record.at = SystemTime::now();
        record.late = due.elapsed();
    }
    match result {
        Ok(target) => {
            record.target = Some(target.description);
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

async fn undo(hands: &Hands, record: &mut Fired, act: Act) {
    match hands.act(act).await {
        Ok(_) => record.until = Some(SystemTime::now()),
        Err(error) => {
            record.until = Some(SystemTime::now());
            record.error = Some(format!("undoing it: {error}"));
        }
    }
}
