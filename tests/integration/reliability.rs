//! Nothing leaks, nothing hangs, nothing panics: a run killed outright is
//! swept by the next, signals leave nothing, bad input is refused before
//! anything starts, server containers run with least privilege, and an
//! engine lost mid-run is said.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use serde_json::Value;

use crate::util::{
    Spawned, base_image, bench, cell, containers_of_run, docker_available, interrupt, labour,
    wait_for_line, wait_with_limit,
};

/// A `labour bench` that runs long: wsgiref, HeavySleep, many requests.
fn long_bench(output: &std::path::Path) -> Command {
    long_bench_of(output, "wsgiref", "HeavySleep")
}

/// A long `labour bench` of these servers and tests.
fn long_bench_of(output: &std::path::Path, servers: &str, tests: &str) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("labour"));
    command
        .args(["bench", "--network", "host", "-s", servers, "-t", tests])
        .args(["-n", "100000", "--output"])
        .arg(output)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The run id a bench says on stderr ("run abcd1234: ...").
fn run_of(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|line| line.strip_prefix("labour: run "))
        .and_then(|rest| rest.split(':').next())
        .expect("bench says its run id")
        .to_string()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_killed_bench_leaves_a_container_that_the_next_bench_removes_and_nothing_else() {
    if !docker_available("a_killed_bench_leaves_a_container_that_the_next_bench_removes") {
        return;
    }
    let base = base_image();
    // A container that is not labour's, next to the one the killed run leaves.
    let stranger = Command::new("docker")
        .args([
            "run",
            "-d",
            "--rm",
            "--network",
            "none",
            &base,
            "sleep",
            "300",
        ])
        .output()
        .unwrap();
    assert!(stranger.status.success(), "{stranger:?}");
    let stranger = String::from_utf8_lossy(&stranger.stdout).trim().to_string();

    let dir = tempfile::tempdir().unwrap();
    let mut child = Spawned(long_bench(&dir.path().join("r.json")).spawn().unwrap());
    let lines = wait_for_line(&mut child, "requests over", Duration::from_secs(300));
    let killed_run = run_of(&lines);
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(
        containers_of_run(&killed_run).len(),
        1,
        "kill -9 leaves its server"
    );

    let (results, code) = bench(
        &["-s", "wsgiref", "-t", "Plain", "-n", "50"],
        Duration::from_secs(300),
    );
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(
        containers_of_run(&killed_run),
        Vec::<String>::new(),
        "the next run swept it"
    );
    let alive = Command::new("docker")
        .args(["inspect", "-f", "{{.State.Running}}", &stranger])
        .output()
        .unwrap();
    let _ = Command::new("docker")
        .args(["rm", "-f", &stranger])
        .output();
    assert_eq!(
        String::from_utf8_lossy(&alive.stdout).trim(),
        "true",
        "not labour's: untouched"
    );
}

#[test]
fn sighup_and_a_second_sigint_leave_nothing() {
    if !docker_available("sighup_and_a_second_sigint_leave_nothing") {
        return;
    }
    for signals in [&["HUP"][..], &["INT", "INT"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("r.json");
        let mut child = Spawned(long_bench(&output).spawn().unwrap());
        let lines = wait_for_line(&mut child, "requests over", Duration::from_secs(300));
        let run = run_of(&lines);
        for name in signals {
            signal(&child, name);
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(
            wait_with_limit(&mut child, Duration::from_secs(60)),
            130,
            "{signals:?}"
        );
        assert_eq!(containers_of_run(&run), Vec::<String>::new(), "{signals:?}");
    }
}

#[test]
fn an_empty_name_is_a_located_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for (text, message) in [
        ("tests: [\"\"]\n", ":1:9: tests[0]: an empty name"),
        ("servers: [\"\"]\n", ":1:11: servers[0]: an empty name"),
        (
            "tests:\n  - name: Mine\n    mix: [{behaviour: \"\", weight: 1}]\n",
            ":3:23: tests[0].mix[0].behaviour: an empty name",
        ),
    ] {
        let path = dir.path().join("empty.yaml");
        std::fs::write(&path, text).unwrap();
        // The limit guards against the old hang; it is not a timing.
        labour()
            .args(["bench", "--dry-run", "--scenario"])
            .arg(&path)
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn values_that_would_overflow_later_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("weights.yaml");
    std::fs::write(
        &weights,
        "tests:\n  - name: Heavy\n    mix:\n      - {behaviour: PlainResponse, weight: 4000000000}\n      - {behaviour: SIGSEGV, weight: 4000000000}\n",
    )
    .unwrap();
    for (args, message) in [
        (vec!["--ready-timeout", "1e19"], "--ready-timeout"),
        (vec!["--duration", "1e12"], "--duration"),
        (vec!["--timeout", "1e19"], "--timeout"),
        (vec!["--rate", "0.000001"], "--rate"),
        (vec!["--cpus", "nan"], "--cpus"),
        (vec!["--concurrency", "0"], "--concurrency"),
        (vec!["--pids-limit", "0"], "--pids-limit"),
    ] {
        labour()
            .arg("bench")
            .args(&args)
            .args(["--dry-run"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    labour()
        .args(["bench", "--dry-run", "--scenario"])
        .arg(&weights)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is not a weight from 0 to 1000000",
        ));
    let upload = dir.path().join("upload.yaml");
    std::fs::write(
        &upload,
        "tests:\n  - name: Up\n    mix: [{behaviour: \"EchoUpload?bytes=99999999999\", weight: 1}]\n",
    )
    .unwrap();
    labour()
        .args(["bench", "--dry-run", "--scenario"])
        .arg(&upload)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected integer up to 268435456"));
}

#[test]
fn dry_run_prints_the_plan_and_starts_nothing() {
    labour()
        .args([
            "bench",
            "--dry-run",
            "-s",
            "wsgiref,uwsgi",
            "-t",
            "Plain",
            "--seed",
            "5",
        ])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Plan: 2 server(s) x 1 test(s) = 2 cell(s), seed 5",
        ))
        .stdout(predicate::str::contains("memory 256.0 MiB, 512 processes"));
}

#[test]
fn a_server_container_runs_with_least_privilege_and_the_default_limits() {
    if !docker_available("a_server_container_runs_with_least_privilege") {
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
    let lines = wait_for_line(&mut child, "is serving", Duration::from_secs(300));
    let name = lines
        .iter()
        .find_map(|line| line.split("(container ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .expect("serve names its container")
        .to_string();
    let inspect = Command::new("docker")
        .args(["inspect", &name])
        .output()
        .unwrap();
    interrupt(&child);
    assert_eq!(wait_with_limit(&mut child, Duration::from_secs(60)), 0);
    let inspect: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let host = &inspect[0]["HostConfig"];
    assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]), "{host:#}");
    assert_eq!(
        host["SecurityOpt"],
        serde_json::json!(["no-new-privileges"]),
        "{host:#}"
    );
    assert_eq!(host["Memory"], 256 << 20);
    assert_eq!(host["PidsLimit"], 512);
    let user = inspect[0]["Config"]["User"].as_str().unwrap_or("");
    assert!(
        !user.is_empty() && user != "root" && user != "0",
        "user {user:?}"
    );
}

/// A proxy of the engine's socket on a socket of its own, in a process
/// group of its own so that killing it ends every connection it carries.
struct Proxy {
    child: Child,
    socket: std::path::PathBuf,
}

impl Proxy {
    fn start(dir: &std::path::Path) -> Option<Proxy> {
        let socket = dir.join("engine.sock");
        let child = Command::new("socat")
            .arg(format!("UNIX-LISTEN:{},fork", socket.display()))
            .arg("UNIX-CONNECT:/var/run/docker.sock")
            .process_group(0)
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Proxy { child, socket })
    }

    fn kill(&mut self) {
        // SAFETY: killpg on the group this test started.
        unsafe {
            libc::killpg(self.child.id() as i32, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn an_engine_lost_mid_run_is_said_and_what_finished_is_printed() {
    if !docker_available("an_engine_lost_mid_run_is_said") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(mut proxy) = Proxy::start(dir.path()) else {
        if std::env::var("LABOUR_REQUIRE_DOCKER").as_deref() == Ok("1") {
            panic!("socat is needed to stand in for an engine that goes away");
        }
        eprintln!("skipping: socat is not installed");
        return;
    };
    let output = dir.path().join("r.json");
    let endpoint = format!("unix://{}", proxy.socket.display());
    let mut child = Spawned(
        long_bench_of(&output, "wsgiref,waitress", "Plain,HeavySleep")
            .env("DOCKER_HOST", &endpoint)
            .spawn()
            .unwrap(),
    );
    let lines = wait_for_line(
        &mut child,
        "HeavySleep: 100000 requests",
        Duration::from_secs(300),
    );
    let run = run_of(&lines);
    std::thread::sleep(Duration::from_secs(1));
    proxy.kill();
    let code = wait_with_limit(&mut child, Duration::from_secs(120));
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    // The servers of the lost run, through the real socket.
    for id in containers_of_run(&run) {
        let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    }
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("Engine lost"),
        "the table of what finished: {stdout}"
    );
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let lost = results["engine_lost"].as_str().unwrap_or_default();
    assert!(lost.contains(&endpoint), "{lost}");
    let in_flight = cell(&results, "wsgiref", "HeavySleep");
    assert_eq!(in_flight["status"], "engine_lost", "{in_flight:#}");
    assert!(
        results["cells"].as_array().unwrap().len() < 4,
        "the rest was not attempted"
    );
}
