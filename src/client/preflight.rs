//! Pre-flight: before the load, each behaviour of the test that any
//! correctly set-up server must answer as expected is requested once
//! (TechEmpower verifies every URL before it benchmarks).

use std::net::SocketAddr;
use std::time::Duration;

use super::connection::{Exchange, Target, exchange, request_head};
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

/// Ask each pre-flight behaviour of `test` once, on its own connection.
pub(crate) async fn preflight(
    test: &TestSpec,
    address: SocketAddr,
    timeout: Duration,
) -> Vec<PreflightCheck> {
    let mut checks: Vec<PreflightCheck> = Vec::new();
    let host = address.to_string();
    for entry in &test.mix {
        let behaviour = &entry.behaviour;
        let label = behaviour.to_string();
        if !behaviour.preflight() || checks.iter().any(|c| c.behaviour == label) {
            continue;
        }
        let upload = behaviour
            .upload_len()
            .map(|len| vec![b'u'; usize::try_from(len).unwrap_or(usize::MAX)]);
        let head = request_head(
            &behaviour.path_and_query(),
            &host,
            behaviour.upload_len(),
            false,
        );
        let target = Target {
            head: &head,
            upload: upload.as_deref(),
            keep_alive: false,
            body_check: behaviour.body_check(),
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
            expected: behaviour.is_expected(&answer.outcome),
            detail: answer.detail,
        });
    }
    checks
}
