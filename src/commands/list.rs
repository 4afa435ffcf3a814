//! `labour list servers|tests`.

use std::io::Write;

use serde_json::json;

use super::Finish;
use crate::behaviour::SPECS;
use crate::catalogue::{Catalogue, Server};
use crate::cli::{ListArgs, ListWhat};
use crate::images::Images;
use crate::scenario::named_tests;

/// Print the servers or the tests, as text or JSON.
pub fn list(args: &ListArgs) -> anyhow::Result<Finish> {
    let out = match args.what {
        ListWhat::Servers => {
            let catalogue = Catalogue::load(&Images::new(args.images.clone()))?;
            if args.json {
                servers_json(&catalogue, args.all)?
            } else {
                servers_text(&catalogue, args.all)
            }
        }
        ListWhat::Tests if args.json => {
            let mut text = serde_json::to_string_pretty(&named_tests())?;
            text.push('\n');
            text
        }
        ListWhat::Tests => tests_text(),
        ListWhat::Behaviours if args.json => behaviours_json()?,
        ListWhat::Behaviours => behaviours_text(),
    };
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(Finish::Success)
}

fn servers_json(catalogue: &Catalogue, all: bool) -> anyhow::Result<String> {
    let mut value = json!({ "servers": catalogue.servers() });
    if all {
        value["unavailable"] = json!(catalogue.unavailable());
    }
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

fn servers_text(catalogue: &Catalogue, all: bool) -> String {
    let rows: Vec<[String; 6]> = catalogue
        .servers()
        .iter()
        .map(|server| {
            [
                server.name.clone(),
                server.version.clone(),
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
    let line = |cells: [&str; 6]| {
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
    out.push_str(
        "\nKnobs: --workers, --threads, --worker-timeout, --max-requests; a server \
         without one says why in `labour list servers --json`.\n",
    );
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

fn behaviours_json() -> anyhow::Result<String> {
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
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&behaviours)?;
    text.push('\n');
    Ok(text)
}

fn behaviours_text() -> String {
    let mut out = String::new();
    for spec in SPECS {
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
    }
    out.push_str(
        "\nA request is GET /<Name>?<param>=<value>&... (EchoUpload POSTs its bytes); \
         in a scenario's mix, write behaviour: \"Sleeping?sleep_duration=0.5\".\n",
    );
    out
}

fn tests_text() -> String {
    let mut out = String::new();
    for test in named_tests() {
        let mix: Vec<String> = test
            .mix
            .iter()
            .map(|entry| format!("{} x{}", entry.behaviour, entry.weight))
            .collect();
        out.push_str(&format!(
            "{:<11} {:<7} {}\n{:<19} mix: {}\n",
            test.name,
            format!("{:?}", test.policy),
            test.description,
            "",
            mix.join(", ")
        ));
    }
    out
}
