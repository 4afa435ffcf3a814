//! Helpers shared by the integration tests.

use std::process::Command;
use std::time::Duration;

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
