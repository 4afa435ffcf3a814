//! bench and serve against the real Docker engine, with host networking
//! (servers bind 127.0.0.1). The base images come from LABOUR_BASE_IMAGE
//! and LABOUR_BASE_IMAGE_PY27 when set (labour/base:bookworm and
//! labour/base:bullseye-py27 on hosts without Docker Hub).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use labour::catalogue::Catalogue;

use crate::util::{
    Spawned, assert_valid, bench, bench_with_users, cell, containers_of_run, docker_available,
    interrupt, labour, run_id, wait_for_line, wait_with_limit,
};

#[test]
fn plain_comes_back_as_expected_on_every_server_run_as_a_non_root_user() {
    if !docker_available("plain_comes_back_as_expected_on_every_server_run_as_a_non_root_user") {
        return;
    }
    let (results, code, users) = bench_with_users(
        &[
            "--servers",
            "all",
            "--tests",
            "Plain",
            "-n",
            "400",
            "-c",
            "4",
        ],
        // A hang guard: 34 images, built cold on a shared engine, took 16
        // minutes on a 2-CPU host.
        Duration::from_secs(1800),
    );
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["complete"], true);
    let catalogue = Catalogue::embedded();
    for server in catalogue.servers() {
        let name = server.name.as_str();
        let cell = cell(&results, name, "Plain");
        assert_eq!(cell["status"], "completed", "{cell:#}");
        assert_eq!(cell["requests"], 400);
        let expected = cell["expected"].as_u64().unwrap();
        assert!(
            expected * 100 >= 400 * 99,
            "{name}: {expected} of 400 as expected"
        );
        assert!(!cell["workers_seen"].as_array().unwrap().is_empty());
        // A Python 2.7 server is built on the 2.7 base (as the engine
        // settled them: Python 3's, then 2.7's), tagged with it, and its
        // application says it runs on 2.7.
        let bases = &results["environment"]["engine"]["base_images"];
        let base = bases[usize::from(server.is_python27())].as_str();
        let base = base.unwrap().replace([':', '/'], "-");
        let python = cell["python"].as_str().unwrap_or_default();
        let major = if server.is_python27() { "2.7." } else { "3." };
        assert!(
            python.starts_with(major),
            "{name} runs on Python {python:?}"
        );
        let tag = cell["image_tag"].as_str().unwrap();
        assert!(tag.ends_with(&base), "{name}: {tag} is not built on {base}");
        // Every image runs its server as an unprivileged user.
        let user = users
            .get(name)
            .unwrap_or_else(|| panic!("{name}'s container was not seen running: {users:#?}"));
        assert!(
            !user.user.is_empty() && user.user != "root" && user.user != "0",
            "{name} runs as {:?}",
            user.user
        );
        let uid: u32 = user
            .uid
            .parse()
            .unwrap_or_else(|_| panic!("{name}: id -u said {:?}", user.uid));
        assert_ne!(uid, 0, "{name} runs as root");
        // Every server that has a listen queue setting was given labour's.
        let backlog = results["scenario"]["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .and_then(|s| {
                s["settings_used"]
                    .as_array()?
                    .iter()
                    .find(|k| k["knob"] == "backlog")
                    .cloned()
            });
        if server
            .unsupported
            .contains_key(&labour::catalogue::Knob::Backlog)
        {
            assert_eq!(backlog, None, "{name}");
        } else {
            let backlog = backlog.unwrap_or_else(|| panic!("{name} has no backlog"));
            assert_eq!(backlog["applied"], true, "{name}: {backlog}");
            assert!(backlog["value"].as_u64().unwrap() >= 1, "{name}: {backlog}");
        }
    }
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}

#[test]
fn a_listen_queue_of_one_shows_connect_stalls_and_the_default_queue_none() {
    if !docker_available("a_listen_queue_of_one_shows_connect_stalls_and_the_default_queue_none") {
        return;
    }
    // wsgiref serves one connection at a time; 8 connections without
    // keep-alive keep connecting. With a listen queue of 1 the kernel drops
    // a SYN the queue has no room for, and the client's TCP stack sends it
    // again a second later: some connect takes over a second, and the
    // client counts it as a connect stall (its request still served as
    // expected). With labour's default queue, none does.
    let somaxconn: Option<u64> = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|text| text.trim().parse().ok());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--servers",
            "wsgiref",
            "--tests",
            "Plain",
            "-n",
            "300",
            "-c",
            "8",
            "--cell-time",
            "120s",
        ];
        args.extend_from_slice(extra);
        let (results, code) = bench(&args, Duration::from_secs(600));
        assert_eq!(code, 0, "{results:#}");
        assert_eq!(results["environment"]["somaxconn"].as_u64(), somaxconn);
        let backlog = results["scenario"]["servers"][0]["settings_used"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["knob"] == "backlog")
            .cloned()
            .expect("wsgiref records its backlog");
        let cell = cell(&results, "wsgiref", "Plain").clone();
        assert_eq!(cell["status"], "completed", "{cell:#}");
        assert_eq!(cell["expected"], 300, "{cell:#}");
        // Without keep-alive every request opened its own connection.
        assert_eq!(cell["client"]["connects"], 300, "{:#}", cell["client"]);
        (backlog, cell)
    };
    let stalls = |cell: &Value| cell["client"]["connect_stalls"].as_u64().unwrap();
    let figure = |cell: &Value, key: &str| cell[key].as_f64().unwrap();

    let (backlog, stalled) = run(&["--backlog", "1"]);
    assert_eq!(backlog["value"], 1, "{backlog}");
    assert_eq!(backlog["source"], "flag", "{backlog}");
    assert_eq!(backlog["applied"], true, "{backlog}");
    let client = &stalled["client"];
    assert!(
        stalls(&stalled) > 0,
        "a queue of 1 stalled no connect: {client:#}"
    );
    // Each stall waited for the SYN retry, a second at least.
    assert!(
        client["connect_stalled_secs"].as_f64().unwrap() >= stalls(&stalled) as f64,
        "{client:#}"
    );
    assert!(
        client["connect_time"]["max_ms"].as_f64().unwrap() > 900.0,
        "{client:#}"
    );
    let by_behaviour: u64 = stalled["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["connect_stalls"].as_u64().unwrap())
        .sum();
    assert_eq!(by_behaviour, stalls(&stalled));
    assert!(
        figure(&stalled, "requests_per_sec_excluding_stalls")
            >= figure(&stalled, "requests_per_sec"),
        "{stalled:#}"
    );

    let (backlog, unstalled) = run(&[]);
    let expected = somaxconn.map_or(1024, |cap| cap.min(1024));
    assert_eq!(backlog["value"], expected, "{backlog}");
    let source = if expected < 1024 {
        "somaxconn"
    } else {
        "labour"
    };
    assert_eq!(backlog["source"], source, "{backlog}");
    assert_eq!(
        stalls(&unstalled),
        0,
        "the default queue stalled a connect: {:#}",
        unstalled["client"]
    );
    assert_eq!(unstalled["client"]["all_stalled_secs"], 0.0);
    assert_eq!(
        figure(&unstalled, "requests_per_sec_excluding_stalls"),
        figure(&unstalled, "requests_per_sec")
    );
}

#[test]
fn sigsegv_kills_every_single_process_seed_server_on_python_2_7() {
    if !docker_available("sigsegv_kills_every_single_process_seed_server_on_python_2_7") {
        return;
    }
    let catalogue = Catalogue::embedded();
    let servers: Vec<&str> = catalogue
        .servers()
        .iter()
        .filter(|server| server.is_python27())
        .map(|server| server.name.as_str())
        .collect();
    let selection = servers.join(",");
    // A few requests each: enough for a segfault, a restart and the
    // innocent requests around them. The limit is a hang guard.
    let (results, code) = bench(
        &[
            "--servers",
            &selection,
            "--tests",
            "SIGSEGV",
            "-n",
            "60",
            "--timeout",
            "5s",
        ],
        Duration::from_secs(900),
    );
    assert_eq!(code, 0, "{results:#}");
    for name in servers {
        let cell = cell(&results, name, "SIGSEGV");
        assert_eq!(cell["status"], "completed", "{cell:#}");
        assert_eq!(cell["requests"], 60);
        // Each runs the app in its only process (tornado-py27 without
        // --workers): the segfault takes the server down, the engine
        // restarts it, and the requests meanwhile fail.
        assert!(cell["failed"].as_u64().unwrap() > 0, "{name}: {cell:#}");
        let died_of_sigsegv = cell["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "die" && e["exit_code"] == 139);
        assert!(
            died_of_sigsegv,
            "{name} died of SIGSEGV: {:#}",
            cell["events"]
        );
    }
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}

#[test]
fn sigsegv_on_wsgiref_is_reported_as_failures_in_bounded_time() {
    if !docker_available("sigsegv_on_wsgiref_is_reported_as_failures_in_bounded_time") {
        return;
    }
    // The limit is a hang guard, not a timing assertion.
    let (results, code) = bench(
        &[
            "--servers",
            "wsgiref",
            "--tests",
            "SIGSEGV",
            "-n",
            "300",
            "--timeout",
            "5s",
        ],
        Duration::from_secs(300),
    );
    assert_eq!(code, 0);
    let cell = cell(&results, "wsgiref", "SIGSEGV");
    assert_eq!(cell["status"], "completed");
    assert_eq!(cell["requests"], 300);
    // wsgiref runs the app in its only process: the first segfault kills
    // the server, so most requests find nothing listening. With no init in
    // the container, PID 1 would ignore SIGSEGV and this would pass.
    assert!(cell["failure_ratio"].as_f64().unwrap() > 0.5, "{cell:#}");
    assert!(cell["innocent_failed"].as_u64().unwrap() > 0);
    let died_of_sigsegv = cell["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "die" && e["exit_code"] == 139);
    assert!(
        died_of_sigsegv,
        "the server died of SIGSEGV: {:#}",
        cell["events"]
    );
    let refused = cell["behaviours"][0]["unexpected"]["refused"]
        .as_u64()
        .unwrap_or(0);
    assert!(refused > 0, "{cell:#}");
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}

#[test]
fn ctrl_c_during_a_bench_exits_130_and_leaves_no_container() {
    if !docker_available("ctrl_c_during_a_bench_exits_130_and_leaves_no_container") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    let mut child = Spawned(
        Command::new(assert_cmd::cargo::cargo_bin("labour"))
            .args([
                "bench",
                "--network",
                "host",
                "--servers",
                "wsgiref",
                "--tests",
                "HeavySleep,Plain",
            ])
            .args(["-n", "100000", "--output"])
            .arg(&output)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_for_line(&mut child, "requests over", Duration::from_secs(600));
    std::thread::sleep(Duration::from_secs(1));
    interrupt(&child);
    assert_eq!(wait_with_limit(&mut child, Duration::from_secs(60)), 130);
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(results["interrupted"], true);
    assert_eq!(results["complete"], false);
    let cells = results["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "the second test never started");
    assert_eq!(cells[0]["status"], "interrupted");
    assert_eq!(containers_of_run(run_id(&results)), Vec::<String>::new());
}

#[test]
fn the_results_file_stays_a_whole_document_when_labour_is_killed_between_cells() {
    if !docker_available(
        "the_results_file_stays_a_whole_document_when_labour_is_killed_between_cells",
    ) {
        return;
    }
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    // One cell at a time, each loading for 4 s: once the file holds the
    // first cell, the next is seconds from being written.
    let mut child = Spawned(
        Command::new(assert_cmd::cargo::cargo_bin("labour"))
            .args(["bench", "--network", "host", "--servers", "wsgiref"])
            .args(["--tests", "LightSleep,HeavySleep,Exceptions", "--jobs", "1"])
            .args(["-d", "4s", "--output"])
            .arg(&output)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let read =
        || -> Option<Value> { serde_json::from_str(&std::fs::read_to_string(&output).ok()?).ok() };
    let deadline = Instant::now() + Duration::from_secs(600);
    while read().is_none_or(|r| r["cells"].as_array().unwrap().is_empty()) {
        assert!(Instant::now() < deadline, "no cell was written");
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "labour ended before its first cell was written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL to labour and its client's processes (its own group): no
    // handler runs, nothing is flushed or finished.
    let group = format!("-{}", child.id());
    assert!(
        Command::new("kill")
            .args(["-KILL", "--", &group])
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();
    let results = read().expect("the results file is a whole JSON document");
    assert_valid(&results);
    assert_eq!(results["complete"], false);
    let cells = results["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{cells:#?}");
    assert_eq!(cells[0]["server"], "wsgiref");
    assert_eq!(cells[0]["status"], "completed");
    assert!(cells[0]["requests"].as_u64().unwrap() > 0);
    // A killed labour cannot remove its server: the next run's sweep would;
    // here the test does, by the run's label.
    let run = run_id(&results).to_string();
    for id in containers_of_run(&run) {
        Command::new("docker")
            .args(["rm", "-f", &id])
            .output()
            .unwrap();
    }
    assert_eq!(containers_of_run(&run), Vec::<String>::new());
}

#[test]
fn serve_prints_a_url_that_answers_and_cleans_up_on_ctrl_c() {
    if !docker_available("serve_prints_a_url_that_answers_and_cleans_up_on_ctrl_c") {
        return;
    }
    let mut child = Spawned(
        Command::new(assert_cmd::cargo::cargo_bin("labour"))
            .args(["serve", "waitress", "--network", "host"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = wait_for_line(&mut child, "Ctrl-C stops it", Duration::from_secs(600));
    let container = lines
        .last()
        .and_then(|line| line.split("(container ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .expect("the ready line names the container")
        .to_string();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let address = url
        .trim()
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .expect("serve prints http://127.0.0.1:PORT/");
    assert!(address.starts_with("127.0.0.1:"), "{address}");

    let mut stream = std::net::TcpStream::connect(address).unwrap();
    use std::io::Write;
    stream
        .write_all(
            b"GET /PlainResponse?status=404 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-labour-worker:"),
        "{answer}"
    );

    interrupt(&child);
    assert_eq!(wait_with_limit(&mut child, Duration::from_secs(60)), 0);
    let left = Command::new("docker")
        .args(["ps", "-a", "-q", "--filter", &format!("name={container}")])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "container {container} is still there"
    );
}

#[test]
fn build_builds_images_and_a_failed_build_names_its_server() {
    if !docker_available("build_builds_images_and_a_failed_build_names_its_server") {
        return;
    }
    labour()
        .args([
            "build",
            "--servers",
            "wsgiref",
            "--network",
            "host",
            "--quiet",
        ])
        .timeout(Duration::from_secs(600))
        .assert()
        .success()
        .stdout(predicates::str::contains("labour/wsgiref:"));

    let tree = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
    std::fs::create_dir_all(tree.path().join("app")).unwrap();
    std::fs::copy(
        root.join("app/labour_app.py"),
        tree.path().join("app/labour_app.py"),
    )
    .unwrap();
    std::fs::create_dir_all(tree.path().join("broken")).unwrap();
    std::fs::write(
        tree.path().join("broken/Dockerfile"),
        "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\nRUN echo about to fail && false\n",
    )
    .unwrap();
    std::fs::write(
        tree.path().join("servers.yaml"),
        "servers:\n  - name: broken\n    description: fails to build\n    version: \"0\"\n    \
         concurrency: []\n    command: [python3, /app/labour_app.py, --wsgiref, \"{host}:{port}\"]\n    \
         unsupported: {workers: x, threads: x, worker_timeout: x, max_requests: x, backlog: x}\n",
    )
    .unwrap();
    labour()
        .args(["build", "--network", "host", "--quiet", "--images"])
        .arg(tree.path())
        .arg("--build-logs")
        .arg(logs.path())
        .timeout(Duration::from_secs(600))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "building the image of broken failed",
        ))
        .stderr(predicates::str::contains("about to fail"))
        .stderr(predicates::str::contains(
            "1 image(s) failed to build: broken",
        ));
    let log = std::fs::read_to_string(logs.path().join("broken.log")).unwrap();
    assert!(log.contains("about to fail"), "{log}");
}
