//! Drives a plan: prepares each server ahead of its cells (one build at a
//! time, in plan order, overlapping other servers' cells), runs up to
//! `plan.jobs` cells at once, each with its own fresh server, and tears
//! each server down off the critical path. Cells whose headline is
//! throughput run alone (see [`schedule`]). Every cell is recorded with its
//! phases and what overlapped it.

mod cell;
mod fault;
mod schedule;

use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use self::cell::CellPlan;
use self::schedule::{Board, Slot};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::client::{self, Launcher, Mix, Shared};
use crate::plan::TestSpec;
pub(crate) use crate::progress::Progress;
use crate::record;
use crate::report::table::cell_text;
use crate::results::Cell;
use crate::results::{Overlap, PrepareRecord, Results};
use crate::runtime::{PreparedImage, Runtime, RuntimeError};
use crate::scenario::Plan;
use crate::units::fnv1a;

/// What a run needs besides its plan and runtime.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    /// Cancelled on SIGINT or SIGTERM.
    pub cancel: &'a CancellationToken,
    /// Where progress goes.
    pub progress: &'a Progress,
    /// Where the client's worker processes come from.
    pub launcher: &'a Launcher,
}

/// The seed of a test's cells: derived from the run's seed and the test's
/// name, so every server gets the same requests in a test, and a cell's
/// requests do not depend on `--jobs`, the order cells run in, or shards.
pub(crate) fn cell_seed(run_seed: u64, test: &str) -> u64 {
    fnv1a(&[&run_seed.to_le_bytes(), test.as_bytes()])
}

/// Run `test` once against a server someone else started at `address`
/// (127.0.0.1 or any host you may load): pre-flight, then the load, judged
/// as `bench` judges it, in labour's own process. There is no engine to
/// report deaths or resources, so the cell has none; everything the client
/// saw is there. Its load is `test.load` (or the defaults), its seed `seed`.
pub async fn measure(address: SocketAddr, test: &TestSpec, seed: u64) -> Cell {
    let load = test.load();
    let checks = client::preflight(test, address, load.timeout, "").await;
    let mix = Mix::from_test(test, &address.to_string(), "");
    let never = CancellationToken::new();
    let run = client::run(
        &mix,
        address,
        &load,
        (seed, &[]),
        &never,
        Arc::new(Shared::default()),
        &Launcher::InProcess,
    )
    .await;
    let mut cell = record::external(&address.to_string(), test, run);
    cell.seed = seed;
    cell.preflight = checks.into_iter().map(record::preflight_record).collect();
    cell.verdict = Some(crate::results::verdict(&cell));
    cell
}

/// How a prepared server went.
enum Preparation {
    Ready(PreparedImage),
    Failed(RuntimeError),
}

/// What a run has to say while it goes: each cell as it finishes, then the
/// whole document once.
pub(crate) enum Progressed<'a> {
    /// The run began: the document as it starts, with no cell.
    Began(&'a Results),
    /// A cell finished (the document holds it, in plan order).
    Cell(&'a Cell),
    /// The run is over: the whole document.
    Finished(&'a Results),
}

/// Run every cell of `plan` on `runtime`. `on` hears the run begin, each
/// cell finish and the run end (to write them out); an error from it stops
/// the run.
/// Cancellation ends the run after the current request of each worker;
/// cells not begun by then are not recorded.
///
/// In four steps: [`begin`] the document, [`schedule`] the cells on a
/// board, [`Run::cells`] builds servers ahead of the cells and runs them,
/// and [`finish`] adds the run's own figures.
pub(crate) async fn run<R: Runtime>(
    plan: &Plan,
    runtime: &R,
    context: Context<'_>,
    mut on: impl FnMut(Progressed<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<Results> {
    let cpu_before = client::process::Usage::of_self().cpu_secs;
    let mut results = begin(plan, runtime).await?;
    on(Progressed::Began(&results))?;
    let (cells, board) = schedule(plan);
    let run = Run {
        plan,
        runtime,
        context,
        board: &board,
        names: cells.iter().map(CellPlan::name).collect(),
        cells: &cells,
        preparations: plan.servers.iter().map(|_| Default::default()).collect(),
        prepares: Default::default(),
    };
    run.cells(&mut results, &mut on).await?;
    finish(&mut results, &run, cpu_before);
    on(Progressed::Finished(&results))?;
    Ok(results)
}

/// The document as the run starts: the plan, the engine, no cell.
async fn begin<R: Runtime>(plan: &Plan, runtime: &R) -> anyhow::Result<Results> {
    let engine = record::engine(runtime.engine_info().await?);
    Ok(Results::new(runtime.run_id(), plan, engine))
}

/// The plan's cells (or its shard's), server by server, each with its
/// seed, and the board that admits them (see [`schedule`]).
fn schedule(plan: &Plan) -> (Vec<CellPlan<'_>>, Board) {
    let cells: Vec<CellPlan> = plan
        .cells()
        .into_iter()
        .enumerate()
        .map(|(index, key)| CellPlan {
            index,
            server_index: key.server,
            server: &plan.servers[key.server],
            test: &plan.tests[key.test],
            repeat: key.repeat,
            seed: cell_seed(plan.seed, &plan.tests[key.test].name),
        })
        .collect();
    let slots = cells
        .iter()
        .map(|cell| Slot {
            server: cell.server_index,
            alone: cell.test.throughput,
        })
        .collect();
    let board = Board::new(slots, plan.servers.len(), plan.jobs);
    (cells, board)
}

/// A run under way: what its builds and its cells share.
struct Run<'a, R> {
    plan: &'a Plan,
    runtime: &'a R,
    context: Context<'a>,
    board: &'a Board,
    /// The cells, in plan order.
    cells: &'a [CellPlan<'a>],
    /// Each cell's name, for the overlaps of the others.
    names: Vec<String>,
    /// Each server's image, once built (or why not).
    preparations: Vec<tokio::sync::OnceCell<Preparation>>,
    /// Each build, as it finished.
    prepares: std::sync::Mutex<Vec<PrepareRecord>>,
}

impl<R: Runtime> Run<'_, R> {
    /// Build the servers ahead of their cells and run the cells, up to
    /// `plan.jobs` at once; each cell lands in `results` in plan order as
    /// it finishes, and `on` hears it.
    async fn cells(
        &self,
        results: &mut Results,
        on: &mut impl FnMut(Progressed<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let progress = self.context.progress;
        let run_bar = progress.run_bar(self.cells.len() as u64);
        let mut cells: FuturesUnordered<_> =
            self.cells.iter().map(|cell| self.cell(cell)).collect();
        // Cells in plan order, whatever order they finish in.
        let mut order: Vec<usize> = Vec::new();
        let prepare_all = self.prepare_all();
        tokio::pin!(prepare_all);
        let watching = self.board.watch_host();
        tokio::pin!(watching);
        let mut preparing = true;
        loop {
            let finished = tokio::select! {
                () = &mut prepare_all, if preparing => {
                    preparing = false;
                    continue;
                }
                () = &mut watching => continue,
                finished = cells.next() => finished,
            };
            let Some(finished) = finished else { break };
            let Some((index, mut cell)) = finished else {
                continue;
            };
            let prepared = self.prepares.lock().unwrap().clone();
            if let Some(record) = prepared.iter().find(|p| p.server == cell.server) {
                cell.phases.prepare_secs = Some(record.secs);
            }
            run_bar.cell_done();
            if !progress.draws_bars() {
                progress.say(format!(
                    "[{}/{}] {} / {}: {}",
                    run_bar.done(),
                    run_bar.total(),
                    cell.server,
                    cell.test,
                    cell_text(&cell)
                ));
            }
            let at = order.partition_point(|&i| i < index);
            order.insert(at, index);
            results.cells.insert(at, cell);
            results.prepares = prepared;
            on(Progressed::Cell(&results.cells[at]))?;
        }
        if preparing {
            // Every cell ended before every server was prepared (interrupted).
            prepare_all.await;
        }
        run_bar.finish();
        Ok(())
    }

    /// One build at a time, in plan order, ahead of the cells that need
    /// it; a server none of whose cells runs here (another shard's, or
    /// every one skipped for its interface) is not built.
    async fn prepare_all(&self) {
        let (runtime, board, progress) = (self.runtime, self.board, self.context.progress);
        for (index, server) in self.plan.servers.iter().enumerate() {
            if runtime.halt().is_cancelled() {
                break;
            }
            if !self
                .cells
                .iter()
                .any(|cell| cell.server_index == index && cell.unavailable().is_none())
            {
                board.not_needed(index);
                continue;
            }
            let on_step = |step: &str| progress.say(format!("{}: {step}", server.name));
            board.build_started(index);
            let began = Instant::now();
            let outcome = runtime.prepare(server, &on_step).await;
            let ready = outcome.is_ok();
            if let Err(error) = &outcome {
                match error {
                    RuntimeError::Interrupted => {}
                    // "<server> skipped: why" names the server already.
                    RuntimeError::Unsupported { .. } => progress.say(error.to_string()),
                    _ => progress.say(format!("{}: {error}", server.name)),
                }
            }
            let _ = self.preparations[index].set(match outcome {
                Ok(image) => Preparation::Ready(image),
                Err(error) => Preparation::Failed(error),
            });
            self.prepares.lock().unwrap().push(PrepareRecord {
                server: server.name.clone(),
                started_secs: board.secs(began),
                secs: began.elapsed().as_secs_f64(),
                ready,
            });
            board.build_finished(index, ready);
        }
    }

    /// One cell, once its server is built and the board admits it: run,
    /// skipped (with why) or failed with its server's build; `None` when
    /// the run stopped before it began.
    async fn cell(&self, cell_plan: &CellPlan<'_>) -> Option<(usize, Cell)> {
        let (runtime, board) = (self.runtime, self.board);
        // A test that means nothing under the server's interface is
        // skipped at once, with why, never sent.
        let mut cell = if let Some(why) = cell_plan.unavailable() {
            board.skip(cell_plan.index);
            record::skipped(cell_plan.server, cell_plan.test, why)
        } else {
            let ready = board.prepared(cell_plan.index, runtime.halt()).await?;
            let preparation = self.preparations[cell_plan.server_index].get()?;
            match (ready, preparation) {
                (true, Preparation::Ready(image)) => {
                    cell::run(runtime, board, &self.context, cell_plan, image).await?
                }
                (_, Preparation::Failed(RuntimeError::Interrupted)) => return None,
                (_, Preparation::Failed(error)) => {
                    board.skip(cell_plan.index);
                    record::failed(cell_plan.server, cell_plan.test, error)
                }
                (false, Preparation::Ready(_)) => return None,
            }
        };
        cell.seed = cell_plan.seed;
        cell.verdict = Some(crate::results::verdict(&cell));
        cell.run_id = runtime.run_id().to_string();
        cell.repeat = cell_plan.repeat as u32;
        let overlaps = board.overlaps(cell_plan.index);
        cell.overlap = Overlap {
            cells: overlaps
                .cells
                .iter()
                .map(|&i| self.names[i].clone())
                .collect(),
            builds: overlaps
                .builds
                .iter()
                .map(|&s| self.plan.servers[s].name.clone())
                .collect(),
            ..cell.overlap
        };
        Some((cell_plan.index, cell))
    }
}

/// The run's own figures: builds, wall and idle time, labour's CPU, a lost
/// engine; then the document is settled as complete or interrupted.
fn finish<R: Runtime>(results: &mut Results, run: &Run<'_, R>, cpu_before: f64) {
    let end = Instant::now();
    results.prepares = run.prepares.lock().unwrap().clone();
    results.wall_secs = run.board.secs(end);
    results.orchestration_secs = run.board.idle_secs(end);
    results.orchestration_share = if results.wall_secs > 0.0 {
        results.orchestration_secs / results.wall_secs
    } else {
        0.0
    };
    let cpu = client::process::Usage::of_self().cpu_secs - cpu_before;
    results.labour_cpu_secs = Some(cpu);
    results.labour_cpu_share = (results.wall_secs > 0.0).then(|| cpu / results.wall_secs);
    results.engine_lost = run.runtime.lost();
    results.finish(run.context.cancel.is_cancelled());
}

#[cfg(test)]
mod tests;
