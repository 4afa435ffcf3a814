//! Reports: renderings of documents, one format per file. A results
//! document (from `bench`, a saved file, or merged shards) renders as a
//! table, the seed's plain report, Markdown, CSV, HTML or JSON; `load`
//! and `list` render their own documents the same way. Renderers do no
//! I/O; the caller decides where the bytes go.

mod compare;
mod csv;
mod html;
mod json;
mod list;
mod load;
mod markdown;
mod plain;
mod plan;
pub(crate) mod table;

use std::path::Path;

pub(crate) use compare::{CompareMarkdown, CompareTable, compare, interface_mismatches};
pub(crate) use csv::CsvReport;
#[cfg(test)]
use csv::csv_columns;
pub(crate) use html::HtmlReport;
pub(crate) use json::JsonReport;
pub(crate) use list::{
    BehavioursText, ServersText, TestsText, behaviours_document, servers_document,
};
pub(crate) use load::LoadText;
pub(crate) use markdown::MarkdownReport;
pub(crate) use plain::PlainReport;
pub(crate) use plan::PlanText;
pub(crate) use table::TableReport;

use crate::results::Results;

/// A way to show a document (by default, a run's results).
pub(crate) trait Report<D: ?Sized = Results> {
    /// Render `document` into bytes.
    fn render(&self, document: &D) -> anyhow::Result<Vec<u8>>;
}

/// The formats a results document renders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The seed's table of failure percent and requests/sec, then what
    /// each server process did, latency, and the failure breakdown.
    Table,
    /// The seed's PlainReport, per cell: requests, how many came back OK,
    /// time, requests/sec.
    Plain,
    /// GitHub-flavoured Markdown, for a CI job's step summary or a
    /// pull-request comment: the seed's table, durability, failing cells.
    Markdown,
    /// One row per cell with every scalar figure (the first line names the columns).
    Csv,
    /// One self-contained HTML page: the matrix as a heatmap and, per
    /// cell, the timeline with the container's events, latency, memory
    /// and CPU, workers, failures and the log.
    Html,
    /// The whole results document.
    Json,
}

impl Format {
    /// `results` rendered in this format, as `labour report --format`
    /// writes it.
    pub fn render(self, results: &Results) -> anyhow::Result<Vec<u8>> {
        self.report().render(results)
    }

    /// The renderer for this format.
    pub(crate) fn report(self) -> Box<dyn Report> {
        match self {
            Format::Table => Box::new(TableReport),
            Format::Plain => Box::new(PlainReport),
            Format::Markdown => Box::new(MarkdownReport),
            Format::Csv => Box::new(CsvReport),
            Format::Html => Box::new(HtmlReport),
            Format::Json => Box::new(JsonReport),
        }
    }

    /// The format a file's extension names: `.txt`, `.md`, `.csv`,
    /// `.html`, `.json`.
    pub(crate) fn of_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match extension.as_str() {
            "txt" | "text" => Format::Table,
            "md" | "markdown" => Format::Markdown,
            "csv" => Format::Csv,
            "html" | "htm" => Format::Html,
            "json" => Format::Json,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests;
