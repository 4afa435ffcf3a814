//! The named tests: the seed's four mixes, unchanged, and mixes for the
//! other ways applications misbehave.

use std::time::Duration;

use crate::behaviour::{BadStatusMode, Behaviour};
use crate::plan::{FaultAction, FaultSpec, MixEntry, Signal, TestSpec};
use crate::policy::PolicyKind;

fn test(name: &str, description: &str, policy: PolicyKind, mix: Vec<MixEntry>) -> TestSpec {
    TestSpec {
        name: name.into(),
        description: description.into(),
        policy,
        mix,
        load: None,
        throughput: false,
        faults: Vec::new(),
        runs_for: None,
    }
}

fn random(name: &str, description: &str, mix: Vec<(Behaviour, u32)>) -> TestSpec {
    let mix = mix
        .into_iter()
        .map(|(behaviour, weight)| MixEntry::new(behaviour, weight))
        .collect();
    test(name, description, PolicyKind::Random, mix)
}

fn secs(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

/// A test of faults from outside on an application that behaves: every
/// request is innocent, so every failure is the fault's doing.
fn faulty(
    name: &str,
    description: &str,
    mix: Vec<(Behaviour, u32)>,
    faults: Vec<FaultSpec>,
    runs_for: f64,
) -> TestSpec {
    TestSpec {
        faults,
        runs_for: Some(secs(runs_for)),
        ..random(name, description, mix)
    }
}

fn fault(at: f64, every: Option<f64>, action: FaultAction) -> FaultSpec {
    FaultSpec {
        at: secs(at),
        every: every.map(secs),
        action,
    }
}

/// The tests of faults from outside the application, in the order
/// reports show them.
fn fault_tests() -> Vec<TestSpec> {
    let ok = Behaviour::plain;
    vec![
        faulty(
            "KillWorker",
            "100% HTTP 200; SIGKILL to one worker at 1 s and every 2 s (a master should respawn it)",
            vec![(ok(), 100)],
            vec![fault(
                1.0,
                Some(2.0),
                FaultAction::KillWorker {
                    signal: Signal::Kill,
                },
            )],
            8.0,
        ),
        faulty(
            "StopWorker",
            "100% HTTP 200; one worker SIGSTOPped at 1 s for 3 s: hung from outside",
            vec![(ok(), 100)],
            vec![fault(
                1.0,
                None,
                FaultAction::StopWorker {
                    duration: secs(3.0),
                },
            )],
            7.0,
        ),
        faulty(
            "PauseServer",
            "100% HTTP 200; the whole server frozen at 1 s for 2 s",
            vec![(ok(), 100)],
            vec![fault(
                1.0,
                None,
                FaultAction::Pause {
                    duration: secs(2.0),
                },
            )],
            7.0,
        ),
        faulty(
            "Restart",
            "100% HTTP 200; the server restarted at 1 s (SIGTERM, the stop grace, start)",
            vec![(ok(), 100)],
            vec![fault(1.0, None, FaultAction::Restart)],
            7.0,
        ),
        faulty(
            "SlowClients",
            "100% HTTP 200, beside 50 connections from 0.5 s that send their request head a byte a second",
            vec![(ok(), 100)],
            vec![fault(
                0.5,
                None,
                FaultAction::SlowClients {
                    connections: 50,
                    interval: secs(1.0),
                },
            )],
            6.0,
        ),
        faulty(
            "SlowReaders",
            "100% HTTP 200, beside 20 connections from 0.5 s that read a 16 MiB body at 1 KiB/s",
            vec![(ok(), 100)],
            vec![fault(
                0.5,
                None,
                FaultAction::SlowReaders {
                    connections: 20,
                    bytes: 16 << 20,
                    rate: 1024,
                },
            )],
            6.0,
        ),
        faulty(
            "GracefulStop",
            "80% HTTP 200, 20% sleep 1 s; SIGTERM to the server at 2 s: do requests in flight complete?",
            vec![
                (ok(), 80),
                (
                    Behaviour::Sleeping {
                        sleep_duration: 1.0,
                    },
                    20,
                ),
            ],
            vec![fault(2.0, None, FaultAction::GracefulStop)],
            6.0,
        ),
    ]
}

/// Every named test, in the order reports show them.
pub fn named_tests() -> Vec<TestSpec> {
    let mut tests = application_tests();
    tests.extend(fault_tests());
    tests
}

/// The tests of an application misbehaving from inside its requests.
fn application_tests() -> Vec<TestSpec> {
    use Behaviour::*;
    let ok = Behaviour::plain;
    vec![
        TestSpec {
            // Its headline is requests per second: it runs alone.
            throughput: true,
            ..test(
                "Plain",
                "99 HTTP 200 and 1 HTTP 404, in order",
                PolicyKind::Repeat,
                vec![
                    MixEntry::new(ok(), 99),
                    MixEntry::new(
                        PlainResponse {
                            length: None,
                            status: 404,
                        },
                        1,
                    ),
                ],
            )
        },
        random(
            "LightSleep",
            "99% HTTP 200, 1% sleep 0.5 s",
            vec![
                (ok(), 99),
                (
                    Sleeping {
                        sleep_duration: 0.5,
                    },
                    1,
                ),
            ],
        ),
        random(
            "HeavySleep",
            "95% HTTP 200, 5% sleep 2 s",
            vec![
                (ok(), 95),
                (
                    Sleeping {
                        sleep_duration: 2.0,
                    },
                    5,
                ),
            ],
        ),
        random(
            "SIGSEGV",
            "50% HTTP 200, 50% the worker sends itself SIGSEGV",
            vec![(ok(), 50), (SIGSEGV, 50)],
        ),
        random(
            "Wedge",
            "95% HTTP 200, 5% spin forever in Python",
            vec![(ok(), 95), (PythonWedge, 5)],
        ),
        random(
            "GilWedge",
            "95% HTTP 200, 5% hold the GIL in C for 2 s",
            vec![(ok(), 95), (GilWedge { seconds: 2.0 }, 5)],
        ),
        random(
            "LoopBlock",
            "95% HTTP 200, 5% time.sleep(1 s) in the request: under ASGI it blocks the event loop",
            vec![(ok(), 95), (LoopBlock { seconds: 1.0 }, 5)],
        ),
        random(
            "Leak",
            "90% HTTP 200, 10% leak 4 MiB each, until the memory limit (pair it with --memory)",
            vec![(ok(), 90), (LeakMemory { how_many: 4 << 20 }, 10)],
        ),
        random(
            "Exceptions",
            "90% HTTP 200, 10% an unhandled exception (expects 500)",
            vec![(ok(), 90), (RaiseException, 10)],
        ),
        random(
            "Crash",
            "85% HTTP 200, 5% each a real segfault, abort(), os._exit()",
            vec![
                (ok(), 85),
                (RealSegfault, 5),
                (Abort, 5),
                (WorkerExit { exit_code: 1 }, 5),
            ],
        ),
        random(
            "SlowStream",
            "90% HTTP 200, 10% a body trickled in 10 chunks 0.1 s apart",
            vec![
                (ok(), 90),
                (
                    TrickleResponse {
                        chunks: 10,
                        interval: 0.1,
                    },
                    10,
                ),
            ],
        ),
        random(
            "BigBodies",
            "90% HTTP 200, 5% a 10 MiB response, 5% a 1 MiB upload",
            vec![
                (ok(), 90),
                (BigResponse { bytes: 10 << 20 }, 5),
                (EchoUpload { bytes: 1 << 20 }, 5),
            ],
        ),
        random(
            "Chaos",
            "77% HTTP 200, 1% each of every other behaviour both applications have",
            vec![
                (ok(), 77),
                (
                    Sleeping {
                        sleep_duration: 0.5,
                    },
                    1,
                ),
                (
                    IOBound {
                        filename: "/dev/zero".into(),
                        length: 1 << 20,
                    },
                    1,
                ),
                (LeakMemory { how_many: 1 << 20 }, 1),
                (PythonWedge, 1),
                (SIGSEGV, 1),
                (RealSegfault, 1),
                (Abort, 1),
                (WorkerExit { exit_code: 1 }, 1),
                (SelfKill, 1),
                (RaiseException, 1),
                (
                    BadStatus {
                        mode: BadStatusMode::Invalid,
                    },
                    1,
                ),
                (CpuBurn { ms: 100 }, 1),
                (GilWedge { seconds: 1.0 }, 1),
                (HeadersThenWedge, 1),
                (
                    TrickleResponse {
                        chunks: 10,
                        interval: 0.1,
                    },
                    1,
                ),
                (BigResponse { bytes: 1 << 20 }, 1),
                (EchoUpload { bytes: 1 << 20 }, 1),
                (TruncatedResponse, 1),
                (FdLeak { count: 10 }, 1),
                (MemoryBalloon { mb: 16 }, 1),
                (LoopBlock { seconds: 0.5 }, 1),
                (NeverFinish, 1),
                (RaiseAfterStart, 1),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::{Interface, SPECS};

    #[test]
    fn the_seed_tests_keep_their_mixes() {
        let tests = named_tests();
        let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names[..4], ["Plain", "LightSleep", "HeavySleep", "SIGSEGV"]);
        let weights = |name: &str| -> Vec<u32> {
            let test = tests.iter().find(|t| t.name == name).unwrap();
            test.mix.iter().map(|e| e.weight).collect()
        };
        assert_eq!(weights("Plain"), [99, 1]);
        assert_eq!(weights("LightSleep"), [99, 1]);
        assert_eq!(weights("HeavySleep"), [95, 5]);
        assert_eq!(weights("SIGSEGV"), [50, 50]);
        assert_eq!(tests[0].policy, PolicyKind::Repeat);
        assert!(tests[1..].iter().all(|t| t.policy == PolicyKind::Random));
    }

    #[test]
    fn chaos_has_every_behaviour_both_applications_have() {
        let tests = named_tests();
        let chaos = tests.iter().find(|t| t.name == "Chaos").unwrap();
        let mut names: Vec<&str> = chaos.mix.iter().map(|e| e.behaviour.name()).collect();
        names.sort();
        names.dedup();
        let mut both: Vec<&str> = SPECS
            .iter()
            .filter(|spec| spec.asgi_only.is_none())
            .map(|spec| spec.name)
            .collect();
        both.sort();
        assert_eq!(names, both);
        assert_eq!(chaos.mix.iter().map(|e| e.weight).sum::<u32>(), 100);
    }

    #[test]
    fn every_named_test_runs_under_both_interfaces() {
        for test in named_tests() {
            for interface in Interface::ALL {
                assert_eq!(
                    test.unavailable_under(interface),
                    None,
                    "{} under {interface}",
                    test.name
                );
            }
        }
    }

    #[test]
    fn a_test_asking_for_an_asgi_only_behaviour_says_why_under_wsgi() {
        let test = random(
            "Awaits",
            "90% HTTP 200, 10% await",
            vec![
                (Behaviour::plain(), 90),
                (Behaviour::AsyncSleep { seconds: 0.5 }, 10),
            ],
        );
        assert_eq!(test.unavailable_under(Interface::Asgi), None);
        let why = test.unavailable_under(Interface::Wsgi).unwrap();
        assert!(
            why.starts_with("Awaits asks for AsyncSleep, which only an ASGI application has: a WSGI application cannot await"),
            "{why}"
        );
    }

    #[test]
    fn loop_block_mixes_innocent_requests_with_one_second_blocks() {
        let tests = named_tests();
        let test = tests.iter().find(|t| t.name == "LoopBlock").unwrap();
        let mix: Vec<(String, u32)> = test
            .mix
            .iter()
            .map(|e| (e.behaviour.to_string(), e.weight))
            .collect();
        assert_eq!(
            mix,
            [
                ("PlainResponse".to_string(), 95),
                ("LoopBlock?seconds=1".to_string(), 5)
            ]
        );
    }
}
