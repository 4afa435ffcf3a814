//! `labour serve SERVER`: the seed's `--no-test`, a server up until Ctrl-C.

use std::io::Write;

use anyhow::Context;

use super::{Finish, cancel_on_signals, connect, report_ignored_settings, with_build_logs};
use crate::bench::Progress;
use crate::catalogue::Catalogue;
use crate::cli::ServeArgs;
use crate::images::Images;
use crate::runtime::Runtime;
use crate::scenario;

/// Build and start one server, print its URL, and wait for Ctrl-C.
pub(super) async fn serve(args: ServeArgs) -> anyhow::Result<Finish> {
    let images = Images::new(args.container.images.clone());
    let catalogue = Catalogue::load(&images)?;
    let flags = with_build_logs(args.flags());
    let server = scenario::resolve_servers(&flags, &catalogue)?.remove(0);
    let progress = Progress::new(false);
    report_ignored_settings(std::slice::from_ref(&server), &progress);
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
    let served = async {
        let image = runtime
            .prepare(&server, &|step| {
                progress.say(format!("{}: {step}", server.name))
            })
            .await?;
        let running = runtime.start(&server, &image, "serve").await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "http://{}/", running.address)?;
        stdout.flush()?;
        progress.say(format!(
            "{} is serving the stress application ({} {}); Ctrl-C stops it",
            server.name,
            runtime.unit(),
            running.name
        ));
        cancel.cancelled().await;
        let stopped = runtime.stop(&running).await?;
        if let Some(code) = stopped.exit_code {
            progress.say(format!("{} stopped, exit code {code}", server.name));
        }
        anyhow::Ok(())
    }
    .await;
    let removed = runtime.shutdown().await;
    match served {
        Err(error) if cancel.is_cancelled() => {
            progress.say(format!("{error:#}"));
        }
        other => other?,
    }
    removed.context("removing this run's servers")?;
    Ok(Finish::Success)
}
