//! Helpers shared by the integration tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `labour` as built for these tests.
pub fn labour() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("labour").expect("the labour binary is built");
    command.env_remove("LABOUR_IMAGES");
    command
}

/// Whether a Docker engine answers. When none does, the test is skipped
/// with a printed reason, or fails if LABOUR_REQUIRE_DOCKER=1.
pub fn docker_available(test: &str) -> bool {
    let answered = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    if answered {
        return true;
    }
    if std::env::var("LABOUR_REQUIRE_DOCKER").as_deref() == Ok("1") {
        panic!("{test}: no Docker engine answers and LABOUR_REQUIRE_DOCKER=1");
    }
    eprintln!("skipping {test}: no Docker engine answers (`docker info` failed)");
    false
}

/// The Python 2.7 base image: LABOUR_BASE_IMAGE_PY27, or the one
/// images/base/build-py27.sh builds.
pub fn py27_base_image() -> String {
    std::env::var("LABOUR_BASE_IMAGE_PY27")
        .ok()
        .filter(|image| !image.is_empty())
        .unwrap_or_else(|| "labour/base:bullseye-py27".to_string())
}

/// Whether a Docker engine answers and has `image`. When not, the test is
/// skipped with a printed reason, or fails if LABOUR_REQUIRE_DOCKER=1.
pub fn docker_image_available(test: &str, image: &str) -> bool {
    if !docker_available(test) {
        return false;
    }
    let present = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    if present {
        return true;
    }
    let reason = format!("image {image} is missing (images/base/build-py27.sh builds it)");
    if std::env::var("LABOUR_REQUIRE_DOCKER").as_deref() == Ok("1") {
        panic!("{test}: {reason} and LABOUR_REQUIRE_DOCKER=1");
    }
    eprintln!("skipping {test}: {reason}");
    false
}

/// Containers still carrying `labour.run=<run_id>`.
pub fn containers_of_run(run_id: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "-q",
            "--filter",
            &format!("label=labour.run={run_id}"),
        ])
        .output()
        .expect("docker ps runs");
    assert!(output.status.success(), "docker ps failed: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Run `labour bench` with `args` and host networking; returns the results
/// document and the process's exit code.
pub fn bench(args: &[&str], limit: Duration) -> (Value, i32) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    let assert = labour()
        .args(["bench", "--network", "host", "--quiet", "--output"])
        .arg(&output)
        .args(args)
        .timeout(limit)
        .assert();
    let code = assert.get_output().status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let text = std::fs::read_to_string(&output)
        .unwrap_or_else(|e| panic!("no results file ({e}); stderr: {stderr}"));
    let results: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&results);
    (results, code)
}

pub fn cell<'a>(results: &'a Value, server: &str, test: &str) -> &'a Value {
    results["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["server"] == server && c["test"] == test)
        .unwrap_or_else(|| panic!("no cell {server} / {test}"))
}

/// The events of `cell` with `action` that happened during the load.
pub fn load_events<'a>(cell: &'a Value, action: &str) -> Vec<&'a Value> {
    cell["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action && e["phase"] == "load")
        .collect()
}

pub fn run_id(results: &Value) -> &str {
    results["run_id"].as_str().unwrap()
}

/// Fail unless `results` follows the checked-in JSON Schema.
pub fn assert_valid(results: &Value) {
    let schema: Value = serde_json::from_str(include_str!("../../schema/results.schema.json"))
        .expect("the checked-in schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the checked-in schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(results)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "results do not follow the schema: {errors:#?}"
    );
}

/// Pids of processes the local runtime started for run `run_id` that are
/// still alive (each carries `LABOUR_RUN=<run_id>` in its environment).
pub fn processes_of_run(run_id: &str) -> Vec<u32> {
    let marker = format!("LABOUR_RUN={run_id}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|&byte| byte == 0)
            .any(|var| var == marker.as_bytes())
        {
            pids.push(pid);
        }
    }
    pids
}

/// Read `child`'s stderr until a line contains `needle`.
pub fn wait_for_line(child: &mut Child, needle: &str, limit: Duration) -> Vec<String> {
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the waiter has gone, so labour never
        // writes into a closed pipe.
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = sender.send(line);
        }
    });
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = receiver.recv_timeout(Duration::from_millis(200)) {
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }
    panic!("no line with {needle:?} within {limit:?}; saw: {seen:#?}");
}

pub fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn wait_with_limit(child: &mut Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("labour did not exit within {limit:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `labour` child process that is interrupted (SIGINT, then SIGKILL after
/// a grace) if still running when the test ends, failing tests included, so
/// no test leaves servers behind.
pub struct Spawned(pub Child);

impl std::ops::Deref for Spawned {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !matches!(self.0.try_wait(), Ok(None)) {
            return;
        }
        interrupt(&self.0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a server's container ran: its configured user (`docker inspect`'s
/// `Config.User`) and the uid `id -u` prints inside it (`docker exec`).
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerUser {
    /// `Config.User`.
    pub user: String,
    /// `id -u` in the running container, or why it could not be read.
    pub uid: String,
}

/// A child process killed (by its pid) and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run `labour bench` with `args` and host networking, as [`bench`] does,
/// and meanwhile look into each server container of the run as it starts
/// (`docker events`, then `docker inspect` and `docker exec ... id -u`):
/// the results, the exit code, and the user of each server's containers.
pub fn bench_with_users(
    args: &[&str],
    limit: Duration,
) -> (
    Value,
    i32,
    std::collections::BTreeMap<String, ContainerUser>,
) {
    use std::collections::BTreeMap;
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.json");
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .saturating_sub(1);
    let mut child = Spawned(
        Command::new(assert_cmd::cargo::cargo_bin("labour"))
            .env_remove("LABOUR_IMAGES")
            .args(["bench", "--network", "host", "--output"])
            .arg(&output)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The run id, from the first lines; the rest of stderr is drained.
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(id) = line
                .strip_prefix("labour: run ")
                .and_then(|rest| rest.split(':').next())
            {
                let _ = sender.send(id.to_string());
            }
            lines.push(line);
        }
        lines
    });
    let run_id = receiver
        .recv_timeout(Duration::from_secs(120))
        .expect("labour bench says its run id");
    // Every start of this run's containers, from before the run began.
    let mut events = Killed(
        Command::new("docker")
            .args(["events", "--since", &since.to_string()])
            .args(["--filter", "type=container", "--filter", "event=start"])
            .args(["--filter", &format!("label=labour.run={run_id}")])
            .args([
                "--format",
                "{{.ID}} {{index .Actor.Attributes \"labour.server\"}}",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker events runs"),
    );
    let users: Arc<Mutex<BTreeMap<String, ContainerUser>>> = Arc::default();
    let seen = Arc::clone(&users);
    let events_out = events.0.stdout.take().unwrap();
    let watcher = std::thread::spawn(move || {
        for line in BufReader::new(events_out).lines() {
            let Ok(line) = line else { break };
            let Some((id, server)) = line.split_once(' ') else {
                continue;
            };
            let run = |args: &[&str]| {
                Command::new("docker")
                    .args(args)
                    .output()
                    .map(|out| {
                        if out.status.success() {
                            String::from_utf8_lossy(&out.stdout).trim().to_string()
                        } else {
                            format!("failed: {}", String::from_utf8_lossy(&out.stderr).trim())
                        }
                    })
                    .unwrap_or_else(|e| format!("failed: {e}"))
            };
            let user = ContainerUser {
                user: run(&["inspect", "--format", "{{.Config.User}}", id]),
                uid: run(&["exec", id, "id", "-u"]),
            };
            seen.lock().unwrap().insert(server.to_string(), user);
        }
    });
    let code = wait_for_exit(&mut child, limit);
    drop(events);
    watcher.join().unwrap();
    let stderr = drain.join().unwrap().join("\n");
    let text = std::fs::read_to_string(&output)
        .unwrap_or_else(|e| panic!("no results file ({e}); stderr: {stderr}"));
    let results: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&results);
    let users = users.lock().unwrap().clone();
    (results, code, users)
}

/// Wait for `child` to exit by itself within `limit`; its exit code.
fn wait_for_exit(child: &mut Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(
            Instant::now() < deadline,
            "labour did not finish within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The base image a live test builds on: LABOUR_BASE_IMAGE, else the
/// official one when the engine has it, else labour's offline one.
pub fn base_image() -> String {
    if let Some(image) = std::env::var("LABOUR_BASE_IMAGE")
        .ok()
        .filter(|image| !image.is_empty())
    {
        return image;
    }
    let official = Command::new("docker")
        .args(["image", "inspect", "python:3.12-slim"])
        .output()
        .is_ok_and(|output| output.status.success());
    if official {
        "python:3.12-slim".into()
    } else {
        "labour/base:bookworm".into()
    }
}
