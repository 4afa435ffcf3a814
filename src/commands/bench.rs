//! `labour bench`: every server x every test, then the report.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use tokio_util::sync::CancellationToken;

use super::report::emit;
use super::{Finish, cancel_on_signals, connect, report_ignored_settings, with_build_logs};
use crate::bench::{self, Progress, Progressed};
use crate::catalogue::Catalogue;
use crate::cli::BenchArgs;
use crate::client::Launcher;
use crate::images::Images;
use crate::report::{Format, JsonReport, PlanText, Report};
use crate::results::{Journal, Results};
use crate::runtime::{Connection, Runtime, RuntimeChoice};
use crate::scenario::{self, Plan};

fn check_output_path(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "--output {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!("--output {}: is a directory", path.display());
    }
    Ok(())
}

/// The plan the flags and the scenario file describe, and the images its
/// servers build from; the output files are checked before anything runs.
pub(super) fn plan(args: &BenchArgs) -> anyhow::Result<(Plan, Images)> {
    let images = Images::new(args.container.images.clone());
    let catalogue = Catalogue::load(&images)?;
    let mut flags = with_build_logs(args.flags());
    flags.target = args.target.settings().map_err(anyhow::Error::msg)?;
    let (plan, _) = scenario::plan_file(&flags, args.scenario.as_deref(), &catalogue)?;
    for path in args
        .output
        .iter()
        .chain(args.report.iter().map(|r| &r.path))
    {
        check_output_path(path)?;
    }
    Ok((plan, images))
}

/// Run every cell of `plan` where `runtime` says, as `labour bench` does,
/// and return the results document (see [`crate::results`]). The runtime
/// is connected first (an error when `RuntimeChoice::Docker` and no engine
/// answers), and every server the run started is removed on every way
/// out. Nothing is printed; the client's connections run in this process.
pub async fn run(plan: &Plan, runtime: RuntimeChoice) -> anyhow::Result<Results> {
    let progress = Progress::new(true);
    let cancel = CancellationToken::new();
    let runtime = connect(
        runtime,
        &Connection::default(),
        plan.container.clone(),
        Images::Embedded,
        &cancel,
        &progress,
    )
    .await?;
    let context = bench::Context {
        cancel: &cancel,
        progress: &progress,
        launcher: &Launcher::InProcess,
    };
    let outcome = bench::run(plan, &runtime, context, |_| Ok(())).await;
    let removed = runtime.shutdown().await;
    let results = outcome?;
    removed.context("removing this run's servers")?;
    Ok(results)
}

/// Run the plan the flags describe and print the report.
pub(super) async fn bench(args: BenchArgs) -> anyhow::Result<Finish> {
    let (plan, images) = plan(&args)?;
    if args.dry_run {
        let bytes = match args.format {
            Format::Json => JsonReport.render(&plan)?,
            _ => PlanText.render(&plan)?,
        };
        std::io::stdout().write_all(&bytes)?;
        return Ok(Finish::Success);
    }
    let progress = Progress::new(args.quiet);
    let cancel = cancel_on_signals(progress.clone())?;
    let runtime = connect(
        args.container.runtime,
        &args.container.engine.connection(),
        plan.container.clone(),
        images,
        &cancel,
        &progress,
    )
    .await?;
    // A target's image is the user's: checked on the engine before
    // anything starts.
    if let Err(error) = runtime.check_targets(&plan.servers).await {
        let _ = runtime.shutdown().await;
        return Err(error.into());
    }
    progress.say(format!(
        "run {}: {} server(s) x {} test(s), seed {}",
        runtime.run_id(),
        plan.servers.len(),
        plan.tests.len(),
        plan.seed
    ));
    report_ignored_settings(&plan.servers, &progress);
    let output = args.output.clone();
    let launcher = Launcher::current();
    let context = bench::Context {
        cancel: &cancel,
        progress: &progress,
        launcher: &launcher,
    };
    // The results file is kept whole after every cell by a thread of its
    // own (see `results::Journal`).
    let mut journal: Option<Journal> = None;
    let outcome = bench::run(&plan, &runtime, context, |progressed| {
        let Some(path) = &output else { return Ok(()) };
        let writing = || format!("writing results to {}", path.display());
        match progressed {
            Progressed::Began(results) => {
                journal = Some(Journal::create(path, results).with_context(writing)?);
            }
            Progressed::Cell(cell) => {
                if let Some(journal) = &mut journal {
                    journal.append(cell).with_context(writing)?;
                }
            }
            Progressed::Finished(results) => {
                if let Some(journal) = journal.take() {
                    journal.finish(results).with_context(writing)?;
                }
            }
        }
        Ok(())
    })
    .await;
    drop(journal);
    // Every path out of a run removes what the run created; the report of
    // what finished is printed first, whatever that removal says.
    let removed = runtime.shutdown().await;
    let results = outcome?;

    let rendered = args.format.report().render(&results)?;
    std::io::stdout().write_all(&rendered)?;
    for report in &args.report {
        let bytes = report.format.report().render(&results)?;
        let path = &report.path;
        emit(&bytes, Some(path)).with_context(|| format!("--report {}", path.display()))?;
        progress.say(format!("report written to {}", path.display()));
    }
    if let Some(lost) = &results.engine_lost {
        let left = results.planned_cells - results.cells.len();
        bail!("{lost}; the run stopped there ({left} cell(s) not run)");
    }
    match removed {
        Ok(0) => {}
        Ok(leftovers) => progress.say(format!("removed {leftovers} leftover server(s)")),
        Err(error) => return Err(error).context("removing this run's servers"),
    }

    if results.interrupted {
        return Ok(Finish::Interrupted);
    }
    let errors = results
        .cells
        .iter()
        .filter(|cell| cell.status.could_not_run())
        .count();
    if errors > 0 {
        bail!(
            "{errors} of {} cell(s) could not run (the breakdown above says why)",
            results.cells.len()
        );
    }
    let broken_clients = results
        .cells
        .iter()
        .filter(|cell| !cell.client.worker_failures.is_empty())
        .count();
    if broken_clients > 0 {
        bail!(
            "client worker processes failed in {broken_clients} cell(s); their counts are \
             incomplete (see client.worker_failures in the results)"
        );
    }
    if !results.threshold_failures.is_empty() {
        for failure in &results.threshold_failures {
            progress.say(format!("threshold failed: {failure}"));
        }
        return Ok(Finish::ThresholdFailed);
    }
    Ok(Finish::Success)
}
