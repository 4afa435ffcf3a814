//! The servers added beside the seed's last (concurrence, built from its
//! vendored 2009 source) and today's others (hypercorn, werkzeug, netius,
//! rocket3, fastpysgi, socketify), against the real Docker engine: Plain
//! comes back as expected, and SIGSEGV kills each (all but hypercorn run
//! the app in their only process by default; a worker of hypercorn's that
//! dies makes its main process stop them all). Skipped with a reason when no engine answers;
//! failing instead when LABOUR_REQUIRE_DOCKER=1.

use std::time::Duration;

use crate::util::{bench, cell, containers_of_run, docker_available, run_id};

const ADDED: [&str; 7] = [
    "concurrence",
    "hypercorn",
    "werkzeug",
    "netius",
    "rocket3",
    "fastpysgi",
    "socketify",
];

#[test]
fn plain_and_sigsegv_on_the_added_servers() {
    if !docker_available("plain_and_sigsegv_on_the_added_servers") {
        return;
    }
    let servers = ADDED.join(",");
    // Few requests each; the limit is a hang guard, not a timing.
    let (results, code) = bench(
        &[
            "--servers",
            &servers,
            "--tests",
            "Plain,SIGSEGV",
            "-n",
            "200",
            "-c",
            "4",
            "--timeout",
            "5s",
        ],
        Duration::from_secs(1500),
    );
    assert_eq!(code, 0, "{results:#}");
    for name in ADDED {
        let plain = cell(&results, name, "Plain");
        assert_eq!(plain["status"], "completed", "{plain:#}");
        assert_eq!(plain["requests"], 200);
        let expected = plain["expected"].as_u64().unwrap();
        assert!(
            expected * 100 >= 200 * 99,
            "{name}: {expected} of 200 as expected under Plain"
        );
        let preflight = plain["preflight"].as_array().unwrap();
        assert!(
            preflight.iter().all(|check| check["expected"] == true),
            "{name}'s pre-flight: {preflight:#?}"
        );
        let sigsegv = cell(&results, name, "SIGSEGV");
        // Completed, or ended early because the server stayed down (the
        // engine restarts it; hypercorn's main process may take its time).
        let status = sigsegv["status"].as_str().unwrap();
        assert!(
            ["completed", "server_down"].contains(&status),
            "{name}: {sigsegv:#}"
        );
        assert!(sigsegv["requests"].as_u64().unwrap() > 0);
        assert!(
            sigsegv["failed"].as_u64().unwrap() > 0,
            "{name}: {sigsegv:#}"
        );
        // The others die of SIGSEGV (139). hypercorn's worker does, and its
        // main process then stops the other workers and exits by itself,
        // with a status of its own (seen: 245, and 0, which a restart
        // policy of on-failure does not restart).
        let died_of_sigsegv = sigsegv["events"].as_array().unwrap().iter().any(|e| {
            e["action"] == "die"
                && e["phase"] == "load"
                && (name == "hypercorn" || e["exit_code"] == 139)
        });
        assert!(
            died_of_sigsegv,
            "{name} died of SIGSEGV: {:#}",
            sigsegv["events"]
        );
    }
    // Each server's lock is recorded, and the bases the engine had.
    for server in results["scenario"]["servers"].as_array().unwrap() {
        let lock = server["lock_sha256"].as_str().unwrap_or_default();
        assert_eq!(lock.len(), 64, "{}: {lock:?}", server["name"]);
    }
    let digests = results["environment"]["engine"]["base_image_digests"]
        .as_array()
        .unwrap();
    assert_eq!(digests.len(), 2, "{digests:#?}");
    for digest in digests {
        assert!(digest["id"].as_str().unwrap().starts_with("sha256:"));
    }
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}

/// The added servers that need no system package run without Docker too,
/// each in a virtualenv made from its lock.
#[test]
fn the_added_pure_python_servers_run_locally_from_their_locks() {
    let servers = ["hypercorn", "werkzeug", "netius", "rocket3"];
    let (results, code) = crate::util::bench(
        &[
            "--runtime",
            "local",
            "--servers",
            &servers.join(","),
            "--tests",
            "Plain",
            "-n",
            "200",
            "-c",
            "4",
        ],
        Duration::from_secs(900),
    );
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["environment"]["engine"]["runtime"], "local");
    for name in servers {
        let plain = cell(&results, name, "Plain");
        assert_eq!(plain["status"], "completed", "{plain:#}");
        let expected = plain["expected"].as_u64().unwrap();
        assert!(expected * 100 >= 200 * 99, "{name}: {expected} of 200");
        let server = results["scenario"]["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap();
        assert_eq!(server["lock_sha256"].as_str().unwrap().len(), 64);
    }
    assert_eq!(
        crate::util::processes_of_run(run_id(&results)),
        Vec::<u32>::new()
    );
}
