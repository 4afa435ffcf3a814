//! The local runtime: servers as processes on this machine, no Docker
//! engine needed (virtualenvs are made from PyPI on first use). One test
//! compares it with the Docker runtime and needs both.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

use crate::util::{
    Spawned, assert_valid, bench, cell, docker_available, interrupt, labour, load_events,
    processes_of_run, run_id, wait_for_line, wait_with_limit,
};

/// A Docker endpoint where nothing answers.
const DEAD_ENGINE: &str = "unix:///nonexistent/docker.sock";

#[test]
fn plain_and_sigsegv_on_three_servers_run_locally() {
    let (results, code) = bench(
        &[
            "--runtime",
            "local",
            "--servers",
            "wsgiref,gunicorn-sync,waitress",
            "--tests",
            "Plain,SIGSEGV",
            "-n",
            "300",
            "--timeout",
            "5s",
            "--seed",
            "7",
        ],
        Duration::from_secs(600),
    );
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["complete"], true);
    let engine = &results["environment"]["engine"];
    assert_eq!(engine["runtime"], "local");
    assert_eq!(engine["selection"], "local processes (--runtime local)");
    assert!(engine["version"].as_str().unwrap().starts_with("Python 3."));
    for server in ["wsgiref", "gunicorn-sync", "waitress"] {
        let plain = cell(&results, server, "Plain");
        assert_eq!(plain["status"], "completed", "{plain:#}");
        assert_eq!(plain["requests"], 300);
        let expected = plain["expected"].as_u64().unwrap();
        assert!(expected * 100 >= 300 * 99, "{server}: {expected} of 300");
        assert_eq!(load_events(plain, "die").len(), 0, "{plain:#}");
    }

    // wsgiref runs the app in its only process: each segfault kills it,
    // exit 139 (128 + SIGSEGV); its restart is the next test's.
    let wsgiref = cell(&results, "wsgiref", "SIGSEGV");
    assert_eq!(wsgiref["requests"], 300);
    let dies = load_events(wsgiref, "die");
    assert!(!dies.is_empty(), "{:#}", wsgiref["events"]);
    assert!(dies.iter().all(|die| die["exit_code"] == 139), "{dies:#?}");
    assert!(
        dies.iter()
            .all(|die| !die["log_tail"].as_array().unwrap().is_empty()),
        "every death keeps the log tail"
    );
    assert!(wsgiref["failure_ratio"].as_f64().unwrap() > 0.1);

    // gunicorn's master respawns its segfaulted workers: the server
    // process never dies, but many worker pids answer.
    let gunicorn = cell(&results, "gunicorn-sync", "SIGSEGV");
    assert_eq!(load_events(gunicorn, "die").len(), 0);
    assert!(gunicorn["workers_seen"].as_array().unwrap().len() > 2);
    assert!(gunicorn["failure_ratio"].as_f64().unwrap() < 0.1);
    // Memory and CPU from /proc, over the whole process group.
    let resources = &gunicorn["resources"];
    assert!(
        resources["memory_max_sampled_bytes"].as_u64().unwrap() > 5 << 20,
        "{resources:#}"
    );
    assert!(
        resources["cpu_max_percent"].as_f64().is_some(),
        "{resources:#}"
    );

    assert_eq!(processes_of_run(run_id(&results)), Vec::<u32>::new());
}

#[test]
fn every_asgi_server_runs_plain_locally() {
    // None needs a system package: the local runtime runs all six from
    // their virtualenvs, with the ASGI twin of the stress app.
    let (results, code) = bench(
        &[
            "--runtime",
            "local",
            "--servers",
            "asgi",
            "--tests",
            "Plain",
            "-n",
            "200",
            "-c",
            "4",
            "--seed",
            "7",
        ],
        Duration::from_secs(900),
    );
    assert_eq!(code, 0, "{results:#}");
    let servers = results["scenario"]["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 6);
    for server in servers {
        assert_eq!(server["interface"], "asgi", "{server:#}");
        let name = server["name"].as_str().unwrap();
        let plain = cell(&results, name, "Plain");
        assert_eq!(plain["status"], "completed", "{plain:#}");
        assert_eq!(plain["requests"], 200);
        let expected = plain["expected"].as_u64().unwrap();
        assert!(expected * 100 >= 200 * 99, "{name}: {expected} of 200");
        assert!(
            plain["python"]
                .as_str()
                .unwrap_or_default()
                .starts_with("3."),
            "{name}: the app answered with its interpreter"
        );
    }
    assert_eq!(processes_of_run(run_id(&results)), Vec::<u32>::new());
}

/// The emulated on-failure policy brings a segfaulted wsgiref back and the
/// cell sees it answer again. The load runs for a time, not a count: 300
/// refused requests take half a second, which on a busy host can end
/// before the restarted interpreter listens.
#[test]
fn a_segfaulted_local_server_is_restarted_and_recovers() {
    let (results, code) = bench(
        &[
            "--runtime",
            "local",
            "-s",
            "wsgiref",
            "-t",
            "SIGSEGV",
            "--duration",
            "4s",
            "--seed",
            "7",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{results:#}");
    let wsgiref = cell(&results, "wsgiref", "SIGSEGV");
    let durability = &wsgiref["durability"];
    assert!(
        durability["restarts"].as_u64().unwrap() >= 1,
        "{durability:#}"
    );
    assert!(
        durability["time_to_recover_max_secs"].as_f64().is_some(),
        "{durability:#}"
    );
    assert_eq!(processes_of_run(run_id(&results)), Vec::<u32>::new());
}

#[test]
fn with_restart_no_a_dead_local_server_is_down() {
    let (results, code) = bench(
        &[
            "--runtime",
            "local",
            "-s",
            "wsgiref",
            "-t",
            "SIGSEGV",
            "-n",
            "200",
            "--restart",
            "no",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{results:#}");
    let cell = cell(&results, "wsgiref", "SIGSEGV");
    assert_eq!(cell["status"], "server_down", "{cell:#}");
    assert!(cell["durability"]["down_at_secs"].as_f64().is_some());
    assert!(cell["requests"].as_u64().unwrap() < 200, "the load stopped");
    assert_eq!(processes_of_run(run_id(&results)), Vec::<u32>::new());
}

#[test]
fn limits_the_local_runtime_cannot_enforce_are_said_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    let assert = labour()
        .args([
            "bench",
            "--runtime",
            "local",
            "-s",
            "wsgiref,mod-wsgi",
            "-t",
            "Plain",
        ])
        .args(["-n", "50", "--memory", "64m", "--output"])
        .arg(&output)
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "wsgiref: memory limit 64.0 MiB not enforced: local processes run without a cgroup",
        ))
        .stderr(predicate::str::contains(
            "mod-wsgi skipped: mod_wsgi-express",
        ));
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("| mod-wsgi "), "{stdout}");
    assert!(stdout.contains("Skipped"), "{stdout}");
    let results: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    assert_valid(&results);
    let wsgiref = cell(&results, "wsgiref", "Plain");
    assert_eq!(wsgiref["status"], "completed");
    assert_eq!(
        wsgiref["not_enforced"][0],
        "memory limit 64.0 MiB not enforced: local processes run without a cgroup (use --runtime docker)"
    );
    // Skipped is not a failure: no load, a reason, exit 0 above.
    let skipped = cell(&results, "mod-wsgi", "Plain");
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["requests"], 0);
    assert!(
        skipped["error"]["message"]
            .as_str()
            .unwrap()
            .contains("apache2-dev")
    );
}

#[test]
fn auto_runs_locally_when_no_engine_answers_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    labour()
        .args([
            "bench", "-s", "wsgiref", "-t", "Plain", "-n", "20", "--output",
        ])
        .arg(&output)
        .env("DOCKER_HOST", DEAD_ENGINE)
        .env_remove("LABOUR_RUNTIME")
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "labour: runtime: local processes (no Docker engine answers at {DEAD_ENGINE}: "
        )));
    let results: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    assert_eq!(results["environment"]["engine"]["runtime"], "local");
    assert_eq!(cell(&results, "wsgiref", "Plain")["expected"], 20);
}

#[test]
fn a_local_serve_stops_its_whole_process_group_on_ctrl_c() {
    let mut child = Spawned(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("labour"))
            .args([
                "serve",
                "gunicorn-sync",
                "--runtime",
                "local",
                "--workers",
                "3",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = wait_for_line(&mut child, "is serving", Duration::from_secs(300));
    // "... (process group labour-<run>-gunicorn-sync-serve-0); Ctrl-C stops it"
    let line = lines.last().unwrap();
    let name = line
        .split("(process group ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("the ready line names the process group: {line}"));
    let run = name.split('-').nth(1).unwrap().to_string();
    // Ready means one worker answers; the others may still be forking.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut running = processes_of_run(&run);
    while running.len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        running = processes_of_run(&run);
    }
    assert!(running.len() >= 4, "a master and 3 workers: {running:?}");
    interrupt(&child);
    assert_eq!(wait_with_limit(&mut child, Duration::from_secs(30)), 0);
    assert_eq!(processes_of_run(&run), Vec::<u32>::new());
}

/// Counts per behaviour of every cell, by server and test.
fn shape(results: &Value) -> BTreeMap<(String, String), Vec<(String, u64)>> {
    results["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| {
            let key = (
                cell["server"].as_str().unwrap().to_string(),
                cell["test"].as_str().unwrap().to_string(),
            );
            let counts = cell["behaviours"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    (
                        b["behaviour"].as_str().unwrap().to_string(),
                        b["requests"].as_u64().unwrap(),
                    )
                })
                .collect();
            (key, counts)
        })
        .collect()
}

#[test]
fn local_and_docker_runs_of_one_seed_have_the_same_cells_and_counts() {
    if !docker_available("local_and_docker_runs_of_one_seed_have_the_same_cells_and_counts") {
        return;
    }
    let args = |runtime: &'static str| {
        [
            "--runtime",
            runtime,
            "-s",
            "wsgiref,gunicorn-sync,waitress",
            "-t",
            "Plain,SIGSEGV",
            "-n",
            "200",
            "--timeout",
            "5s",
            "--seed",
            "42",
        ]
    };
    let (docker, code) = bench(&args("docker"), Duration::from_secs(600));
    assert_eq!(code, 0, "{docker:#}");
    let (local, code) = bench(&args("local"), Duration::from_secs(600));
    assert_eq!(code, 0, "{local:#}");
    assert_eq!(docker["environment"]["engine"]["runtime"], "docker");
    assert_eq!(local["environment"]["engine"]["runtime"], "local");
    let (docker_shape, local_shape) = (shape(&docker), shape(&local));
    assert_eq!(docker_shape.len(), 6);
    assert_eq!(docker_shape, local_shape);
    for (key, counts) in &local_shape {
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 200, "{key:?}");
    }
}

#[test]
fn a_local_server_that_exits_before_answering_fails_fast_with_its_log() {
    let tree = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
    std::fs::create_dir_all(tree.path().join("app")).unwrap();
    std::fs::copy(
        root.join("app/labour_app.py"),
        tree.path().join("app/labour_app.py"),
    )
    .unwrap();
    std::fs::create_dir_all(tree.path().join("quitter")).unwrap();
    std::fs::write(tree.path().join("quitter/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(
        tree.path().join("servers.yaml"),
        "servers:\n  - name: quitter\n    description: gives up at once\n    version: \"0\"\n    \
         concurrency: []\n    command: [python3, -c, \"import sys; print('no port for me'); sys.exit(3)\", \"{port}\"]\n    \
         unsupported: {workers: x, threads: x, worker_timeout: x, max_requests: x, backlog: x}\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    labour()
        .args([
            "bench",
            "--runtime",
            "local",
            "-t",
            "Plain",
            "--quiet",
            "--images",
        ])
        .arg(tree.path())
        .arg("--output")
        .arg(&output)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1 of 1 cell(s) could not run"));
    let results: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let cell = cell(&results, "quitter", "Plain");
    assert_eq!(cell["status"], "error");
    let error = &cell["error"];
    assert_eq!(
        error["message"],
        "quitter exited with code 3 before it answered a request"
    );
    assert_eq!(error["log_tail"][0], "no port for me");
    assert_eq!(processes_of_run(run_id(&results)), Vec::<u32>::new());
}

#[test]
fn a_python_2_7_server_is_skipped_locally_without_a_python_2_7() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    labour()
        .args([
            "bench",
            "--runtime",
            "local",
            "-s",
            "wsgiref-py27,wsgiref",
            "-t",
            "Plain",
        ])
        .args(["-n", "20", "--output"])
        .arg(&output)
        .env("LABOUR_PYTHON27", "/nonexistent/python2.7")
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "wsgiref-py27 skipped: it runs on Python 2.7: cannot run /nonexistent/python2.7",
        ));
    let results: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let skipped = cell(&results, "wsgiref-py27", "Plain");
    assert_eq!(skipped["status"], "skipped");
    assert!(
        skipped["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LABOUR_PYTHON27"),
        "{skipped:#}"
    );
    assert_eq!(cell(&results, "wsgiref", "Plain")["status"], "completed");
}

/// A python2.7 with virtualenv: LABOUR_PYTHON27, or python2.7 on PATH.
fn python27_with_virtualenv() -> Option<String> {
    let program = std::env::var("LABOUR_PYTHON27").unwrap_or_else(|_| "python2.7".into());
    let works = std::process::Command::new(&program)
        .args(["-m", "virtualenv", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    works.then_some(program)
}

#[test]
fn python_2_7_servers_run_locally_with_a_python_2_7() {
    let Some(python27) = python27_with_virtualenv() else {
        eprintln!(
            "skipping python_2_7_servers_run_locally_with_a_python_2_7: no python2.7 with virtualenv (LABOUR_PYTHON27 names one)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    labour()
        .args([
            "bench",
            "--runtime",
            "local",
            "-s",
            "wsgiref-py27,paste-py27",
            "-t",
            "Plain",
        ])
        .args(["-n", "50", "--output"])
        .arg(&output)
        .env("LABOUR_PYTHON27", &python27)
        .timeout(Duration::from_secs(600))
        .assert()
        .success();
    let results: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    for server in ["wsgiref-py27", "paste-py27"] {
        let cell = cell(&results, server, "Plain");
        assert_eq!(cell["status"], "completed", "{cell:#}");
        assert_eq!(cell["expected"], 50, "{cell:#}");
    }
}
