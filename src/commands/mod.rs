//! The subcommands: flags to plan, plan to side effects, results to
//! stdout. Errors here end as `error: ...` and exit status 2 in `main`.

mod bench;
mod build;
mod clean;
mod compare;
mod compose;
#[cfg(test)]
mod fuzz;
mod list;
mod load;
mod report;
mod serve;

pub use bench::run;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::bench::Progress;
use crate::catalogue::Server;
use crate::cli::{Cli, Command};
use crate::images::Images;
use crate::plan::ContainerOptions;
use crate::runtime::{AnyRuntime, Connection, RuntimeChoice};
use crate::scenario::Flags;

/// How a successful invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Everything ran.
    Success,
    /// The run completed and a threshold failed.
    ThresholdFailed,
    /// Stopped by SIGINT or SIGTERM.
    Interrupted,
}

impl Finish {
    /// The process exit status.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Finish::Success => 0,
            Finish::ThresholdFailed => 1,
            Finish::Interrupted => 130,
        }
    }
}

/// The command line in `args`, parsed, run, and ended with its exit status.
pub(crate) fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match dispatch(Cli::parse_args(args)) {
        Ok(finish) => ExitCode::from(finish.exit_code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Run one parsed command line.
fn dispatch(cli: Cli) -> anyhow::Result<Finish> {
    match cli.command {
        Command::List(args) => list::list(&args),
        Command::Bench(args) => {
            crate::runtime::emergency::install_panic_hook();
            block_on(bench::bench(*args))
        }
        Command::Build(args) => {
            crate::runtime::emergency::install_panic_hook();
            block_on(build::build(args))
        }
        Command::Serve(args) => {
            crate::runtime::emergency::install_panic_hook();
            block_on(serve::serve(args))
        }
        Command::Load(args) => block_on(load::load(args)),
        Command::Report(args) => report::report(&args),
        Command::Merge(args) => report::merge_files(&args),
        Command::Compare(args) => compare::compare_files(&args),
        Command::Clean(args) => block_on(clean::clean(&args)),
        Command::Compose(args) => compose::compose(&args),
        Command::KeepGroup { command } => crate::runtime::local::keeper::keep(&command),
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

/// `flags` with the build-log directory when none is given: the flag's
/// default, which beats the scenario file's as the flag itself would.
fn with_build_logs(mut flags: Flags) -> Flags {
    flags.run.build_logs = flags.run.build_logs.or_else(default_build_log_dir);
    flags
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

/// The runtime `choice` names, connected: says which it is and what it
/// noticed, then removes what earlier runs on this host left behind (their
/// labour is gone). Every command that runs servers starts here.
async fn connect(
    choice: RuntimeChoice,
    connection: &Connection,
    options: ContainerOptions,
    images: Images,
    cancel: &CancellationToken,
    progress: &Progress,
) -> anyhow::Result<AnyRuntime> {
    let runtime = AnyRuntime::connect(choice, connection, options, images, cancel.clone()).await?;
    progress.say(format!("runtime: {}", runtime.selection()));
    for note in runtime.notes() {
        progress.say(note);
    }
    // A failure to sweep is said, not fatal.
    match runtime.sweep(false).await {
        Ok(swept) if swept.is_empty() => {}
        Ok(swept) => progress.say(format!(
            "removed what earlier runs left when their labour was killed: {}",
            swept.describe()
        )),
        Err(error) => progress.say(format!(
            "could not look for earlier runs' leftovers: {error}"
        )),
    }
    Ok(runtime)
}

/// A token cancelled by the first SIGINT, SIGTERM or SIGHUP: the run
/// stops, keeps what finished and removes its servers the orderly way. A
/// second one does not wait for that: it removes the servers at once and
/// exits with status 130.
fn cancel_on_signals(progress: Progress) -> anyhow::Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let cancel = CancellationToken::new();
    let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let mut hangup = signal(SignalKind::hangup()).context("handling SIGHUP")?;
    let token = cancel.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
        };
        progress.say(format!(
            "{name}: stopping and removing this run's servers (once more to skip the wait)"
        ));
        token.cancel();
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
        progress.say("interrupted again: removing this run's servers now");
        crate::runtime::emergency::run_all();
        std::process::exit(i32::from(Finish::Interrupted.exit_code()));
    });
    Ok(cancel)
}
