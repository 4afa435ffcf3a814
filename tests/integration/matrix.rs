//! The scheduler on real servers: cells in parallel give the same verdicts
//! and send the same requests as cells one at a time; throughput cells run
//! alone; a cell's time budget ends its load and says so; nothing is left.

use std::time::Duration;

use serde_json::Value;

use crate::util::{bench, cell, containers_of_run, docker_available, processes_of_run, run_id};

const SERVERS: [&str; 3] = ["wsgiref", "gunicorn-sync", "waitress"];
const TESTS: [&str; 3] = ["Plain", "SIGSEGV", "HeavySleep"];

fn matrix(jobs: &str, runtime: &str) -> Value {
    let (results, code) = bench(
        &[
            "--runtime",
            runtime,
            "--servers",
            &SERVERS.join(","),
            "--tests",
            &TESTS.join(","),
            "-n",
            "120",
            "--timeout",
            "5s",
            "--seed",
            "11",
            "--jobs",
            jobs,
        ],
        Duration::from_secs(600),
    );
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["complete"], true);
    assert_eq!(results["jobs"].as_u64().unwrap().to_string(), jobs);
    results
}

/// Whether a cell is reported as Failed (more than 10% not as expected).
fn failed(cell: &Value) -> bool {
    cell["failure_ratio"].as_f64().unwrap() > 0.10
}

fn same_cells(one: &Value, four: &Value) {
    for server in SERVERS {
        for test in TESTS {
            let (a, b) = (cell(one, server, test), cell(four, server, test));
            assert_eq!(a["status"], "completed", "{a:#}");
            assert_eq!(a["ended_by"], "requests", "{a:#}");
            assert_eq!(b["ended_by"], "requests", "{b:#}");
            assert_eq!(failed(a), failed(b), "{server} / {test}: the same verdict");
            assert_eq!(a["seed"], b["seed"], "{server} / {test}");
            let digest = &a["client"]["sequence_digest"];
            assert!(digest.is_string(), "{a:#}");
            assert_eq!(
                digest, &b["client"]["sequence_digest"],
                "{server} / {test}: the same request sequence"
            );
        }
    }
    // The same seed sends the same requests to every server of a test.
    for test in TESTS {
        let digests: Vec<&Value> = SERVERS
            .iter()
            .map(|server| &cell(one, server, test)["client"]["sequence_digest"])
            .collect();
        assert!(
            digests.windows(2).all(|w| w[0] == w[1]),
            "{test}: {digests:?}"
        );
    }
}

fn plain_ran_alone(results: &Value) {
    for server in SERVERS {
        let plain = cell(results, server, "Plain");
        assert_eq!(
            plain["overlap"]["cells"],
            serde_json::json!([]),
            "{plain:#}"
        );
        assert_eq!(
            plain["overlap"]["builds"],
            serde_json::json!([]),
            "{plain:#}"
        );
    }
}

#[test]
fn four_jobs_give_the_verdicts_and_requests_of_one() {
    if !docker_available("four_jobs_give_the_verdicts_and_requests_of_one") {
        return;
    }
    let one = matrix("1", "docker");
    let four = matrix("4", "docker");
    same_cells(&one, &four);
    plain_ran_alone(&four);
    // With four jobs the shared cells did overlap: the record says so.
    let overlapped = TESTS[1..].iter().any(|test| {
        SERVERS.iter().any(|server| {
            !cell(&four, server, test)["overlap"]["cells"]
                .as_array()
                .unwrap()
                .is_empty()
        })
    });
    assert!(overlapped, "{four:#}");
    for results in [&one, &four] {
        assert_eq!(containers_of_run(run_id(results)), Vec::<String>::new());
        let share = results["orchestration_share"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "{share}");
        assert!(results["wall_secs"].as_f64().unwrap() > 0.0);
        for cell in results["cells"].as_array().unwrap() {
            let phases = &cell["phases"];
            for phase in [
                "start_secs",
                "preflight_secs",
                "load_secs",
                "stop_secs",
                "remove_secs",
            ] {
                assert!(phases[phase].as_f64().is_some(), "{phase}: {phases:#}");
            }
        }
    }
}

#[test]
fn local_cells_in_parallel_leave_no_process() {
    let results = matrix("4", "local");
    plain_ran_alone(&results);
    assert_eq!(processes_of_run(run_id(&results)), Vec::<u32>::new());
}

#[test]
fn a_cell_out_of_time_says_it_ended_by_its_budget() {
    if !docker_available("a_cell_out_of_time_says_it_ended_by_its_budget") {
        return;
    }
    // One process serves one request at a time: 5% of 1000 requests sleep
    // 2 s each, far more than 3 s.
    let (results, code) = bench(
        &[
            "--servers",
            "wsgiref",
            "--tests",
            "HeavySleep",
            "--cell-time",
            "3s",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{results:#}");
    let cell = cell(&results, "wsgiref", "HeavySleep");
    assert_eq!(cell["status"], "completed", "{cell:#}");
    assert_eq!(cell["ended_by"], "budget", "{cell:#}");
    let requests = cell["requests"].as_u64().unwrap();
    assert!(requests > 0 && requests < 1000, "{requests}");
    let load = cell["phases"]["load_secs"].as_f64().unwrap();
    assert!(load >= 3.0, "the load ran its budget: {load}");
    // The give-up time follows the budget (80% of it).
    let tests = results["scenario"]["tests"].as_array().unwrap();
    assert_eq!(tests[0]["load"]["give_up_after"].as_f64(), Some(2.4));
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}
