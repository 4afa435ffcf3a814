//! The subcommands: flags to plan, plan to side effects, results to
//! stdout. Errors here end as `error: ...` and exit status 2 in `main`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use crate::bench::{self, Progress};
use crate::catalogue::Catalogue;
use crate::cli::{BenchArgs, Cli, Command, ContainerArgs, ListArgs, ListWhat, ServeArgs};
use crate::client::LoadSpec;
use crate::images::Images;
use crate::results::CellStatus;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::{ContainerOptions, Runtime};
use crate::scenario::{self, Plan, Selection, named_tests};

/// How a successful invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Everything ran.
    Success,
    /// Stopped by SIGINT or SIGTERM.
    Interrupted,
}

impl Finish {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        match self {
            Finish::Success => 0,
            Finish::Interrupted => 130,
        }
    }
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Finish> {
    match cli.command {
        Command::List(args) => list(&args),
        Command::Bench(args) => block_on(bench(args)),
        Command::Serve(args) => block_on(serve(args)),
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

fn list(args: &ListArgs) -> anyhow::Result<Finish> {
    let mut out = String::new();
    match args.what {
        ListWhat::Servers => {
            let catalogue = Catalogue::load(&Images::new(args.images.clone()))?;
            let width = catalogue.names().iter().map(String::len).max().unwrap_or(0);
            for server in catalogue.servers() {
                out.push_str(&format!(
                    "{:<width$}  {:<8}  {:<30}  {}\n",
                    server.name, server.version, server.model, server.description
                ));
            }
        }
        ListWhat::Tests => {
            for test in named_tests() {
                let mix: Vec<String> = test
                    .mix
                    .iter()
                    .map(|entry| format!("{} x{}", entry.behaviour, entry.weight))
                    .collect();
                out.push_str(&format!(
                    "{:<11} {:<7} {}\n{:<11} {:<7} mix: {}\n",
                    test.name,
                    format!("{:?}", test.policy),
                    test.description,
                    "",
                    "",
                    mix.join(", ")
                ));
            }
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(Finish::Success)
}

fn container_options(args: &ContainerArgs) -> ContainerOptions {
    ContainerOptions {
        network: args.network,
        base_image: args.base_image.clone(),
        build_network: args.build_network.clone(),
        ready_timeout: args.ready_timeout,
        stop_timeout: args.stop_timeout,
        memory_bytes: args.memory,
        memory_swap_bytes: args.memory_swap,
        cpus: args.cpus,
        pids_limit: args.pids_limit,
        restart: args.restart,
        init: args.init,
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
        progress.say("interrupted: stopping and removing this run's containers");
        token.cancel();
    });
    Ok(cancel)
}

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
    let catalogue = Catalogue::load(&images)?;
    let servers = scenario::select_servers(&args.servers, &catalogue)?;
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

async fn bench(args: BenchArgs) -> anyhow::Result<Finish> {
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

async fn serve(args: ServeArgs) -> anyhow::Result<Finish> {
    let images = Images::new(args.container.images.clone());
    let catalogue = Catalogue::load(&images)?;
    let server =
        scenario::select_servers(&Selection::Named(vec![args.server.clone()]), &catalogue)?
            .remove(0);
    let progress = Progress { quiet: false };
    let cancel = cancel_on_signals(progress)?;
    let options = container_options(&args.container);
    let runtime = DockerRuntime::connect(options, images, cancel.clone()).await?;
    let served = async {
        progress.say(format!("{}: building the image", server.name));
        let image = runtime.prepare(&server).await?;
        let running = runtime.start(&server, &image, "serve").await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "http://{}/", running.address)?;
        stdout.flush()?;
        progress.say(format!(
            "{} is serving the stress application (container {}); Ctrl-C stops it",
            server.name, running.name
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
    removed.context("removing this run's containers")?;
    Ok(Finish::Success)
}
