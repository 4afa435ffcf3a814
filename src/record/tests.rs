use std::time::Duration;

use super::*;
use crate::runtime::ServerEvent;

/// A request the application logged, by worker 9.
fn at(started: f64, finished: Option<f64>) -> AppRequest {
    AppRequest {
        pid: 9,
        started,
        finished,
    }
}

#[test]
fn every_lost_request_is_placed_by_the_application_log() {
    let mut tally = Tally::new(1);
    // Connection 0: answered; reset before the app; died inside it;
    // finished inside it, then cut on the way back; refused. Connection
    // 1: a crash that closed, as expected, unseen; still waiting.
    tally.fates.insert(0, "ECCUR".into());
    tally.fates.insert(1, "xW".into());
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
