//! Deaths, OOM kills, restarts, recovery and worker churn, seen through
//! the real Docker engine's events (host networking, 127.0.0.1 only).

use std::time::Duration;

use serde_json::Value;

use crate::util::{bench, cell, containers_of_run, docker_available, load_events, run_id};

#[test]
fn wsgiref_segfaults_die_139_restart_and_recover() {
    if !docker_available("wsgiref_segfaults_die_139_restart_and_recover") {
        return;
    }
    let (results, code) = bench(
        &[
            "--servers",
            "wsgiref",
            "--tests",
            "SIGSEGV",
            "-n",
            "600",
            "-c",
            "4",
            "--restart",
            "on-failure",
            "--timeout",
            "5s",
        ],
        Duration::from_secs(300),
    );
    assert_eq!(code, 0);
    let cell = cell(&results, "wsgiref", "SIGSEGV");
    assert_eq!(cell["status"], "completed", "{cell:#}");
    let durability = &cell["durability"];
    let deaths = load_events(cell, "die");
    assert!(!deaths.is_empty(), "{cell:#}");
    assert!(deaths.iter().all(|d| d["exit_code"] == 139), "{deaths:#?}");
    assert_eq!(durability["dies"], deaths.len());
    assert!(
        durability["restarts"].as_u64().unwrap() >= 1,
        "{durability:#}"
    );
    assert!(durability["restart_count"].as_u64().unwrap() >= 1);
    // At least the first death recovered: requests came back as expected
    // after it, and the time it took is reported.
    let first = &durability["recoveries"][0];
    assert!(
        first["recovered_after_secs"].as_f64().unwrap() > 0.0,
        "{durability:#}"
    );
    assert!(durability["time_to_recover_median_secs"].as_f64().unwrap() > 0.0);
    assert!(durability["downtime_secs"].as_f64().unwrap() > 0.0);
    assert!(durability["down_at_secs"].is_null());
    // Each death keeps the log tail of that moment.
    assert!(
        deaths[0]["log_tail"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{deaths:#?}"
    );
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}

#[test]
fn gunicorn_respawns_segfaulted_workers_where_docker_sees_nothing() {
    if !docker_available("gunicorn_respawns_segfaulted_workers_where_docker_sees_nothing") {
        return;
    }
    let (results, code) = bench(
        &[
            "--servers",
            "gunicorn-sync",
            "--tests",
            "SIGSEGV",
            "-n",
            "200",
            "-c",
            "4",
        ],
        Duration::from_secs(300),
    );
    assert_eq!(code, 0);
    let cell = cell(&results, "gunicorn-sync", "SIGSEGV");
    assert_eq!(cell["durability"]["dies"], 0, "{:#}", cell["events"]);
    assert!(load_events(cell, "die").is_empty());
    let workers = cell["workers_seen"].as_array().unwrap().len();
    assert!(
        workers > 2,
        "gunicorn-sync runs 2 workers; {workers} pids answered"
    );
    // Pids that appeared after the load began are respawned workers.
    let late = cell["workers_seen"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["first_seen_secs"].as_f64().unwrap() > 0.05)
        .count();
    assert!(late >= 1);
    assert!(!cell["resources"]["samples"].as_array().unwrap().is_empty());
    assert!(
        cell["resources"]["memory_max_sampled_bytes"]
            .as_u64()
            .unwrap()
            > 1 << 20
    );
}

#[test]
fn leaking_past_the_memory_limit_is_an_oom_kill_with_exit_137() {
    if !docker_available("leaking_past_the_memory_limit_is_an_oom_kill_with_exit_137") {
        return;
    }
    let (results, code) = bench(
        &[
            "--servers",
            "wsgiref",
            "--tests",
            "Leak",
            "-n",
            "400",
            "-c",
            "2",
            "--memory",
            "64m",
            "--restart",
            "on-failure",
        ],
        Duration::from_secs(300),
    );
    let cell = cell(&results, "wsgiref", "Leak");
    assert_eq!(code, 0, "{} {:#}", cell["status"], cell["error"]);
    let durability = &cell["durability"];
    assert!(
        durability["oom_kills"].as_u64().unwrap() >= 1,
        "{:#}",
        cell["events"]
    );
    assert!(
        load_events(cell, "die")
            .iter()
            .any(|d| d["exit_code"] == 137),
        "{:#}",
        cell["events"]
    );
    assert_eq!(
        results["scenario"]["servers"][0]["limits"]["memory_bytes"],
        64 << 20
    );
    assert_eq!(
        results["scenario"]["servers"][0]["limits"]["memory_swap_bytes"],
        Value::Null
    );
}

#[test]
fn with_restart_no_a_dead_server_is_down_and_the_cell_ends() {
    if !docker_available("with_restart_no_a_dead_server_is_down_and_the_cell_ends") {
        return;
    }
    // The limit guards against a hang; it is not a timing assertion.
    let (results, code) = bench(
        &[
            "--servers",
            "wsgiref",
            "--tests",
            "SIGSEGV",
            "-n",
            "100000",
            "--restart",
            "no",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0);
    let cell = cell(&results, "wsgiref", "SIGSEGV");
    assert_eq!(cell["status"], "server_down", "{cell:#}");
    let down_at = cell["durability"]["down_at_secs"]
        .as_f64()
        .expect("down_at_secs");
    assert!(down_at >= 0.0);
    assert!(
        cell["requests"].as_u64().unwrap() < 100_000,
        "the load stopped when it went down"
    );
    assert_eq!(cell["durability"]["restarts"], 0);
    assert_eq!(load_events(cell, "die").len(), 1);
    assert_eq!(results["scenario"]["servers"][0]["limits"]["restart"], "no");
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}
