//! Verdicts on real servers: a server that leaves innocent requests
//! waiting with none coming back is `stalled` even when nothing failed,
//! one that keeps answering them is `held`; the stall is counted to the end
//! of the load and drawn there.

use std::time::Duration;

use serde_json::Value;

use crate::funnel::adds_up;
use crate::util::{bench, cell, containers_of_run, docker_available, run_id};

fn stalls(cell: &Value) -> &Value {
    &cell["stalls"]
}

#[test]
fn slow_clients_stall_gunicorn_sync_and_not_gunicorn_gevent() {
    if !docker_available("slow_clients_stall_gunicorn_sync_and_not_gunicorn_gevent") {
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
        Duration::from_secs(600),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
    // Twenty connections that send a byte a second hold both of the sync
    // workers: innocent requests wait, and none come back.
    let sync = cell(&results, "gunicorn-sync", "SlowClients");
    assert_eq!(sync["verdict"], "stalled", "{:#}", stalls(sync));
    assert!(stalls(sync)["longest_secs"].as_f64().unwrap() > 1.0);
    // The timeline reaches the end of the load, past the last answer.
    let load_secs = sync["duration_secs"].as_f64().unwrap();
    let buckets = sync["timeline"]["expected"].as_array().unwrap().len();
    assert!(
        buckets as f64 >= (load_secs * 10.0).floor(),
        "{buckets} for {load_secs} s"
    );
    // gevent's greenlets serve the innocent requests beside them.
    let gevent = cell(&results, "gunicorn-gevent", "SlowClients");
    assert_eq!(gevent["verdict"], "held", "{:#}", stalls(gevent));
    assert_eq!(stalls(gevent)["count"], 0);
    // Both accounts agree: the application saw no more than was sent and
    // every answer the client got.
    adds_up(sync);
    adds_up(gevent);
}

#[test]
fn heavy_sleeps_stall_wsgiref_and_not_gunicorn_gevent() {
    if !docker_available("heavy_sleeps_stall_wsgiref_and_not_gunicorn_gevent") {
        return;
    }
    let (results, _) = bench(
        &[
            "-s",
            "wsgiref,gunicorn-gevent",
            "-t",
            "HeavySleep",
            "-n",
            "100",
            "--seed",
            "7",
        ],
        Duration::from_secs(600),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
    // One request at a time: every 2 s sleep holds every innocent request.
    let wsgiref = cell(&results, "wsgiref", "HeavySleep");
    assert_eq!(wsgiref["failure_ratio"], 0.0, "{wsgiref:#}");
    assert_eq!(wsgiref["verdict"], "stalled", "{:#}", stalls(wsgiref));
    assert!(stalls(wsgiref)["longest_secs"].as_f64().unwrap() >= 1.0);
    let gevent = cell(&results, "gunicorn-gevent", "HeavySleep");
    assert_eq!(gevent["verdict"], "held", "{:#}", stalls(gevent));
    adds_up(wsgiref);
    adds_up(gevent);
}
