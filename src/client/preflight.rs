//! Pre-flight: before the load, each behaviour of the test that any
//! correctly set-up server must answer as expected is requested once
//! (TechEmpower verifies every URL before it benchmarks).

use std::net::SocketAddr;
use std::time::Duration;

use super::connection::{Exchange, Target, exchange};
use super::mix::MixItem;
use crate::behaviour::Outcome;
use crate::plan::TestSpec;

/// One behaviour asked once, and what came back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PreflightCheck {
    /// `Name?params`.
    pub behaviour: String,
    /// What came back.
    pub outcome: Outcome,
    /// Whether it was as expected.
    pub expected: bool,
    /// The error, when there was one.
    pub detail: Option<String>,
}

/// Ask each pre-flight behaviour of `test` once, on its own connection
/// (a target's own requests too; a behaviour's path under `prefix`).
pub(crate) async fn preflight(
    test: &TestSpec,
    address: SocketAddr,
    timeout: Duration,
    prefix: &str,
) -> Vec<PreflightCheck> {
    let mut checks: Vec<PreflightCheck> = Vec::new();
    let host = address.to_string();
    for entry in &test.mix {
        let label = entry.label();
        let asked = entry.request.is_some() || entry.behaviour.preflight();
        if !asked || checks.iter().any(|c| c.behaviour == label) {
            continue;
        }
        let item = MixItem::of(entry, prefix);
        let upload = item.body();
        let head = item.head(&host, false);
        let target = Target {
            head: &head,
            upload: upload.as_deref(),
            keep_alive: false,
            body_check: item.body_check,
            body_contains: item.body_contains(),
        };
        let mut slot = None;
        let answer = tokio::time::timeout(timeout, exchange(&mut slot, address, target))
            .await
            .unwrap_or_else(|_| {
                Exchange::failed(
                    Outcome::Timeout,
                    format!("no complete answer within {:.1} s", timeout.as_secs_f64()),
                )
            });
        checks.push(PreflightCheck {
            behaviour: label,
            outcome: answer.outcome,
            expected: entry.is_expected(&answer.outcome),
            detail: answer.detail,
        });
    }
    checks
}
