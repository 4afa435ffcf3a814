//! Reports: renderings of [`Results`], one format per file. Renderers do
//! no I/O; the caller decides where the bytes go.

mod durability;
mod html;
mod json;
mod latency;
pub mod table;

pub use html::{ECHARTS_VERSION, HtmlReport};
pub use json::JsonReport;
pub use table::TableReport;

use crate::results::Results;

/// A way to show results.
pub trait Report {
    /// Render `results` into bytes.
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>>;
}

/// The formats `--format` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The seed's table of failure percent and requests/sec, then the
    /// failure breakdown per cell.
    Table,
    /// The whole results document.
    Json,
    /// One self-contained HTML page: the matrix as a heatmap and, per
    /// cell, the timeline with the container's events, latency, memory
    /// and CPU, workers, failures and the log.
    Html,
}

impl Format {
    /// The renderer for this format.
    pub fn report(self) -> Box<dyn Report> {
        match self {
            Format::Table => Box::new(TableReport),
            Format::Json => Box::new(JsonReport),
            Format::Html => Box::new(HtmlReport),
        }
    }
}
