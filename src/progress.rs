//! Progress on stderr: one line per step, and on a terminal live bars: one
//! for the whole run (cells done, ETA) and one per running cell (requests
//! done, current rate, failures so far). When stderr is not a terminal the
//! bars are not drawn and the lines stay plain; `--quiet` hides everything.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::client::Shared;
use crate::plan::LoadSpec;

/// How often a load bar is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Progress on stderr: lines, and bars on a terminal.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    quiet: bool,
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Lines unless `quiet`; bars too when stderr is a terminal.
    pub(crate) fn new(quiet: bool) -> Self {
        let bars = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { quiet, bars }
    }

    /// Whether live bars are drawn.
    pub(crate) fn draws_bars(&self) -> bool {
        self.bars.is_some()
    }

    /// Print one line of progress (above the bars, if any).
    pub(crate) fn say(&self, line: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        let line = format!("labour: {}", line.as_ref());
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(line);
            }
            // Progress is best effort: a closed stderr must not end a run.
            None => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }

    fn add(&self, bar: ProgressBar) -> ProgressBar {
        match &self.bars {
            Some(bars) => bars.add(bar),
            None => {
                bar.set_draw_target(ProgressDrawTarget::hidden());
                bar
            }
        }
    }

    /// The whole run's bar: cells done of `cells`, with an ETA.
    pub(crate) fn run_bar(&self, cells: u64) -> RunBar {
        let bar = self.add(ProgressBar::new(cells));
        bar.set_style(
            ProgressStyle::with_template(
                "cells [{bar:30}] {pos}/{len} {elapsed_precise} elapsed, ETA {eta} {msg}",
            )
            .expect("the bar template is valid")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_secs(1));
        RunBar { bar }
    }

    /// A live bar for a load described by `load`, fed by `shared`.
    pub(crate) fn load_bar(&self, name: &str, load: &LoadSpec, shared: Arc<Shared>) -> LoadBar {
        let by_requests = load.requests;
        let length = by_requests.unwrap_or_else(|| {
            load.duration
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        });
        let bar = self.add(ProgressBar::new(length));
        let template = if by_requests.is_some() {
            "{prefix} [{bar:30}] {pos}/{len} requests {msg}"
        } else {
            "{prefix} [{bar:30}] {elapsed} {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("the bar template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        let started = Instant::now();
        let ticking = bar.clone();
        let task = tokio::spawn(async move {
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::time::sleep(TICK).await;
                let done = shared.done();
                let now = Instant::now();
                let rate = (done - last.1.min(done)) as f64
                    / now.duration_since(last.0).as_secs_f64().max(1e-3);
                last = (now, done);
                ticking.set_position(match by_requests {
                    Some(_) => done,
                    None => u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                });
                ticking.set_message(format!(
                    "{rate:.0} req/s, {} not as expected",
                    shared.failed()
                ));
            }
        });
        LoadBar { bar, task }
    }
}

/// The run's bar; cleared when finished.
pub(crate) struct RunBar {
    bar: ProgressBar,
}

impl RunBar {
    /// One more cell is done.
    pub(crate) fn cell_done(&self) {
        self.bar.inc(1);
    }

    /// How many cells are done.
    pub(crate) fn done(&self) -> u64 {
        self.bar.position()
    }

    /// How many cells there are.
    pub(crate) fn total(&self) -> u64 {
        self.bar.length().unwrap_or(0)
    }

    /// Clear the bar.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A live bar; [`LoadBar::finish`] clears it.
pub(crate) struct LoadBar {
    bar: ProgressBar,
    task: JoinHandle<()>,
}

impl LoadBar {
    /// Stop updating and clear the bar.
    pub(crate) fn finish(self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}
