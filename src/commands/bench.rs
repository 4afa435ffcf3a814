//! `labour bench`: every server x every test, then the report.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use super::{
    Finish, cancel_on_signals, container_options, report_ignored_settings, server_settings, servers,
};
use crate::bench::{self, Progress};
use crate::cli::BenchArgs;
use crate::client::LoadSpec;
use crate::images::Images;
use crate::results::CellStatus;
use crate::runtime::Runtime;
use crate::runtime::docker::DockerRuntime;
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

fn plan(args: &BenchArgs) -> anyhow::Result<(Plan, Images)> {
    let images = Images::new(args.container.images.clone());
    let servers = servers(&images, &args.servers, &server_settings(&args.server))?;
    let tests = scenario::select_tests(&args.tests)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let load = LoadSpec {
        requests: args.requests,
        concurrency: args.concurrency as usize,
        timeout: args.timeout,
    };
    if load.timeout.is_zero() {
        bail!("--timeout must be more than zero");
    }
    if let (Some(memory), Some(swap)) = (args.container.memory, args.container.memory_swap)
        && swap < memory
    {
        bail!("--memory-swap must be at least --memory (it counts memory plus swap)");
    }
    if let Some(output) = &args.output {
        check_output_path(output)?;
    }
    let plan = Plan {
        servers,
        tests,
        load,
        seed,
        container: container_options(&args.container),
    };
    Ok((plan, images))
}

/// Run the plan the flags describe and print the report.
pub async fn bench(args: BenchArgs) -> anyhow::Result<Finish> {
    let (plan, images) = plan(&args)?;
    let progress = Progress { quiet: args.quiet };
    let cancel = cancel_on_signals(progress)?;
    let runtime = DockerRuntime::connect(plan.container.clone(), images, cancel.clone()).await?;
    progress.say(format!(
        "run {}: {} server(s) x {} test(s), seed {}",
        runtime.run_id(),
        plan.servers.len(),
        plan.tests.len(),
        plan.seed
    ));
    report_ignored_settings(&plan.servers, progress);
    let output = args.output.clone();
    let outcome = bench::run(&plan, &runtime, &cancel, progress, |results| {
        if let Some(path) = &output {
            results
                .write_atomic(path)
                .with_context(|| format!("writing results to {}", path.display()))?;
        }
        Ok(())
    })
    .await;
    // Every path out of a run removes what the run created.
    let removed = runtime.shutdown().await;
    let results = outcome?;
    let leftovers = removed.context("removing this run's containers")?;
    if leftovers > 0 {
        progress.say(format!("removed {leftovers} leftover container(s)"));
    }

    let rendered = args.format.report().render(&results)?;
    std::io::stdout().write_all(&rendered)?;

    if results.interrupted {
        return Ok(Finish::Interrupted);
    }
    let errors = results
        .cells
        .iter()
        .filter(|cell| cell.status == CellStatus::Error)
        .count();
    if errors > 0 {
        bail!(
            "{errors} of {} cell(s) could not run (the breakdown above says why)",
            results.cells.len()
        );
    }
    Ok(Finish::Success)
}
