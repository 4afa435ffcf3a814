//! The ASGI servers against the real Docker engine: every one builds and
//! runs the innocent test, a segfault, the blocking-loop test and a killed
//! worker; a supervisor (gunicorn with uvicorn workers) respawns a killed
//! worker while single-process uvicorn goes down with it; a lifespan
//! startup that fails stops uvicorn from serving. Few requests, short
//! budgets, host networking on 127.0.0.1.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use labour::behaviour::Interface;
use labour::catalogue::Catalogue;

use crate::util::{bench, cell, containers_of_run, docker_available, load_events, run_id};

fn asgi_servers() -> Vec<String> {
    let catalogue = Catalogue::embedded();
    catalogue
        .servers()
        .iter()
        .filter(|server| server.interface == Interface::Asgi)
        .map(|server| server.name.clone())
        .collect()
}

#[test]
fn every_asgi_server_runs_plain_sigsegv_loop_block_and_kill_worker() {
    if !docker_available("every_asgi_server_runs_plain_sigsegv_loop_block_and_kill_worker") {
        return;
    }
    let (results, _) = bench(
        &[
            "--servers",
            "asgi",
            "--tests",
            "Plain,SIGSEGV,LoopBlock,KillWorker",
            "-n",
            "200",
            "-c",
            "4",
            "--cell-time",
            "20s",
            "--give-up-after",
            "10s",
            "--seed",
            "2026",
        ],
        Duration::from_secs(1200),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
    let servers = asgi_servers();
    assert_eq!(servers.len(), 6);
    for name in &servers {
        // The scenario records the interface; every image built and ran.
        let recorded = results["scenario"]["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| &s["name"] == name)
            .unwrap();
        assert_eq!(recorded["interface"], "asgi", "{name}");
        for test in ["Plain", "SIGSEGV", "LoopBlock", "KillWorker"] {
            let cell = cell(&results, name, test);
            let status = cell["status"].as_str().unwrap();
            assert!(
                !["error", "skipped", "preflight_failed"].contains(&status),
                "{name} / {test}: {cell:#}"
            );
            assert!(cell["requests"].as_u64().unwrap() > 0, "{name} / {test}");
        }
        let plain = cell(&results, name, "Plain");
        assert_eq!(plain["status"], "completed", "{plain:#}");
        assert_eq!(plain["requests"], 200);
        let expected = plain["expected"].as_u64().unwrap();
        assert!(expected * 100 >= 200 * 99, "{name}: {expected} of 200");
        let python = plain["python"].as_str().unwrap_or_default();
        assert!(python.starts_with("3."), "{name} runs on Python {python:?}");
        // The blocking sleeps were sent and answered: a loop blocked for a
        // second still answers, late.
        let loop_block = cell(&results, name, "LoopBlock");
        let blocked = loop_block["behaviours"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["behaviour"] == "LoopBlock?seconds=1")
            .unwrap_or_else(|| panic!("{name}: no LoopBlock requests: {loop_block:#}"));
        assert!(blocked["requests"].as_u64().unwrap() > 0, "{loop_block:#}");
        assert!(
            blocked["expected"].as_u64().unwrap() > 0,
            "{name}: {loop_block:#}"
        );
        // A kill at 1 s found a worker.
        let kill = &cell(&results, name, "KillWorker")["faults"][0];
        assert_eq!(kill["action"], "kill-worker", "{name}");
        assert!(kill["error"].is_null(), "{name}: {kill:#}");
        assert!(
            kill["target"].as_str().unwrap().contains("worker(s)"),
            "{name}: {kill:#}"
        );
    }

    // A lifespan startup that fails stops uvicorn before it serves: run
    // its image by hand with the app asked to fail (no network at all).
    let image = cell(&results, "uvicorn", "Plain")["image_tag"]
        .as_str()
        .unwrap()
        .to_string();
    let output = Command::new("docker")
        .args(["run", "--rm", "--network", "none"])
        .args(["-e", "LABOUR_LIFESPAN_FAIL=1", &image])
        .args([
            "/opt/venv/bin/uvicorn",
            "--lifespan=on",
            "labour_asgi:application",
        ])
        .output()
        .expect("docker runs");
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("LABOUR_LIFESPAN_FAIL is set"), "{log}");
    assert!(!log.contains("Uvicorn running on"), "{log}");
}

fn kills(cell: &Value) -> &Vec<Value> {
    cell["faults"]
        .as_array()
        .expect("the cell records its faults")
}

#[test]
fn gunicorn_respawns_a_killed_uvicorn_worker_and_single_uvicorn_goes_down() {
    if !docker_available("gunicorn_respawns_a_killed_uvicorn_worker_and_single_uvicorn_goes_down") {
        return;
    }
    // The kill lands when the test declares it (1 s, then every 2 s): the
    // moment is arranged, not hoped for. Without a restart policy, nothing
    // but the server itself can bring a worker back.
    let (results, _) = bench(
        &[
            "--servers",
            "gunicorn-uvicorn,uvicorn",
            "--tests",
            "KillWorker",
            "--restart",
            "no",
            "-c",
            "4",
            "--seed",
            "7",
        ],
        Duration::from_secs(300),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());

    let gunicorn = cell(&results, "gunicorn-uvicorn", "KillWorker");
    assert_eq!(gunicorn["status"], "completed", "{gunicorn:#}");
    assert_eq!(gunicorn["ended_by"], "duration", "{gunicorn:#}");
    let fired = kills(gunicorn);
    assert!(fired.len() >= 3, "a kill at 1 s and every 2 s: {fired:#?}");
    for kill in fired {
        assert!(kill["error"].is_null(), "{kill:#}");
        assert!(
            kill["target"].as_str().unwrap().contains("of 2 worker(s)"),
            "one of the arbiter's two: {kill:#}"
        );
    }
    assert_eq!(
        gunicorn["durability"]["dies"], 0,
        "the container never died"
    );
    assert!(
        gunicorn["workers_seen"].as_array().unwrap().len() > 2,
        "respawned workers answered: {:#}",
        gunicorn["workers_seen"]
    );
    let ratio = gunicorn["innocent_failure_ratio"].as_f64().unwrap();
    assert!(ratio < 0.05, "the arbiter respawns its workers: {ratio}");

    let uvicorn = cell(&results, "uvicorn", "KillWorker");
    let fired = kills(uvicorn);
    assert!(
        fired[0]["target"]
            .as_str()
            .unwrap()
            .contains("1 of 1 worker(s)"),
        "one process: {fired:#?}"
    );
    assert_eq!(uvicorn["status"], "server_down", "{uvicorn:#}");
    assert!(
        !load_events(uvicorn, "die").is_empty(),
        "its only process died with the kill: {uvicorn:#}"
    );
    let down_at = uvicorn["durability"]["down_at_secs"].as_f64().unwrap();
    let killed_at = fired[0]["at_secs"].as_f64().unwrap();
    assert!(
        down_at >= killed_at,
        "down at {down_at} s, after the kill at {killed_at} s"
    );
    assert_eq!(uvicorn["workers_seen"].as_array().unwrap().len(), 1);
}
