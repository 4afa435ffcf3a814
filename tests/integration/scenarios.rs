//! Scenario files: broken ones get their error word for word, before any
//! Docker call; the shipped ones parse, and run a few requests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::prelude::*;
use serde_json::{Value, json};

use labour::Plan;
use labour::catalogue::Catalogue;

use crate::util::{bench, cell, docker_available, labour};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn broken_scenarios_get_their_message_word_for_word() {
    let catalogue = Catalogue::embedded();
    let mut known = catalogue.names();
    known.extend(catalogue.groups());
    let unknown_server = format!(
        "unknown-server.yaml:3:5: unknown server \"nginx-unit\" (known servers and groups: {})",
        known.join(", ")
    );
    let cases: Vec<(&str, &str)> = vec![
        (
            "bad-duration.yaml",
            "bad-duration.yaml:3:12: load.timeout: \"soon\" is not a duration like 30s, 500ms or 2m",
        ),
        (
            "bad-parameter-value.yaml",
            "bad-parameter-value.yaml:4:21: test \"Mine\": Sleeping: sleep_duration=\"soon\" is not valid: expected seconds",
        ),
        (
            "bad-parameter.yaml",
            "bad-parameter.yaml:4:21: test \"Mine\": Sleeping has no parameter \"colour\" (it has: sleep_duration)",
        ),
        (
            "bad-ratio.yaml",
            "bad-ratio.yaml:2:22: thresholds.max_failure_ratio: \"120%\" is not a share like 0.1 or \"10%\"",
        ),
        (
            "bad-restart.yaml",
            "bad-restart.yaml:2:12: container.restart: \"sometimes\" is not a restart policy: no, on-failure, on-failure:N or always",
        ),
        (
            "bad-type.yaml",
            "bad-type.yaml:2:13: load.requests: invalid type: string \"many\", expected u64",
        ),
        (
            "duplicate-server.yaml",
            "duplicate-server.yaml:2:5: server \"waitress\" is selected twice",
        ),
        (
            "empty-mix.yaml",
            "empty-mix.yaml:2:11: test \"Mine\": its mix is empty",
        ),
        (
            "missing-weight.yaml",
            "missing-weight.yaml:4:9: tests[0].mix[0]: missing field `weight`",
        ),
        (
            "named-with-mix.yaml",
            "named-with-mix.yaml:2:11: test \"Plain\" is a named test; give your mix another name",
        ),
        (
            "not-a-map.yaml",
            "not-a-map.yaml:1:1: a scenario is a map with the keys seed, jobs, servers, tests, load, container, thresholds and target",
        ),
        (
            "swap-below-memory.yaml",
            "swap-below-memory.yaml:2:11: server \"waitress\": memory_swap must be at least memory (it counts memory plus swap)",
        ),
        (
            "unknown-behaviour.yaml",
            "unknown-behaviour.yaml:5:21: test \"Mine\": unknown behaviour \"Sleepy\" (known: PlainResponse, Sleeping, IOBound, LeakMemory, PythonWedge, SIGSEGV, RealSegfault, Abort, WorkerExit, SelfKill, RaiseException, BadStatus, CpuBurn, GilWedge, HeadersThenWedge, TrickleResponse, BigResponse, EchoUpload, TruncatedResponse, FdLeak, MemoryBalloon, LoopBlock, AsyncSleep, NeverFinish, RaiseAfterStart)",
        ),
        (
            "unknown-key.yaml",
            "unknown-key.yaml:2:1: unknown field `colour`, expected one of `seed`, `jobs`, `servers`, `tests`, `load`, `container`, `thresholds`, `target`",
        ),
        (
            "unknown-option.yaml",
            "unknown-option.yaml:3:15: servers[0].options: unknown field `processes`, expected one of `workers`, `threads`, `worker_timeout`, `max_requests`, `backlog`",
        ),
        ("unknown-server.yaml", &unknown_server),
        (
            "unknown-test.yaml",
            "unknown-test.yaml:3:5: test \"Nope\" has no mix and is not a named test (known tests: Plain, LightSleep, HeavySleep, SIGSEGV, Wedge, GilWedge, LoopBlock, Leak, Exceptions, Crash, SlowStream, BigBodies, Chaos, KillWorker, StopWorker, PauseServer, Restart, SlowClients, SlowReaders, GracefulStop)",
        ),
        (
            "zero-weights.yaml",
            "zero-weights.yaml:2:11: test \"Mine\": every weight is 0; at least one must be above 0",
        ),
    ];
    let listed: Vec<String> = std::fs::read_dir(root().join("tests/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("every-behaviour"))
        .collect();
    assert_eq!(
        listed.len(),
        cases.len(),
        "every broken file has its expected message"
    );
    for (file, message) in cases {
        labour()
            .current_dir(root())
            .args(["bench", "--scenario"])
            .arg(format!("tests/scenarios/{file}"))
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::eq(format!("error: tests/scenarios/{message}\n")));
    }
}

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_makes_a_plan() {
    let files = shipped();
    assert!(files.len() >= 13, "one per named test and a realistic one");
    for path in files {
        let plan = Plan::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!plan.tests.is_empty() && !plan.servers.is_empty());
    }
}

/// The plan `labour bench ARGS --dry-run --format json` prints.
fn dry_run(args: &[&str]) -> Value {
    let output = labour()
        .arg("bench")
        .args(args)
        .args(["--dry-run", "--format", "json"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn flags_override_the_file() {
    let plan = dry_run(&[
        "--scenario",
        "scenarios/realistic.yaml",
        "--servers",
        "waitress",
        "--requests",
        "7",
        "--seed",
        "1",
    ]);
    assert_eq!(plan["seed"], 1);
    assert_eq!(plan["servers"].as_array().unwrap().len(), 1);
    // The file's options and limits for that server still hold.
    let waitress = &plan["servers"][0];
    assert!(
        waitress["command"]
            .as_array()
            .unwrap()
            .contains(&json!("--threads=8")),
        "{:?}",
        waitress["command"]
    );
    assert_eq!(waitress["limits"]["memory_bytes"], 512 << 20);
    let load = &plan["tests"][0]["load"];
    assert_eq!(
        load["requests"], 7,
        "the flag beats the test's own requests"
    );
    assert_eq!(load["concurrency"], 16, "the test's own concurrency holds");
    assert_eq!(load["timeout"], 10.0, "the file's load holds");
    assert_eq!(plan["thresholds"]["max_innocent_failure_ratio"], 0.01);
}

#[test]
fn a_group_selects_its_servers_from_flags_and_from_files() {
    let catalogue = Catalogue::embedded();
    let seed: Vec<String> = catalogue
        .resolve("seed")
        .unwrap()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert!(seed.contains(&"cogen".to_string()) && seed.contains(&"wsgiref".to_string()));
    let plan = dry_run(&["--servers", "seed"]);
    let names: Vec<&str> = plan["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, seed);
    assert_eq!(
        plan["container"]["base_image_py27"],
        Value::Null,
        "settled by the engine"
    );

    // In a file: the group's entry gives its options and limits to every
    // member; a member named on its own keeps its own entry and runs once.
    let text = "servers:\n  - name: seed\n    options: {threads: 3}\n    container: {memory: 128m}\n  \
                - name: paste\n    options: {threads: 5}\ntests: [Plain]\n\
                container: {base_image_py27: labour/base:bullseye-py27}\n";
    let plan = Plan::from_yaml(text).unwrap();
    let names: Vec<&str> = plan.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, seed);
    let server = |name: &str| plan.servers.iter().find(|s| s.name == name).unwrap();
    assert!(
        server("paste-py27")
            .command
            .contains(&"--threads=3".to_string())
    );
    assert_eq!(server("paste-py27").limits.memory_bytes, Some(128 << 20));
    assert!(server("paste").command.contains(&"--threads=5".to_string()));
    // paste's own entry sets no memory: the default limit.
    assert_eq!(server("paste").limits.memory_bytes, Some(256 << 20));
    assert_eq!(
        plan.container.base_image_py27.as_deref(),
        Some("labour/base:bullseye-py27")
    );
}

#[test]
fn every_shipped_scenario_runs_a_few_requests() {
    if !docker_available("every_shipped_scenario_runs_a_few_requests") {
        return;
    }
    for path in shipped() {
        let scenario = path.to_string_lossy().into_owned();
        let (results, code) = bench(
            &[
                "--scenario",
                &scenario,
                "--servers",
                "gunicorn-sync",
                "-n",
                "10",
                "-c",
                "2",
                "--timeout",
                "10s",
                "--give-up-after",
                "20s",
                "--workers",
                "2",
                "--worker-timeout",
                "3",
            ],
            Duration::from_secs(600),
        );
        assert!(code == 0 || code == 1, "{scenario}: exit {code}");
        for cell in results["cells"].as_array().unwrap() {
            assert_eq!(cell["requests"], 10, "{scenario}: {cell:#}");
        }
    }
}

#[test]
fn every_behaviour_against_gunicorn_sync_gives_its_expected_outcome() {
    if !docker_available("every_behaviour_against_gunicorn_sync_gives_its_expected_outcome") {
        return;
    }
    let (results, code) = bench(
        &["--scenario", "tests/scenarios/every-behaviour.yaml"],
        Duration::from_secs(600),
    );
    assert_eq!(code, 0);
    let cell = cell(&results, "gunicorn-sync", "EveryBehaviour");
    assert_eq!(cell["status"], "completed", "{cell:#}");
    let behaviours = cell["behaviours"].as_array().unwrap();
    assert_eq!(behaviours.len(), 26);
    let wrong: Vec<(&Value, &Value)> = behaviours
        .iter()
        .filter(|b| b["requests"] != 1 || b["expected"] != 1)
        .map(|b| (&b["behaviour"], &b["outcomes"]))
        .collect();
    assert!(wrong.is_empty(), "not as expected: {wrong:#?}");
    let preflight = cell["preflight"].as_array().unwrap();
    assert!(preflight.len() >= 10 && preflight.iter().all(|c| c["expected"] == true));
}

#[test]
fn every_behaviour_against_gunicorn_uvicorn_and_what_asgi_cannot_take_back() {
    if !docker_available("every_behaviour_against_gunicorn_uvicorn") {
        return;
    }
    let (results, code) = bench(
        &["--scenario", "tests/scenarios/every-behaviour-asgi.yaml"],
        Duration::from_secs(600),
    );
    assert!(code == 0 || code == 1, "exit {code}");
    let cell = cell(&results, "gunicorn-uvicorn", "EveryAsgiBehaviour");
    assert_eq!(cell["status"], "completed", "{cell:#}");
    let behaviours = cell["behaviours"].as_array().unwrap();
    assert_eq!(behaviours.len(), 27, "every behaviour, AsyncSleep too");
    let outcome = |name: &str| {
        let b = behaviours
            .iter()
            .find(|b| b["behaviour"] == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(b["requests"], 1, "{name}");
        (b["expected"] == 1, b["outcomes"].clone())
    };
    // What ASGI leaves the server no way to mend: uvicorn writes the
    // status line as soon as the app starts its response, so a second
    // start comes too late for a 500; and nothing times out a request that
    // awaits forever (the loop stays free, the arbiter sees it notify).
    let findings = [
        "BadStatus?mode=invalid",
        "BadStatus?mode=twice",
        "NeverFinish",
    ];
    assert_eq!(
        outcome("BadStatus?mode=twice"),
        (false, json!({"truncated": 1}))
    );
    assert_eq!(outcome("NeverFinish"), (false, json!({"timeout": 1})));
    assert!(!outcome("BadStatus?mode=invalid").0);
    let wrong: Vec<(&Value, &Value)> = behaviours
        .iter()
        .filter(|b| !findings.iter().any(|f| b["behaviour"] == *f))
        .filter(|b| b["requests"] != 1 || b["expected"] != 1)
        .map(|b| (&b["behaviour"], &b["outcomes"]))
        .collect();
    assert!(wrong.is_empty(), "not as expected: {wrong:#?}");
}

#[test]
fn a_failed_threshold_exits_1_and_says_which() {
    if !docker_available("a_failed_threshold_exits_1_and_says_which") {
        return;
    }
    let (results, code) = bench(
        &[
            "--servers",
            "wsgiref",
            "--tests",
            "SIGSEGV",
            // More requests than the budget lets it send: the load cannot
            // end by its count before the engine says the server died.
            "-n",
            "1000000",
            "--cell-time",
            "60s",
            "--max-failure",
            "10%",
            "--restart",
            "no",
        ],
        Duration::from_secs(300),
    );
    assert_eq!(code, 1);
    let failures = results["threshold_failures"].as_array().unwrap();
    assert!(
        failures.iter().any(|f| f
            .as_str()
            .unwrap()
            .starts_with("wsgiref / SIGSEGV: the server went down at")),
        "{failures:#?}"
    );
}
