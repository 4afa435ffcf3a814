//! The subcommands: flags to plan, plan to side effects, results to
//! stdout. Errors here end as `error: ...` and exit status 2 in `main`.

mod bench;
mod build;
mod compare;
mod list;
mod load;
mod report;
mod serve;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::bench::Progress;
use crate::catalogue::Server;
use crate::cli::{Cli, Command, ContainerArgs};
use crate::plan::options::KnobOptions;
use crate::scenario::Flags;

/// How a successful invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Everything ran.
    Success,
    /// The run completed and a threshold failed.
    ThresholdFailed,
    /// Stopped by SIGINT or SIGTERM.
    Interrupted,
}

impl Finish {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        match self {
            Finish::Success => 0,
            Finish::ThresholdFailed => 1,
            Finish::Interrupted => 130,
        }
    }
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Finish> {
    match cli.command {
        Command::List(args) => list::list(&args),
        Command::Bench(args) => block_on(bench::bench(*args)),
        Command::Build(args) => block_on(build::build(args)),
        Command::Serve(args) => block_on(serve::serve(args)),
        Command::Load(args) => block_on(load::load(args)),
        Command::Report(args) => report::report(&args),
        Command::Merge(args) => report::merge_files(&args),
        Command::Compare(args) => compare::compare_files(&args),
        Command::LoadWorker => {
            crate::client::process::serve_job()?;
            Ok(Finish::Success)
        }
        Command::Schema => {
            std::io::stdout().write_all(crate::results::json_schema().as_bytes())?;
            Ok(Finish::Success)
        }
    }
}

fn block_on<F: Future<Output = anyhow::Result<Finish>>>(future: F) -> anyhow::Result<Finish> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(future)
}

/// Where build logs go when `--build-logs` is not given.
fn default_build_log_dir() -> Option<PathBuf> {
    crate::runtime::labour_cache_dir().map(|dir| dir.join("build-logs"))
}

/// The flags every command that runs servers shares, as plan flags.
fn container_flags(container: &ContainerArgs, knobs: &KnobOptions) -> Flags {
    let mut run = container.run.clone();
    run.build_logs = run.build_logs.or_else(default_build_log_dir);
    Flags {
        knobs: knobs.clone(),
        run,
        limits: container.limits.clone(),
        ..Flags::default()
    }
}

/// Say which asked-for settings a server cannot take, and which it takes
/// with another value (a listen queue capped at net.core.somaxconn).
fn report_ignored_settings(servers: &[Server], progress: &Progress) {
    for server in servers {
        for setting in server.ignored_settings() {
            progress.say(format!(
                "{}: {} not applied: {}",
                server.name,
                setting.knob.flag(),
                setting.note.as_deref().unwrap_or("not supported")
            ));
        }
        for setting in server.adjusted_settings() {
            progress.say(format!(
                "{}: {} {} in force: {}",
                server.name,
                setting.knob.flag(),
                setting.value.unwrap_or_default(),
                setting.note.as_deref().unwrap_or_default()
            ));
        }
    }
}

/// A token cancelled by the first SIGINT or SIGTERM.
fn cancel_on_signals(progress: Progress) -> anyhow::Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let cancel = CancellationToken::new();
    let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let token = cancel.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        progress.say("interrupted: stopping and removing this run's servers");
        token.cancel();
    });
    Ok(cancel)
}
