//! What each fault's firing did and cost, and for a graceful stop what
//! became of the requests the application had in hand.

use super::*;
use crate::client::slow::SlowCount;
use crate::plan::FaultSpec;

/// One firing of a fault, as it happened.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    /// The fault, as the test declares it.
    pub(crate) spec: FaultSpec,
    /// When it was due, after the load began.
    pub(crate) planned: Duration,
    /// How long after that it landed (for a restart: began).
    pub(crate) late: Duration,
    /// When it was carried out.
    pub(crate) at: SystemTime,
    /// When it was undone, or ended (a restart's return, slow connections
    /// closed); `None` for an instant.
    pub(crate) until: Option<SystemTime>,
    /// What it reached.
    pub(crate) target: Option<String>,
    /// Why it could not be carried out (or undone).
    pub(crate) error: Option<String>,
    /// What slow connections met.
    pub(crate) slow: Option<SlowCount>,
    /// Its index among the marks the client watched (a graceful stop's).
    pub(crate) mark: Option<usize>,
}

/// The window of the answer rates before and after a fault.
pub(super) const RATE_WINDOW: f64 = 1.0;

/// Answers as expected a second in `[from, to)` seconds of the load, from
/// the timeline's whole buckets in it; `None` when none is whole.
pub(super) fn expected_rate(timeline: &[(u64, u64)], from: f64, to: f64) -> Option<f64> {
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
pub(super) fn innocent_lost(failed: &[u32], from: f64, to: f64) -> u64 {
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
pub(super) fn fault_record(
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
pub(super) fn in_hand(
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
    // The client's whole answer as expected is what finishing means to
    // the test; the application's own finish line is shown beside it.
    record.graceful =
        (in_hand > 0).then_some(came_back == in_hand && record.exited_after_secs.is_some());
}
