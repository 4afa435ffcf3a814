//! `labour bench`: every server x every test, then the report.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use super::report::emit;
use super::{Finish, cancel_on_signals, container_flags, report_ignored_settings, sweep_leftovers};
use crate::bench::{self, Progress, Progressed};
use crate::catalogue::Catalogue;
use crate::cli::BenchArgs;
use crate::client::Launcher;
use crate::images::Images;
use crate::report::{Format, JsonReport, PlanText, Report};
use crate::results::Journal;
use crate::runtime::{AnyRuntime, Runtime};
use crate::scenario::{self, Plan, ScenarioFile, Source};

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

/// The plan the flags and the scenario file describe.
pub(super) fn plan(args: &BenchArgs) -> anyhow::Result<(Plan, Images)> {
    let images = Images::new(args.container.images.clone());
    let catalogue = Catalogue::load(&images)?;
    let mut flags = container_flags(&args.container, &args.knobs);
    flags.servers = args.servers.clone();
    flags.tests = args.tests.clone();
    flags.load = args.load.clone();
    flags.seed = args.seed;
    flags.jobs = args.jobs;
    flags.repeat = args.repeat;
    flags.shard = args.shard;
    flags.thresholds = args.thresholds.clone();
    flags.target = args.target.settings().map_err(anyhow::Error::msg)?;
    let file = match &args.scenario {
        Some(path) => Some((path.as_path(), ScenarioFile::read(path)?)),
        None => None,
    };
    let source = file
        .as_ref()
        .map(|(path, (file, text))| Source { path, file, text });
    let plan = scenario::plan(&flags, source, &catalogue)?;
    if let Some(output) = &args.output {
        check_output_path(output)?;
    }
    for report in &args.report {
        check_output_path(report)?;
        if Format::of_path(report).is_none() {
            bail!(
                "--report {}: the extension says no format (use .html, .md, .csv, .txt or .json)",
                report.display()
            );
        }
    }
    Ok((plan, images))
}

/// Run the plan the flags describe and print the report.
pub async fn bench(args: BenchArgs) -> anyhow::Result<Finish> {
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
    let runtime = AnyRuntime::connect(
        args.container.runtime,
        &args.container.engine.connection(),
        plan.container.clone(),
        images,
        cancel.clone(),
    )
    .await?;
    if let Err(error) = runtime.check_targets(&plan.servers).await {
        let _ = runtime.shutdown().await;
        return Err(error.into());
    }
    progress.say(format!("runtime: {}", runtime.selection()));
    for note in runtime.notes() {
        progress.say(note);
    }
    sweep_leftovers(&runtime, &progress).await;
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
    for path in &args.report {
        let format = Format::of_path(path).expect("checked before the run");
        let bytes = format.report().render(&results)?;
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
