//! Progress on stderr: one line per step, and a live bar while a load
//! runs (requests done, current rate, failures so far). The bar is drawn
//! only when stderr is a terminal; `--quiet` hides everything.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::client::{LoadSpec, Shared};

/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Progress lines on stderr, unless quiet.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Print nothing.
    pub quiet: bool,
}

impl Progress {
    /// Print one line of progress.
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.quiet {
            // Progress is best effort: a closed stderr must not end a run.
            let _ = writeln!(std::io::stderr(), "labour: {}", line.as_ref());
        }
    }

    /// A live bar for a load described by `load`, fed by `shared`.
    pub fn load_bar(&self, name: &str, load: &LoadSpec, shared: Arc<Shared>) -> LoadBar {
        let target = if self.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let by_requests = load.requests;
        let length = by_requests.unwrap_or_else(|| {
            load.duration
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        });
        let bar = ProgressBar::with_draw_target(Some(length), target);
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

/// A live bar; [`LoadBar::finish`] clears it.
pub struct LoadBar {
    bar: ProgressBar,
    task: JoinHandle<()>,
}

impl LoadBar {
    /// Stop updating and clear the bar.
    pub fn finish(self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}
