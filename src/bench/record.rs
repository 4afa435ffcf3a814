//! Live objects of a run (the runtime's stopped server, the client's
//! tallies, its pre-flight checks) turned into the records the results
//! own. The only place that knows both sides.

use std::time::{Duration, SystemTime};

use super::fault::Fired;
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

/// The application's requests by id, as its log has them.
type AppRequests = std::collections::BTreeMap<u64, AppRequest>;

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

/// The connections a load opened and those that stalled, as a cell's
/// client record and `labour load`'s results both keep them.
pub(crate) fn connects(tally: &Tally) -> Connects {
    Connects {
        count: tally.connects,
        time: summary(&tally.connect_times),
        stalls: tally.connect_stalls(),
        stalled_secs: secs(tally.connect_stalled_time()),
    }
}

fn summary(latency: &Latency) -> LatencySummary {
    LatencySummary::from_micros(&latency.0)
}

/// The engine, as the results record it.
pub(super) fn engine(info: EngineInfo) -> Engine {
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
pub(super) fn preflight_record(check: PreflightCheck) -> PreflightRecord {
    PreflightRecord {
        behaviour: check.behaviour,
        outcome: check.outcome,
        expected: check.expected,
        detail: check.detail,
    }
}

/// A cell whose server could not be built or started.
pub(super) fn failed(server: &Server, test: &TestSpec, error: &RuntimeError) -> Cell {
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
pub(super) fn skipped(server: &Server, test: &TestSpec, why: String) -> Cell {
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
pub(super) enum Halted {
    /// A signal.
    Interrupted,
    /// The engine went away.
    EngineLost,
}

pub(super) fn measured(
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
pub(super) fn external(name: &str, test: &TestSpec, client: ClientRun) -> Cell {
    let mut cell = loaded(name, "", test, &client, None);
    served(&mut cell, &client, StoppedServer::default());
    cell
}

/// A cell with what the load measured: how it ended, the counts,
/// latencies, timeline and the client's own figures.
fn loaded(
    server: &str,
    version: &str,
    test: &TestSpec,
    client: &ClientRun,
    halted: Option<Halted>,
) -> Cell {
    let ended_by = match client.ended {
        _ if halted == Some(Halted::Interrupted) => EndedBy::Interrupted,
        _ if halted == Some(Halted::EngineLost) => EndedBy::EngineLost,
        LoadEnd::Stopped => EndedBy::ServerDown,
        LoadEnd::GaveUp => EndedBy::Unresponsive,
        LoadEnd::Budget => EndedBy::Budget,
        LoadEnd::Duration => EndedBy::Duration,
        LoadEnd::Requests => EndedBy::Requests,
        LoadEnd::Settled => EndedBy::Settled,
    };
    let status = match ended_by {
        EndedBy::Interrupted => CellStatus::Interrupted,
        EndedBy::EngineLost => CellStatus::EngineLost,
        EndedBy::ServerDown => CellStatus::ServerDown,
        EndedBy::Unresponsive => CellStatus::Unresponsive,
        EndedBy::Budget | EndedBy::Requests | EndedBy::Duration | EndedBy::Settled => {
            CellStatus::Completed
        }
    };
    let mut cell = Cell::named(server, version, &test.name, status);
    cell.timeline.bucket_ms = TIMELINE_BUCKET.as_millis() as u64;
    cell.ended_by = Some(ended_by);
    fill(&mut cell, test, client);
    let all_stalled = client.tally.all_stalled_time();
    cell.client = ClientRecord {
        processes: client.processes,
        cpu_secs: client.usage.map(|u| u.cpu_secs),
        peak_rss_bytes: client.usage.map(|u| u.peak_rss_bytes),
        worker_failures: client.worker_failures.clone(),
        sequence_digest: Some(format!("{:016x}", client.tally.sequence_digest())),
        connects: connects(&client.tally),
        all_stalled_secs: secs(all_stalled),
    };
    cell.requests_per_sec_excluding_stalls =
        rate_excluding(cell.requests, client.elapsed, all_stalled);
    cell.stalls = Some(stalls(&client.tally, client.elapsed, test.load().stall));
    // The timeline runs to the end of the load, not to the last answer: a
    // freeze at the end is drawn.
    let buckets = client
        .elapsed
        .as_millis()
        .div_ceil(TIMELINE_BUCKET.as_millis()) as usize;
    if cell.timeline.expected.len() < buckets {
        cell.timeline.expected.resize(buckets, 0);
        cell.timeline.failed.resize(buckets, 0);
    }
    cell
}

/// The stretches of the load in which innocent requests waited and none
/// came back, of at least `threshold`.
fn stalls(tally: &Tally, elapsed: Duration, threshold: Duration) -> Stalls {
    let resolution = AVAILABILITY_RESOLUTION.as_secs_f64();
    let runs = tally.innocent_waiting_ms.runs_unless(
        &tally.innocent_back_ms,
        (threshold.as_secs_f64() / resolution).ceil() as usize,
        (elapsed.as_secs_f64() / resolution).ceil() as usize,
    );
    let secs = |ms: usize| ms as f64 * resolution;
    let total: f64 = runs.iter().map(|(from, to)| secs(to - from)).sum();
    Stalls {
        threshold_secs: threshold.as_secs_f64(),
        count: runs.len() as u64,
        longest_secs: runs
            .iter()
            .map(|(from, to)| secs(to - from))
            .fold(0.0, f64::max),
        total_secs: total,
        share_of_load: if elapsed.is_zero() {
            0.0
        } else {
            total / elapsed.as_secs_f64()
        },
        waiting_at_end: tally.innocent_waiting_at_end,
        list: runs
            .iter()
            .take(STALLS_KEPT)
            .map(|&(from, to)| StallRecord {
                from_secs: secs(from),
                to_secs: secs(to),
            })
            .collect(),
    }
}

/// `requests` over the load's wall time less the time in which every
/// connection waited in a stalled connect; `None` when nothing is left.
fn rate_excluding(requests: u64, elapsed: Duration, all_stalled: Duration) -> Option<f64> {
    let left = elapsed.saturating_sub(all_stalled);
    (!left.is_zero()).then(|| requests as f64 / left.as_secs_f64())
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

/// Each request the client sent, matched by its id with the application's
/// log: how many reached each stage, and where each one that did not come
/// back as expected died. Counted, request by request; an error says why
/// there is no application's account to match.
pub(crate) fn funnel(tally: &Tally, log: &AppLog) -> Result<Funnel, String> {
    let (app, bad_lines) = match log {
        AppLog::Read {
            requests,
            bad_lines,
        } => (requests, *bad_lines),
        AppLog::Unread(why) => return Err(why.clone()),
    };
    let mut funnel = Funnel {
        bad_lines,
        ..Funnel::default()
    };
    let mut matched = 0;
    for (&connection, fates) in &tally.fates {
        for (number, letter) in fates.chars().enumerate() {
            let Some((fate, innocent)) = Fate::from_letter(letter) else {
                continue;
            };
            let seen = app.get(&request_id(connection, number as u64));
            matched += u64::from(seen.is_some());
            if fate == Fate::Expected && seen.is_none() {
                funnel.answered_unseen += 1;
            }
            count_stages(&mut funnel.all, fate, seen);
            if innocent {
                count_stages(&mut funnel.innocent, fate, seen);
            }
            if fate.expected() || fate == Fate::Waiting {
                continue;
            }
            count_place(&mut funnel.lost, fate, seen);
            if innocent {
                count_place(&mut funnel.innocent_lost, fate, seen);
            }
        }
    }
    funnel.unknown_to_client = app.len() as u64 - matched;
    Ok(funnel)
}

fn count_stages(stages: &mut Stages, fate: Fate, seen: Option<&AppRequest>) {
    stages.sent += 1;
    stages.connected += u64::from(fate != Fate::Refused);
    stages.reached += u64::from(seen.is_some());
    stages.finished += u64::from(seen.is_some_and(|r| r.finished.is_some()));
    stages.came_back += u64::from(fate.expected());
    stages.waiting_at_end += u64::from(fate == Fate::Waiting);
}

fn count_place(places: &mut Places, fate: Fate, seen: Option<&AppRequest>) {
    match seen {
        _ if fate == Fate::Refused => places.refused += 1,
        None => places.before_application += 1,
        Some(AppRequest { finished: None, .. }) => places.inside_application += 1,
        Some(_) => places.on_the_way_back += 1,
    }
}

/// The fate the client recorded for request `id`.
fn fate_of(tally: &Tally, id: u64) -> Option<Fate> {
    let letters = tally.fates.get(&((id >> 32) as usize))?;
    let letter = *letters.as_bytes().get((id & 0xffff_ffff) as usize)?;
    Fate::from_letter(letter as char).map(|(fate, _)| fate)
}

/// The window of the answer rates before and after a fault.
const RATE_WINDOW: f64 = 1.0;

/// Answers as expected a second in `[from, to)` seconds of the load, from
/// the timeline's whole buckets in it; `None` when none is whole.
fn expected_rate(timeline: &[(u64, u64)], from: f64, to: f64) -> Option<f64> {
    let bucket = TIMELINE_BUCKET.as_secs_f64();
    let first = (from / bucket).ceil().max(0.0) as usize;
    let last = (to / bucket).floor().max(0.0) as usize;
    (last > first).then(|| {
        let expected: u64 = timeline
            .iter()
            .skip(first)
            .take(last - first)
            .map(|(ok, _)| ok)
            .sum();
        expected as f64 / ((last - first) as f64 * bucket)
    })
}

/// Innocent requests that failed in `[from, to)` seconds of the load, by
/// [`LOSS_BUCKET`].
fn innocent_lost(failed: &[u32], from: f64, to: f64) -> u64 {
    if to <= from {
        return 0;
    }
    let bucket = LOSS_BUCKET.as_secs_f64();
    let first = (from / bucket).floor().max(0.0) as usize;
    let last = (to / bucket).ceil().max(0.0) as usize;
    failed
        .iter()
        .skip(first)
        .take(last.saturating_sub(first))
        .map(|&n| u64::from(n))
        .sum()
}

/// One fired fault, with what it cost: the innocent requests lost while it
/// lasted and until the next answer as expected after it, and for a
/// graceful stop what became of the requests in flight.
fn fault_record(
    fired: Fired,
    client: &ClientRun,
    events: &[EventRecord],
    next_fault_at: Option<f64>,
    app: Option<&AppRequests>,
) -> FaultRecord {
    let tally = &client.tally;
    let at_secs = secs_since(client.started, fired.at);
    let until_secs = fired.until.map(|until| secs_since(client.started, until));
    let end_secs = until_secs.unwrap_or(at_secs).max(at_secs);
    let load_secs = client.elapsed.as_secs_f64();
    let resolution = AVAILABILITY_RESOLUTION.as_secs_f64();
    // The first millisecond wholly after the fault's end with an answer as
    // expected.
    let end_ms = (end_secs / resolution).floor().max(0.0) as usize;
    let back_ms = tally.ok_ms.next_set(end_ms + 1);
    let recovered_after_secs = back_ms.map(|ms| (ms as f64 * resolution - end_secs).max(0.0));
    let back_secs = back_ms
        .map_or(load_secs, |ms| ms as f64 * resolution)
        .min(next_fault_at.unwrap_or(f64::INFINITY))
        .max(end_secs);
    // Answers as expected a second, before it and while it lasts (the
    // second after an instant).
    let during_to = if until_secs.is_some() {
        end_secs
    } else {
        at_secs + RATE_WINDOW
    };
    let rate = |from: f64, to: f64| expected_rate(&tally.timeline, from, to.min(load_secs));
    let graceful = (fired.spec.action == FaultAction::GracefulStop).then(|| {
        let exit = events
            .iter()
            .find(|e| e.action == EventAction::Die && e.at_secs >= at_secs)
            .map(|e| e.at_secs);
        let term = Duration::from_secs_f64(at_secs.max(0.0));
        // Requests in flight at SIGTERM, if the client watched that moment.
        let in_flight: Option<Vec<&AroundMark>> = fired
            .mark
            .and_then(|mark| Some((tally.marks.get(mark)?, tally.around_marks.get(mark)?)))
            .filter(|(mark, _)| mark.abs_diff(term) <= MARK_WINDOW)
            .map(|(_, kept)| {
                kept.iter()
                    .filter(|r| r.began < term && r.ended > term)
                    .collect()
            });
        let refused_after_secs = {
            let from = (at_secs / resolution).ceil().max(0.0) as usize;
            tally
                .refused_ms
                .next_set(from)
                .map(|ms| ms as f64 * resolution)
                .filter(|&t| exit.is_none_or(|exit| t < exit))
                .map(|t| (t - at_secs).max(0.0))
        };
        let exited_after_secs = exit.map(|exit| exit - at_secs);
        let mut record = GracefulRecord {
            in_flight: in_flight.as_ref().map(|r| r.len() as u64),
            in_flight_completed: in_flight
                .as_ref()
                .map(|r| r.iter().filter(|r| r.expected).count() as u64),
            exited_after_secs,
            refused_after_secs,
            ..GracefulRecord::default()
        };
        if let Some(app) = app {
            in_hand(&mut record, tally, app, fired.at, in_flight.as_deref());
        }
        record
    });
    FaultRecord {
        action: fired.spec.action.name().to_string(),
        declared: fired.spec.to_string(),
        planned_at_secs: fired.planned.as_secs_f64(),
        late_secs: fired.late.as_secs_f64(),
        at_secs,
        until_secs,
        target: fired.target,
        error: fired.error,
        innocent_lost_during: innocent_lost(&tally.innocent_failed, at_secs, end_secs),
        innocent_lost_after: innocent_lost(&tally.innocent_failed, end_secs, back_secs),
        recovered_after_secs,
        expected_per_sec_before: rate((at_secs - RATE_WINDOW).max(0.0), at_secs),
        expected_per_sec_during: rate(at_secs, during_to),
        slow: fired.slow.map(|slow| SlowRecord {
            opened: slow.opened,
            refused: slow.refused,
            closed_by_server: slow.closed_by_server,
            open_at_end: slow.open_at_end,
            bytes_sent: slow.bytes_sent,
            bytes_read: slow.bytes_read,
            closed_after_median_secs: median(&slow.closed_after_secs),
        }),
        graceful,
    }
}

/// What the application had in hand when the server got SIGTERM at
/// `term`: the requests it had started and not finished, what became of
/// them, and the requests in flight that never reached it and failed
/// (queued in the kernel, then reset). The server was graceful when it
/// finished and answered every request it had in hand, then exited.
fn in_hand(
    record: &mut GracefulRecord,
    tally: &Tally,
    app: &AppRequests,
    term: SystemTime,
    in_flight: Option<&[&AroundMark]>,
) {
    let term = term
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let held: Vec<(u64, &AppRequest)> = app
        .iter()
        .filter(|(_, r)| r.started <= term && r.finished.is_none_or(|f| f > term))
        .map(|(&id, r)| (id, r))
        .collect();
    let finished = held.iter().filter(|(_, r)| r.finished.is_some()).count() as u64;
    let came_back = held
        .iter()
        .filter(|(id, _)| fate_of(tally, *id).is_some_and(Fate::expected))
        .count() as u64;
    let in_hand = held.len() as u64;
    record.in_hand = Some(in_hand);
    record.in_hand_finished = Some(finished);
    record.in_hand_came_back = Some(came_back);
    record.queued_reset = in_flight.map(|requests| {
        requests
            .iter()
            .filter(|r| !r.expected && !app.contains_key(&r.id))
            .count() as u64
    });
    record.graceful = (in_hand > 0).then_some(
        finished == in_hand && came_back == in_hand && record.exited_after_secs.is_some(),
    );
}

/// A cell whose pre-flight failed: nothing else was sent.
pub(super) fn preflight_failed(
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

/// Fill `cell`'s load figures from what the client counted.
fn fill(cell: &mut Cell, test: &TestSpec, client: &ClientRun) {
    let tally = &client.tally;
    let open_loop = test.load().rate.is_some();
    for (entry, counted) in test.mix.iter().zip(&tally.behaviours) {
        let requests = counted.requests();
        if entry.is_innocent() {
            cell.innocent_requests += requests;
            cell.innocent_failed += requests - counted.expected;
        }
        cell.behaviours.push(BehaviourResult {
            behaviour: entry.label(),
            innocent: entry.is_innocent(),
            weight: entry.weight,
            expectation: entry.expectation(),
            requests,
            expected: counted.expected,
            outcomes: counted
                .outcomes
                .iter()
                .map(|(outcome, count)| (*outcome, *count))
                .collect(),
            unexpected: counted
                .outcomes
                .iter()
                .filter(|(outcome, _)| !entry.is_expected(outcome))
                .map(|(outcome, count)| (*outcome, *count))
                .collect(),
            latency: summary(&counted.latency),
            headers_latency: summary(&counted.headers),
            corrected_latency: open_loop.then(|| summary(&counted.corrected)),
            connect_stalls: counted.connect_stalls,
        });
    }
    let mut innocent = (Latency::default(), Latency::default());
    let mut misbehaving = (Latency::default(), Latency::default());
    for (entry, counted) in test.mix.iter().zip(&tally.behaviours) {
        let into = if entry.is_innocent() {
            &mut innocent
        } else {
            &mut misbehaving
        };
        into.0.merge(&counted.latency);
        into.1.merge(&counted.corrected);
    }
    cell.latency = LatencySplit {
        innocent: summary(&innocent.0),
        misbehaving: summary(&misbehaving.0),
        innocent_corrected: open_loop.then(|| summary(&innocent.1)),
        misbehaving_corrected: open_loop.then(|| summary(&misbehaving.1)),
        late_starts: tally.late_starts,
    };
    cell.requests = tally.requests();
    cell.expected = tally.expected();
    cell.failed = cell.requests - cell.expected;
    cell.failure_ratio = ratio(cell.failed, cell.requests);
    cell.innocent_failure_ratio = ratio(cell.innocent_failed, cell.innocent_requests);
    cell.duration_secs = secs(client.elapsed);
    cell.requests_per_sec = if client.elapsed.is_zero() {
        0.0
    } else {
        cell.requests as f64 / cell.duration_secs
    };
    cell.workers_seen = tally
        .worker_pids
        .iter()
        .map(|(pid, at)| WorkerSeen {
            pid: *pid,
            first_seen_secs: secs(*at),
        })
        .collect();
    cell.timeline.expected = tally.timeline.iter().map(|bucket| bucket.0).collect();
    cell.timeline.failed = tally.timeline.iter().map(|bucket| bucket.1).collect();
    cell.failure_samples = tally
        .samples
        .iter()
        .map(|sample| FailureSample {
            at_secs: secs(sample.at),
            behaviour: test.mix[sample.mix_index].label(),
            outcome: sample.outcome,
            worker_pid: sample.worker_pid,
            detail: sample.detail.clone(),
        })
        .collect();
}

/// Seconds from `origin` to `at`, negative when `at` is earlier.
fn secs_since(origin: SystemTime, at: SystemTime) -> f64 {
    match at.duration_since(origin) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// The engine's events as records, phased against the load.
fn event_records(stopped: &StoppedServer, load_started: SystemTime) -> Vec<EventRecord> {
    let teardown_from = stopped
        .stop_requested_at
        .map(|at| secs_since(load_started, at));
    stopped
        .events
        .iter()
        .map(|event| {
            let at_secs = secs_since(load_started, event.at);
            let phase = if at_secs < 0.0 {
                Phase::Startup
            } else if teardown_from.is_some_and(|from| at_secs >= from) {
                Phase::Teardown
            } else {
                Phase::Load
            };
            EventRecord {
                at_secs,
                phase,
                action: EventAction::named(&event.action),
                exit_code: event.exit_code,
                signal: event.signal.clone(),
                log_tail: event.log_tail.clone(),
            }
        })
        .collect()
}

fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Stretches in which requests failed and none came back as expected,
/// from the per-millisecond record of a load that lasted `load_ms`.
fn outages(ok: &MsBits, failed: &MsBits, load_ms: usize) -> Vec<Outage> {
    let resolution = AVAILABILITY_RESOLUTION.as_secs_f64();
    let end = load_ms.max(ok.len()).max(failed.len());
    let mut found = Vec::new();
    let mut down_from: Option<usize> = None;
    for ms in 0..end {
        let (good, bad) = (ok.get(ms), failed.get(ms));
        match down_from {
            None if bad && !good => down_from = Some(ms),
            Some(from) if good => {
                found.push(Outage {
                    from_secs: from as f64 * resolution,
                    to_secs: ms as f64 * resolution,
                    until_end: false,
                });
                down_from = None;
            }
            _ => {}
        }
    }
    if let Some(from) = down_from {
        found.push(Outage {
            from_secs: from as f64 * resolution,
            to_secs: load_ms.max(from + 1) as f64 * resolution,
            until_end: true,
        });
    }
    found
}

/// The durability figures from the engine's events and the client's
/// per-millisecond record of answers.
fn durability(
    events: &[EventRecord],
    stopped: &StoppedServer,
    load_started: SystemTime,
    ok: &MsBits,
    failed: &MsBits,
    load_ms: usize,
) -> Durability {
    let resolution_ms = AVAILABILITY_RESOLUTION.as_millis() as u64;
    let during_load = |action: EventAction| {
        events
            .iter()
            .filter(|e| e.phase == Phase::Load && e.action == action)
            .count() as u64
    };
    let recoveries: Vec<Recovery> = events
        .iter()
        .filter(|e| e.phase == Phase::Load && e.action == EventAction::Die)
        .map(|death| {
            // The first millisecond wholly after the death with an answer
            // as expected.
            let died_ms = (death.at_secs * 1000.0 / resolution_ms as f64).floor() as usize;
            let back = ok.next_set(died_ms + 1);
            Recovery {
                died_at_secs: death.at_secs,
                exit_code: death.exit_code,
                recovered_after_secs: back
                    .map(|ms| (ms as f64 * resolution_ms as f64 / 1000.0 - death.at_secs).max(0.0)),
            }
        })
        .collect();
    let mut times: Vec<f64> = recoveries
        .iter()
        .filter_map(|r| r.recovered_after_secs)
        .collect();
    times.sort_by(f64::total_cmp);
    let stretches = outages(ok, failed, load_ms);
    Durability {
        dies: recoveries.len() as u64,
        oom_kills: during_load(EventAction::Oom),
        restarts: during_load(EventAction::Start) + during_load(EventAction::Restart),
        restart_count: stopped.restart_count,
        time_to_recover_median_secs: median(&times),
        time_to_recover_max_secs: times.last().copied(),
        recoveries,
        downtime_secs: stretches
            .iter()
            .fold(0.0, |total, o| total + (o.to_secs - o.from_secs)),
        outages: stretches.len() as u64,
        outage_list: stretches.into_iter().take(OUTAGES_KEPT).collect(),
        down_at_secs: stopped.down_at.map(|at| secs_since(load_started, at)),
        unresponsive_since_secs: None,
        resolution_ms,
    }
}

/// Resource use from the stats samples read before `until` (labour's stop
/// request: a server shutting down is not using what it used).
fn resources(
    samples: &[StatsSample],
    load_started: SystemTime,
    until: Option<SystemTime>,
) -> Resources {
    let samples: Vec<&StatsSample> = samples
        .iter()
        .filter(|s| until.is_none_or(|until| s.at < until))
        .collect();
    let cpu: Vec<f64> = samples.iter().filter_map(|s| s.cpu_percent).collect();
    Resources {
        samples: samples
            .iter()
            .map(|s| ResourceSample {
                at_secs: secs_since(load_started, s.at),
                memory_bytes: s.memory_bytes,
                cpu_percent: s.cpu_percent,
            })
            .collect(),
        memory_max_sampled_bytes: samples.iter().map(|s| s.memory_bytes).max(),
        memory_peak_bytes: samples.iter().filter_map(|s| s.memory_peak_bytes).max(),
        cpu_mean_percent: (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64),
        cpu_max_percent: cpu.iter().copied().max_by(f64::total_cmp),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::runtime::ServerEvent;

    #[test]
    fn every_lost_request_is_placed_by_the_application_log() {
        let mut tally = Tally::new(1);
        // Connection 0: answered; reset before the app; died inside it;
        // finished inside it, then cut on the way back; refused. Connection
        // 1: a crash that closed, as expected, unseen; still waiting.
        tally.fates.insert(0, "ECCUR".into());
        tally.fates.insert(1, "xW".into());
        let at = |started, finished| AppRequest {
            pid: 9,
            started,
            finished,
        };
        let requests = AppRequests::from([
            (request_id(0, 0), at(1.0, Some(1.1))),
            (request_id(0, 2), at(2.0, None)),
            (request_id(0, 3), at(3.0, Some(3.2))),
            (request_id(1, 1), at(4.0, None)),
            // An id the client never sent.
            (request_id(7, 0), at(5.0, None)),
        ]);
        let log = AppLog::Read {
            requests,
            bad_lines: 1,
        };
        let counted = funnel(&tally, &log).unwrap();
        assert_eq!(
            counted.all,
            Stages {
                sent: 7,
                connected: 6,
                reached: 4,
                finished: 2,
                came_back: 2,
                waiting_at_end: 1,
            }
        );
        assert_eq!(
            counted.innocent_lost,
            Places {
                refused: 1,
                before_application: 1,
                inside_application: 1,
                on_the_way_back: 1,
            }
        );
        assert_eq!(counted.innocent.sent, 6);
        assert_eq!(
            counted.lost.total(),
            4,
            "the crash that closed came back as expected"
        );
        assert_eq!(
            (
                counted.answered_unseen,
                counted.unknown_to_client,
                counted.bad_lines
            ),
            (0, 1, 1)
        );
        let unread = AppLog::Unread("no log".into());
        assert_eq!(funnel(&tally, &unread), Err("no log".to_string()));
    }

    #[test]
    fn a_stop_is_graceful_when_every_request_in_hand_finished_and_came_back() {
        let term = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let mut tally = Tally::new(1);
        tally.fates.insert(0, "EEc".into());
        let at = |started, finished| AppRequest {
            pid: 9,
            started,
            finished,
        };
        // Request 0 finished before SIGTERM; 1 was in hand and finished
        // after it; 2 never reached the application (queued, then reset).
        let app = AppRequests::from([
            (request_id(0, 0), at(98.0, Some(99.0))),
            (request_id(0, 1), at(99.5, Some(100.4))),
        ]);
        let queued = AroundMark {
            id: request_id(0, 2),
            began: Duration::from_secs(1),
            ended: Duration::from_secs(3),
            expected: false,
        };
        let mut record = GracefulRecord {
            exited_after_secs: Some(0.5),
            ..GracefulRecord::default()
        };
        in_hand(&mut record, &tally, &app, term, Some(&[&queued]));
        assert_eq!(
            (
                record.in_hand,
                record.in_hand_finished,
                record.in_hand_came_back
            ),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(record.queued_reset, Some(1));
        assert_eq!(record.graceful, Some(true));
        // The same, had the server not exited: not graceful.
        let mut stayed = GracefulRecord::default();
        in_hand(&mut stayed, &tally, &app, term, None);
        assert_eq!(stayed.graceful, Some(false));
        // Nothing in hand: the stop asked nothing.
        let mut idle = GracefulRecord::default();
        in_hand(&mut idle, &tally, &AppRequests::new(), term, None);
        assert_eq!(idle.graceful, None);
    }

    fn bits(marks: &[usize]) -> MsBits {
        let mut bits = MsBits::default();
        for &ms in marks {
            bits.set(ms);
        }
        bits
    }

    fn event(origin: SystemTime, at_ms: u64, action: &str, exit_code: Option<i64>) -> ServerEvent {
        ServerEvent {
            at: origin + Duration::from_millis(at_ms),
            action: action.into(),
            exit_code,
            signal: None,
            log_tail: Vec::new(),
        }
    }

    #[test]
    fn outages_run_from_the_first_failure_to_the_next_success() {
        let ok = bits(&[0, 1, 2, 10, 11, 30]);
        let failed = bits(&[3, 4, 5, 20, 40]);
        let found = outages(&ok, &failed, 50);
        assert_eq!(found.len(), 3);
        assert_eq!((found[0].from_secs, found[0].to_secs), (0.003, 0.010));
        assert_eq!((found[1].from_secs, found[1].to_secs), (0.020, 0.030));
        assert_eq!((found[2].from_secs, found[2].to_secs), (0.040, 0.050));
        assert!(found[2].until_end && !found[0].until_end);
    }

    #[test]
    fn a_millisecond_with_a_success_is_not_down() {
        let ok = bits(&[5]);
        let failed = bits(&[5, 6]);
        let found = outages(&ok, &failed, 7);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].from_secs, 0.006);
    }

    #[test]
    fn recovery_is_the_next_success_after_each_death() {
        let origin = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let stopped = StoppedServer {
            restart_count: 2,
            stop_requested_at: Some(origin + Duration::from_millis(900)),
            events: vec![
                event(origin, 0, "start", None).clone(),
                ServerEvent {
                    at: origin - Duration::from_millis(50),
                    ..event(origin, 0, "start", None)
                },
                event(origin, 100, "die", Some(139)),
                event(origin, 250, "start", None),
                event(origin, 400, "oom", None),
                event(origin, 400, "die", Some(137)),
                event(origin, 950, "die", Some(143)),
            ],
            ..StoppedServer::default()
        };
        let records = event_records(&stopped, origin);
        assert_eq!(records[1].phase, Phase::Startup);
        assert_eq!(records[6].phase, Phase::Teardown);
        let ok = bits(&[50, 300, 301]);
        let failed = bits(&[100, 200, 450]);
        let durability = durability(&records, &stopped, origin, &ok, &failed, 900);
        // "start" at 0 ms counts as load (it is not before the load).
        assert_eq!(durability.restarts, 2);
        assert_eq!(durability.dies, 2);
        assert_eq!(durability.oom_kills, 1);
        assert_eq!(durability.restart_count, 2);
        let back: Vec<Option<f64>> = durability
            .recoveries
            .iter()
            .map(|r| r.recovered_after_secs.map(|s| (s * 1000.0).round()))
            .collect();
        assert_eq!(back, [Some(200.0), None]);
        assert_eq!(
            durability
                .time_to_recover_max_secs
                .map(|s| (s * 1000.0).round()),
            Some(200.0)
        );
        assert_eq!(durability.outages, 2);
        let downtime_ms = (durability.downtime_secs * 1000.0).round();
        assert_eq!(downtime_ms, 200.0 + 450.0);
    }

    #[test]
    fn the_rate_excluding_stalls_leaves_out_only_the_all_stalled_time() {
        let second = Duration::from_secs(1);
        // 1000 requests in 0.25 s, then one connection's last connect
        // waited a second for the SYN retry while the others were done.
        let elapsed = Duration::from_millis(1250);
        assert_eq!(rate_excluding(1000, elapsed, second), Some(4000.0));
        assert_eq!(rate_excluding(1000, elapsed, Duration::ZERO), Some(800.0));
        assert_eq!(rate_excluding(10, second, second), None);
    }

    #[test]
    fn resources_summarise_the_samples() {
        let origin = SystemTime::UNIX_EPOCH;
        let sample = |ms, memory, peak, cpu| StatsSample {
            at: origin + Duration::from_millis(ms),
            memory_bytes: memory,
            memory_peak_bytes: peak,
            cpu_percent: cpu,
        };
        let summary = resources(
            &[
                sample(0, 10, None, None),
                sample(1000, 30, Some(40), Some(50.0)),
                sample(2000, 20, Some(35), Some(100.0)),
                sample(3000, 1, Some(99), Some(1.0)),
            ],
            origin,
            Some(origin + Duration::from_millis(2500)),
        );
        assert_eq!(summary.memory_max_sampled_bytes, Some(30));
        assert_eq!(summary.memory_peak_bytes, Some(40));
        assert_eq!(summary.cpu_mean_percent, Some(75.0));
        assert_eq!(summary.cpu_max_percent, Some(100.0));
        assert_eq!(summary.samples[2].at_secs, 2.0);
        assert_eq!(
            summary.samples.len(),
            3,
            "samples after the stop request are left out"
        );
    }
}
