//! The HTML report: one self-contained page (styles, scripts and Apache
//! ECharts embedded, no network access) that opens on the answer: a title
//! line counting the cells by kind, the matrix of servers x tests sized
//! to fit the screen (sortable, filterable, figures on hover), then the
//! setup folded, and per cell the story in time: the outcomes per 100 ms
//! with the container's events on them, latency, memory and CPU,
//! workers, failures and the log.
//!
//! The page is drawn in the browser from the results document, embedded
//! lean (what the page shows, not what it never does) in a
//! `<script type="application/json">`, next to the texts only Rust can
//! word the same way as the table report (verdicts, `12.30`-style
//! percentages, outcome words). Every field of the document is read in
//! one place, `html/model.js`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Report;
use super::table::{percent_text, verdict};
use crate::behaviour::Outcome;
use crate::results::{Cell, CellStatus, DISQUALIFYING_FAILURE_RATIO, Results, Verdict};

/// The version of Apache ECharts in `html/vendor/echarts/`.
pub(crate) const ECHARTS_VERSION: &str = "5.6.0";

const TEMPLATE: &str = include_str!("html/template.html");
const STYLE: &str = include_str!("html/report.css");
const ERRORS_JS: &str = include_str!("html/errors.js");
pub(super) const ECHARTS_JS: &str = include_str!("html/vendor/echarts/echarts.min.js");
/// The page's own script, in this order: reading the document, words and
/// DOM helpers, charts, the title line and the kinds of cells, the setup,
/// the matrix, a cell's body, the page (which draws it all).
const APP_JS: [&str; 8] = [
    include_str!("html/model.js"),
    include_str!("html/format.js"),
    include_str!("html/charts.js"),
    include_str!("html/top.js"),
    include_str!("html/setup.js"),
    include_str!("html/matrix.js"),
    include_str!("html/cell.js"),
    include_str!("html/page.js"),
];

/// Renders the results as one self-contained HTML page.
pub(crate) struct HtmlReport;

/// What the page reads: the lean document and the texts worded in Rust.
#[derive(Serialize)]
struct Payload {
    /// Who drew the page.
    generator: Generator,
    /// The results document, lean.
    results: Value,
    /// Texts worded as the table report words them.
    texts: Texts,
}

#[derive(Serialize)]
struct Generator {
    labour_version: &'static str,
    echarts_version: &'static str,
    disqualifying_failure_ratio: f64,
}

#[derive(Serialize)]
struct Texts {
    /// The run's seed, exactly (a u64 is more than a JavaScript number
    /// holds).
    seed: String,
    /// Outcome key -> words, for every key the document uses.
    outcomes: BTreeMap<String, String>,
    /// One per cell of `results.cells`, in the same order.
    cells: Vec<CellTexts>,
    /// Per test of `results.scenario.tests`, its mix's behaviours as
    /// requested (`Sleeping?sleep_duration=2`).
    mixes: Vec<Vec<String>>,
    /// Per test, its faults in words (`SIGKILL to a worker at 1 s, every
    /// 2 s`).
    faults: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct CellTexts {
    /// What the matrix shows it as: `ok`, `failed`, `server_down`,
    /// `unresponsive`, `preflight_failed`, `error`, `skipped`,
    /// `interrupted` (only a cell whose status is), `engine_lost`,
    /// `no_load`, `fault_late`.
    kind: &'static str,
    /// `Failed`, `Down at 0.04 s`...; none for a completed cell within
    /// the 10%.
    verdict: Option<String>,
    /// `failure_ratio` as a percentage, `12.30`.
    failure_percent: String,
    /// `innocent_failure_ratio` as a percentage.
    innocent_percent: String,
    /// Requests per second as the table shows them (excluding the time
    /// every connection stalled), `123.45`.
    requests_per_sec: String,
    /// The cell's own seed, where the document has one, exactly (a u64
    /// is more than a JavaScript number holds).
    seed: Option<String>,
}

/// The heatmap's kind of a cell.
fn kind(cell: &Cell) -> &'static str {
    // A graceful stop answers its own question (see `results::verdict`).
    match cell.verdict {
        Some(Verdict::Graceful) => return "graceful",
        Some(Verdict::Abrupt) => return "abrupt",
        _ => {}
    }
    match cell.status {
        CellStatus::Error => "error",
        CellStatus::Skipped => "skipped",
        CellStatus::PreflightFailed => "preflight_failed",
        CellStatus::ServerDown => "server_down",
        CellStatus::Unresponsive => "unresponsive",
        CellStatus::EngineLost => "engine_lost",
        CellStatus::NoLoad => "no_load",
        CellStatus::FaultLate => "fault_late",
        CellStatus::Interrupted if cell.requests > 0 && cell.is_disqualified() => "failed",
        CellStatus::Interrupted => "interrupted",
        // A document from before `no_load` calls a load that counted no
        // request completed: it is no measurement, and was not cut short.
        CellStatus::Completed if cell.requests == 0 => "no_load",
        CellStatus::Completed if cell.is_disqualified() => "failed",
        CellStatus::Completed if cell.verdict == Some(Verdict::Stalled) => "stalled",
        CellStatus::Completed => "ok",
    }
}

/// `cell`'s texts; `embedded` is the cell as embedded, for the fields a
/// newer document has.
fn cell_texts(cell: &Cell, embedded: Option<&Value>) -> CellTexts {
    CellTexts {
        kind: kind(cell),
        verdict: verdict(cell),
        failure_percent: percent_text(cell.failure_ratio),
        innocent_percent: percent_text(cell.innocent_failure_ratio),
        requests_per_sec: format!("{:.2}", cell.shown_requests_per_sec()),
        seed: embedded
            .and_then(|cell| cell.get("seed"))
            .and_then(Value::as_u64)
            .map(|seed| seed.to_string()),
    }
}

/// Every outcome key the document names, in words.
fn outcome_texts(results: &Results) -> BTreeMap<String, String> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    for cell in &results.cells {
        for behaviour in &cell.behaviours {
            outcomes.extend(behaviour.outcomes.keys().copied());
        }
        outcomes.extend(cell.failure_samples.iter().map(|s| s.outcome));
        outcomes.extend(cell.preflight.iter().map(|check| check.outcome));
    }
    outcomes
        .into_iter()
        .map(|outcome| (outcome.key(), outcome.to_string()))
        .collect()
}

/// Bars a timeline is drawn with at most; longer ones are embedded summed
/// into wider buckets (the page draws no more).
const MAX_TIMELINE_BUCKETS: usize = 600;

/// `timeline` (an embedded cell's) summed into at most
/// [`MAX_TIMELINE_BUCKETS`] buckets, its `bucket_ms` widened to match.
fn coarsen_timeline(timeline: &mut Value) {
    let length = ["expected", "failed"]
        .iter()
        .filter_map(|key| timeline.get(*key).and_then(Value::as_array))
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    if length <= MAX_TIMELINE_BUCKETS {
        return;
    }
    let factor = length.div_ceil(MAX_TIMELINE_BUCKETS);
    for key in ["expected", "failed"] {
        if let Some(counts) = timeline.get_mut(key).and_then(Value::as_array_mut) {
            let summed: Vec<Value> = counts
                .chunks(factor)
                .map(|chunk| chunk.iter().filter_map(Value::as_u64).sum::<u64>().into())
                .collect();
            *counts = summed;
        }
    }
    if let Some(bucket_ms) = timeline.get("bucket_ms").and_then(Value::as_u64) {
        timeline["bucket_ms"] = (bucket_ms * factor as u64).into();
    }
}

/// Remove `keys` from the object at `value`, if it is one.
fn drop_keys(value: &mut Value, keys: &[&str]) {
    if let Some(object) = value.as_object_mut() {
        for key in keys {
            object.remove(*key);
        }
    }
}

/// The document as the page needs it: what it never shows left out
/// (per-behaviour latency summaries and raw outcome counts, the
/// catalogue's descriptions of knobs) and long timelines summed into the
/// buckets it draws. Everything else, including fields this version does
/// not know, stays.
fn lean(results: &Results) -> serde_json::Result<Value> {
    let mut document = serde_json::to_value(results)?;
    if let Some(servers) = document
        .pointer_mut("/scenario/servers")
        .and_then(Value::as_array_mut)
    {
        for server in servers {
            drop_keys(
                server,
                &["description", "options", "unsupported", "local_skip"],
            );
        }
    }
    if let Some(cells) = document.get_mut("cells").and_then(Value::as_array_mut) {
        for cell in cells {
            if let Some(timeline) = cell.get_mut("timeline") {
                coarsen_timeline(timeline);
            }
            if let Some(behaviours) = cell.get_mut("behaviours").and_then(Value::as_array_mut) {
                for behaviour in behaviours {
                    drop_keys(
                        behaviour,
                        &[
                            "outcomes",
                            "latency",
                            "headers_latency",
                            "corrected_latency",
                        ],
                    );
                }
            }
        }
    }
    Ok(document)
}

/// JSON that can sit inside `<script type="application/json">`: no `<`,
/// `>` or `&` (so no `</script>`, no `<!--`), each written as a JSON
/// `\u` escape that parses back to the same text.
fn script_safe_json(value: &impl Serialize) -> serde_json::Result<String> {
    let json = serde_json::to_string(value)?;
    let mut safe = String::with_capacity(json.len() + json.len() / 32);
    for c in json.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            _ => safe.push(c),
        }
    }
    Ok(safe)
}

/// `template` with each `{{NAME}}` replaced by its value, in one pass (a
/// value is never scanned for markers).
fn fill(template: &str, values: &[(&str, &str)]) -> anyhow::Result<String> {
    let extra: usize = values.iter().map(|(_, value)| value.len()).sum();
    let mut out = String::with_capacity(template.len() + extra);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .map(|end| start + end)
            .ok_or_else(|| anyhow::anyhow!("the HTML template has an unclosed {{{{"))?;
        let name = &rest[start + 2..end];
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| anyhow::anyhow!("the HTML template names no value {name:?}"))?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Report for HtmlReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let document = lean(results)?;
        let embedded = document.get("cells").and_then(Value::as_array);
        let cells = results
            .cells
            .iter()
            .enumerate()
            .map(|(index, cell)| cell_texts(cell, embedded.and_then(|cells| cells.get(index))))
            .collect();
        let payload = Payload {
            generator: Generator {
                labour_version: env!("CARGO_PKG_VERSION"),
                echarts_version: ECHARTS_VERSION,
                disqualifying_failure_ratio: DISQUALIFYING_FAILURE_RATIO,
            },
            texts: Texts {
                seed: results.seed.to_string(),
                outcomes: outcome_texts(results),
                cells,
                mixes: results
                    .scenario
                    .tests
                    .iter()
                    .map(|test| test.mix.iter().map(|entry| entry.label()).collect())
                    .collect(),
                faults: results
                    .scenario
                    .tests
                    .iter()
                    .map(|test| test.faults.iter().map(ToString::to_string).collect())
                    .collect(),
            },
            results: document,
        };
        let data = script_safe_json(&payload)?;
        let app = format!(
            "(function () {{\n\"use strict\";\n{}\n}})();",
            APP_JS.join("\n")
        );
        let page = fill(
            TEMPLATE,
            &[
                ("STYLE", STYLE),
                ("ERRORS_JS", ERRORS_JS),
                ("DATA", &data),
                ("ECHARTS_JS", ECHARTS_JS),
                ("APP_JS", &app),
            ],
        )?;
        Ok(page.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_has_no_markup_and_parses_back() {
        let text = "</script><script>alert(1)</script> <!-- & \u{2028}";
        let safe = script_safe_json(&serde_json::json!({ "line": text })).unwrap();
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["line"], text);
    }

    #[test]
    fn fill_replaces_markers_once_and_refuses_unknown_ones() {
        let filled = fill("a{{X}}b{{Y}}c", &[("X", "{{Y}}"), ("Y", "1")]).unwrap();
        assert_eq!(filled, "a{{Y}}b1c");
        assert!(fill("{{Z}}", &[]).is_err());
        assert!(fill("{{X", &[("X", "")]).is_err());
    }

    #[test]
    fn embedded_code_cannot_end_its_own_element() {
        // Each is embedded verbatim inside <script> or <style>.
        for (name, code) in [
            ("report.css", STYLE),
            ("errors.js", ERRORS_JS),
            ("echarts.min.js", ECHARTS_JS),
        ]
        .into_iter()
        .chain(APP_JS.iter().map(|code| ("app", *code)))
        {
            let lower = code.to_ascii_lowercase();
            assert!(
                !lower.contains("</script")
                    && !lower.contains("</style")
                    && !lower.contains("<!--"),
                "{name} would end its element early"
            );
        }
        for (name, code) in [("report.css", STYLE), ("errors.js", ERRORS_JS)]
            .into_iter()
            .chain(APP_JS.iter().map(|code| ("app", *code)))
        {
            assert!(!code.contains("{{"), "{name} has a template marker");
        }
    }

    #[test]
    fn the_vendored_echarts_is_the_version_named() {
        let readme = include_str!("html/vendor/echarts/README.md");
        assert!(readme.starts_with(&format!("# Apache ECharts {ECHARTS_VERSION},")));
        // The banner of echarts.min.js names no version; its code does.
        assert!(ECHARTS_JS.contains(&format!("\"{ECHARTS_VERSION}\"")));
    }

    fn fixture() -> Results {
        serde_json::from_str(include_str!("../../tests/fixtures/results-small.json")).unwrap()
    }

    /// The payload embedded in a rendered page.
    fn payload(page: &str) -> Value {
        let (_, rest) = page
            .split_once(r#"<script type="application/json" id="labour-data">"#)
            .expect("the data element");
        let (data, _) = rest.split_once("</script>").expect("it ends");
        serde_json::from_str(data).expect("JSON")
    }

    #[test]
    fn the_page_embeds_a_lean_document_and_rust_worded_texts() {
        let results = fixture();
        let page = String::from_utf8(HtmlReport.render(&results).unwrap()).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(ECHARTS_JS), "ECharts is embedded whole");
        let payload = payload(&page);
        let cells = payload["results"]["cells"].as_array().unwrap();
        assert_eq!(cells.len(), results.cells.len());
        for (cell, (embedded, texts)) in results.cells.iter().zip(
            cells
                .iter()
                .zip(payload["texts"]["cells"].as_array().unwrap()),
        ) {
            assert_eq!(texts["failure_percent"], percent_text(cell.failure_ratio));
            assert_eq!(texts["kind"], kind(cell));
            // What the page draws stays; what it never shows goes.
            assert_eq!(
                embedded["timeline"]["failed"].as_array().unwrap().len(),
                cell.timeline.failed.len()
            );
            assert_eq!(
                embedded["events"].as_array().unwrap().len(),
                cell.events.len()
            );
            for behaviour in embedded["behaviours"].as_array().unwrap() {
                assert!(behaviour.get("unexpected").is_some());
                assert!(behaviour.get("latency").is_none() && behaviour.get("outcomes").is_none());
            }
        }
        let segfaults = results.cell("wsgiref", "SIGSEGV").unwrap();
        assert_eq!(kind(segfaults), "failed");
        assert_eq!(
            payload["texts"]["outcomes"]["refused"],
            "connection refused"
        );
        assert_eq!(payload["texts"]["mixes"][0][1], "SIGSEGV");
        assert_eq!(payload["texts"]["seed"], "7");
        let full = serde_json::to_vec(&results).unwrap().len();
        let lean = serde_json::to_vec(&payload["results"]).unwrap().len();
        assert!(lean < full, "{lean} of {full} bytes");
    }

    #[test]
    fn a_cell_without_requests_is_interrupted_only_when_its_status_says_so() {
        let mut cell = fixture().cells[0].clone();
        let mut kind_of = |status, requests, ratio| {
            cell.status = status;
            cell.requests = requests;
            cell.failure_ratio = ratio;
            kind(&cell)
        };
        assert_eq!(kind_of(CellStatus::Completed, 0, 0.0), "no_load");
        assert_eq!(kind_of(CellStatus::Interrupted, 0, 0.0), "interrupted");
        assert_eq!(kind_of(CellStatus::NoLoad, 0, 0.0), "no_load");
        assert_eq!(kind_of(CellStatus::FaultLate, 0, 0.0), "fault_late");
        assert_eq!(kind_of(CellStatus::EngineLost, 0, 0.0), "engine_lost");
        assert_eq!(kind_of(CellStatus::Interrupted, 10, 0.5), "failed");
        assert_eq!(kind_of(CellStatus::Interrupted, 10, 0.05), "interrupted");
        assert_eq!(kind_of(CellStatus::Completed, 10, 0.5), "failed");
        assert_eq!(kind_of(CellStatus::Completed, 10, 0.05), "ok");
    }

    #[test]
    fn the_page_knows_every_kind_rust_names() {
        let top = APP_JS
            .iter()
            .find(|code| code.contains("var KINDS = {"))
            .expect("the kinds' words and marks");
        let mut cell = fixture().cells[0].clone();
        for status in [
            CellStatus::Completed,
            CellStatus::Interrupted,
            CellStatus::ServerDown,
            CellStatus::Unresponsive,
            CellStatus::PreflightFailed,
            CellStatus::Error,
            CellStatus::Skipped,
            CellStatus::EngineLost,
            CellStatus::NoLoad,
            CellStatus::FaultLate,
        ] {
            cell.status = status;
            for (requests, ratio) in [(0, 0.0), (10, 0.05), (10, 0.5)] {
                cell.requests = requests;
                cell.failure_ratio = ratio;
                let kind = kind(&cell);
                assert!(
                    top.contains(&format!("\n  {kind}: {{ mark: ")),
                    "{kind} is not in the page's KINDS"
                );
            }
        }
    }

    #[test]
    fn long_timelines_are_embedded_as_the_bars_drawn() {
        let mut results = fixture();
        let cell = &mut results.cells[0];
        cell.timeline.expected = (0..6001).map(|i| i % 3).collect();
        cell.timeline.failed = vec![1; 6001];
        let page = String::from_utf8(HtmlReport.render(&results).unwrap()).unwrap();
        let timeline = &payload(&page)["results"]["cells"][0]["timeline"];
        assert_eq!(timeline["bucket_ms"], 1100);
        let failed = timeline["failed"].as_array().unwrap();
        assert_eq!(failed.len(), 546);
        assert_eq!(failed[0], 11);
        assert_eq!(failed[545], 6001 - 545 * 11);
        let expected: u64 = timeline["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(expected, (0..6001u64).map(|i| i % 3).sum::<u64>());
        // Short ones stay as they are.
        assert_eq!(
            payload(&page)["results"]["cells"][1]["timeline"]["bucket_ms"],
            100
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let results = fixture();
        assert_eq!(
            HtmlReport.render(&results).unwrap(),
            HtmlReport.render(&results).unwrap()
        );
    }
}
