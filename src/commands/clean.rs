//! `labour clean`: remove what earlier runs left on this host (after a
//! `kill -9`, a panic, a power cut): containers, image tags and local
//! process groups whose labour is gone, or with `--all-runs` every run's.

use std::io::Write;

use tokio_util::sync::CancellationToken;

use super::Finish;
use crate::cli::CleanArgs;
use crate::images::Images;
use crate::plan::options::RunOptions;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::{Runtime, RuntimeError, Swept, local};

/// Sweep, and say what went.
pub(super) async fn clean(args: &CleanArgs) -> anyhow::Result<Finish> {
    let options = RunOptions::default().resolve();
    let mut swept = Swept::default();
    let mut own_run = String::new();
    match DockerRuntime::connect(
        &args.engine.connection(),
        options,
        Images::Embedded,
        CancellationToken::new(),
    )
    .await
    {
        Ok(docker) => {
            own_run = docker.run_id().to_string();
            let result = docker.sweep(args.all_runs).await;
            docker.shutdown().await?;
            swept = result?;
        }
        Err(RuntimeError::Unreachable { endpoint, reason }) => eprintln!(
            "labour: no Docker engine answers at {endpoint} ({reason}): looking at local \
             process groups only"
        ),
        Err(error) => return Err(error.into()),
    }
    swept.process_groups = local::sweep(&own_run, args.all_runs).process_groups;
    let mut out = std::io::stdout();
    if swept.is_empty() {
        writeln!(out, "nothing left by earlier runs")?;
    }
    for name in &swept.containers {
        writeln!(out, "removed container {name}")?;
    }
    for tag in &swept.image_tags {
        writeln!(out, "removed image tag {tag}")?;
    }
    for pgid in &swept.process_groups {
        writeln!(out, "killed process group {pgid}")?;
    }
    Ok(Finish::Success)
}
