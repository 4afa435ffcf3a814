//! The listings of `labour list`: the servers of the catalogue, the named
//! tests, the behaviours, as text (and as documents for JSON).

use serde_json::{Value, json};

use super::Report;
use crate::behaviour::{BehaviourSpec, SPECS};
use crate::catalogue::{Catalogue, Server};
use crate::plan::TestSpec;
use crate::plan::options::DEFAULT_BACKLOG;

/// The servers as a table; with `all`, the unavailable ones too.
pub(crate) struct ServersText {
    /// Also the seed's servers that cannot be installed, and why.
    pub all: bool,
}

impl Report<Catalogue> for ServersText {
    fn render(&self, catalogue: &Catalogue) -> anyhow::Result<Vec<u8>> {
        Ok(servers_text(catalogue, self.all).into_bytes())
    }
}

/// The named tests and their mixes.
pub(crate) struct TestsText;

impl Report<[TestSpec]> for TestsText {
    fn render(&self, tests: &[TestSpec]) -> anyhow::Result<Vec<u8>> {
        Ok(tests_text(tests).into_bytes())
    }
}

/// The behaviours, their parameters and what counts as expected.
pub(crate) struct BehavioursText;

impl Report<[BehaviourSpec]> for BehavioursText {
    fn render(&self, specs: &[BehaviourSpec]) -> anyhow::Result<Vec<u8>> {
        Ok(behaviours_text(specs).into_bytes())
    }
}

/// The servers as a document (`list servers --json`); with `all`, the
/// seed's servers that cannot be installed too.
pub(crate) fn servers_document(catalogue: &Catalogue, all: bool) -> Value {
    let mut value = json!({ "servers": catalogue.servers() });
    if all {
        value["unavailable"] = json!(catalogue.unavailable());
    }
    value
}

fn servers_text(catalogue: &Catalogue, all: bool) -> String {
    let rows: Vec<[String; 7]> = catalogue
        .servers()
        .iter()
        .map(|server| {
            [
                server.name.clone(),
                server.version.clone(),
                server.interface.to_string(),
                server.python_label().to_string(),
                server.model(),
                server.knobs_summary(),
                server.description.clone(),
            ]
        })
        .collect();
    let header = [
        "NAME",
        "VERSION",
        "INTERFACE",
        "PYTHON",
        "CONCURRENCY",
        "KNOBS (default)",
        "DESCRIPTION",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: [&str; 7]| {
        let mut text = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index == cells.len() - 1 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for row in &rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out.push_str(&format!(
        "\nKnobs: --workers, --threads, --worker-timeout, --max-requests, --backlog; a \
         server without one says why in `labour list servers --json`. The listen queue \
         (backlog) is {DEFAULT_BACKLOG} for every server that has one unless told, capped \
         at the host's net.core.somaxconn.\n",
    ));
    for group in catalogue.groups() {
        let members: Vec<&str> = catalogue
            .resolve(&group)
            .unwrap_or_default()
            .iter()
            .map(|server| server.name.as_str())
            .collect();
        out.push_str(&format!(
            "Group {group} (--servers {group}): {}\n",
            members.join(", ")
        ));
    }
    if catalogue.servers().iter().any(|s| !s.interface.is_wsgi()) {
        out.push_str(
            "ASGI servers run labour_asgi:application, the stress app's native async twin;              a test asking for a behaviour only it has is skipped on a WSGI server.\n",
        );
    }
    if catalogue.servers().iter().any(Server::is_python27) {
        out.push_str(
            "Python 2.7 servers build on --base-image-py27; the local runtime runs them \
             only with a python2.7 that has virtualenv (LABOUR_PYTHON27 names one).\n",
        );
    }
    let local_skips: Vec<&Server> = catalogue
        .servers()
        .iter()
        .filter(|server| server.local_skip.is_some())
        .collect();
    if !local_skips.is_empty() {
        out.push_str("\nWithout Docker (--runtime local) these are skipped:\n");
        for server in local_skips {
            let reason = server.local_skip.as_deref().unwrap_or_default();
            out.push_str(&format!("  {:<12} {reason}\n", server.name));
        }
    }
    if all && !catalogue.unavailable().is_empty() {
        out.push_str("\nUnavailable (the seed's servers that cannot be installed today):\n");
        for server in catalogue.unavailable() {
            out.push_str(&format!("  {:<12} {}\n", server.name, server.reason));
        }
    }
    out
}

/// The behaviours as a document (`list behaviours --json`).
pub(crate) fn behaviours_document() -> Value {
    let behaviours: Vec<serde_json::Value> = SPECS
        .iter()
        .map(|spec| {
            let params: serde_json::Map<String, serde_json::Value> = spec
                .params
                .iter()
                .map(|p| {
                    let default: serde_json::Value = serde_json::from_str(&p.default.to_string())
                        .unwrap_or(serde_json::Value::Null);
                    (
                        p.name.to_string(),
                        json!({ "type": p.kind, "default": default }),
                    )
                })
                .collect();
            json!({
                "name": spec.name,
                "summary": spec.summary,
                "params": params,
                "expectation": spec.expectation,
                "destructive": spec.destructive,
                "asgi_only": spec.asgi_only,
            })
        })
        .collect();
    Value::Array(behaviours)
}

fn behaviours_text(specs: &[BehaviourSpec]) -> String {
    let mut out = String::new();
    for spec in specs {
        let params: Vec<String> = spec
            .params
            .iter()
            .map(|p| {
                format!(
                    "{}={} ({})",
                    p.name,
                    p.default.to_string().trim_matches('"'),
                    p.kind
                )
            })
            .collect();
        out.push_str(&format!("{}  {}\n", spec.name, spec.summary));
        if !params.is_empty() {
            out.push_str(&format!("    parameters: {}\n", params.join(", ")));
        }
        out.push_str(&format!("    as expected: {}\n", spec.expectation));
        if let Some(why) = spec.asgi_only {
            out.push_str(&format!("    ASGI only: {why}\n"));
        }
    }
    out.push_str(
        "\nA request is GET /<Name>?<param>=<value>&... (EchoUpload POSTs its bytes); \
         in a scenario's mix, write behaviour: \"Sleeping?sleep_duration=0.5\".\n",
    );
    out
}

/// What decides every cell's verdict, said once under the tests.
const VERDICT_RULE: &str = "Every cell's verdict, worst first: error, preflight_failed, down, \
                            unresponsive, failed (more than 10% not as expected), stalled \
                            (within 10%, but innocent requests waited with none back for \
                            --stall or longer), held; a graceful stop's cell is graceful or \
                            abrupt instead, when the application had requests in hand.\n";

fn tests_text(tests: &[TestSpec]) -> String {
    let width = tests.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let indent = width + 9;
    let mut out = String::new();
    for test in tests {
        let mix: Vec<String> = test
            .mix
            .iter()
            .map(|entry| format!("{} x{}", entry.label(), entry.weight))
            .collect();
        out.push_str(&format!(
            "{:<width$} {:<7} {}\n{:<indent$} mix: {}\n",
            test.name,
            format!("{:?}", test.policy),
            test.description,
            "",
            mix.join(", ")
        ));
        let settles = if test.may_settle() {
            "at its count or budget, or once its answer is known (--settle)"
        } else if test.faults.is_empty() {
            "at its count or budget (a behaviour that adds up never settles)"
        } else {
            "when its time is over (faults)"
        };
        out.push_str(&format!("{:<indent$} ends: {settles}\n", ""));
        if !test.faults.is_empty() {
            let faults: Vec<String> = test.faults.iter().map(ToString::to_string).collect();
            out.push_str(&format!(
                "{:<indent$} faults: {}; the load runs {:.0} s\n",
                "",
                faults.join("; "),
                test.fault_duration().as_secs_f64(),
            ));
            // The last fault's question: the one a named test is about.
            let (question, decides) = test.faults[test.faults.len() - 1].action.question();
            out.push_str(&format!(
                "{:<indent$} asks: {question}\n{:<indent$} verdict: {decides}\n",
                "", ""
            ));
        }
    }
    out.push_str(VERDICT_RULE);
    out
}
