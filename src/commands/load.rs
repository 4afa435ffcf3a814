//! `labour load URL`: the request client as a plain load generator.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use http::Uri;
use serde::Serialize;

use super::{Finish, cancel_on_signals};
use crate::cli::{LoadCommandArgs, LoadFormat};
use crate::client::{self, Launcher, Mix, Shared, Usage};
use crate::plan::LoadSpec;
use crate::plan::options::LoadDefaults;
use crate::progress::Progress;
use crate::results::LatencySummary;
use crate::units::format_bytes;

/// What a `labour load` run measured.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    /// labour's version.
    pub labour_version: String,
    /// The URL loaded.
    pub url: String,
    /// The load as sent.
    pub load: LoadSpec,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered 2xx.
    pub expected: u64,
    /// Requests that were not.
    pub failed: u64,
    /// Seconds from the first request to the last answer.
    pub duration_secs: f64,
    /// `requests / duration_secs`.
    pub requests_per_sec: f64,
    /// Requests per outcome key.
    pub outcomes: BTreeMap<String, u64>,
    /// Time to the full answer.
    pub latency: LatencySummary,
    /// Time to the response headers.
    pub headers_latency: LatencySummary,
    /// Open loop: from the intended start to the full answer.
    pub corrected_latency: Option<LatencySummary>,
    /// Open loop: requests that started more than 1 ms late.
    pub late_starts: u64,
    /// Processes that sent the load.
    pub processes: usize,
    /// Their CPU seconds.
    pub client_cpu_secs: f64,
    /// Their peak resident memory, summed.
    pub client_peak_rss_bytes: u64,
    /// The first failures of each kind.
    pub failure_samples: Vec<String>,
    /// Worker processes that died, and how.
    pub worker_failures: Vec<String>,
}

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
pub async fn load(args: LoadCommandArgs) -> anyhow::Result<Finish> {
    // A plain load generator keeps connections open, has no time budget
    // unless given one, and does not give up on a slow target.
    let defaults = LoadDefaults {
        budget: None,
        keep_alive: true,
        give_up: false,
    };
    let spec = args
        .load
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
        0,
        &cancel,
        shared,
        &Launcher::current(),
    )
    .await;
    bar.finish();

    let tally = &run.tally;
    let counted = &tally.behaviours[0];
    // The worker processes, if any, and labour's own process.
    let usage = run.usage.unwrap_or_default().plus(Usage::of_self());
    let report = LoadReport {
        labour_version: env!("CARGO_PKG_VERSION").to_string(),
        url: args.url.clone(),
        requests: tally.requests(),
        expected: tally.expected(),
        failed: tally.requests() - tally.expected(),
        duration_secs: run.elapsed.as_secs_f64(),
        requests_per_sec: tally.requests() as f64 / run.elapsed.as_secs_f64().max(1e-9),
        outcomes: counted
            .outcomes
            .iter()
            .map(|(outcome, count)| (outcome.key(), *count))
            .collect(),
        latency: LatencySummary::from_micros(&counted.latency.0),
        headers_latency: LatencySummary::from_micros(&counted.headers.0),
        corrected_latency: spec
            .rate
            .map(|_| LatencySummary::from_micros(&counted.corrected.0)),
        late_starts: tally.late_starts,
        processes: run.processes,
        client_cpu_secs: usage.cpu_secs,
        client_peak_rss_bytes: usage.peak_rss_bytes,
        failure_samples: tally
            .samples
            .iter()
            .map(|s| format!("{:.3} s: {}", s.at.as_secs_f64(), s.detail))
            .collect(),
        worker_failures: run.worker_failures.clone(),
        load: spec,
    };
    let text = match args.format {
        LoadFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        LoadFormat::Table => render(&report),
    };
    std::io::stdout().write_all(text.as_bytes())?;
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

fn percentiles(latency: &LatencySummary) -> String {
    format!(
        "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
        latency.p50_ms, latency.p90_ms, latency.p99_ms, latency.p999_ms, latency.max_ms
    )
}

fn render(report: &LoadReport) -> String {
    let mut out = format!(
        "Load of {}: {}, {}\n",
        report.url,
        report.load.describe(),
        if report.load.keep_alive {
            "keep-alive"
        } else {
            "a connection per request"
        }
    );
    out.push_str(&format!(
        "  requests      {} in {:.2} s ({:.2} req/s)\n",
        report.requests, report.duration_secs, report.requests_per_sec
    ));
    out.push_str(&format!("  2xx           {}\n", report.expected));
    let others: Vec<String> = report
        .outcomes
        .iter()
        .filter(|(key, _)| !key.starts_with("status_2"))
        .map(|(key, count)| format!("{key} {count}"))
        .collect();
    out.push_str(&format!(
        "  not 2xx       {}{}\n",
        report.failed,
        if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join(", "))
        }
    ));
    out.push_str(&format!(
        "  latency       {}\n",
        percentiles(&report.latency)
    ));
    out.push_str(&format!(
        "  to headers    {}\n",
        percentiles(&report.headers_latency)
    ));
    if let Some(corrected) = &report.corrected_latency {
        out.push_str(&format!("  corrected     {}\n", percentiles(corrected)));
        out.push_str(&format!("  late starts   {}\n", report.late_starts));
    }
    let per_request = if report.requests > 0 {
        report.client_cpu_secs * 1e6 / report.requests as f64
    } else {
        0.0
    };
    out.push_str(&format!(
        "  client        {} process(es), {:.2} s CPU ({per_request:.1} µs per request), peak RSS {}\n",
        report.processes,
        report.client_cpu_secs,
        format_bytes(report.client_peak_rss_bytes)
    ));
    for failure in &report.worker_failures {
        out.push_str(&format!("  failed        {failure}\n"));
    }
    for sample in report.failure_samples.iter().take(5) {
        out.push_str(&format!("  e.g.          {sample}\n"));
    }
    out
}
