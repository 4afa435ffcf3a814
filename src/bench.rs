//! Drives a plan: for each server, prepare it once; for each test, start a
//! fresh server, send the load, stop it, and record the cell.

use tokio_util::sync::CancellationToken;

use crate::catalogue::Server;
use std::sync::Arc;

use crate::client::{self, Launcher, Mix, Shared};
pub use crate::progress::Progress;
use crate::report::table::cell_text;
use crate::results::{Cell, Results};
use crate::runtime::{PreparedImage, Runtime, RuntimeError};
use crate::scenario::{Plan, TestSpec};

/// What a run needs besides its plan and runtime.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Cancelled on SIGINT or SIGTERM.
    pub cancel: &'a CancellationToken,
    /// Where progress goes.
    pub progress: Progress,
    /// Where the client's worker processes come from.
    pub launcher: &'a Launcher,
}

/// Run every cell of `plan` on `runtime`. `after_cell` sees the results
/// after each cell (to write them out); an error from it stops the run.
/// Cancellation ends the run after the current request of each worker.
pub async fn run<R: Runtime>(
    plan: &Plan,
    runtime: &R,
    context: Context<'_>,
    mut after_cell: impl FnMut(&Results) -> anyhow::Result<()>,
) -> anyhow::Result<Results> {
    let Context {
        cancel, progress, ..
    } = context;
    let engine = runtime.engine_info().await?;
    let mut results = Results::new(runtime.run_id(), plan, engine);
    'servers: for server in &plan.servers {
        if cancel.is_cancelled() {
            break;
        }
        let on_step = |step: &str| progress.say(format!("{}: {step}", server.name));
        let image = match runtime.prepare(server, &on_step).await {
            Ok(image) => image,
            Err(RuntimeError::Interrupted) => break,
            Err(error) => {
                // "<server> skipped: why" names the server already.
                match error {
                    RuntimeError::Unsupported { .. } => progress.say(error.to_string()),
                    _ => progress.say(format!("{}: {error}", server.name)),
                }
                for test in &plan.tests {
                    results.cells.push(Cell::failed(server, test, &error));
                }
                after_cell(&results)?;
                continue;
            }
        };
        for test in &plan.tests {
            if cancel.is_cancelled() {
                break 'servers;
            }
            let cell = run_cell(plan, runtime, server, &image, test, context).await;
            results.cells.push(cell);
            after_cell(&results)?;
        }
    }
    results.finish(cancel.is_cancelled());
    after_cell(&results)?;
    Ok(results)
}

async fn run_cell<R: Runtime>(
    plan: &Plan,
    runtime: &R,
    server: &Server,
    image: &PreparedImage,
    test: &TestSpec,
    context: Context<'_>,
) -> Cell {
    let Context {
        cancel,
        progress,
        launcher,
    } = context;
    let name = format!("{} / {}", server.name, test.name);
    let running = match runtime.start(server, image, &test.name).await {
        Ok(running) => running,
        Err(error) => {
            progress.say(format!("{name}: {error}"));
            return Cell::failed(server, test, &error);
        }
    };
    let load = test.load();
    let checks = client::preflight(test, running.address, load.timeout).await;
    if checks.iter().any(|check| !check.expected) {
        let stopped = runtime.stop(&running).await;
        let cell = Cell::preflight_failed(server, test, image, checks, stopped);
        if let Some(error) = &cell.error {
            progress.say(format!("{name}: {}", error.message));
        }
        return cell;
    }
    progress.say(format!(
        "{name}: {} to {}",
        load.describe(),
        running.address
    ));
    let mix = Mix::from_test(test, &running.address.to_string());
    let shared = Arc::new(Shared::default());
    let bar = progress.load_bar(&name, &load, Arc::clone(&shared));
    // The server's `down` token ends the load early when the server is
    // down for good; it is also cancelled with the run.
    let load = client::run(
        &mix,
        running.address,
        &load,
        plan.seed,
        &running.down,
        shared,
        launcher,
    )
    .await;
    bar.finish();
    for failure in &load.worker_failures {
        progress.say(format!("{name}: {failure}"));
    }
    let stopped = runtime.stop(&running).await;
    let mut cell = Cell::measured(
        server,
        test,
        image,
        &running,
        load,
        stopped,
        cancel.is_cancelled(),
    );
    cell.preflight = checks;
    cell.not_enforced = runtime.not_enforced(server);
    progress.say(format!("{name}: {}", cell_text(&cell)));
    cell
}
