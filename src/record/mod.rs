//! Observations into records: live objects of a run (the runtime's
//! stopped server and the application's log it read, the client's tallies
//! and pre-flight checks, the faults' firings) turned into the records the
//! results own, each figure computed here once. The only place that knows
//! the client's and the runtime's types and the results' together; `bench`
//! drives, the renderers read what is recorded here.
//!
//! `mod.rs` makes the cells, `load.rs` what the client counted,
//! `durability.rs` what the server process did, `faults.rs` what each
//! firing cost, `funnel.rs` where each request went.

use std::time::{Duration, SystemTime};

use crate::catalogue::Server;
use crate::client::tally::{
    AVAILABILITY_RESOLUTION, AroundMark, Fate, LOSS_BUCKET, Latency, MARK_WINDOW, MsBits,
    TIMELINE_BUCKET, Tally, request_id,
};
use crate::client::{ClientRun, LoadEnd, PreflightCheck};
use crate::plan::{FaultAction, TestSpec};
use crate::results::funnel::{Funnel, Places, Stages};
use crate::results::{
    BehaviourResult, Cell, CellError, CellStatus, ClientRecord, Connects, Durability, EndedBy,
    Engine, EventAction, EventRecord, FailureSample, FaultRecord, GracefulRecord, LATE_FIRING,
    LatencySplit, LatencySummary, OUTAGES_KEPT, Outage, Phase, PreflightRecord, Recovery,
    ResourceSample, Resources, RuntimeKind, STALLS_KEPT, SlowRecord, StallRecord, Stalls,
    WorkerSeen,
};
use crate::runtime::{
    AppLog, AppRequest, EngineInfo, PreparedImage, RunningServer, RuntimeError, StatsSample,
    StoppedServer,
};

mod durability;
mod faults;
mod funnel;
mod load;

pub(crate) use self::faults::Fired;
pub(crate) use self::load::load_results;
use self::{durability::*, faults::*, funnel::*, load::*};

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// The engine, as the results record it.
pub(crate) fn engine(info: EngineInfo) -> Engine {
    Engine {
        runtime: if info.runtime == "local" {
            RuntimeKind::Local
        } else {
            RuntimeKind::Docker
        },
        selection: info.selection,
        version: info.version,
        api_version: info.api_version,
        kernel: info.kernel,
        os: info.os,
        cpus: info.cpus,
        memory_bytes: info.memory_bytes,
        endpoint: info.endpoint,
        host: info.host,
        server_address: info.server_address,
        network: info.network,
        base_images: info.base_images,
        base_image_digests: info
            .base_image_digests
            .into_iter()
            .map(|digest| crate::results::BaseImageDigest {
                image: digest.image,
                id: digest.id,
                repo_digests: digest.repo_digests,
            })
            .collect(),
        choices: info.choices,
    }
}

/// A pre-flight check, as the results record it.
pub(crate) fn preflight_record(check: PreflightCheck) -> PreflightRecord {
    PreflightRecord {
        behaviour: check.behaviour,
        outcome: check.outcome,
        expected: check.expected,
        detail: check.detail,
    }
}

/// A cell whose server could not be built or started.
pub(crate) fn failed(server: &Server, test: &TestSpec, error: &RuntimeError) -> Cell {
    let status = match error {
        RuntimeError::Interrupted => CellStatus::Interrupted,
        RuntimeError::Unsupported { .. } => CellStatus::Skipped,
        _ => CellStatus::Error,
    };
    let mut cell = Cell::new(server, test, status);
    let message = match error {
        // The cell names the server; the reason is the message.
        RuntimeError::Unsupported { reason, .. } => reason.clone(),
        _ => error.to_string(),
    };
    cell.error = Some(CellError {
        message,
        log_tail: error.log_tail().to_vec(),
    });
    cell
}

/// A cell whose test means nothing under its server's interface: skipped,
/// with why; nothing was built for it or sent.
pub(crate) fn skipped(server: &Server, test: &TestSpec, why: String) -> Cell {
    let mut cell = Cell::new(server, test, CellStatus::Skipped);
    cell.error = Some(CellError {
        message: why,
        log_tail: Vec::new(),
    });
    cell
}

/// A cell that sent its load. `interrupted`: the run was cancelled
/// (otherwise a load that stopped early stopped because the server was
/// down for good).
/// Why a run stopped its loads early, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Halted {
    /// A signal.
    Interrupted,
    /// The engine went away.
    EngineLost,
}

pub(crate) fn measured(
    server: &Server,
    test: &TestSpec,
    image: &PreparedImage,
    running: &RunningServer,
    client: ClientRun,
    (stopped, fired): (Result<StoppedServer, RuntimeError>, Vec<Fired>),
    halted: Option<Halted>,
) -> Cell {
    let mut cell = loaded(&server.name, &server.version, test, &client, halted);
    cell.image_tag = Some(image.tag.clone());
    cell.image_id = Some(image.id.clone());
    cell.startup_secs = Some(secs(running.startup));
    cell.python = running.python.clone();
    let app_log = stopped.map(|stopped| served(&mut cell, &client, stopped));
    // The server went down for good before the load's own end came (it
    // settled, or ran out, while the engine was still telling of the
    // death): it is down, whatever ended the load.
    if cell.status == CellStatus::Completed && cell.durability.down_at_secs.is_none() {
        // With no restart policy, a death before labour's stop is final,
        // whether or not the watch heard of it before the stop.
        let never_restarts = server.limits.restart == crate::plan::RestartPolicy::No;
        cell.durability.down_at_secs = cell
            .events
            .iter()
            .find(|e| never_restarts && e.action == EventAction::Die && e.phase != Phase::Teardown)
            .map(|e| e.at_secs);
    }
    if cell.status == CellStatus::Completed && cell.durability.down_at_secs.is_some() {
        cell.status = CellStatus::ServerDown;
    }
    if test.throughput {
        cell.funnel = None;
        cell.funnel_missing = Some(
            "a throughput cell sends no request ids: the application's log would cost a few \
             percent of its rate"
                .into(),
        );
    } else if let Some(target) = &server.target
        && target.wrap.is_none()
    {
        // The user's own application, without labour's middleware: nothing
        // in it logs the requests it saw.
        cell.funnel = None;
        cell.funnel_missing = Some(
            "the application is your own, without labour's middleware (the target's wrap) to \
             log the requests it saw"
                .into(),
        );
    }
    let app = match &app_log {
        Ok(AppLog::Read { requests, .. }) => Some(requests),
        _ => None,
    };
    let starts: Vec<f64> = fired
        .iter()
        .map(|f| secs_since(client.started, f.at))
        .collect();
    cell.faults = fired
        .into_iter()
        .map(|fired| {
            // Losses after a fault are its own until the next fault begins.
            let at = secs_since(client.started, fired.at);
            let next = starts.iter().copied().filter(|&s| s > at).reduce(f64::min);
            fault_record(fired, &client, &cell.events, next, app)
        })
        .collect();
    judge_the_load(&mut cell, &client);
    match app_log {
        Ok(_) => {}
        Err(error) => {
            cell.error = Some(CellError {
                message: format!("after the load: {error}"),
                log_tail: error.log_tail().to_vec(),
            });
        }
    }
    cell
}

/// A completed load that measured nothing, or whose faults came late, is
/// no measurement of its test: its status says which, its error why.
fn judge_the_load(cell: &mut Cell, client: &ClientRun) {
    if cell.status != CellStatus::Completed {
        return;
    }
    let said = |message: String| {
        Some(CellError {
            message,
            log_tail: Vec::new(),
        })
    };
    if cell.requests == 0 {
        // A refused or reset connection is counted as a request: with no
        // request at all, every one sent was still waiting for its answer.
        let why = if !client.worker_failures.is_empty() {
            format!("its client failed: {}", client.worker_failures.join("; "))
        } else {
            "every request sent was still waiting for its answer when the load ended".to_string()
        };
        cell.status = CellStatus::NoLoad;
        cell.error = said(format!(
            "no request was counted in its {:.1} s load: {why}",
            client.elapsed.as_secs_f64()
        ));
        return;
    }
    if let Some(late) = cell
        .faults
        .iter()
        .filter(|f| f.late_secs > LATE_FIRING)
        .max_by(|a, b| a.late_secs.total_cmp(&b.late_secs))
    {
        cell.status = CellStatus::FaultLate;
        cell.error = said(format!(
            "{} due at {:.2} s landed {:.2} s late (more than {LATE_FIRING} s): \
             not a measurement of {}",
            late.action, late.planned_at_secs, late.late_secs, cell.test
        ));
    }
}

/// A cell of a server someone else runs (`labour::measure`): what the
/// client saw, with no engine to say what the server did.
pub(crate) fn external(name: &str, test: &TestSpec, client: ClientRun) -> Cell {
    let mut cell = loaded(name, "", test, &client, None);
    served(&mut cell, &client, StoppedServer::default());
    cell
}

/// What the server did during the load, from what its runtime reported
/// and the client's per-millisecond record of answers.
/// What the server did, from the runtime's account of it; the
/// application's log of its requests is matched with the client's (the
/// cell's funnel) and handed back for the faults' records.
fn served(cell: &mut Cell, client: &ClientRun, stopped: StoppedServer) -> AppLog {
    let tally = &client.tally;
    match funnel(tally, &stopped.app_log) {
        Ok(funnel) => cell.funnel = Some(funnel),
        Err(why) => cell.funnel_missing = Some(why),
    }
    let load_ms = client.elapsed.as_millis() as usize;
    cell.events = event_records(&stopped, client.started);
    cell.durability = durability(
        &cell.events,
        &stopped,
        client.started,
        &tally.ok_ms,
        &tally.failed_ms,
        load_ms,
    );
    cell.resources = resources(&stopped.stats, client.started, stopped.stop_requested_at);
    cell.durability.unresponsive_since_secs = client.gave_up_at.map(secs);
    cell.exit_code = stopped.exit_code;
    cell.oom_killed = stopped.oom_killed;
    cell.log_tail = stopped.log_tail;
    stopped.app_log
}

/// A cell whose pre-flight failed: nothing else was sent.
pub(crate) fn preflight_failed(
    server: &Server,
    test: &TestSpec,
    image: &PreparedImage,
    checks: Vec<PreflightCheck>,
    stopped: Result<StoppedServer, RuntimeError>,
) -> Cell {
    let mut cell = Cell::new(server, test, CellStatus::PreflightFailed);
    cell.image_tag = Some(image.tag.clone());
    cell.image_id = Some(image.id.clone());
    let failed: Vec<String> = checks
        .iter()
        .filter(|check| !check.expected)
        .map(|check| format!("{} got {}", check.behaviour, check.outcome))
        .collect();
    cell.error = Some(CellError {
        message: format!("pre-flight failed: {}", failed.join("; ")),
        log_tail: stopped
            .as_ref()
            .map(|s| s.log_tail.clone())
            .unwrap_or_default(),
    });
    cell.preflight = checks.into_iter().map(preflight_record).collect();
    if let Ok(stopped) = stopped {
        cell.exit_code = stopped.exit_code;
        cell.log_tail = stopped.log_tail;
    }
    cell
}

/// Seconds from `origin` to `at`, negative when `at` is earlier.
fn secs_since(origin: SystemTime, at: SystemTime) -> f64 {
    match at.duration_since(origin) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests;
