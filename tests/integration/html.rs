//! The HTML report (`--format html`) opened in a real headless browser,
//! Debian's `chromium`: it draws a real run's results with no error, shows
//! every cell's f% in the heatmap, draws its charts and event labels, is
//! not blank, needs no network, and survives hostile and incomplete
//! documents; a whole matrix's heatmap opens the page and fits one
//! 1400 x 900 screen, and sorts, filters, tells and opens its cells. Skipped with a printed reason when chromium is not installed;
//! failing instead when LABOUR_REQUIRE_CHROMIUM=1.
//!
//! `LABOUR_CHROMIUM` names another browser binary; `LABOUR_HTML_DIR=DIR`
//! keeps the pages and screenshots there (`scripts/report-screenshot.sh`
//! crops the fixture's into docs/report.png).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use labour::Format;
use labour::results::{CellError, CellStatus, Results};
use serde_json::{Value, json};

/// A real run: wsgiref, gunicorn-sync and waitress under Plain, SIGSEGV and
/// HeavySleep, 300 requests per cell, seed 7, in Docker.
const FIXTURE: &str = include_str!("../fixtures/results-small.json");

const DATA_OPEN: &str = r#"<script type="application/json" id="labour-data">"#;

fn fixture() -> Results {
    serde_json::from_str(FIXTURE).expect("the fixture is a results document")
}

fn render(results: &Results) -> String {
    String::from_utf8(Format::Html.render(results).expect("renders")).expect("UTF-8")
}

/// The browser, when one is installed; otherwise the test is skipped with
/// a printed reason, or fails when LABOUR_REQUIRE_CHROMIUM=1.
fn chromium(test: &str) -> Option<PathBuf> {
    let binary =
        PathBuf::from(std::env::var("LABOUR_CHROMIUM").unwrap_or_else(|_| "chromium".into()));
    let found = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Some(binary);
    }
    if std::env::var("LABOUR_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
        panic!("{test}: chromium is not installed and LABOUR_REQUIRE_CHROMIUM=1");
    }
    eprintln!("skipping {test}: chromium is not installed (apt-get install chromium)");
    None
}

/// Where this test's pages and screenshots go: LABOUR_HTML_DIR, or a
/// temporary directory.
fn workdir() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("LABOUR_HTML_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    (temp, dir)
}

/// What the browser made of a page: the DOM after its scripts ran, and
/// the page's console messages (it writes none when all is well).
struct Opened {
    dom: String,
    console: Vec<String>,
}

/// Run headless chromium on `url` with `extra` arguments.
fn browse(binary: &Path, url: &str, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "chromium failed: {output:?}");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn console_of(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

fn open_dom(binary: &Path, page: &Path, fragment: &str) -> Opened {
    let url = format!("file://{}{fragment}", page.display());
    let (dom, stderr) = browse(binary, &url, &["--dump-dom".into()]);
    Opened {
        dom,
        console: console_of(&stderr),
    }
}

/// A screenshot of `page` at 1280 x `height`, decoded: its width, height
/// and RGB pixels; and the page's console messages.
fn screenshot(
    binary: &Path,
    page: &Path,
    png: &Path,
    height: u32,
) -> (u32, u32, Vec<[u8; 3]>, Vec<String>) {
    let url = format!("file://{}", page.display());
    let (_, stderr) = browse(
        binary,
        &url,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size=1280,{height}"),
            "--hide-scrollbars".into(),
        ],
    );
    let file = std::fs::File::open(png).expect("chromium wrote the screenshot");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels = buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, pixels, console_of(&stderr))
}

fn write_page(dir: &Path, name: &str, html: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

/// The text of the heatmap entry of `server` x `test` in a dumped DOM.
fn heatmap_entry<'a>(dom: &'a str, server: &str, test: &str) -> &'a str {
    let marker = r#"<td class="hm "#;
    let cell = format!(r#"data-cell="{server}/{test}""#);
    let start = dom
        .match_indices(marker)
        .map(|(at, _)| at)
        .find(|&at| {
            dom[at..]
                .split('>')
                .next()
                .is_some_and(|tag| tag.contains(&cell))
        })
        .unwrap_or_else(|| panic!("no heatmap entry for {server} / {test}"));
    let end = dom[start..].find("</td>").expect("the entry ends") + start;
    &dom[start..end]
}

fn assert_drew_cleanly(opened: &Opened, what: &str) {
    assert!(
        opened.console.is_empty(),
        "{what}: the page wrote to the console: {:#?}",
        opened.console
    );
    assert!(
        opened.dom.contains(r#"data-ready="1""#),
        "{what}: the page's script did not finish"
    );
    assert!(
        opened.dom.contains(r#"data-errors="0""#),
        "{what}: the page recorded errors: {}",
        between(&opened.dom, r#"<ul id="error-list">"#, "</ul>")
    );
}

fn between<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    text.split_once(from)
        .and_then(|(_, rest)| rest.split_once(to))
        .map_or("", |(inside, _)| inside)
}

/// The page minus the vendored ECharts and the embedded results: what
/// labour itself wrote.
fn own_markup(html: &str) -> String {
    let echarts = include_str!("../../src/report/html/vendor/echarts/echarts.min.js");
    assert!(html.contains(echarts), "ECharts is embedded whole");
    let without = html.replace(echarts, "");
    let (before, rest) = without.split_once(DATA_OPEN).expect("the data element");
    let (_, after) = rest.split_once("</script>").expect("the data element ends");
    format!("{before}{after}")
}

#[test]
fn html_report_of_a_real_run_draws_in_a_browser() {
    let Some(binary) = chromium("html_report_of_a_real_run_draws_in_a_browser") else {
        return;
    };
    let results = fixture();
    let html = render(&results);
    let (_temp, dir) = workdir();
    let page = write_page(&dir, "report.html", &html);

    // Self-contained: nothing of labour's own refers to the network, and
    // the page's policy forbids loading anything at all.
    let own = own_markup(&html);
    for needle in [
        "http://", "https://", "src=", "href=", "url(", "@import", "//cdn",
    ] {
        assert!(
            !own.contains(needle),
            "the page's own markup has {needle:?}"
        );
    }
    assert!(
        html.contains("default-src 'none'"),
        "the page has its policy"
    );

    // Every chart of every cell, eagerly (#all).
    let all = open_dom(&binary, &page, "#all");
    assert_drew_cleanly(&all, "#all");
    let mut charts = 0;
    for cell in &results.cells {
        let entry = heatmap_entry(&all.dom, &cell.server, &cell.test);
        let failure = format!("{:.2}", cell.failure_ratio * 100.0);
        let innocent = format!("{:.2}", cell.innocent_failure_ratio * 100.0);
        // Said on the entry (its label, which its tooltip repeats), and
        // shown in it where there is room, as for these nine.
        assert!(
            entry.contains(&format!("{failure}% not as expected")),
            "{} / {}: f% {failure} not in {entry}",
            cell.server,
            cell.test
        );
        assert!(
            entry.contains(&format!(">{failure}%<")),
            "{} / {}: f% {failure} not shown in {entry}",
            cell.server,
            cell.test
        );
        assert!(
            entry.contains(&format!("innocent {innocent}%")),
            "{} / {}: innocent f% {innocent} not in {entry}",
            cell.server,
            cell.test
        );
        if cell.is_disqualified() {
            assert!(entry.contains("Failed"), "{entry}");
        }
        if cell.requests > 0 {
            // Timeline, latency, resources (when sampled), workers (when
            // more than two).
            charts += 2
                + usize::from(!cell.resources.samples.is_empty())
                + usize::from(cell.workers_seen.len() > 2);
        }
    }
    assert_eq!(
        all.dom.matches(r#"data-chart="ready""#).count(),
        charts,
        "every chart of every cell drew"
    );
    assert!(
        all.dom.matches("_echarts_instance_").count() >= charts,
        "ECharts drew them"
    );
    // The segfaults are on wsgiref's timeline as labelled lines.
    let wsgiref = results.cell("wsgiref", "SIGSEGV").unwrap();
    assert!(wsgiref.durability.dies > 0);
    assert!(
        all.dom.contains("die 139 (SIGSEGV)"),
        "the deaths are labelled on the timeline"
    );
    let never = wsgiref
        .durability
        .recoveries
        .iter()
        .any(|r| r.recovered_after_secs.is_none());
    assert_eq!(
        all.dom.contains("never, before the load ended"),
        never,
        "deaths that never recovered say so"
    );

    // By default, only what is near the screen draws.
    let lazy = open_dom(&binary, &page, "");
    assert_drew_cleanly(&lazy, "default");
    let drawn = lazy.dom.matches(r#"data-chart="ready""#).count();
    assert!(
        drawn < charts,
        "{drawn} of {charts} charts drew before they were needed"
    );

    // A screenshot that is not blank: many colours, among them the
    // green of requests as expected and the red of failures.
    let png = dir.join("report.png");
    let (width, height, pixels, console) = screenshot(&binary, &page, &png, 2400);
    assert!(console.is_empty(), "{console:#?}");
    assert_eq!((width, height), (1280, 2400));
    let mut colours: Vec<[u8; 3]> = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 100,
        "{} colours: a blank page?",
        colours.len()
    );
    let greens = pixels
        .iter()
        .filter(|[r, g, b]| *g > 120 && *g as u16 > *r as u16 + 25 && *g as u16 > *b as u16 + 15)
        .count();
    let reds = pixels
        .iter()
        .filter(|[r, g, b]| *r > 150 && *r as u16 > *g as u16 + 60 && *r as u16 > *b as u16 + 60)
        .count();
    assert!(greens > 1000 && reds > 1000, "greens {greens}, reds {reds}");
}

/// `html` with its embedded payload changed by `edit`.
fn edit_payload(html: &str, edit: impl FnOnce(&mut Value)) -> String {
    let (before, rest) = html.split_once(DATA_OPEN).unwrap();
    let (data, after) = rest.split_once("</script>").unwrap();
    let mut payload: Value = serde_json::from_str(data).unwrap();
    edit(&mut payload);
    let json = serde_json::to_string(&payload)
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!("{before}{DATA_OPEN}{json}</script>{after}")
}

const HOSTILE: &str = r#"</script><script>document.body.setAttribute("data-pwned","1")</script><img src=x onerror="document.body.setAttribute('data-pwned','1')">"#;

#[test]
fn html_report_survives_hostile_and_incomplete_documents() {
    let Some(binary) = chromium("html_report_survives_hostile_and_incomplete_documents") else {
        return;
    };
    let mut results = fixture();
    let template = results.cells[0].clone();
    // Log lines are arbitrary text.
    results.cells[0].log_tail.push(HOSTILE.into());
    results.cells[0]
        .failure_samples
        .push(labour::results::FailureSample {
            at_secs: 0.5,
            behaviour: "PlainResponse".into(),
            outcome: labour::behaviour::Outcome::Reset,
            worker_pid: None,
            detail: HOSTILE.into(),
        });
    // A cell of every kind, including ones that sent nothing.
    let mut add = |server: &str, status: CellStatus, edit: &dyn Fn(&mut labour::results::Cell)| {
        let mut cell = template.clone();
        cell.server = server.into();
        cell.status = status;
        edit(&mut cell);
        results.cells.push(cell);
    };
    add("down", CellStatus::ServerDown, &|c| {
        c.durability.down_at_secs = Some(0.04)
    });
    add("unresponsive", CellStatus::Unresponsive, &|c| {
        c.durability.unresponsive_since_secs = Some(1.65)
    });
    let nothing_sent = |c: &mut labour::results::Cell, message: &str| {
        c.requests = 0;
        c.expected = 0;
        c.failed = 0;
        c.failure_ratio = 0.0;
        c.timeline.expected.clear();
        c.timeline.failed.clear();
        c.resources = Default::default();
        c.events.clear();
        c.error = Some(CellError {
            message: message.into(),
            log_tail: vec![HOSTILE.into()],
        });
    };
    add("broken", CellStatus::Error, &|c| nothing_sent(c, HOSTILE));
    add("skipped", CellStatus::Skipped, &|c| {
        nothing_sent(c, "needs Apache")
    });
    add("preflight", CellStatus::PreflightFailed, &|c| {
        nothing_sent(c, "pre-flight failed")
    });
    add("interrupted", CellStatus::Interrupted, &|c| {
        // 1 of 800: 0.125%, where rounding half to even and half up differ.
        c.requests = 800;
        c.failed = 1;
        c.failure_ratio = 1.0 / 800.0;
        c.resources = Default::default();
    });
    results.interrupted = true;
    results.complete = false;
    // More than a JavaScript number holds exactly.
    results.seed = u64::MAX - 1;
    // A cell's own seed (derived from the run's and the test).
    results.cells[1].seed = 1234;

    let html = edit_payload(&render(&results), |payload| {
        let cells = payload["results"]["cells"].as_array_mut().unwrap();
        // A newer labour: planned faults, how the cell ended.
        cells[1]["faults"] = json!([
            {"at_secs": 5.0, "action": "kill", "target": "worker"},
            {"at_secs": 10.0, "until_secs": 15.0, "action": "pause", "target": {"container": "server"}},
            {"action": "no time"}
        ]);
        cells[1]["ended_by"] = json!({"reason": "requests"});
        // An older or a stranger one: fields missing or of the wrong type.
        for key in [
            "timeline",
            "latency",
            "durability",
            "resources",
            "events",
            "behaviours",
        ] {
            cells[2].as_object_mut().unwrap().remove(key);
        }
        cells[3]["timeline"] = json!({"expected": "many", "failed": [1, null, "x"]});
        cells[3]["events"] = json!([{"action": "die"}, {"at_secs": 0.2, "action": "oom"}, null, 7]);
        cells[3]["workers_seen"] = json!([{"pid": "one"}, {"pid": 12}]);
        cells[3]["resources"]["samples"] =
            json!([{"at_secs": 0.1}, {"at_secs": 0.2, "memory_bytes": null, "cpu_percent": 50.0}]);
        // Texts Rust did not word: the page words them itself.
        payload["texts"]["cells"][3] = Value::Null;
        payload["results"]
            .as_object_mut()
            .unwrap()
            .remove("environment");
        payload["results"]["scenario"]["tests"][0]["mix"] = json!("not a list");
    });
    let (_temp, dir) = workdir();
    let page = write_page(&dir, "hostile.html", &html);
    let opened = open_dom(&binary, &page, "#all");
    assert_drew_cleanly(&opened, "hostile");
    assert!(
        !opened.dom.contains(r#"data-pwned="1""#),
        "markup from the results ran"
    );
    assert!(
        !opened.dom.contains("<img src=\"x\"") && !opened.dom.contains("<img src=x"),
        "markup from the results became elements"
    );
    assert!(
        opened.dom.contains("&lt;img src=x onerror="),
        "the hostile line is shown as text"
    );
    assert!(opened.dom.contains(r#"state-interrupted">Interrupted<"#));
    let tie = format!("{:.2}", 100.0 / 800.0);
    for (server, words) in [
        ("down", "Down at 0.04 s"),
        ("unresponsive", "Unresponsive since 1.65 s"),
        ("broken", "Error"),
        ("skipped", "Skipped"),
        ("preflight", "Pre-flight failed"),
        ("interrupted", tie.as_str()),
    ] {
        let entry = heatmap_entry(&opened.dom, server, &template.test);
        assert!(entry.contains(words), "{server}: {words:?} not in {entry}");
    }
    assert!(
        opened.dom.contains(&format!("seed {}", u64::MAX - 1)),
        "the seed is shown exactly"
    );
    assert!(
        opened.dom.contains("seed 1234"),
        "a cell's own seed is shown"
    );
    for label in ["fault: kill worker", "fault: pause {\"container\":", "oom"] {
        assert!(opened.dom.contains(label), "{label:?} is not drawn");
    }
}

/// A whole matrix's shape, made of the fixture: `servers` x `tests` cells
/// copied round from its nine, renamed, with every status among them.
/// Layout input only (the figures repeat and mean nothing).
fn widened(servers: usize, tests: usize) -> Results {
    let mut results = fixture();
    let server = results.scenario.servers[0].clone();
    let test = results.scenario.tests[0].clone();
    let cells = std::mem::take(&mut results.cells);
    // Names as long as the catalogue's longest.
    let server_name = |s: usize| format!("gunicorn-evt-{s:02}-py27");
    let test_name = |t: usize| format!("SlowStream{t:02}");
    results.scenario.servers = (0..servers)
        .map(|s| {
            let mut server = server.clone();
            server.name = server_name(s);
            server
        })
        .collect();
    results.scenario.tests = (0..tests)
        .map(|t| {
            let mut test = test.clone();
            test.name = test_name(t);
            test
        })
        .collect();
    let statuses = [
        CellStatus::Completed,
        CellStatus::ServerDown,
        CellStatus::Completed,
        CellStatus::Unresponsive,
        CellStatus::Error,
        CellStatus::Completed,
        CellStatus::NoLoad,
        CellStatus::Interrupted,
        CellStatus::FaultLate,
    ];
    for s in 0..servers {
        for t in 0..tests {
            let mut cell = cells[(s * 7 + t * 3) % cells.len()].clone();
            cell.server = server_name(s);
            cell.test = test_name(t);
            cell.status = statuses[(s + 2 * t) % statuses.len()];
            results.cells.push(cell);
        }
    }
    results
}

/// Appended to the page under test, after its own script: once the page
/// has loaded, it measures every entry of the matrix against the window,
/// hovers one, filters, sorts, then clicks one and waits for its section
/// to open, and writes what it found into `<body data-layout>` (JSON).
const MEASURE: &str = r#"<script>
window.addEventListener("load", function () {
  var found = { width: window.innerWidth, height: window.innerHeight };
  var table = document.querySelector("table.heatmap");
  var entries = Array.prototype.slice.call(document.querySelectorAll("td.hm"));
  found.entries = entries.length;
  var outside = entries.filter(function (td) {
    var box = td.getBoundingClientRect();
    return box.left < 0 || box.top < 0 || box.right > window.innerWidth || box.bottom > window.innerHeight;
  });
  found.outside = outside.length;
  found.firstOutside = outside.slice(0, 3).map(function (td) { return td.getAttribute("data-cell"); });
  found.smallest = entries.reduce(function (least, td) {
    var box = td.getBoundingClientRect();
    return [Math.min(least[0], box.width), Math.min(least[1], box.height)];
  }, [Infinity, Infinity]);
  found.matrixTop = table.getBoundingClientRect().top;
  var setup = document.getElementById("setup-details");
  found.setupBelow = setup.getBoundingClientRect().top >= table.getBoundingClientRect().bottom;
  found.setupOpen = setup.open;
  // The tooltip of the first entry.
  var link = entries[0].querySelector("a");
  link.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
  var tip = document.querySelector(".hm-tip");
  found.tip = tip.hidden ? null : tip.textContent;
  link.dispatchEvent(new MouseEvent("mouseleave", { bubbles: false }));
  table.dispatchEvent(new MouseEvent("mouseleave", { bubbles: false }));
  // Filters and sorts.
  var rows = function () {
    return Array.prototype.filter.call(table.tBodies[0].rows, function (row) { return !row.hidden; });
  };
  var set = function (id, value, event) {
    var input = document.getElementById(id);
    input.value = value;
    input.dispatchEvent(new Event(event));
  };
  set("filter-servers", "-03-", "input");
  found.serverFilter = rows().map(function (row) { return row.getAttribute("data-server"); });
  set("filter-servers", "", "input");
  set("filter-tests", "SlowStream01", "input");
  found.testFilter = Array.prototype.filter.call(table.tHead.rows[0].cells, function (th) {
    return th.classList.contains("hm-test") && !th.hidden;
  }).map(function (th) { return th.textContent; });
  set("filter-tests", "", "input");
  var ok = document.querySelector("fieldset.legend input[data-kind=ok]");
  ok.checked = false;
  ok.dispatchEvent(new Event("change"));
  found.okHidden = document.querySelectorAll("td.hm.kind-ok.hm-off").length === document.querySelectorAll("td.hm.kind-ok").length;
  ok.checked = true;
  ok.dispatchEvent(new Event("change"));
  set("sort-rows", "most", "change");
  found.failedCounts = rows().map(function (row) { return Number(row.lastChild.textContent || 0); });
  set("sort-rows", "name", "change");
  found.byName = rows().map(function (row) { return row.getAttribute("data-server"); });
  table.tHead.querySelector("button[data-column='0']").click();
  found.underFirstTest = rows().map(function (row) { return row.cells[1].getAttribute("data-kind"); });
  // A click opens the cell's section and brings it to the top.
  var target = entries[entries.length - 1].querySelector("a");
  window.addEventListener("hashchange", function () {
    var section = document.getElementById(target.getAttribute("href").slice(1));
    found.opened = section.open && !section.classList.contains("unbuilt");
    found.openedTop = section.getBoundingClientRect().top;
    document.body.setAttribute("data-layout", JSON.stringify(found));
  });
  target.click();
});
</script>"#;

/// What MEASURE found on `page` opened in a window of 1400 x `height`.
fn measure(binary: &Path, page: &Path, height: u32) -> Value {
    let url = format!("file://{}", page.display());
    let (dom, stderr) = browse(
        binary,
        &url,
        &[
            "--dump-dom".into(),
            format!("--window-size=1400,{height}"),
            "--hide-scrollbars".into(),
        ],
    );
    let opened = Opened {
        dom,
        console: console_of(&stderr),
    };
    assert_drew_cleanly(&opened, "the whole matrix");
    let layout = between(&opened.dom, r#"data-layout=""#, "\"");
    assert!(!layout.is_empty(), "the measuring script did not finish");
    let json = layout
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("the layout is JSON")
}

#[test]
fn html_report_of_a_whole_matrix_opens_on_it_and_fits_one_screen() {
    let Some(binary) = chromium("html_report_of_a_whole_matrix_opens_on_it_and_fits_one_screen")
    else {
        return;
    };
    // More than today's whole matrix (27 x 19): as many as it may grow to.
    let (servers, tests) = (45, 20);
    let results = widened(servers, tests);
    let html = render(&results);
    let (page, end) = html.rsplit_once("</body>").expect("the page ends");
    let html = format!("{page}{MEASURE}\n</body>{end}");
    let (_temp, dir) = workdir();
    let page = write_page(&dir, "matrix.html", &html);

    // Headless chromium keeps room for a browser's toolbar: its page in a
    // 1400 x 900 window is shorter (as a browser's on a 1400 x 900 screen
    // is). The page must fit there, and in a 1400 x 900 page as well.
    let first = measure(&binary, &page, 900);
    let mut layouts = vec![first.clone()];
    let short = first["height"].as_u64().expect("a height") as u32;
    if short != 900 {
        let second = measure(&binary, &page, 900 + (900 - short));
        assert_eq!(
            (second["width"].as_u64(), second["height"].as_u64()),
            (Some(1400), Some(900)),
            "the page is 1400 x 900"
        );
        layouts.push(second);
    }
    for layout in &layouts {
        let size = format!("{} x {}", layout["width"], layout["height"]);
        assert_eq!(layout["width"], 1400, "{size}");
        assert!(layout["height"].as_u64().unwrap() >= 700, "{size}");
        assert_eq!(
            layout["entries"],
            servers * tests,
            "{size}: every cell has an entry"
        );
        assert_eq!(
            layout["outside"], 0,
            "{size}: entries outside the first screen, among them {}",
            layout["firstOutside"]
        );
        // Small, but an entry still: a mark's room.
        let smallest = &layout["smallest"];
        assert!(
            smallest[0].as_f64().unwrap() >= 20.0 && smallest[1].as_f64().unwrap() >= 10.0,
            "{size}: entries as small as {smallest}"
        );
        assert!(
            layout["matrixTop"].as_f64().unwrap() < 200.0,
            "{size}: the matrix starts {} px down",
            layout["matrixTop"]
        );
        assert_eq!(layout["setupBelow"], true, "{size}: the setup follows it");
        assert_eq!(layout["setupOpen"], false, "{size}: folded");
    }
    let layout = &layouts[0];
    // Hover: the verdict and figures of the first cell.
    let first_cell = &results.cells[0];
    let tip = layout["tip"].as_str().expect("a tooltip shows");
    for words in [
        first_cell.server.as_str(),
        &format!("{:.2}% not as expected", first_cell.failure_ratio * 100.0),
        &format!("innocent {:.2}%", first_cell.innocent_failure_ratio * 100.0),
    ] {
        assert!(tip.contains(words), "{words:?} not in the tooltip {tip:?}");
    }
    // Filters by name, and by kind from the legend.
    assert_eq!(layout["serverFilter"], json!(["gunicorn-evt-03-py27"]));
    assert_eq!(layout["testFilter"], json!(["SlowStream01"]));
    assert_eq!(
        layout["okHidden"], true,
        "unchecking a kind hides its cells"
    );
    // Sorts: most failed cells first, and by name.
    let counts: Vec<u64> = layout["failedCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(counts.len(), servers);
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(counts[0] > counts[servers - 1], "{counts:?}");
    let names: Vec<&str> = layout["byName"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    // A click on a test's heading: the servers worst under it first.
    let kinds: Vec<&str> = layout["underFirstTest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kind| kind.as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), servers);
    assert_eq!(kinds[0], "server_down", "{kinds:?}");
    let first_ok = kinds
        .iter()
        .position(|kind| *kind == "ok")
        .expect("some ok");
    assert!(
        kinds[first_ok..].iter().all(|kind| *kind == "ok"),
        "{kinds:?}"
    );
    // A click opens its cell's section, built, at the top of the window.
    assert_eq!(layout["opened"], true, "the clicked cell's section opened");
    let top = layout["openedTop"].as_f64().unwrap();
    assert!((0.0..50.0).contains(&top), "its section is {top} px down");
}

#[test]
fn html_report_groups_servers_by_interface_with_a_filter() {
    let Some(binary) = chromium("html_report_groups_servers_by_interface_with_a_filter") else {
        return;
    };
    let mut results = fixture();
    for server in &mut results.scenario.servers {
        if server.name == "waitress" {
            server.interface = labour::behaviour::Interface::Asgi;
        }
    }
    let (_temp, dir) = workdir();
    let page = write_page(&dir, "asgi.html", &render(&results));
    let opened = open_dom(&binary, &page, "");
    assert_drew_cleanly(&opened, "the grouped page");
    let dom = between(&opened.dom, r#"<table class="heatmap"#, "</table>");
    // WSGI servers first, under their heading, then the ASGI one under its.
    let wsgi = dom.find(">WSGI servers<").expect("a WSGI group");
    let gunicorn = dom.find(">gunicorn-sync<").expect("gunicorn-sync's row");
    let asgi = dom.find(">ASGI servers<").expect("an ASGI group");
    let waitress = dom.find(">waitress<").expect("waitress's row");
    assert!(wsgi < gunicorn && gunicorn < asgi && asgi < waitress);
    assert!(
        dom.contains(r#"data-server="waitress" data-interface="asgi""#),
        "{dom}"
    );
    for choice in ["all", "wsgi", "asgi"] {
        assert!(
            opened
                .dom
                .contains(&format!(r#"name="hm-interface" value="{choice}""#)),
            "a filter choice {choice}"
        );
    }
    // A run of WSGI servers only has neither groups nor a filter.
    let page = write_page(&dir, "wsgi.html", &render(&fixture()));
    let opened = open_dom(&binary, &page, "");
    assert!(!opened.dom.contains(">WSGI servers<"));
    assert!(!opened.dom.contains(r#"name="hm-interface""#));
}
