//! The run, driven end to end with a fake runtime (as hyperfine tests its
//! runner with a mock executor): servers are in-process HTTP listeners
//! that answer the behaviour protocol's innocent request and drop the
//! connection for a segfault; the engine's events are scripted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Context, cell_seed, run};
use crate::catalogue::{Catalogue, Server};
use crate::client::Launcher;
use crate::images::Images;
use crate::plan::options::KnobOptions;
use crate::plan::{FaultAction, FaultSpec, LoadSpec, Signal, TestSpec, Thresholds};
use crate::progress::Progress;
use crate::results::{CellStatus, EndedBy, EventAction, Phase, Results};
use crate::runtime::{
    Act, ActTarget, DirectActs, EngineInfo, PreparedImage, RunningServer, Runtime, RuntimeError,
    ServerEvent, StoppedServer,
};
use crate::scenario::{Plan, named_tests};

/// Servers as tasks on this runtime.
#[derive(Default)]
struct FakeRuntime {
    /// A server whose preparation fails.
    broken: Option<&'static str>,
    /// Each started server's stop token and start time, by id.
    started: Mutex<HashMap<String, (CancellationToken, SystemTime)>>,
    /// Stops the run when the engine is lost.
    halt: CancellationToken,
    /// Lose the engine when this many servers have started.
    lose_after: Option<usize>,
    /// Servers started so far.
    starts: std::sync::atomic::AtomicUsize,
    /// Why the engine is gone, once it is.
    lost: Mutex<Option<String>>,
    /// The acts of faults carried out, with when, in order.
    acts: Arc<Mutex<Vec<(Act, std::time::Instant)>>>,
    /// How long the engine takes to carry out an act (a busy engine).
    engine_delay: Duration,
    /// Offer signals from this host (see [`FakeDirect`]).
    direct: bool,
    /// How the servers answer.
    answers: Answers,
}

/// How a fake server answers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Answers {
    /// As the behaviour asks.
    #[default]
    Right,
    /// It answers the pre-flight (the first two connections: Plain's two
    /// behaviours), then takes connections and never answers.
    Never,
    /// Every tenth innocent request gets a 500.
    OneInTen,
}

/// Signals "from this host": recorded at once, with no engine.
struct FakeDirect {
    acts: Arc<Mutex<Vec<(Act, std::time::Instant)>>>,
}

impl DirectActs for FakeDirect {
    fn can(&self, act: Act) -> bool {
        matches!(act, Act::SignalWorker { .. } | Act::SignalPid { .. })
    }

    fn act(&self, act: Act) -> Result<ActTarget, RuntimeError> {
        self.acts
            .lock()
            .unwrap()
            .push((act, std::time::Instant::now()));
        Ok(ActTarget {
            pid: Some(42),
            description: "pid 42 (fake, direct)".into(),
        })
    }
}

/// Answer one connection: `/SIGSEGV` closes it unanswered (the worker
/// died), anything else gets "Pong!" with the status it asked for (or as
/// `answers` says); `count` numbers the connections.
async fn answer(mut socket: tokio::net::TcpStream, answers: Answers, count: usize) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    if path.starts_with("/SIGSEGV") {
        return;
    }
    if answers == Answers::Never && count > 2 {
        // Hold the connection, unanswered, until the client lets go.
        let _ = socket.read(&mut buffer).await;
        return;
    }
    let status = if answers == Answers::OneInTen && count.is_multiple_of(10) {
        "500 Internal Server Error"
    } else if path.contains("status=404") {
        "404 Not Found"
    } else {
        "200 OK"
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Length: 6\r\nX-Labour-Worker: 7\r\nConnection: close\r\n\r\nPong!\n"
    );
    let _ = socket.write_all(response.as_bytes()).await;
}

impl Runtime for FakeRuntime {
    fn run_id(&self) -> &str {
        "fake"
    }

    fn halt(&self) -> &CancellationToken {
        &self.halt
    }

    fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap().clone()
    }

    async fn engine_info(&self) -> Result<EngineInfo, RuntimeError> {
        Ok(EngineInfo {
            runtime: "docker".into(),
            version: "fake".into(),
            cpus: 2,
            ..EngineInfo::default()
        })
    }

    async fn prepare(
        &self,
        server: &Server,
        _: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        if self.broken == Some(server.name.as_str()) {
            return Err(RuntimeError::Build {
                server: server.name.clone(),
                reason: "pip failed".into(),
                log_tail: vec!["ERROR: no such package".into()],
                log_file: None,
            });
        }
        Ok(PreparedImage {
            server: server.name.clone(),
            tag: format!("fake/{}", server.name),
            id: "sha256:fake".into(),
        })
    }

    async fn start(
        &self,
        server: &Server,
        _: &PreparedImage,
        cell: &str,
    ) -> Result<RunningServer, RuntimeError> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let serving = stop.clone();
        let answers = self.answers;
        tokio::spawn(async move {
            let mut count = 0;
            loop {
                tokio::select! {
                    _ = serving.cancelled() => return,
                    accepted = listener.accept() => {
                        if let Ok((socket, _)) = accepted {
                            count += 1;
                            tokio::spawn(answer(socket, answers, count));
                        }
                    }
                }
            }
        });
        let id = format!("{}-{cell}", server.name);
        let starts = self
            .starts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let down = self.halt.child_token();
        if self.lose_after == Some(starts) {
            // The engine goes away a little into this cell's load.
            let (halt, lost) = (self.halt.clone(), Some("fake engine gone".to_string()));
            *self.lost.lock().unwrap() = lost;
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                halt.cancel();
            });
        }
        self.started
            .lock()
            .unwrap()
            .insert(id.clone(), (stop, SystemTime::now()));
        Ok(RunningServer {
            id: id.clone(),
            name: id,
            address,
            startup: Duration::from_millis(1),
            down,
            python: None,
        })
    }

    async fn stop(&self, running: &RunningServer) -> Result<StoppedServer, RuntimeError> {
        let (stop, started) = self.started.lock().unwrap().remove(&running.id).unwrap();
        stop.cancel();
        let now = SystemTime::now();
        let event = |at, action: &str, exit_code| ServerEvent {
            at,
            action: action.into(),
            exit_code,
            signal: None,
            log_tail: Vec::new(),
        };
        // One scripted death during the load of every SIGSEGV cell.
        let mut events = vec![event(started, "start", None)];
        if running.id.ends_with("SIGSEGV") {
            events.push(event(now - Duration::from_millis(5), "die", Some(139)));
        }
        events.push(event(now, "kill", None));
        Ok(StoppedServer {
            exit_code: Some(143),
            stop_requested_at: Some(now),
            events,
            stop_took: Duration::from_millis(2),
            remove_took: Duration::from_millis(1),
            ..StoppedServer::default()
        })
    }

    async fn act(&self, _running: &RunningServer, act: Act) -> Result<ActTarget, RuntimeError> {
        tokio::time::sleep(self.engine_delay).await;
        self.acts
            .lock()
            .unwrap()
            .push((act, std::time::Instant::now()));
        Ok(ActTarget {
            pid: Some(42),
            description: "pid 42 (fake)".into(),
        })
    }

    async fn direct(&self, _running: &RunningServer) -> Option<Arc<dyn DirectActs>> {
        self.direct.then(|| {
            Arc::new(FakeDirect {
                acts: Arc::clone(&self.acts),
            }) as Arc<dyn DirectActs>
        })
    }

    async fn shutdown(&self) -> Result<usize, RuntimeError> {
        Ok(self.started.lock().unwrap().len())
    }
}

fn plan(servers: &[&str], tests: &[&str], jobs: usize) -> Plan {
    let catalogue = Catalogue::load(&Images::Embedded).unwrap();
    let load = LoadSpec {
        requests: Some(40),
        concurrency: 4,
        processes: 1,
        ..LoadSpec::default()
    };
    let tests: Vec<TestSpec> = named_tests()
        .into_iter()
        .filter(|t| tests.contains(&t.name.as_str()))
        .map(|test| TestSpec {
            load: Some(load.clone()),
            ..test
        })
        .collect();
    Plan {
        servers: servers
            .iter()
            .map(|name| {
                catalogue
                    .get(name)
                    .unwrap()
                    .configure(&KnobOptions::default(), Some(4096))
            })
            .collect(),
        tests,
        seed: 99,
        jobs,
        repeat: 1,
        shard: None,
        container: crate::plan::options::RunOptions::default().resolve(),
        thresholds: Thresholds::default(),
    }
}

async fn bench(plan: &Plan, runtime: &FakeRuntime) -> (Results, usize) {
    let mut writes = 0;
    let results = bench_with(plan, runtime, |_| {
        writes += 1;
        Ok(())
    })
    .await;
    (results, writes)
}

async fn bench_with(
    plan: &Plan,
    runtime: &FakeRuntime,
    on: impl FnMut(super::Progressed<'_>) -> anyhow::Result<()>,
) -> Results {
    let cancel = CancellationToken::new();
    let progress = Progress::new(true);
    let launcher = Launcher::InProcess;
    let context = Context {
        cancel: &cancel,
        progress: &progress,
        launcher: &launcher,
    };
    run(plan, runtime, context, on).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_records_every_cell_in_plan_order_with_its_figures() {
    let plan = plan(
        &["wsgiref", "waitress", "cheroot"],
        &["Plain", "SIGSEGV"],
        3,
    );
    let runtime = FakeRuntime {
        broken: Some("cheroot"),
        ..FakeRuntime::default()
    };
    let (results, writes) = bench(&plan, &runtime).await;
    let order: Vec<(&str, &str)> = results
        .cells
        .iter()
        .map(|c| (c.server.as_str(), c.test.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("wsgiref", "Plain"),
            ("wsgiref", "SIGSEGV"),
            ("waitress", "Plain"),
            ("waitress", "SIGSEGV"),
            ("cheroot", "Plain"),
            ("cheroot", "SIGSEGV"),
        ]
    );
    assert_eq!(
        writes, 8,
        "once as it began, after each cell, and once at the end"
    );
    assert!(results.complete && !results.interrupted);
    assert_eq!(results.jobs, 3);
    assert_eq!(results.prepares.len(), 3);
    assert!(!results.prepares[2].ready);
    assert!(results.wall_secs > 0.0);
    assert!((0.0..=results.wall_secs).contains(&results.orchestration_secs));

    for server in ["wsgiref", "waitress"] {
        let plain = results.cell(server, "Plain").unwrap();
        assert_eq!(plain.status, CellStatus::Completed);
        assert_eq!(plain.ended_by, Some(EndedBy::Requests));
        assert_eq!((plain.requests, plain.expected), (40, 40));
        assert!(plain.overlap.cells.is_empty(), "{:?}", plain.overlap);
        assert!(plain.overlap.builds.is_empty(), "{:?}", plain.overlap);
        assert!(plain.phases.load_secs.is_some() && plain.phases.stop_secs.is_some());
        assert_eq!(plain.workers_seen.len(), 1);

        // A dropped connection is what a segfault should get; the death
        // the engine reported during the load is counted.
        let crash = results.cell(server, "SIGSEGV").unwrap();
        assert_eq!((crash.requests, crash.failed), (40, 0), "{crash:#?}");
        assert_eq!(crash.innocent_failed, 0);
        assert_eq!(crash.durability.dies, 1);
        let die = crash
            .events
            .iter()
            .find(|e| e.action == EventAction::Die)
            .unwrap();
        assert_eq!((die.phase, die.exit_code), (Phase::Load, Some(139)));
        assert_eq!(crash.exit_code, Some(143));
    }
    for test in ["Plain", "SIGSEGV"] {
        let seeds: Vec<u64> = results
            .cells
            .iter()
            .filter(|c| c.test == test)
            .map(|c| c.seed)
            .collect();
        assert_eq!(seeds, vec![cell_seed(99, test); 3]);
    }
    let broken = results.cell("cheroot", "Plain").unwrap();
    assert_eq!(broken.status, CellStatus::Error);
    let error = broken.error.as_ref().unwrap();
    assert_eq!(
        error.message,
        "building the image of cheroot failed: pip failed"
    );
    assert_eq!(error.log_tail, ["ERROR: no such package"]);
    assert_eq!(
        runtime.started.lock().unwrap().len(),
        0,
        "every server stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_or_four_the_same_requests_go_out() {
    let servers = ["wsgiref", "waitress", "gunicorn-sync", "uwsgi"];
    let tests = ["Plain", "SIGSEGV", "HeavySleep"];
    let (one, _) = bench(&plan(&servers, &tests, 1), &FakeRuntime::default()).await;
    let (four, _) = bench(&plan(&servers, &tests, 4), &FakeRuntime::default()).await;
    for (a, b) in one.cells.iter().zip(&four.cells) {
        assert_eq!((&a.server, &a.test), (&b.server, &b.test));
        assert_eq!(a.seed, b.seed);
        assert_eq!(a.client.sequence_digest, b.client.sequence_digest);
        assert_eq!(a.requests, b.requests);
    }
    let shared_overlapped = four
        .cells
        .iter()
        .filter(|c| c.test != "Plain")
        .any(|c| !c.overlap.cells.is_empty());
    assert!(shared_overlapped, "four jobs ran cells side by side");
}

#[test]
fn a_cell_seed_depends_on_the_run_seed_and_the_test_only() {
    assert_eq!(cell_seed(1, "Plain"), cell_seed(1, "Plain"));
    assert_ne!(cell_seed(1, "Plain"), cell_seed(2, "Plain"));
    assert_ne!(cell_seed(1, "Plain"), cell_seed(1, "SIGSEGV"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_lost_mid_run_ends_the_run_with_the_cell_in_flight_said_so() {
    let mut plan = plan(&["wsgiref", "waitress"], &["HeavySleep", "SIGSEGV"], 1);
    for test in &mut plan.tests {
        test.load.as_mut().unwrap().requests = Some(100_000);
    }
    let runtime = FakeRuntime {
        lose_after: Some(1),
        ..FakeRuntime::default()
    };
    let (results, _) = bench(&plan, &runtime).await;
    assert_eq!(results.engine_lost.as_deref(), Some("fake engine gone"));
    assert_eq!(
        results.cells.len(),
        1,
        "no cell begins after the loss: {:?}",
        results
            .cells
            .iter()
            .map(|c| (
                &c.server,
                &c.test,
                c.status,
                c.ended_by,
                c.requests,
                c.duration_secs
            ))
            .collect::<Vec<_>>()
    );
    let cell = &results.cells[0];
    assert_eq!(cell.status, CellStatus::EngineLost);
    assert_eq!(cell.ended_by, Some(EndedBy::EngineLost));
    assert!(cell.requests > 0 && cell.requests < 100_000);
    assert!(!results.complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_fire_on_time_are_undone_and_recorded_with_their_target() {
    let mut plan = plan(&["wsgiref"], &["Plain"], 1);
    let test = &mut plan.tests[0];
    test.throughput = false;
    let load = test.load.as_mut().unwrap();
    load.requests = None;
    load.duration = Some(Duration::from_millis(900));
    test.faults = vec![
        FaultSpec {
            at: Duration::from_millis(100),
            every: Some(Duration::from_millis(300)),
            action: FaultAction::KillWorker {
                signal: Signal::Term,
            },
        },
        FaultSpec {
            at: Duration::from_millis(200),
            every: None,
            action: FaultAction::StopWorker {
                duration: Duration::from_millis(200),
            },
        },
        // Longer than the load: thawed when the load ends.
        FaultSpec {
            at: Duration::from_millis(600),
            every: None,
            action: FaultAction::Pause {
                duration: Duration::from_secs(60),
            },
        },
    ];
    let runtime = FakeRuntime::default();
    let (results, _) = bench(&plan, &runtime).await;
    let cell = &results.cells[0];
    assert_eq!(cell.ended_by, Some(EndedBy::Duration));
    let acts: Vec<Act> = runtime
        .acts
        .lock()
        .unwrap()
        .iter()
        .map(|(a, _)| *a)
        .collect();
    let kills = acts
        .iter()
        .filter(|a| {
            matches!(
                a,
                Act::SignalWorker {
                    signal: Signal::Term,
                    ..
                }
            )
        })
        .count();
    assert_eq!(kills, 3, "at 0.1, 0.4 and 0.7 s: {acts:?}");
    assert!(acts.contains(&Act::SignalPid {
        signal: Signal::Cont,
        pid: 42
    }));
    assert_eq!(acts.last(), Some(&Act::Unpause), "{acts:?}");
    let actions: Vec<&str> = cell.faults.iter().map(|f| f.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "kill-worker",
            "stop-worker",
            "kill-worker",
            "pause",
            "kill-worker"
        ]
    );
    let stop = &cell.faults[1];
    let lasted = stop.until_secs.unwrap() - stop.at_secs;
    assert!(
        (0.15..0.6).contains(&lasted),
        "thawed after its 200 ms: {stop:?}"
    );
    let pause = &cell.faults[3];
    assert!(
        pause.until_secs.unwrap() < 2.0,
        "thawed when the load ended: {pause:?}"
    );
    assert!(
        cell.faults
            .iter()
            .all(|f| f.target.as_deref() == Some("pid 42 (fake)") || f.action == "pause")
    );
    // The fake server never fails: nothing lost, answers right after.
    assert!(
        cell.faults
            .iter()
            .all(|f| f.innocent_lost_during + f.innocent_lost_after == 0)
    );
    assert!(cell.faults[0].recovered_after_secs.is_some());
}

/// The plan of one cell of `test` on wsgiref, with `load`.
fn one_cell(test: &str, load: impl FnOnce(&mut LoadSpec)) -> Plan {
    let mut plan = plan(&["wsgiref"], &[test], 1);
    let test = &mut plan.tests[0];
    let mut spec = test.load.clone().unwrap();
    load(&mut spec);
    test.load = Some(spec);
    plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_land_on_time_while_the_engine_and_the_run_are_busy() {
    // Four cells with faults at once; an engine that takes 2 s an act; and
    // the run's own task blocked for 1.5 s whenever a cell finishes (as a
    // slow disk would block writing results). The signals go from this
    // host on the faults' own clock, so they land when due.
    let mut plan = plan(
        &["wsgiref", "waitress", "cheroot", "bjoern"],
        &["KillWorker"],
        4,
    );
    for test in &mut plan.tests {
        let mut load = test.load.clone().unwrap();
        load.requests = None;
        load.duration = Some(Duration::from_millis(2500));
        test.load = Some(load);
        test.faults = vec![FaultSpec {
            at: Duration::from_millis(200),
            every: Some(Duration::from_millis(500)),
            action: FaultAction::KillWorker {
                signal: Signal::Kill,
            },
        }];
    }
    let runtime = FakeRuntime {
        engine_delay: Duration::from_secs(2),
        direct: true,
        ..FakeRuntime::default()
    };
    let results = bench_with(&plan, &runtime, |progressed| {
        if let super::Progressed::Cell(_) = progressed {
            std::thread::sleep(Duration::from_millis(1500));
        }
        Ok(())
    })
    .await;
    for cell in &results.cells {
        assert_eq!(cell.status, CellStatus::Completed, "{cell:#?}");
        assert_eq!(cell.faults.len(), 5, "at 0.2, 0.7, 1.2, 1.7 and 2.2 s");
        for (firing, fault) in cell.faults.iter().enumerate() {
            assert_eq!(fault.planned_at_secs, 0.2 + 0.5 * firing as f64);
            assert!(
                fault.late_secs < crate::results::LATE_FIRING,
                "{}: firing {firing} landed {} s late",
                cell.server,
                fault.late_secs
            );
            assert_eq!(fault.target.as_deref(), Some("pid 42 (fake, direct)"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_engine_makes_a_fault_late_and_its_cell_says_so() {
    // Without signals from this host, a kill waits 1 s on the engine.
    let mut plan = one_cell("KillWorker", |load| {
        load.requests = None;
        load.duration = Some(Duration::from_millis(1500));
    });
    plan.tests[0].faults = vec![FaultSpec {
        at: Duration::from_millis(200),
        every: None,
        action: FaultAction::KillWorker {
            signal: Signal::Kill,
        },
    }];
    let runtime = FakeRuntime {
        engine_delay: Duration::from_secs(1),
        ..FakeRuntime::default()
    };
    let (results, _) = bench(&plan, &runtime).await;
    let cell = &results.cells[0];
    assert_eq!(cell.status, CellStatus::FaultLate, "{cell:#?}");
    assert!(cell.faults[0].late_secs >= 1.0, "{:?}", cell.faults[0]);
    let error = &cell.error.as_ref().unwrap().message;
    assert!(
        error.contains("kill-worker due at 0.20 s landed"),
        "{error}"
    );
    assert!(cell.status.could_not_run());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_that_counted_no_request_is_no_load_not_completed() {
    // The server takes every connection and never answers; the load's
    // time ends before any request's timeout.
    let plan = one_cell("Plain", |load| {
        load.requests = None;
        load.duration = Some(Duration::from_millis(500));
        load.timeout = Duration::from_secs(30);
        load.give_up_after = None;
    });
    let runtime = FakeRuntime {
        answers: Answers::Never,
        ..FakeRuntime::default()
    };
    let (results, _) = bench(&plan, &runtime).await;
    let cell = &results.cells[0];
    assert_eq!(cell.requests, 0);
    assert_eq!(cell.status, CellStatus::NoLoad, "{cell:#?}");
    let error = &cell.error.as_ref().unwrap().message;
    assert!(error.contains("still waiting for its answer"), "{error}");
    assert!(cell.status.could_not_run());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_whose_answer_is_known_settles_and_one_on_the_threshold_does_not() {
    let endless = |settle: bool| {
        one_cell("Plain", move |load| {
            load.requests = Some(1_000_000);
            load.duration = Some(Duration::from_secs(8));
            // On a schedule: the rate is the plan's, however busy the
            // host running the tests is.
            load.rate = Some(400.0);
            load.settle = settle;
        })
    };
    let (results, _) = bench(&endless(true), &FakeRuntime::default()).await;
    let settled = &results.cells[0];
    assert_eq!(settled.ended_by, Some(EndedBy::Settled), "{settled:#?}");
    assert_eq!(settled.status, CellStatus::Completed);
    assert!(settled.requests >= crate::client::settle::MIN_REQUESTS);
    assert!(settled.phases.load_secs.unwrap() < 7.0);

    // Exactly one innocent request in ten fails: the share sits on the
    // seed's 10%, so its answer stays open until the load's time ends.
    let runtime = FakeRuntime {
        answers: Answers::OneInTen,
        ..FakeRuntime::default()
    };
    let (results, _) = bench(&endless(true), &runtime).await;
    let open = &results.cells[0];
    assert_eq!(open.ended_by, Some(EndedBy::Budget), "{open:#?}");

    // --settle off: the load runs to its end.
    let (results, _) = bench(&endless(false), &FakeRuntime::default()).await;
    assert_eq!(results.cells[0].ended_by, Some(EndedBy::Budget));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_without_meaning_under_a_servers_interface_is_skipped_with_why() {
    use crate::behaviour::Behaviour;
    use crate::plan::MixEntry;
    let mut plan = plan(&["wsgiref", "uvicorn"], &["Plain"], 2);
    let awaits = TestSpec {
        name: "Awaits".into(),
        description: "an awaited sleep".into(),
        mix: vec![
            MixEntry::new(Behaviour::plain(), 1),
            MixEntry::new(Behaviour::AsyncSleep { seconds: 0.0 }, 1),
        ],
        throughput: false,
        ..plan.tests[0].clone()
    };
    plan.tests.push(awaits);
    let runtime = FakeRuntime::default();
    let (results, _) = bench(&plan, &runtime).await;
    let skipped = results.cell("wsgiref", "Awaits").unwrap();
    assert_eq!(skipped.status, CellStatus::Skipped);
    assert_eq!(skipped.requests, 0);
    let why = &skipped.error.as_ref().unwrap().message;
    assert!(
        why.starts_with("Awaits asks for AsyncSleep, which only an ASGI application has"),
        "{why}"
    );
    // The ASGI server runs it (the fake answers it as it answers anything).
    let ran = results.cell("uvicorn", "Awaits").unwrap();
    assert_eq!(ran.status, CellStatus::Completed, "{ran:#?}");
    assert_eq!(ran.requests, 40);
    for server in ["wsgiref", "uvicorn"] {
        assert_eq!(
            results.cell(server, "Plain").unwrap().status,
            CellStatus::Completed
        );
    }
    assert!(results.complete);
}
