//! Every rendering on a fixed document (a real run's results, checked in
//! as tests/fixtures/results-small.json), as snapshots: a change to what a
//! report says shows up in review.

use std::collections::BTreeMap;

use super::*;
use crate::behaviour::{Outcome, SPECS};
use crate::catalogue::Catalogue;
use crate::images::Images;
use crate::plan::LoadSpec;
use crate::results::{Connects, LatencySummary, LoadResults};
use crate::scenario::named_tests;

fn fixture() -> Results {
    serde_json::from_str(include_str!("../../tests/fixtures/results-small.json"))
        .expect("the fixture is a results document")
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("reports are UTF-8")
}

#[test]
fn table() {
    insta::assert_snapshot!(text(TableReport.render(&fixture()).unwrap()));
}

#[test]
fn plain() {
    insta::assert_snapshot!(text(PlainReport.render(&fixture()).unwrap()));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(text(MarkdownReport.render(&fixture()).unwrap()));
}

#[test]
fn csv() {
    let csv = text(CsvReport.render(&fixture()).unwrap());
    assert_eq!(csv.lines().next().unwrap(), csv_columns().join(","));
    assert_eq!(csv.lines().count(), fixture().cells.len() + 1);
    insta::assert_snapshot!(csv);
}

#[test]
fn json() {
    let json = text(JsonReport.render(&fixture()).unwrap());
    let back: Results = serde_json::from_str(&json).unwrap();
    assert_eq!(back, fixture(), "the document survives the round trip");
    insta::assert_snapshot!(json);
}

#[test]
fn html() {
    let page = text(HtmlReport.render(&fixture()).unwrap());
    // The vendored chart library is not ours to review.
    assert!(page.contains(html::ECHARTS_JS));
    let page = page.replace(html::ECHARTS_JS, "/* vendored ECharts */");
    assert!(
        page.len() < 200_000,
        "only labour's own page is snapshotted"
    );
    insta::assert_snapshot!(page);
}

#[test]
fn comparison_table_and_markdown() {
    let base = fixture();
    let mut new = fixture();
    new.cells[0].failure_ratio += 0.05;
    new.cells.pop();
    let comparison = compare(&base, &new, 0.01);
    assert_eq!(comparison.regressions().len(), 1);
    assert_eq!(comparison.only_in_base.len(), 1);
    insta::assert_snapshot!(
        "compare_table",
        text(CompareTable.render(&comparison).unwrap())
    );
    insta::assert_snapshot!(
        "compare_markdown",
        text(CompareMarkdown.render(&comparison).unwrap())
    );
}

#[test]
fn a_comparison_reads_the_rate_the_table_shows() {
    let base = fixture();
    let mut new = fixture();
    // One stall left out a second of the new run's first cell: the table
    // shows the rate without it, and so must the comparison.
    new.cells[0].requests_per_sec_excluding_stalls = Some(4000.0);
    new.cells[0].client.all_stalled_secs = 1.0;
    let comparison = compare(&base, &new, 0.01);
    let first = &comparison.cells[0];
    assert_eq!(first.requests_per_sec.new, Some(4000.0));
    assert_eq!(
        first.requests_per_sec.base,
        Some(base.cells[0].shown_requests_per_sec())
    );
}

#[test]
fn listings() {
    let catalogue = Catalogue::load(&Images::Embedded).unwrap();
    insta::assert_snapshot!(
        "servers",
        text(ServersText { all: true }.render(&catalogue).unwrap())
    );
    insta::assert_snapshot!(
        "tests",
        text(TestsText.render(named_tests().as_slice()).unwrap())
    );
    insta::assert_snapshot!("behaviours", text(BehavioursText.render(SPECS).unwrap()));
    insta::assert_snapshot!(
        "behaviours_json",
        text(JsonReport.render(&behaviours_document()).unwrap())
    );
}

#[test]
fn load() {
    let latency = LatencySummary {
        count: 1000,
        min_ms: 0.1,
        mean_ms: 0.8,
        p50_ms: 0.7,
        p90_ms: 1.2,
        p99_ms: 3.4,
        p999_ms: 7.8,
        max_ms: 9.1,
    };
    let results = LoadResults {
        labour_version: "0.1.0".into(),
        url: "http://127.0.0.1:8000/".into(),
        load: LoadSpec {
            requests: Some(1000),
            duration: None,
            processes: 2,
            keep_alive: true,
            settle: false,
            ..LoadSpec::default()
        },
        requests: 1000,
        expected: 997,
        failed: 3,
        duration_secs: 0.5,
        requests_per_sec: 2000.0,
        outcomes: BTreeMap::from([(Outcome::Status(200), 997), (Outcome::Status(503), 3)]),
        latency: latency.clone(),
        headers_latency: latency,
        corrected_latency: None,
        late_starts: 0,
        connects: Connects {
            count: 8,
            time: LatencySummary {
                count: 8,
                min_ms: 0.05,
                mean_ms: 125.1,
                p50_ms: 0.06,
                p90_ms: 1000.4,
                p99_ms: 1000.4,
                p999_ms: 1000.4,
                max_ms: 1000.4,
            },
            stalls: 1,
            stalled_secs: 1.0004,
        },
        processes: 2,
        client_cpu_secs: 0.25,
        client_peak_rss_bytes: 24 << 20,
        failure_samples: vec!["0.120 s: HTTP 503".into()],
        worker_failures: Vec::new(),
    };
    insta::assert_snapshot!("load_text", text(LoadText.render(&results).unwrap()));
    insta::assert_snapshot!("load_json", text(JsonReport.render(&results).unwrap()));
}

#[test]
fn formats_follow_file_extensions() {
    use std::path::Path;
    assert_eq!(Format::of_path(Path::new("r.html")), Some(Format::Html));
    assert_eq!(Format::of_path(Path::new("r.MD")), Some(Format::Markdown));
    assert_eq!(Format::of_path(Path::new("r.csv")), Some(Format::Csv));
    assert_eq!(Format::of_path(Path::new("r.txt")), Some(Format::Table));
    assert_eq!(Format::of_path(Path::new("r.json")), Some(Format::Json));
    assert_eq!(Format::of_path(Path::new("r.pdf")), None);
}

/// The fixture with its waitress recorded as an ASGI server.
fn fixture_with_an_asgi_server() -> Results {
    let mut results = fixture();
    let server = results
        .scenario
        .servers
        .iter_mut()
        .find(|s| s.name == "waitress")
        .unwrap();
    server.interface = crate::behaviour::Interface::Asgi;
    results
}

#[test]
fn a_run_with_an_asgi_server_shows_each_servers_interface_beside_it() {
    let results = fixture_with_an_asgi_server();
    let markdown = text(MarkdownReport.render(&results).unwrap());
    assert!(
        markdown.contains("| Server | Interface | SIGSEGV |"),
        "{markdown}"
    );
    assert!(markdown.contains("| waitress | asgi | "), "{markdown}");
    assert!(markdown.contains("| wsgiref | wsgi | "), "{markdown}");
    let table = text(TableReport.render(&results).unwrap());
    let header = table.lines().find(|l| l.contains("Server")).unwrap();
    assert!(header.contains("| Interface |"), "{header}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("| waitress") && l.contains("| asgi ")),
        "{table}"
    );
    // The seed's words stay as they were.
    assert_eq!(
        text(PlainReport.render(&results).unwrap()),
        text(PlainReport.render(&fixture()).unwrap())
    );
    // A WSGI-only run keeps its tables as they were.
    assert!(!text(MarkdownReport.render(&fixture()).unwrap()).contains("Interface"));
}

#[test]
fn a_wsgi_cell_is_never_compared_with_an_asgi_one() {
    let base = fixture();
    let new = fixture_with_an_asgi_server();
    let mismatches = interface_mismatches(&base, &new);
    assert_eq!(
        mismatches,
        ["SIGSEGV", "HeavySleep", "Plain"]
            .map(|test| format!("waitress / {test} is wsgi in BASE and asgi in NEW"))
    );
    assert!(!mismatches.is_empty());
    assert!(interface_mismatches(&base, &fixture()).is_empty());
}
