//! A user's own deployment under labour: the example in
//! examples/wsgi-gunicorn (its image built from its Dockerfile on the
//! local base, its gunicorn.conf.py, its own innocent requests, labour's
//! middleware around its app) against the real engine, with host
//! networking; and the refusals of bad target settings, each one line
//! naming the setting, with nothing left behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::util::{base_image, bench, cell, containers_of_run, docker_available, labour, run_id};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/wsgi-gunicorn")
}

/// The example's scenario run with `args` on the local base image.
fn bench_example(scenario: &Path, args: &[&str]) -> (Value, i32) {
    let base = base_image();
    let scenario = scenario.to_string_lossy().into_owned();
    let mut all = vec![
        "--base-image",
        base.as_str(),
        "--scenario",
        scenario.as_str(),
    ];
    all.extend_from_slice(args);
    bench(&all, Duration::from_secs(900))
}

/// The innocent behaviours of `cell`: the example's own requests.
fn innocent(cell: &Value) -> Vec<String> {
    cell["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["innocent"] == true)
        .map(|b| b["behaviour"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_example_holds_through_kills_segfaults_and_a_stopped_worker_and_one_worker_fails() {
    let name =
        "the_example_holds_through_kills_segfaults_and_a_stopped_worker_and_one_worker_fails";
    if !docker_available(name) {
        return;
    }
    let threshold = [
        "--tests",
        "KillWorker,SIGSEGV,StopWorker",
        "--max-innocent-failure",
        "1%",
    ];
    // The example as it ships: four sync workers.
    let (results, code) = bench_example(&example().join("labour.yaml"), &threshold);
    assert_eq!(code, 0, "{:#}", results["threshold_failures"]);
    let own = ["GET /health", "GET /orders", "POST /orders"];
    for test in ["KillWorker", "SIGSEGV", "StopWorker"] {
        let cell = cell(&results, "shop", test);
        assert_eq!(cell["status"], "completed", "{test}: {cell:#}");
        assert_eq!(innocent(cell), own, "{test}");
        assert!(cell["innocent_requests"].as_u64().unwrap() > 0, "{test}");
    }
    // The segfaults happened in the shop's own workers, through the
    // middleware: each ended its connection, and gunicorn saw its workers
    // die of SIGSEGV.
    let sigsegv = cell(&results, "shop", "SIGSEGV");
    let segfaults = sigsegv["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["behaviour"] == "SIGSEGV")
        .unwrap();
    assert!(segfaults["requests"].as_u64().unwrap() > 0);
    assert_eq!(
        segfaults["requests"], segfaults["expected"],
        "{segfaults:#}"
    );
    assert!(
        sigsegv["log_tail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line.as_str().unwrap().contains("was sent SIGSEGV")),
        "{:#}",
        sigsegv["log_tail"]
    );
    // The POST's body came from the example's order.json: the shop
    // answered 201 with the item in it (body_contains).
    let kill = cell(&results, "shop", "KillWorker");
    let post = kill["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["behaviour"] == "POST /orders")
        .unwrap();
    assert!(
        post["outcomes"]["status_201"].as_u64().unwrap() > 0,
        "{post:#}"
    );
    assert!(containers_of_run(run_id(&results)).is_empty());

    // The same shop with one worker: the stopped worker was the only one.
    let dir = tempfile::tempdir().unwrap();
    for file in std::fs::read_dir(example()).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, dir.path().join(file.file_name().unwrap())).unwrap();
    }
    let config = dir.path().join("gunicorn.conf.py");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\nworkers = 4\n"));
    std::fs::write(&config, text.replace("\nworkers = 4\n", "\nworkers = 1\n")).unwrap();
    let (results, code) = bench_example(
        &dir.path().join("labour.yaml"),
        &["--tests", "StopWorker", "--max-innocent-failure", "1%"],
    );
    assert_eq!(code, 1, "one worker fails the thresholds: {results:#}");
    let failures = results["threshold_failures"].as_array().unwrap();
    assert!(
        failures[0]
            .as_str()
            .unwrap()
            .starts_with("shop / StopWorker: the server stopped answering"),
        "{failures:#?}"
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
}

#[test]
fn the_examples_slow_clients_and_graceful_stop_run_with_its_own_requests() {
    let name = "the_examples_slow_clients_and_graceful_stop_run_with_its_own_requests";
    if !docker_available(name) {
        return;
    }
    let (results, code) = bench_example(
        &example().join("labour.yaml"),
        &["--tests", "SlowClients,GracefulStop"],
    );
    assert_eq!(code, 0, "{results:#}");
    let slow = cell(&results, "shop", "SlowClients");
    assert_eq!(
        innocent(slow),
        ["GET /health", "GET /orders", "POST /orders"]
    );
    assert_eq!(slow["faults"][0]["action"], "slow-clients");
    let graceful = cell(&results, "shop", "GracefulStop");
    assert_eq!(graceful["faults"][0]["action"], "graceful-stop");
    // Its sleeping requests went through the middleware to the shop's
    // workers; gunicorn stopped on the SIGTERM.
    assert!(
        graceful["behaviours"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["behaviour"] == "Sleeping?sleep_duration=1"
                && b["requests"].as_u64().unwrap() > 0)
    );
    assert!(
        graceful["faults"][0]["graceful"].is_object(),
        "{graceful:#}"
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
}

#[test]
fn a_target_without_the_middleware_skips_the_tests_that_need_a_behaviour() {
    let name = "a_target_without_the_middleware_skips_the_tests_that_need_a_behaviour";
    if !docker_available(name) {
        return;
    }
    // labour's own base image serving files with Python's http.server:
    // an image labour did not make, run as it is.
    let base = base_image();
    let (results, code) = bench(
        &[
            "--target-image",
            &base,
            "--target-name",
            "files",
            "--target-port",
            "8000",
            "--target-cmd",
            "python3 -m http.server {port} --bind {host} --directory /etc",
            "--target-ready",
            "/hostname",
            "--target-request",
            "GET /hostname 200",
            "--tests",
            "SIGSEGV,Restart",
        ],
        Duration::from_secs(300),
    );
    assert_eq!(code, 0, "{results:#}");
    let sigsegv = cell(&results, "files", "SIGSEGV");
    assert_eq!(sigsegv["status"], "skipped");
    assert!(
        sigsegv["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only labour's middleware in your application answers"),
        "{sigsegv:#}"
    );
    let restart = cell(&results, "files", "Restart");
    assert_eq!(restart["status"], "completed", "{restart:#}");
    assert_eq!(innocent(restart), ["GET /hostname"]);
    assert!(containers_of_run(run_id(&results)).is_empty());
}

/// `labour bench` with `args` and host networking: exit code and stderr.
fn refused(args: &[&str]) -> (i32, String) {
    let output = labour()
        .args(["bench", "--network", "host", "--quiet"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

#[test]
fn bad_target_settings_are_one_line_errors_naming_the_setting() {
    let (code, stderr) = refused(&["--target-image", "shop:1", "--dry-run"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: target: no port: give --target-port (or port: in the scenario's target), the \
         port your server listens on"
    );
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("labour.yaml");
    std::fs::write(
        &scenario,
        "target:\n  image: shop:1\n  port: 8000\n  requests:\n    - {path: /orders, body_file: missing.json}\n",
    )
    .unwrap();
    let (code, stderr) = refused(&["--scenario", scenario.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("target requests[0]: body_file ") && stderr.contains("missing.json"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let (code, stderr) = refused(&[
        "--target-image",
        "shop:1",
        "--target-port",
        "8000",
        "--target-wrap",
        "app",
        "--dry-run",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: target wrap:"), "{stderr}");
}

#[test]
fn a_missing_image_or_a_server_never_ready_is_refused_and_nothing_is_left() {
    let name = "a_missing_image_or_a_server_never_ready_is_refused_and_nothing_is_left";
    if !docker_available(name) {
        return;
    }
    let (code, stderr) = refused(&[
        "--target-image",
        "labour-test/no-such-image:never",
        "--target-port",
        "8000",
        "--tests",
        "KillWorker",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(
            "error: target image labour-test/no-such-image:never: the engine has no such image"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A readiness URL that never answers 2xx: the cell fails with why,
    // and its container is gone.
    let base = base_image();
    let (results, code) = bench(
        &[
            "--target-image",
            &base,
            "--target-name",
            "never-ready",
            "--target-port",
            "8000",
            "--target-cmd",
            "python3 -m http.server {port} --bind {host}",
            "--target-ready",
            "/no-such-page",
            "--ready-timeout",
            "3s",
            "--tests",
            "KillWorker",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 2);
    let cell = cell(&results, "never-ready", "KillWorker");
    let message = cell["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("did not answer within 3 s") && message.contains("GET /no-such-page"),
        "{message}"
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
}
