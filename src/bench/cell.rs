//! One cell's phases: wait for a job, start a fresh server, pre-flight,
//! the load, then give the job back and tear the server down, each phase
//! timed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Context;
use super::fault;
use super::schedule::{Board, busy_between, host_cpu};
use crate::catalogue::Server;
use crate::client::{self, Mix, Shared};
use crate::plan::TestSpec;
use crate::record::{self, Halted};
use crate::report::table::cell_text;
use crate::results::{Cell, Phases};
use crate::runtime::{PreparedImage, Runtime};

/// How far ahead faults are planned for a load with no duration (it ends
/// by its request count, whenever that is).
const FAULTS_WITHOUT_DURATION: Duration = Duration::from_secs(3600);

/// What one cell is.
pub(super) struct CellPlan<'a> {
    /// Its index in plan order.
    pub index: usize,
    /// Its server's index in the plan.
    pub server_index: usize,
    /// Its server, configured.
    pub server: &'a Server,
    /// Its test.
    pub test: &'a TestSpec,
    /// Which run of its server and test it is, from 0 (`--repeat`).
    pub repeat: usize,
    /// Seed of its request policies.
    pub seed: u64,
}

impl CellPlan<'_> {
    /// Why its test means nothing to its server's interface (a behaviour
    /// only the ASGI application has, on a WSGI server); `None`: it runs.
    /// A target without labour's middleware has none of labour's
    /// behaviours: a test that needs one is skipped too (the faults from
    /// outside need nothing inside the application).
    pub(super) fn unavailable(&self) -> Option<String> {
        if let Some(target) = &self.server.target
            && target.wrap.is_none()
            && let Some(behaviour) = self.test.needs_behaviour()
        {
            return Some(format!(
                "{} asks for {}, which only labour's middleware in your application answers: \
                 give the target's wrap (--target-wrap module:callable)",
                self.test.name,
                behaviour.name()
            ));
        }
        self.test.unavailable_under(self.server.interface)
    }

    pub(super) fn name(&self) -> String {
        match self.repeat {
            0 => format!("{} / {}", self.server.name, self.test.name),
            n => format!("{} / {} #{}", self.server.name, self.test.name, n + 1),
        }
    }
}

/// The cell's part of its server's name: the test, and the run.
fn container_cell_name(plan: &CellPlan<'_>) -> String {
    match plan.repeat {
        0 => plan.test.name.clone(),
        n => format!("{}-{}", plan.test.name, n + 1),
    }
}

fn secs_since(start: Instant) -> Option<f64> {
    Some(start.elapsed().as_secs_f64())
}

/// Run `plan`'s cell once its job is free; `None` when the run was
/// cancelled before the cell began.
pub(super) async fn run<R: Runtime>(
    runtime: &R,
    board: &Board,
    context: &Context<'_>,
    plan: &CellPlan<'_>,
    image: &PreparedImage,
) -> Option<Cell> {
    let Context {
        cancel,
        progress,
        launcher,
    } = context;
    let (server, test) = (plan.server, plan.test);
    let name = plan.name();
    board.admit(plan.index, runtime.halt()).await?;
    let mut phases = Phases {
        queued_secs: Some(board.secs(Instant::now())),
        ..Phases::default()
    };
    let started = Instant::now();
    let running = match runtime
        .start(server, image, &container_cell_name(plan))
        .await
    {
        Ok(running) => running,
        Err(error) => {
            board.release(plan.index);
            board.torn_down(plan.index);
            progress.say(format!("{name}: {error}"));
            let mut cell = record::failed(server, test, &error);
            phases.start_secs = secs_since(started);
            cell.phases = phases;
            return Some(cell);
        }
    };
    phases.start_secs = secs_since(started);
    let load = test.load();
    let checking = Instant::now();
    let prefix = server.behaviour_prefix();
    let checks = client::preflight(test, running.address, load.timeout, prefix).await;
    phases.preflight_secs = secs_since(checking);
    if checks.iter().any(|check| !check.expected) {
        board.release(plan.index);
        let stopped = runtime.stop(&running).await;
        board.torn_down(plan.index);
        if let Ok(stopped) = &stopped {
            phases.stop_secs = Some(stopped.stop_took.as_secs_f64());
            phases.remove_secs = Some(stopped.remove_took.as_secs_f64());
        }
        let mut cell = record::preflight_failed(server, test, image, checks, stopped);
        if let Some(error) = &cell.error {
            progress.say(format!("{name}: {}", error.message));
        }
        cell.phases = phases;
        return Some(cell);
    }
    if test.throughput {
        let waiting = Instant::now();
        if board.quiet(runtime.halt()).await.is_none() {
            // Interrupted while waiting: nothing was sent.
            board.release(plan.index);
            let _ = runtime.stop(&running).await;
            board.torn_down(plan.index);
            return None;
        }
        phases.quiet_secs = secs_since(waiting);
    }
    progress.say(format!(
        "{name}: {} to {}",
        load.describe(),
        running.address
    ));
    // What the faults need is found before the load, not at their time.
    let direct = match test.faults.is_empty() {
        true => None,
        false => runtime.direct(&running).await,
    };
    let mix = Mix::from_test(test, &running.address.to_string(), prefix);
    let shared = Arc::new(Shared::default());
    let watched = Arc::clone(&shared);
    let bar = progress.load_bar(&name, &load, Arc::clone(&shared));
    board.load_started(plan.index);
    let loading = Instant::now();
    let cpu_before = host_cpu();
    let within = load.duration.unwrap_or(FAULTS_WITHOUT_DURATION);
    let marks = fault::marks(&test.faults, within);
    let load_over = CancellationToken::new();
    // The server's `down` token ends the load early when the server is
    // down for good; it is also cancelled with the run. The faults run
    // beside the load and end with it.
    let loaded = async {
        let measured = client::run(
            &mix,
            running.address,
            &load,
            (plan.seed, &marks),
            &running.down,
            shared,
            launcher,
        )
        .await;
        load_over.cancel();
        measured
    };
    let driving = fault::Driving {
        address: running.address,
        seed: plan.seed,
        shared: watched,
        within,
        load_over: load_over.clone(),
        direct,
    };
    let (measured, fired) = tokio::join!(
        loaded,
        fault::drive(runtime, &running, &test.faults, driving)
    );
    for fired in &fired {
        if let Some(error) = &fired.error {
            progress.say(format!(
                "{name}: fault {}: {error}",
                fired.spec.action.name()
            ));
        }
    }
    phases.load_secs = secs_since(loading);
    let host_cpu_busy = busy_between(cpu_before, host_cpu());
    bar.finish();
    board.release(plan.index);
    for failure in &measured.worker_failures {
        progress.say(format!("{name}: {failure}"));
    }
    let stopped = runtime.stop(&running).await;
    board.torn_down(plan.index);
    if let Ok(stopped) = &stopped {
        phases.stop_secs = Some(stopped.stop_took.as_secs_f64());
        phases.remove_secs = Some(stopped.remove_took.as_secs_f64());
    }
    let halted = if cancel.is_cancelled() {
        Some(Halted::Interrupted)
    } else {
        runtime.lost().map(|_| Halted::EngineLost)
    };
    let mut cell = record::measured(
        server,
        test,
        image,
        &running,
        measured,
        (stopped, fired),
        halted,
    );
    cell.preflight = checks.into_iter().map(record::preflight_record).collect();
    cell.not_enforced = runtime.not_enforced(server);
    cell.phases = phases;
    cell.overlap.host_cpu_busy = host_cpu_busy;
    progress.say(format!("{name}: {}", cell_text(&cell)));
    Some(cell)
}
