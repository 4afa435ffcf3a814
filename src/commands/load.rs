//! `labour load URL`: the request client as a plain load generator.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use http::Uri;

use super::{Finish, cancel_on_signals};
use crate::cli::{LoadCommandArgs, LoadFormat};
use crate::client::{self, Launcher, Mix, Shared, Usage};
use crate::plan::options::{LoadDefaults, LoadOptions};
use crate::progress::Progress;
use crate::report::{JsonReport, LoadText, Report};

/// The address, `Host` header and path of an http URL.
async fn target(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    let uri: Uri = url
        .parse()
        .with_context(|| format!("{url:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => bail!("{url}: {other} is not supported; labour load speaks plain http"),
        None => bail!("{url:?} is not a URL like http://127.0.0.1:8000/"),
    }
    let host = uri
        .host()
        .with_context(|| format!("{url}: no host"))?
        .to_string();
    let port = uri.port_u16().unwrap_or(80);
    let authority = uri
        .authority()
        .map_or_else(|| host.clone(), |a| a.as_str().to_string());
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let lookup = host.trim_start_matches('[').trim_end_matches(']');
    let address = tokio::net::lookup_host((lookup, port))
        .await
        .with_context(|| format!("{url}: cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{url}: {host} has no address"))?;
    Ok((address, authority, path))
}

/// Load the URL and print what came back.
pub(super) async fn load(args: LoadCommandArgs) -> anyhow::Result<Finish> {
    // A plain load generator keeps connections open, has no time budget
    // unless given one, and does not give up on a slow target.
    let defaults = LoadDefaults {
        budget: None,
        keep_alive: true,
        give_up: false,
        settle: false,
    };
    let spec = LoadOptions::from(args.load.clone())
        .resolve(defaults)
        .map_err(|problem| anyhow::anyhow!(problem))?;
    let (address, host, path) = target(&args.url).await?;
    let progress = Progress::new(args.quiet);
    let cancel = cancel_on_signals(progress.clone())?;
    let mix = Mix::single(&host, &path);
    let shared = Arc::new(Shared::default());
    let bar = progress.load_bar(&args.url, &spec, Arc::clone(&shared));
    let run = client::run(
        &mix,
        address,
        &spec,
        (0, &[]),
        &cancel,
        shared,
        &Launcher::current(),
    )
    .await;
    bar.finish();

    // The worker processes, if any, and labour's own process.
    let usage = run.usage.unwrap_or_default().plus(Usage::of_self());
    let report = crate::record::load_results(&args.url, spec, &run, usage);
    let text = match args.format {
        LoadFormat::Json => JsonReport.render(&report)?,
        LoadFormat::Table => LoadText.render(&report)?,
    };
    std::io::stdout().write_all(&text)?;
    if run.stopped_early {
        return Ok(Finish::Interrupted);
    }
    if !report.worker_failures.is_empty() {
        bail!(
            "{} load worker process(es) failed; their requests are missing from the counts",
            report.worker_failures.len()
        );
    }
    Ok(Finish::Success)
}
