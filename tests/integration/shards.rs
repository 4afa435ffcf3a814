//! Beyond one host: a plan split into shards (as CI matrix jobs or several
//! Docker hosts would run it) and merged gives the cells of one run;
//! merge refuses documents that were not measured alike, and a cell twice.

use std::process::Command;
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

use crate::util::{assert_valid, bench, containers_of_run, docker_available, labour, run_id};

const ARGS: [&str; 10] = [
    "--servers",
    "wsgiref,gunicorn-sync,waitress",
    "--tests",
    "Plain,SIGSEGV",
    "-n",
    "60",
    "--seed",
    "2010",
    "--timeout",
    "5s",
];

/// (server, test, seed, requests) of every cell, sorted.
fn cells(results: &Value) -> Vec<(String, String, u64, u64)> {
    let mut cells: Vec<(String, String, u64, u64)> = results["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["server"].as_str().unwrap().to_string(),
                c["test"].as_str().unwrap().to_string(),
                c["seed"].as_u64().unwrap(),
                c["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    cells.sort();
    cells
}

#[test]
fn three_shards_merged_are_one_run() {
    if !docker_available("three_shards_merged_are_one_run") {
        return;
    }
    let (whole, code) = bench(&ARGS, Duration::from_secs(600));
    assert_eq!(code, 0, "{whole:#}");
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<_> = (1..=3)
        .map(|k| {
            let output = dir.path().join(format!("shard-{k}.json"));
            let child = Command::new(assert_cmd::cargo::cargo_bin("labour"))
                .args(["bench", "--network", "host", "--quiet", "--output"])
                .arg(&output)
                .args(ARGS)
                .args(["--shard", &format!("{k}/3")])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            (output, child)
        })
        .collect();
    let mut files = Vec::new();
    for (output, mut child) in shards {
        assert!(child.wait().unwrap().success(), "{}", output.display());
        let shard: Value =
            serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
        assert_eq!(
            shard["cells"].as_array().unwrap().len(),
            2,
            "six cells in three shards"
        );
        assert_eq!(
            shard["complete"], true,
            "a shard is complete when its slice ran"
        );
        assert_eq!(containers_of_run(run_id(&shard)), Vec::<String>::new());
        files.push(output);
    }
    let merged_path = dir.path().join("all.json");
    labour()
        .arg("merge")
        .args(&files)
        .arg("--output")
        .arg(&merged_path)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("6 cell(s) from 3 run(s)"));
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(&merged_path).unwrap()).unwrap();
    assert_valid(&merged);
    assert_eq!(
        cells(&merged),
        cells(&whole),
        "the same cells, seeds and requests"
    );
    assert_eq!(merged["complete"], true);
    assert_eq!(merged["runs"].as_array().unwrap().len(), 3);
    // A report and a comparison take the merged document like any other.
    labour()
        .args(["report", "--format", "markdown"])
        .arg(&merged_path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("| gunicorn-sync |"));
}

#[test]
fn merge_refuses_documents_not_measured_alike_and_a_cell_twice() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results-small.json");
    let dir = tempfile::tempdir().unwrap();
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let write = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut document = original.clone();
        edit(&mut document);
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string(&document).unwrap()).unwrap();
        path
    };
    let keep = |servers: &'static [&'static str]| {
        move |document: &mut Value| {
            let cells = document["cells"].as_array_mut().unwrap();
            cells.retain(|c| servers.contains(&c["server"].as_str().unwrap()));
            document["run_id"] = Value::String(format!("run-{}", servers[0]));
        }
    };
    let wsgiref = write("wsgiref.json", &keep(&["wsgiref"]));
    let others = write("others.json", &keep(&["gunicorn-sync", "waitress"]));
    let other_seed = write("other-seed.json", &|document| {
        keep(&["gunicorn-sync", "waitress"])(document);
        document["seed"] = Value::from(8);
    });
    let out = dir.path().join("merged.json");
    labour()
        .arg("merge")
        .args([&wsgiref, &others])
        .arg("-o")
        .arg(&out)
        .assert()
        .code(0);
    labour()
        .arg("merge")
        .args([&wsgiref, &other_seed])
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot be merged: seed 7 against 8",
        ));
    labour()
        .arg("merge")
        .args([&wsgiref, &other_seed, &wsgiref])
        .args(["--force", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("wsgiref / SIGSEGV is in both"));
    labour()
        .arg("merge")
        .args([&wsgiref, &other_seed])
        .args(["--force", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    let forced: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let differences = forced["merge_differences"].as_array().unwrap();
    assert!(
        differences
            .iter()
            .any(|d| d.as_str().unwrap().contains("seed 7 against 8")),
        "{differences:?}"
    );
}

#[test]
fn list_servers_makes_a_ci_matrix() {
    labour()
        .args(["list", "servers", "--matrix", "-s", "wsgiref,uwsgi"])
        .assert()
        .code(0)
        .stdout("[\"wsgiref\",\"uwsgi\"]\n");
    labour()
        .args(["list", "servers", "--matrix", "-s", "wsgiref", "-t", "Plain,SIGSEGV"])
        .assert()
        .code(0)
        .stdout("[{\"server\":\"wsgiref\",\"test\":\"Plain\"},{\"server\":\"wsgiref\",\"test\":\"SIGSEGV\"}]\n");
}

#[test]
fn a_shard_needs_a_seed() {
    labour()
        .args(["bench", "--dry-run", "--shard", "1/3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--shard needs --seed"));
    labour()
        .args(["bench", "--dry-run", "--shard", "4/3", "--seed", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a shard like 2/5"));
}
