//! `labour load`: the client as a plain load generator, with worker
//! processes, against an in-process hyper server on 127.0.0.1.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use predicates::prelude::*;
use serde_json::Value;

use crate::util::labour;

/// A keep-alive server answering "Pong!" on 127.0.0.1, for the life of
/// the test process.
fn serve_pong() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let service = service_fn(|_: Request<hyper::body::Incoming>| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                            b"Pong!\n",
                        ))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    address
}

fn load_json(args: &[&str]) -> Value {
    let output = labour()
        .arg("load")
        .args(args)
        .args(["--format", "json", "--quiet"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn worker_processes_count_every_request() {
    let url = format!("http://{}/", serve_pong());
    let report = load_json(&[&url, "-n", "300", "-c", "4", "-p", "2"]);
    assert_eq!(report["requests"], 300);
    assert_eq!(report["expected"], 300);
    assert_eq!(report["outcomes"]["status_200"], 300);
    assert_eq!(report["processes"], 2);
    assert_eq!(report["latency"]["count"], 300);
    assert!(report["client_peak_rss_bytes"].as_u64().unwrap() > 0);
    assert!(report["client_cpu_secs"].as_f64().unwrap() > 0.0);
    assert_eq!(report["worker_failures"], Value::Array(vec![]));
}

#[test]
fn open_loop_never_sends_ahead_of_its_schedule() {
    let url = format!("http://{}/", serve_pong());
    let report = load_json(&[&url, "-d", "1s", "-r", "50", "-c", "2", "-p", "1"]);
    let requests = report["requests"].as_u64().unwrap();
    // 50 req/s for 1 s: the schedule has at most 50 starts (one per
    // connection at t=0 included), whatever the server's speed.
    assert!((1..=50).contains(&requests), "{requests} requests");
    assert_eq!(report["corrected_latency"]["count"], requests);
    assert!(report["late_starts"].is_u64());
}

#[test]
fn a_duration_bounds_a_closed_loop() {
    let url = format!("http://{}/", serve_pong());
    let report = load_json(&[&url, "-d", "500ms", "-c", "2", "-p", "2"]);
    assert!(report["requests"].as_u64().unwrap() > 0);
    assert_eq!(report["load"]["requests"], Value::Null);
    assert_eq!(report["load"]["duration"], 0.5);
}

/// Pids of `pid`'s children, from /proc.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            found.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    found
}

#[test]
fn a_worker_process_that_dies_is_reported_not_hidden() {
    let url = format!("http://{}/", serve_pong());
    let child = Command::new(assert_cmd::cargo::cargo_bin("labour"))
        .args([
            "load", &url, "-d", "6s", "-c", "4", "-p", "2", "--format", "json", "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let workers = loop {
        let workers = children(child.id());
        if workers.len() == 2 || Instant::now() > deadline {
            break workers;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(workers.len(), 2, "two worker processes");
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-KILL", &workers[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 load worker process(es) failed; their requests are missing"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let failures = report["worker_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].as_str().unwrap().contains("SIGKILL"),
        "{failures:?}"
    );
    assert!(
        report["requests"].as_u64().unwrap() > 0,
        "the other worker's counts remain"
    );
}

#[test]
fn only_plain_http_urls_are_loaded() {
    labour()
        .args(["load", "https://127.0.0.1:1/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("https is not supported"));
    labour()
        .args(["load", "not a url"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a URL"));
}
