//! Which cells run now. Up to `jobs` cells are between their server's start
//! and the end of their load at once; a cell's teardown (stop, remove) does
//! not hold a job. Cells whose headline is throughput run alone: they wait
//! until every other cell has been started and loaded, no image is being
//! built and no server is being torn down, and nothing starts while they
//! run. Everything that happens is timed, so each cell can say what
//! overlapped its load and the run can say how much of its wall time no
//! cell was loading.

use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Where a server's preparation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prepared {
    /// Not begun, or building.
    Pending,
    /// Its cells can start.
    Ready,
    /// It failed: its cells are recorded without running.
    Failed,
}

/// One cell as the board sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    /// The server's index in the plan.
    pub server: usize,
    /// Whether it runs alone.
    pub alone: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Times {
    admitted: Option<Instant>,
    load: Option<(Instant, Option<Instant>)>,
    done: Option<Instant>,
}

#[derive(Debug)]
struct State {
    prepared: Vec<Prepared>,
    /// Build intervals, by server.
    builds: Vec<Option<(Instant, Option<Instant>)>>,
    /// Cells not yet admitted, by index.
    waiting: Vec<bool>,
    times: Vec<Times>,
    /// Cells admitted whose load has not ended.
    active: usize,
    /// Whether a throughput cell holds the host.
    alone: bool,
    /// Cells whose load ended and whose teardown has not.
    tearing_down: usize,
    /// The share of the host's CPU time busy over the last sample (see
    /// [`Board::watch_host`]); `None` until one is taken, or where the
    /// host cannot be read.
    host_busy: Option<f64>,
}

/// A cell beside others starts only while the host's CPUs were less busy
/// than this over the last [`HOST_SAMPLE`]: a cell that mostly waits (on
/// sleeping, wedged or respawning workers) leaves room for more, one that
/// keeps the CPUs busy keeps the next cell waiting, so rates are not
/// measured on a host its neighbours saturate.
pub(super) const ADMIT_BELOW_BUSY: f64 = 0.75;

/// How often, and over how long, the host's CPU is sampled for admission.
pub(super) const HOST_SAMPLE: std::time::Duration = std::time::Duration::from_millis(500);

/// The scheduler's board, shared by every cell of a run.
pub(super) struct Board {
    jobs: usize,
    slots: Vec<Slot>,
    state: Mutex<State>,
    changed: Notify,
    /// When the run began: every time is measured from it.
    pub origin: Instant,
}

/// What overlapped one cell's load: indexes of cells and servers.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Overlaps {
    pub cells: Vec<usize>,
    pub builds: Vec<usize>,
}

/// The host's CPU time so far from /proc/stat's first line: busy and all,
/// in clock ticks.
pub(super) fn host_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user).
    let all: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some((all - idle, all))
}

/// The busy share of the host's CPU time between two readings.
pub(super) fn busy_between(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> Option<f64> {
    let ((busy0, all0), (busy1, all1)) = (before?, after?);
    let all = all1.checked_sub(all0).filter(|&all| all > 0)?;
    Some(busy1.saturating_sub(busy0) as f64 / all as f64)
}

fn overlaps(window: (Instant, Instant), from: Instant, to: Option<Instant>) -> bool {
    from < window.1 && to.is_none_or(|to| to > window.0)
}

impl Board {
    /// A board for these cells over `servers` servers, at most `jobs` at once.
    pub(super) fn new(slots: Vec<Slot>, servers: usize, jobs: usize) -> Self {
        let cells = slots.len();
        Board {
            jobs: jobs.max(1),
            slots,
            state: Mutex::new(State {
                prepared: vec![Prepared::Pending; servers],
                builds: vec![None; servers],
                waiting: vec![true; cells],
                times: vec![Times::default(); cells],
                active: 0,
                alone: false,
                tearing_down: 0,
                host_busy: None,
            }),
            changed: Notify::new(),
            origin: Instant::now(),
        }
    }

    fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let value = change(&mut self.state.lock().unwrap());
        self.changed.notify_waiters();
        value
    }

    /// Wait until `ready` says yes (checked on every change), or `cancel`.
    async fn wait_for<T>(
        &self,
        cancel: &CancellationToken,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        loop {
            // A run already halted admits nothing more, however free the
            // board is.
            if cancel.is_cancelled() {
                return None;
            }
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the check: a change between the check and
            // the wait is not missed.
            notified.as_mut().enable();
            if let Some(value) = ready(&mut self.state.lock().unwrap()) {
                self.changed.notify_waiters();
                return Some(value);
            }
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = notified => {}
            }
        }
    }

    /// Server `server`'s preparation began.
    pub(super) fn build_started(&self, server: usize) {
        self.update(|state| state.builds[server] = Some((Instant::now(), None)));
    }

    /// Server `server`'s preparation ended, ready or not.
    pub(super) fn build_finished(&self, server: usize, ready: bool) {
        self.update(|state| {
            if let Some((_, end)) = &mut state.builds[server] {
                *end = Some(Instant::now());
            }
            state.prepared[server] = if ready {
                Prepared::Ready
            } else {
                Prepared::Failed
            };
        });
    }

    /// Server `server` has no cell in this run (another shard's): nothing
    /// waits for it.
    pub(super) fn not_needed(&self, server: usize) {
        self.update(|state| state.prepared[server] = Prepared::Ready);
    }

    /// Wait until cell `index`'s server is prepared; whether it is ready.
    pub(super) async fn prepared(&self, index: usize, cancel: &CancellationToken) -> Option<bool> {
        let server = self.slots[index].server;
        self.wait_for(cancel, |state| match state.prepared[server] {
            Prepared::Pending => None,
            Prepared::Ready => Some(true),
            Prepared::Failed => Some(false),
        })
        .await
    }

    /// Take cell `index` off the queue without running it (its server
    /// could not be prepared).
    pub(super) fn skip(&self, index: usize) {
        self.update(|state| state.waiting[index] = false);
    }

    /// Whether cell `index` may start now.
    fn may_start(&self, state: &State, index: usize) -> bool {
        let first_waiting = |alone: bool| {
            (0..self.slots.len()).find(|&i| {
                state.waiting[i]
                    && self.slots[i].alone == alone
                    && state.prepared[self.slots[i].server] == Prepared::Ready
            })
        };
        if self.slots[index].alone {
            let others_left =
                (0..self.slots.len()).any(|i| state.waiting[i] && !self.slots[i].alone);
            let building = state.prepared.contains(&Prepared::Pending);
            state.active == 0
                && !state.alone
                && !others_left
                && !building
                && first_waiting(true) == Some(index)
        } else {
            let headroom =
                state.active == 0 || state.host_busy.is_none_or(|b| b < ADMIT_BELOW_BUSY);
            !state.alone
                && state.active < self.jobs
                && headroom
                && first_waiting(false) == Some(index)
        }
    }

    /// Wait until cell `index` may start its server, and take its job;
    /// `None` when the run is cancelled first.
    pub(super) async fn admit(&self, index: usize, cancel: &CancellationToken) -> Option<()> {
        self.wait_for(cancel, |state| {
            if !self.may_start(state, index) {
                return None;
            }
            state.waiting[index] = false;
            state.active += 1;
            state.alone |= self.slots[index].alone;
            state.times[index].admitted = Some(Instant::now());
            Some(())
        })
        .await
    }

    /// For a throughput cell: wait until no other server is being torn
    /// down, so that nothing else loads the host during its load.
    pub(super) async fn quiet(&self, cancel: &CancellationToken) -> Option<()> {
        self.wait_for(cancel, |state| (state.tearing_down == 0).then_some(()))
            .await
    }

    /// Sample the host's CPU every [`HOST_SAMPLE`] for admission, for as
    /// long as it is polled.
    pub(super) async fn watch_host(&self) {
        let mut before = host_cpu();
        loop {
            tokio::time::sleep(HOST_SAMPLE).await;
            let now = host_cpu();
            let busy = busy_between(before, now);
            before = now;
            self.update(|state| state.host_busy = busy);
        }
    }

    /// Cell `index` begins its load.
    pub(super) fn load_started(&self, index: usize) {
        self.update(|state| state.times[index].load = Some((Instant::now(), None)));
    }

    /// Cell `index` no longer needs its job (its load ended, or its server
    /// never got as far); its teardown follows off the critical path.
    pub(super) fn release(&self, index: usize) {
        self.update(|state| {
            let times = &mut state.times[index];
            if let Some((_, end)) = &mut times.load {
                *end = Some(Instant::now());
            }
            state.active -= 1;
            if self.slots[index].alone {
                state.alone = false;
            }
            state.tearing_down += 1;
        });
    }

    /// Cell `index`'s server is gone.
    pub(super) fn torn_down(&self, index: usize) {
        self.update(|state| {
            state.tearing_down -= 1;
            state.times[index].done = Some(Instant::now());
        });
    }

    /// What overlapped cell `index`'s load: the other cells that were
    /// between their start and their teardown's end at some point of it,
    /// and the servers being prepared.
    pub(super) fn overlaps(&self, index: usize) -> Overlaps {
        let state = self.state.lock().unwrap();
        let Some((from, Some(to))) = state.times[index].load else {
            return Overlaps::default();
        };
        let window = (from, to);
        let cells = state
            .times
            .iter()
            .enumerate()
            .filter(|&(other, times)| {
                other != index
                    && times
                        .admitted
                        .is_some_and(|admitted| overlaps(window, admitted, times.done))
            })
            .map(|(other, _)| other)
            .collect();
        let builds = state
            .builds
            .iter()
            .enumerate()
            .filter(|(_, build)| build.is_some_and(|(start, end)| overlaps(window, start, end)))
            .map(|(server, _)| server)
            .collect();
        Overlaps { cells, builds }
    }

    /// Seconds from the origin until `at`.
    pub(super) fn secs(&self, at: Instant) -> f64 {
        at.duration_since(self.origin).as_secs_f64()
    }

    /// Seconds between the origin and `end` in which no cell was loading.
    pub(super) fn idle_secs(&self, end: Instant) -> f64 {
        let state = self.state.lock().unwrap();
        let mut windows: Vec<(Instant, Instant)> = state
            .times
            .iter()
            .filter_map(|times| times.load)
            .map(|(from, to)| (from, to.unwrap_or(end)))
            .collect();
        windows.sort();
        let mut busy = 0.0;
        let mut covered: Option<(Instant, Instant)> = None;
        for (from, to) in windows {
            match &mut covered {
                Some((_, until)) if from <= *until => *until = (*until).max(to),
                _ => {
                    if let Some((start, until)) = covered {
                        busy += until.duration_since(start).as_secs_f64();
                    }
                    covered = Some((from, to));
                }
            }
        }
        if let Some((start, until)) = covered {
            busy += until.duration_since(start).as_secs_f64();
        }
        (end.duration_since(self.origin).as_secs_f64() - busy).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn board(alone: &[bool], jobs: usize) -> Arc<Board> {
        let slots = alone
            .iter()
            .map(|&alone| Slot { server: 0, alone })
            .collect();
        Arc::new(Board::new(slots, 1, jobs))
    }

    /// Whether `admit(index)` completes at once.
    async fn admits_now(board: &Board, index: usize) -> bool {
        let cancel = CancellationToken::new();
        tokio::time::timeout(Duration::from_millis(50), board.admit(index, &cancel))
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn no_cell_starts_before_its_server_is_prepared() {
        let board = board(&[false], 2);
        assert!(!admits_now(&board, 0).await);
        board.build_started(0);
        board.build_finished(0, true);
        assert!(admits_now(&board, 0).await);
    }

    #[tokio::test]
    async fn at_most_jobs_cells_hold_a_job_and_teardown_holds_none() {
        let board = board(&[false, false, false], 2);
        board.build_finished(0, true);
        assert!(admits_now(&board, 0).await);
        assert!(admits_now(&board, 1).await);
        assert!(!admits_now(&board, 2).await, "two jobs are taken");
        board.load_started(0);
        board.release(0);
        assert!(
            admits_now(&board, 2).await,
            "a cell in teardown holds no job"
        );
    }

    #[tokio::test]
    async fn a_throughput_cell_waits_for_every_other_cell_and_then_runs_alone() {
        let board = board(&[true, false, false], 4);
        board.build_finished(0, true);
        assert!(!admits_now(&board, 0).await, "other cells are left to run");
        assert!(admits_now(&board, 1).await);
        assert!(admits_now(&board, 2).await);
        assert!(!admits_now(&board, 0).await, "others are still loading");
        board.release(1);
        board.release(2);
        assert!(admits_now(&board, 0).await);
        let cancel = CancellationToken::new();
        let quiet = tokio::time::timeout(Duration::from_millis(50), board.quiet(&cancel));
        assert!(quiet.await.is_err(), "two servers are being torn down");
        board.torn_down(1);
        board.torn_down(2);
        let quiet = tokio::time::timeout(Duration::from_millis(50), board.quiet(&cancel));
        assert!(quiet.await.is_ok());
    }

    #[tokio::test]
    async fn cancellation_ends_a_wait() {
        let board = board(&[false], 1);
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert_eq!(board.admit(0, &cancel).await, None);
    }

    #[tokio::test]
    async fn overlaps_are_the_cells_active_during_a_load() {
        let board = board(&[false, false, false], 3);
        board.build_finished(0, true);
        assert!(admits_now(&board, 0).await);
        assert!(admits_now(&board, 1).await);
        board.load_started(0);
        board.load_started(1);
        board.release(1);
        board.torn_down(1);
        board.release(0);
        board.torn_down(0);
        assert!(admits_now(&board, 2).await);
        board.load_started(2);
        board.release(2);
        assert_eq!(board.overlaps(0).cells, [1]);
        assert_eq!(board.overlaps(2).cells, Vec::<usize>::new());
        let end = Instant::now();
        let idle = board.idle_secs(end);
        assert!(idle >= 0.0 && idle <= board.secs(end));
    }
}
