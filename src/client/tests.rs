//! The request client against in-process servers on 127.0.0.1, port 0:
//! a well-behaved hyper server, and raw sockets that misbehave on cue.
//! (The client is labour's own; these tests live beside it.)

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::connection::{Connection, Exchange, Target, exchange, request_head};
use crate::behaviour::{Behaviour, Outcome};
use crate::client::{self, Launcher, Mix, Shared};
use crate::plan::{LoadSpec, MixEntry, TestSpec};
use crate::policy::PolicyKind;
use crate::scenario::named_tests;

/// A hyper server speaking the behaviour protocol for PlainResponse;
/// returns its address and a count of accepted connections.
async fn plain_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = service_fn(|request: Request<hyper::body::Incoming>| async move {
                    let status = if request.uri().query() == Some("status=404") {
                        404
                    } else {
                        200
                    };
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(status)
                            .header("X-Labour-Worker", "4242")
                            .body(Full::new(Bytes::from_static(b"Pong!\n")))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, connections)
}

/// A raw server: reads each request head, then lets `answer` act on the
/// socket (answer and keep it, answer and close, stay silent...).
async fn raw_server<F>(answer: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(usize) -> Script + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let answer = Arc::clone(&answer);
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                loop {
                    if !read_head(&mut stream).await {
                        return;
                    }
                    let number = counter.fetch_add(1, Ordering::SeqCst);
                    match answer(number) {
                        Script::Answer(bytes) => {
                            if stream.write_all(bytes).await.is_err() {
                                return;
                            }
                        }
                        Script::AnswerAndClose(bytes) => {
                            let _ = stream.write_all(bytes).await;
                            return;
                        }
                        Script::Close => return,
                        Script::Silence => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (address, requests)
}

enum Script {
    Answer(&'static [u8]),
    AnswerAndClose(&'static [u8]),
    Close,
    Silence,
}

async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

const PONG: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Labour-Worker: 7\r\n\r\nPong!\n";

fn one_behaviour_test(behaviour: Behaviour) -> TestSpec {
    TestSpec {
        name: "T".into(),
        description: String::new(),
        policy: PolicyKind::Random,
        mix: vec![MixEntry::new(behaviour, 1)],
        load: None,
        throughput: false,
        faults: Vec::new(),
        runs_for: None,
    }
}

fn load(requests: u64, concurrency: usize, timeout: Duration) -> LoadSpec {
    LoadSpec {
        requests: Some(requests),
        concurrency,
        timeout,
        ..LoadSpec::default()
    }
}

/// Run `test` against `address` in this process.
async fn run_test(test: &TestSpec, address: SocketAddr, load: &LoadSpec) -> client::ClientRun {
    run_cancellable(test, address, load, &CancellationToken::new()).await
}

async fn run_cancellable(
    test: &TestSpec,
    address: SocketAddr,
    load: &LoadSpec,
    cancel: &CancellationToken,
) -> client::ClientRun {
    let mix = Mix::from_test(test, &address.to_string(), "");
    let shared = Arc::new(Shared::default());
    client::run(
        &mix,
        address,
        load,
        (1, &[]),
        cancel,
        shared,
        &Launcher::InProcess,
    )
    .await
}

/// Send `requests` of `behaviour` alone to `address`.
async fn run_one(
    behaviour: Behaviour,
    address: SocketAddr,
    requests: u64,
    concurrency: usize,
    timeout: Duration,
) -> client::ClientRun {
    let test = one_behaviour_test(behaviour);
    let load = load(requests, concurrency, timeout);
    run_test(&test, address, &load).await
}

#[tokio::test]
async fn keep_alive_connections_carry_every_request_and_judge_the_mix() {
    let (address, connections) = plain_server().await;
    let plain = named_tests()
        .into_iter()
        .find(|t| t.name == "Plain")
        .unwrap();
    let keep_alive = LoadSpec {
        keep_alive: true,
        ..load(400, 4, Duration::from_secs(5))
    };
    let run = run_test(&plain, address, &keep_alive).await;
    assert_eq!(run.tally.requests(), 400);
    assert_eq!(
        run.tally.expected(),
        400,
        "200s and 404s are both as expected"
    );
    assert_eq!(
        run.tally.behaviours[1].requests(),
        4,
        "one 404 in a hundred"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        4,
        "one connection per worker"
    );
    assert_eq!(
        run.tally.worker_pids.keys().copied().collect::<Vec<_>>(),
        [4242]
    );
    assert!(!run.stopped_early);
}

#[tokio::test]
async fn a_connection_the_server_closes_is_reopened() {
    let (address, requests) = raw_server(|_| {
        Script::AnswerAndClose(
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nPong!\n",
        )
    })
    .await;
    let run = run_one(Behaviour::plain(), address, 10, 1, Duration::from_secs(5)).await;
    assert_eq!(run.tally.expected(), 10);
    assert_eq!(requests.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn after_a_reset_the_next_request_gets_a_fresh_connection() {
    let (address, _) = raw_server(|n| {
        if n == 0 {
            Script::Close
        } else {
            Script::Answer(PONG)
        }
    })
    .await;
    let run = run_one(Behaviour::plain(), address, 5, 1, Duration::from_secs(5)).await;
    let outcomes = &run.tally.behaviours[0].outcomes;
    assert_eq!(outcomes.get(&Outcome::Reset), Some(&1));
    assert_eq!(outcomes.get(&Outcome::Status(200)), Some(&4));
    assert_eq!(run.tally.samples.len(), 1);
}

/// One `GET /PlainResponse` with `body_check`, on a fresh connection.
async fn exchange_once(address: SocketAddr, body_check: Option<(u16, u64)>) -> Exchange {
    let head = request_head("/PlainResponse", &address.to_string(), None, false);
    let target = Target {
        head: &head,
        upload: None,
        keep_alive: false,
        body_check,
        body_contains: None,
    };
    exchange(&mut None, address, target).await
}

async fn one_exchange(script: Script, body_check: Option<(u16, u64)>) -> Outcome {
    let script = Arc::new(std::sync::Mutex::new(Some(script)));
    let (address, _) =
        raw_server(move |_| script.lock().unwrap().take().unwrap_or(Script::Close)).await;
    exchange_once(address, body_check).await.outcome
}

#[tokio::test]
async fn without_keep_alive_each_request_has_its_own_connection() {
    let (address, connections) = plain_server().await;
    let run = run_one(Behaviour::plain(), address, 20, 2, Duration::from_secs(5)).await;
    assert_eq!(run.tally.expected(), 20);
    assert_eq!(connections.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn outcomes_are_classified() {
    assert_eq!(
        one_exchange(Script::Answer(PONG), Some((200, 6))).await,
        Outcome::Status(200)
    );
    assert_eq!(
        one_exchange(Script::Answer(PONG), Some((200, 10))).await,
        Outcome::WrongBody(200)
    );
    // The body is checked only when the status is the one asked for.
    assert_eq!(
        one_exchange(Script::Answer(PONG), Some((404, 10))).await,
        Outcome::Status(200)
    );
    assert_eq!(one_exchange(Script::Close, None).await, Outcome::Reset);
    assert_eq!(
        one_exchange(
            Script::AnswerAndClose(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"),
            None
        )
        .await,
        Outcome::Truncated
    );
    assert_eq!(
        one_exchange(
            Script::AnswerAndClose(b"SPEAK FRIEND AND ENTER\r\n\r\n"),
            None
        )
        .await,
        Outcome::ProtocolError
    );
}

#[tokio::test]
async fn nothing_listening_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let answer = exchange_once(address, None).await;
    assert_eq!(answer.outcome, Outcome::Refused);
}

#[tokio::test]
async fn a_silent_server_times_out_and_the_run_ends() {
    let (address, _) = raw_server(|_| Script::Silence).await;
    let run = run_one(
        Behaviour::plain(),
        address,
        3,
        1,
        Duration::from_millis(200),
    )
    .await;
    assert_eq!(
        run.tally.behaviours[0].outcomes.get(&Outcome::Timeout),
        Some(&3)
    );
    assert_eq!(run.tally.expected(), 0);
}

#[tokio::test]
async fn cancelling_stops_the_workers_without_counting_the_cut_request() {
    let (address, _) = raw_server(|_| Script::Silence).await;
    let test = one_behaviour_test(Behaviour::plain());
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let run = run_cancellable(
        &test,
        address,
        &load(100, 2, Duration::from_secs(30)),
        &cancel,
    )
    .await;
    assert!(run.stopped_early);
    assert_eq!(run.tally.requests(), 0);
}

#[tokio::test]
async fn a_segfault_that_closes_the_connection_is_as_expected() {
    let (address, _) = raw_server(|_| Script::Close).await;
    let run = run_one(Behaviour::SIGSEGV, address, 5, 1, Duration::from_secs(5)).await;
    assert_eq!(run.tally.expected(), 5);
}

#[tokio::test]
async fn the_load_gives_up_on_a_server_that_stopped_answering() {
    let (address, _) = raw_server(|n| {
        if n < 3 {
            Script::Answer(PONG)
        } else {
            Script::Silence
        }
    })
    .await;
    let test = one_behaviour_test(Behaviour::plain());
    let load = LoadSpec {
        give_up_after: Some(Duration::from_millis(500)),
        keep_alive: true,
        ..load(1000, 2, Duration::from_millis(200))
    };
    let run = run_test(&test, address, &load).await;
    let last_expected = run.gave_up_at.expect("the watchdog gave up");
    assert!(
        last_expected < Duration::from_millis(500),
        "{last_expected:?}"
    );
    assert!(run.tally.requests() < 1000, "the load stopped");
    assert_eq!(run.tally.expected(), 3);
    assert!(!run.stopped_early, "giving up is not a cancellation");
}

/// One keep-alive `GET /PlainResponse` over `slot`.
async fn exchange_on(
    slot: &mut Option<Connection>,
    address: SocketAddr,
    body_check: Option<(u16, u64)>,
) -> Exchange {
    let head = request_head("/PlainResponse", &address.to_string(), None, true);
    let target = Target {
        head: &head,
        upload: None,
        keep_alive: true,
        body_check,
        body_contains: None,
    };
    exchange(slot, address, target).await
}

#[tokio::test]
async fn chunked_bodies_are_counted_and_broken_ones_named() {
    let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nPon\r\n3;x=1\r\ng!\n\r\n0\r\nTrailer: t\r\n\r\n";
    assert_eq!(
        one_exchange(Script::Answer(chunked), Some((200, 6))).await,
        Outcome::Status(200)
    );
    let cut: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nPon";
    assert_eq!(
        one_exchange(Script::AnswerAndClose(cut), None).await,
        Outcome::Truncated
    );
    let garbage: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_eq!(
        one_exchange(Script::AnswerAndClose(garbage), None).await,
        Outcome::ProtocolError
    );
    let until_close: &[u8] = b"HTTP/1.1 200 OK\r\n\r\nPong!\n";
    assert_eq!(
        one_exchange(Script::AnswerAndClose(until_close), Some((200, 6))).await,
        Outcome::Status(200)
    );
}

#[tokio::test]
async fn a_kept_alive_connection_the_server_closed_while_idle_is_not_reused() {
    // Like uWSGI's --http-socket: HTTP/1.1, no "Connection: close", and
    // the connection closed after every answer.
    let (address, requests) = raw_server(|_| Script::AnswerAndClose(PONG)).await;
    let mut slot = None;
    assert_eq!(
        exchange_on(&mut slot, address, Some((200, 6)))
            .await
            .outcome,
        Outcome::Status(200)
    );
    assert!(
        slot.is_some(),
        "the answer did not say close, so the connection is kept"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        exchange_on(&mut slot, address, Some((200, 6)))
            .await
            .outcome,
        Outcome::Status(200)
    );
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_users_request_is_judged_by_the_text_in_its_body_however_it_is_framed() {
    async fn contains(answer: &'static [u8], text: &'static [u8]) -> Outcome {
        let (address, _) = raw_server(move |_| Script::AnswerAndClose(answer)).await;
        let headers = vec![("Accept".to_string(), "application/json".to_string())];
        let head = super::connection::custom_head(
            "GET",
            "/orders",
            &address.to_string(),
            &headers,
            None,
            false,
        );
        assert!(String::from_utf8_lossy(&head).contains("\r\nAccept: application/json\r\n"));
        let target = Target {
            head: &head,
            upload: None,
            keep_alive: false,
            body_check: None,
            body_contains: Some(text),
        };
        exchange(&mut None, address, target).await.outcome
    }
    let sized: &[u8] = b"HTTP/1.1 201 Created\r\nContent-Length: 17\r\n\r\n{\"item\":\"teapot\"}";
    assert_eq!(contains(sized, b"teapot").await, Outcome::Status(201));
    assert_eq!(contains(sized, b"kettle").await, Outcome::WrongBody(201));
    // The text split across two chunks is found in the decoded body.
    let chunked: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ntea-\r\n5\r\n-pot!\r\n0\r\n\r\n";
    assert_eq!(contains(chunked, b"a--p").await, Outcome::Status(200));
    assert_eq!(contains(chunked, b"4\r\n").await, Outcome::WrongBody(200));
    let until_close: &[u8] = b"HTTP/1.1 200 OK\r\n\r\nok teapot";
    assert_eq!(contains(until_close, b"teapot").await, Outcome::Status(200));
}
