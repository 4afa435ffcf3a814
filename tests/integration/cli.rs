//! The command line without Docker: usage errors, listings, a dead engine.
//! (A dead engine with `--runtime auto` falls back to local processes: see
//! local.rs.)

use predicates::prelude::*;

use crate::util::labour;

#[test]
fn a_bad_flag_exits_2_with_a_message() {
    labour()
        .args(["bench", "--requests", "many"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid value 'many' for '--requests",
        ));
    labour()
        .args(["bench", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
    labour()
        .args(["bench", "--requests", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--requests"));
}

#[test]
fn an_unknown_server_exits_2_and_lists_the_known_ones() {
    labour()
        .args([
            "bench",
            "--servers",
            "gunicorn-sync,nginx-unit",
            "--network",
            "host",
        ])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::eq(
            "error: unknown server \"nginx-unit\" (known servers and groups: wsgiref, \
             gunicorn-sync, gunicorn-gthread, gunicorn-gevent, gunicorn-eventlet, uwsgi, \
             waitress, cheroot, twisted, tornado, gevent, eventlet, paste, bjoern, meinheld, \
             granian, pyruvate, mod-wsgi, werkzeug, netius, rocket3, fastpysgi, socketify, \
             hypercorn, wsgiref-py27, twisted-py27, paste-py27, cheroot-py27, gevent-py27, \
             tornado-py27, eventlet-py27, cogen, fapws3, concurrence, uvicorn, uvicorn-workers, \
             gunicorn-uvicorn, hypercorn-asgi, daphne, granian-asgi, seed, wsgi, asgi)\n",
        ));
}

#[test]
fn an_unknown_test_exits_2_and_lists_the_known_ones() {
    labour()
        .args(["bench", "--tests", "plain"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown test \"plain\" (known tests: Plain, LightSleep, HeavySleep, SIGSEGV, Wedge, GilWedge, LoopBlock, Leak, Exceptions, Crash, SlowStream, BigBodies, Chaos, KillWorker, StopWorker, PauseServer, Restart, SlowClients, SlowReaders, GracefulStop)",
        ));
}

#[test]
fn no_engine_answering_exits_2_and_says_so_when_docker_is_insisted_on() {
    labour()
        .args([
            "bench",
            "--runtime",
            "docker",
            "--servers",
            "wsgiref",
            "--tests",
            "Plain",
        ])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with(
            "error: no Docker engine answers at unix:///nonexistent/docker.sock",
        ))
        .stderr(predicate::str::contains("is dockerd running?"));
}

#[test]
fn an_output_file_in_a_missing_directory_is_refused_before_anything_runs() {
    labour()
        .args(["bench", "--output", "/nonexistent/dir/results.json"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "directory /nonexistent/dir does not exist",
        ));
}

#[test]
fn a_broken_images_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("servers.yaml"), "servers: [\n").unwrap();
    labour()
        .args(["list", "servers", "--images"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("servers.yaml"))
        .stderr(predicate::str::contains("line"));
}

#[test]
fn list_shows_servers_and_tests() {
    labour()
        .args(["list", "servers"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wsgiref"))
        .stdout(predicate::str::contains("gunicorn-sync"))
        .stdout(predicate::str::contains("waitress"))
        .stdout(predicate::str::is_match(r"(?m)^NAME +VERSION +INTERFACE +PYTHON ").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^cogen +0\.2\.1 +wsgi +2\.7 ").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^waitress +3\.0\.2 +wsgi +3 ").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^uvicorn +0\.55\.0 +asgi +3 ").unwrap())
        .stdout(predicate::str::contains(
            "Group asgi (--servers asgi): uvicorn, uvicorn-workers, gunicorn-uvicorn, hypercorn-asgi, daphne, granian-asgi\n",
        ))
        .stdout(predicate::str::contains(
            "Group seed (--servers seed): wsgiref, cheroot, twisted, tornado, gevent, eventlet, paste, wsgiref-py27,",
        ))
        // The seed's tenth, built from its vendored source.
        .stdout(predicate::str::is_match(r"(?m)^concurrence +0\.3\.1 +wsgi +2\.7 ").unwrap());
    labour()
        .args(["list", "servers", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cannot be installed").not());
    labour()
        .args(["list", "tests"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PlainResponse?status=404 x1"))
        .stdout(predicate::str::contains("SIGSEGV x50"))
        // How each test ends, and what decides every verdict, once.
        .stdout(predicate::str::contains(
            "ends: at its count or budget (a behaviour that adds up never settles)",
        ))
        .stdout(predicate::str::contains(
            "ends: when its time is over (faults)",
        ))
        .stdout(predicate::str::contains("Every cell's verdict, worst first").count(1));
}

#[test]
fn help_teaches_the_flags() {
    labour()
        .args(["bench", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--servers"))
        .stdout(predicate::str::contains("LABOUR_NETWORK"))
        .stdout(predicate::str::contains("Examples:"));
}

#[test]
fn container_limits_are_checked_before_anything_runs() {
    labour()
        .args(["bench", "--restart", "sometimes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "\"sometimes\" is not a restart policy: no, on-failure, on-failure:N or always",
        ));
    labour()
        .args(["bench", "--memory", "lots"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"lots\" is not a size like 64m"));
    labour()
        .args(["bench", "--memory", "64m", "--memory-swap", "32m"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(2)
        .stderr(predicate::eq(
            "error: --memory-swap must be at least --memory (it counts memory plus swap)\n",
        ));
    labour()
        .args([
            "bench",
            "--servers",
            "wsgiref",
            "--memory",
            "none",
            "--memory-swap",
            "32m",
        ])
        .assert()
        .code(2)
        .stderr(predicate::eq(
            "error: wsgiref: a memory_swap limit needs a memory limit too\n",
        ));
    // Below the default memory limit (256m).
    labour()
        .args(["bench", "--servers", "wsgiref", "--memory-swap", "32m"])
        .assert()
        .code(2)
        .stderr(predicate::eq(
            "error: wsgiref: memory_swap must be at least memory (it counts memory plus swap)\n",
        ));
    labour()
        .args(["bench", "--cpus", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a number of CPUs above zero"));
}

#[test]
fn schema_prints_the_checked_in_json_schema() {
    labour()
        .arg("schema")
        .assert()
        .success()
        .stdout(predicate::eq(include_str!(
            "../../schema/results.schema.json"
        )));
}

/// The checked-in fixture: a real run's results.
fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results-small.json")
}

#[test]
fn report_renders_a_saved_run_in_every_format_without_an_engine() {
    for (format, needle) in [
        (
            "table",
            "Report of request failure percent and requests/sec",
        ),
        ("plain", "requests complete in"),
        ("markdown", "| Server |"),
        ("csv", "server,server_version,test,status"),
        ("html", "<!DOCTYPE html>"),
        ("json", "\"schema_version\""),
    ] {
        labour()
            .args(["report", "--format", format])
            .arg(fixture())
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .assert()
            .code(0)
            .stdout(predicate::str::contains(needle));
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    labour()
        .args(["report", "--output"])
        .arg(&page)
        .arg(fixture())
        .assert()
        .code(0);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "the format follows the extension"
    );
}

#[test]
fn compare_exits_0_on_the_same_run_and_1_on_a_regression() {
    labour()
        .arg("compare")
        .args([fixture(), fixture()])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 got worse"));
    let dir = tempfile::tempdir().unwrap();
    let worse = dir.path().join("worse.json");
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    let plain = results["cells"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["server"] == "gunicorn-sync" && c["test"] == "Plain")
        .unwrap();
    plain["innocent_failure_ratio"] = serde_json::json!(0.03);
    std::fs::write(&worse, serde_json::to_string(&results).unwrap()).unwrap();
    labour()
        .arg("compare")
        .arg(fixture())
        .arg(&worse)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "gunicorn-sync / Plain: innocent f% +3.00 points",
        ));
    labour()
        .args(["compare", "--max-regression", "5%"])
        .arg(fixture())
        .arg(&worse)
        .assert()
        .code(0);
}

#[test]
fn compare_refuses_a_wsgi_cell_against_an_asgi_one_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let asgi = dir.path().join("asgi.json");
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    let server = results["scenario"]["servers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["name"] == "waitress")
        .unwrap();
    server["interface"] = serde_json::json!("asgi");
    std::fs::write(&asgi, serde_json::to_string(&results).unwrap()).unwrap();
    let assert = labour()
        .arg("compare")
        .arg(fixture())
        .arg(&asgi)
        .assert()
        .code(2)
        .stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(
        stderr,
        "error: refusing to compare a WSGI cell with an ASGI one: waitress / SIGSEGV is wsgi in \
         BASE and asgi in NEW (and 2 more)\n"
    );
}

#[test]
fn report_refuses_what_is_not_a_results_document_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, "{\"hello\": 1}").unwrap();
    labour()
        .arg("report")
        .arg(&bogus)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bogus.json: not a labour results document: it has no schema_version",
        ));
    labour()
        .args(["report", "/nonexistent/results.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/nonexistent/results.json: cannot read it",
        ));
}

#[test]
fn report_check_fails_on_the_thresholds_of_the_document_as_bench_would() {
    labour()
        .args(["report", "--check", "--format", "markdown"])
        .arg(fixture())
        .assert()
        .code(0);
    // The same cells, had the run asked for at most 10% failures: the
    // SIGSEGV cells fail it.
    let mut results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    results["scenario"]["thresholds"]["max_failure_ratio"] = serde_json::json!(0.1);
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.json");
    std::fs::write(&strict, serde_json::to_vec(&results).unwrap()).unwrap();
    labour()
        .args(["report", "--check", "--format", "markdown"])
        .arg(&strict)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("| wsgiref"))
        .stderr(predicate::str::contains(
            "threshold failed: wsgiref / SIGSEGV",
        ));
    labour()
        .args(["report", "--format", "markdown"])
        .arg(&strict)
        .assert()
        .code(0);
}
