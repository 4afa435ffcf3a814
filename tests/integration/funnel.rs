//! Where each request went, on real servers: the client's account of every
//! request matched by its id with the stress application's own log. A
//! plain load of a known count reaches, finishes and comes back whole; a
//! segfault beside sleeping requests kills some of them inside the
//! application, and every lost innocent request has its place.

use std::time::Duration;

use serde_json::Value;

use crate::util::{bench, cell, containers_of_run, docker_available, run_id};

fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

/// What must hold of every cell's funnel: the application saw no more
/// than was sent, saw every request answered, and its log was whole.
pub(crate) fn adds_up(cell: &Value) -> &Value {
    let funnel = &cell["funnel"];
    assert!(funnel.is_object(), "no funnel: {cell:#}");
    let all = &funnel["all"];
    assert!(count(&all["reached"]) <= count(&all["sent"]), "{funnel:#}");
    assert!(
        count(&all["finished"]) <= count(&all["reached"]),
        "{funnel:#}"
    );
    assert_eq!(funnel["answered_unseen"], 0, "{funnel:#}");
    assert_eq!(funnel["unknown_to_client"], 0, "{funnel:#}");
    assert_eq!(funnel["bad_lines"], 0, "{funnel:#}");
    // The client's own counts: every request it counted was sent; those
    // not as expected are the lost ones, each with a place.
    assert_eq!(
        count(&all["sent"]),
        count(&cell["requests"]) + count(&all["waiting_at_end"]),
        "{funnel:#}"
    );
    let lost = &funnel["lost"];
    let placed: u64 = [
        "refused",
        "before_application",
        "inside_application",
        "on_the_way_back",
    ]
    .iter()
    .map(|place| count(&lost[place]))
    .sum();
    assert_eq!(placed, count(&cell["failed"]), "{funnel:#}");
    let innocent_placed: u64 = [
        "refused",
        "before_application",
        "inside_application",
        "on_the_way_back",
    ]
    .iter()
    .map(|place| count(&funnel["innocent_lost"][place]))
    .sum();
    assert_eq!(
        innocent_placed,
        count(&cell["innocent_failed"]),
        "{funnel:#}"
    );
    funnel
}

#[test]
fn every_request_is_accounted_for_and_every_lost_one_placed() {
    if !docker_available("every_request_is_accounted_for_and_every_lost_one_placed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("segfaults.yaml");
    // Threads of one gunicorn-gthread worker process share it: a segfault
    // takes the requests sleeping in its other threads down with it.
    std::fs::write(
        &scenario,
        "tests:\n  - name: SegfaultsBesideSleeps\n    mix:\n      - {behaviour: PlainResponse, weight: 2}\n      - {behaviour: SIGSEGV, weight: 1}\n      - {behaviour: \"Sleeping?sleep_duration=0.2\", weight: 1}\n  - name: Innocents\n    mix: [{behaviour: PlainResponse, weight: 1}]\n  - name: Plain\n",
    )
    .unwrap();
    let (results, _) = bench(
        &[
            "-s",
            "gunicorn-gthread,gunicorn-sync",
            "--scenario",
            scenario.to_str().unwrap(),
            "-n",
            "200",
            "--seed",
            "7",
        ],
        Duration::from_secs(600),
    );
    assert!(containers_of_run(run_id(&results)).is_empty());
    for server in ["gunicorn-gthread", "gunicorn-sync"] {
        // A plain load of a known count: the plan's 200, no more, no less,
        // at every stage.
        let plain = adds_up(cell(&results, server, "Innocents"));
        for stage in ["sent", "connected", "reached", "finished", "came_back"] {
            assert_eq!(plain["all"][stage], 200, "{server} {stage}: {plain:#}");
        }
        // The throughput cell sends no ids (the log would cost it a few
        // percent), and says so.
        let throughput = cell(&results, server, "Plain");
        assert!(throughput["funnel"].is_null(), "{throughput:#}");
        assert!(
            throughput["funnel_missing"]
                .as_str()
                .is_some_and(|why| why.contains("throughput")),
            "{throughput:#}"
        );
    }
    let threads = cell(&results, "gunicorn-gthread", "SegfaultsBesideSleeps");
    let funnel = adds_up(threads);
    assert!(
        count(&funnel["lost"]["inside_application"]) > 0,
        "a segfault killed requests in the worker's other threads: {funnel:#}"
    );
    // One process a request: a segfault takes only its own request.
    let sync = cell(&results, "gunicorn-sync", "SegfaultsBesideSleeps");
    let funnel = adds_up(sync);
    assert_eq!(
        funnel["innocent_lost"]["inside_application"], 0,
        "{funnel:#}"
    );
}
