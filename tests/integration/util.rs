//! Helpers shared by the integration tests.

use std::process::Command;

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
