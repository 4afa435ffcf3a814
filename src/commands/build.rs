//! `labour build`: server images only, with progress per image.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, bail};

use super::{Finish, cancel_on_signals, connect, with_build_logs};
use crate::bench::Progress;
use crate::catalogue::Catalogue;
use crate::cli::BuildArgs;
use crate::images::Images;
use crate::runtime::{Runtime, RuntimeError};
use crate::scenario;

/// Lines of a failed build shown on stderr.
const FAILED_BUILD_LINES: usize = 15;

/// Build every selected server's image; one line per image on stdout.
pub(super) async fn build(args: BuildArgs) -> anyhow::Result<Finish> {
    let images = Images::new(args.container.images.clone());
    let catalogue = Catalogue::load(&images)?;
    let flags = with_build_logs(args.flags());
    let servers = scenario::resolve_servers(&flags, &catalogue)?;
    let progress = Progress::new(args.quiet);
    let cancel = cancel_on_signals(progress.clone())?;
    let options = scenario::container_options(&flags, None);
    let runtime = connect(
        args.container.runtime,
        &args.container.engine.connection(),
        options,
        images,
        &cancel,
        &progress,
    )
    .await?;
    let mut failed = Vec::new();
    let mut stdout = std::io::stdout();
    for server in &servers {
        if cancel.is_cancelled() {
            break;
        }
        let started = Instant::now();
        let on_step = |step: &str| progress.say(format!("{}: {step}", server.name));
        match runtime.prepare(server, &on_step).await {
            Ok(image) => {
                writeln!(
                    stdout,
                    "{:<18} {:>6.1} s  {}  {}",
                    server.name,
                    started.elapsed().as_secs_f64(),
                    image.tag,
                    image.id
                )?;
            }
            Err(RuntimeError::Interrupted) => break,
            Err(RuntimeError::Unsupported { reason, .. }) => {
                writeln!(stdout, "{:<18} skipped: {reason}", server.name)?;
            }
            Err(error) => {
                eprintln!("error: {error}");
                let tail = error.log_tail();
                for line in &tail[tail.len().saturating_sub(FAILED_BUILD_LINES)..] {
                    eprintln!("    | {line}");
                }
                writeln!(
                    stdout,
                    "{:<18} {:>6.1} s  failed",
                    server.name,
                    started.elapsed().as_secs_f64()
                )?;
                failed.push(server.name.clone());
            }
        }
    }
    runtime
        .shutdown()
        .await
        .context("removing this run's servers")?;
    if cancel.is_cancelled() {
        return Ok(Finish::Interrupted);
    }
    if !failed.is_empty() {
        bail!(
            "{} image(s) failed to build: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(Finish::Success)
}
