//! Faults from outside the application, on real servers: a killed worker
//! is respawned by gunicorn's master and takes wsgiref down; slow clients
//! do not stop a cell from running to its end and are closed with it; a
//! graceful stop records what became of the requests in flight. Nothing is
//! left behind.

use std::time::Duration;

use serde_json::Value;

use crate::util::{bench, cell, containers_of_run, docker_available, load_events, run_id};

fn faults(cell: &Value) -> &Vec<Value> {
    cell["faults"]
        .as_array()
        .expect("the cell records its faults")
}

#[test]
fn a_killed_worker_is_respawned_by_gunicorn_and_takes_wsgiref_down() {
    if !docker_available("a_killed_worker_is_respawned") {
        return;
    }
    let (results, _) = bench(
        &[
            "-s",
            "gunicorn-sync,wsgiref",
            "-t",
            "KillWorker",
            "--seed",
            "7",
        ],
        Duration::from_secs(300),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());

    let gunicorn = cell(&results, "gunicorn-sync", "KillWorker");
    assert_eq!(gunicorn["ended_by"], "duration", "{gunicorn:#}");
    let kills = faults(gunicorn);
    assert!(kills.len() >= 3, "a kill at 1 s and every 2 s: {kills:#?}");
    for kill in kills {
        assert_eq!(kill["action"], "kill-worker");
        assert!(kill["error"].is_null(), "{kill:#}");
        let target = kill["target"].as_str().unwrap();
        assert!(
            target.contains("of 2 worker(s)"),
            "one of gunicorn's two: {target}"
        );
    }
    let ratio = gunicorn["innocent_failure_ratio"].as_f64().unwrap();
    assert!(ratio < 0.05, "the master respawns its workers: {ratio}");
    assert_eq!(
        gunicorn["durability"]["dies"], 0,
        "the container never died"
    );
    assert!(
        gunicorn["workers_seen"].as_array().unwrap().len() > 2,
        "respawned workers answered"
    );

    let wsgiref = cell(&results, "wsgiref", "KillWorker");
    let kills = faults(wsgiref);
    assert!(!kills.is_empty());
    assert!(
        kills[0]["target"]
            .as_str()
            .unwrap()
            .contains("1 of 1 worker(s)"),
        "one process: {kills:#?}"
    );
    assert!(
        !load_events(wsgiref, "die").is_empty(),
        "its only process died with the kill: {wsgiref:#}"
    );
    assert!(wsgiref["durability"]["downtime_secs"].as_f64().unwrap() > 0.0);
    let lost: u64 = kills
        .iter()
        .map(|k| {
            k["innocent_lost_during"].as_u64().unwrap() + k["innocent_lost_after"].as_u64().unwrap()
        })
        .sum();
    assert!(
        lost > 0,
        "requests failed until the engine restarted it: {kills:#?}"
    );
}

#[test]
fn slow_clients_leave_the_cell_running_to_its_end_and_are_closed_with_it() {
    if !docker_available("slow_clients_leave_the_cell_running") {
        return;
    }
    let (results, _) = bench(
        &[
            "-s",
            "gunicorn-sync,gunicorn-gevent",
            "-t",
            "SlowClients",
            "--seed",
            "7",
        ],
        Duration::from_secs(300),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
    for server in ["gunicorn-sync", "gunicorn-gevent"] {
        let cell = cell(&results, server, "SlowClients");
        assert_eq!(cell["status"], "completed", "{server}: {cell:#}");
        assert_eq!(cell["ended_by"], "duration", "{server} ran to its end");
        let fault = &faults(cell)[0];
        let slow = &fault["slow"];
        let count = |key: &str| slow[key].as_u64().unwrap();
        assert_eq!(count("opened") + count("refused"), 50, "{server}: {slow:#}");
        assert_eq!(
            count("open_at_end") + count("closed_by_server"),
            count("opened"),
            "{server}: every slow connection is accounted for: {slow:#}"
        );
        assert!(count("bytes_sent") > 0);
        // Closed when the load ended, before the server was stopped.
        assert!(fault["until_secs"].as_f64().unwrap() > fault["at_secs"].as_f64().unwrap());
    }
}

#[test]
fn a_graceful_stop_is_judged_by_the_requests_the_application_had_in_hand() {
    if !docker_available("a_graceful_stop_is_judged_by_the_requests_the_application_had_in_hand") {
        return;
    }
    // Every request sleeps 1 s and 8 connections share the servers' two
    // workers: when SIGTERM comes, both workers hold a request (but for a
    // millisecond between requests), so the application has requests in
    // hand that a graceful server must finish. The moment is arranged, not
    // hoped for.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("graceful.yaml");
    std::fs::write(
        &scenario,
        "tests:\n  - name: SleepsThroughAStop\n    mix: [{behaviour: \"Sleeping?sleep_duration=1\", weight: 1}]\n    faults:\n      - {at: 2s, action: graceful-stop}\n    duration: 6s\n",
    )
    .unwrap();
    let scenario = scenario.to_str().unwrap();
    let (results, _) = bench(
        &[
            "-s",
            "gunicorn-sync,uwsgi",
            "--scenario",
            scenario,
            "--seed",
            "7",
        ],
        Duration::from_secs(300),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
    let cell_of = |server| cell(&results, server, "SleepsThroughAStop");
    let stop_of = |server| faults(cell_of(server))[0]["graceful"].clone();

    // gunicorn lets its workers finish the requests they hold, then exits
    // 0 (its restart policy, on-failure, leaves it down). The six requests
    // queued in the kernel behind the two in hand are reset: expected of a
    // stop, not a failure of the server.
    let sync = cell_of("gunicorn-sync");
    let stop = stop_of("gunicorn-sync");
    assert_eq!(faults(sync)[0]["action"], "graceful-stop");
    let in_hand = stop["in_hand"]
        .as_u64()
        .expect("the application's log was read");
    assert!(in_hand > 0 && in_hand <= 2, "two workers: {stop:#}");
    assert_eq!(stop["in_hand_finished"], in_hand, "{stop:#}");
    assert_eq!(stop["in_hand_came_back"], in_hand, "{stop:#}");
    let in_flight = stop["in_flight"].as_u64().expect("the moment was watched");
    assert!(in_flight >= in_hand, "{stop:#}");
    let exited = stop["exited_after_secs"].as_f64().expect("it exited");
    assert!(exited > 0.0 && exited < 30.0, "{stop:#}");
    assert_eq!(stop["graceful"], true, "{stop:#}");
    assert_eq!(sync["verdict"], "graceful", "{sync:#}");
    assert_eq!(sync["ended_by"], "server_down", "{sync:#}");

    // uWSGI's master takes SIGTERM as a brutal reload: the workers die
    // with the requests they hold.
    let uwsgi = cell_of("uwsgi");
    let stop = stop_of("uwsgi");
    assert!(stop["in_hand"].as_u64().unwrap() > 0, "{stop:#}");
    assert_eq!(stop["graceful"], false, "{stop:#}");
    assert_eq!(uwsgi["verdict"], "abrupt", "{uwsgi:#}");
    crate::funnel::adds_up(sync);
    crate::funnel::adds_up(uwsgi);
}
