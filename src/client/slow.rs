//! Slow connections alongside the load: clients that send a request head
//! one byte at a time and never finish it (slowloris), and readers that ask
//! for a big body and read it a few bytes a second. Each is counted:
//! opened, refused, closed by the server, still open at the end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

/// A slow reader's receive buffer: small, so the server's writes block on
/// the reader rather than fill a kernel buffer.
const READER_BUFFER: u32 = 4096;
/// How often a slow reader reads its share.
const READ_TICK: Duration = Duration::from_millis(100);
/// Longest wait for a slow connection to be accepted.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What slow connections met.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SlowCount {
    /// Connections the server accepted.
    pub opened: u64,
    /// Connections refused or not accepted within 5 s.
    pub refused: u64,
    /// Connections the server closed (or reset) before the load ended.
    pub closed_by_server: u64,
    /// Connections still open when the load ended (labour closed them).
    pub open_at_end: u64,
    /// Bytes sent over all of them.
    pub bytes_sent: u64,
    /// Bytes read over all of them.
    pub bytes_read: u64,
    /// Seconds from the first byte sent to the server closing, of each
    /// connection the server closed.
    pub closed_after_secs: Vec<f64>,
}

#[derive(Default)]
struct Counters {
    opened: AtomicU64,
    refused: AtomicU64,
    closed: AtomicU64,
    open_at_end: AtomicU64,
    sent: AtomicU64,
    read: AtomicU64,
    closed_after: std::sync::Mutex<Vec<f64>>,
}

impl Counters {
    fn count(self: Arc<Self>) -> SlowCount {
        let mut closed_after_secs = self.closed_after.lock().unwrap().clone();
        closed_after_secs.sort_by(f64::total_cmp);
        SlowCount {
            opened: self.opened.load(Ordering::SeqCst),
            refused: self.refused.load(Ordering::SeqCst),
            closed_by_server: self.closed.load(Ordering::SeqCst),
            open_at_end: self.open_at_end.load(Ordering::SeqCst),
            bytes_sent: self.sent.load(Ordering::SeqCst),
            bytes_read: self.read.load(Ordering::SeqCst),
            closed_after_secs,
        }
    }

    fn closed_after(&self, began: Instant) {
        self.closed.fetch_add(1, Ordering::SeqCst);
        self.closed_after
            .lock()
            .unwrap()
            .push(began.elapsed().as_secs_f64());
    }
}

async fn connect(address: SocketAddr, buffer: Option<u32>) -> Option<TcpStream> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .ok()?;
    if let Some(size) = buffer {
        socket.set_recv_buffer_size(size).ok()?;
    }
    tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(address))
        .await
        .ok()?
        .ok()
}

/// `connections` clients that send `GET /PlainResponse` one byte every
/// `interval`, then header bytes forever, until `stop`.
pub(crate) async fn slow_clients(
    address: SocketAddr,
    host: &str,
    connections: u32,
    interval: Duration,
    stop: CancellationToken,
) -> SlowCount {
    let counters = Arc::new(Counters::default());
    let head = format!("GET /PlainResponse HTTP/1.1\r\nHost: {host}\r\nX-Labour-Slow: ");
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (counters, stop, head) = (Arc::clone(&counters), stop.clone(), head.clone());
            tokio::spawn(async move {
                let Some(mut stream) = connect(address, None).await else {
                    counters.refused.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                counters.opened.fetch_add(1, Ordering::SeqCst);
                let began = Instant::now();
                let mut bytes = head.bytes().chain(std::iter::repeat(b'a'));
                let mut scratch = [0u8; 512];
                loop {
                    let byte = bytes.next().unwrap_or(b'a');
                    if stream.write_all(&[byte]).await.is_err() {
                        counters.closed_after(began);
                        return;
                    }
                    counters.sent.fetch_add(1, Ordering::SeqCst);
                    tokio::select! {
                        _ = stop.cancelled() => {
                            counters.open_at_end.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                        _ = tokio::time::sleep(interval) => {}
                        // The server answered (an error page) or closed.
                        read = stream.read(&mut scratch) => match read {
                            Ok(n) if n > 0 => {
                                counters.read.fetch_add(n as u64, Ordering::SeqCst);
                            }
                            _ => {
                                counters.closed_after(began);
                                return;
                            }
                        },
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    counters.count()
}

/// `connections` readers that ask for `path` (a big body) and read `rate`
/// bytes a second of it, until `stop`.
pub(crate) async fn slow_readers(
    address: SocketAddr,
    host: &str,
    path: &str,
    connections: u32,
    rate: u64,
    stop: CancellationToken,
) -> SlowCount {
    let counters = Arc::new(Counters::default());
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let per_tick = (rate as f64 * READ_TICK.as_secs_f64()).ceil().max(1.0) as usize;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (counters, stop, request) = (Arc::clone(&counters), stop.clone(), request.clone());
            tokio::spawn(async move {
                let Some(mut stream) = connect(address, Some(READER_BUFFER)).await else {
                    counters.refused.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                counters.opened.fetch_add(1, Ordering::SeqCst);
                let began = Instant::now();
                if stream.write_all(request.as_bytes()).await.is_err() {
                    counters.closed_after(began);
                    return;
                }
                counters
                    .sent
                    .fetch_add(request.len() as u64, Ordering::SeqCst);
                let mut buffer = vec![0u8; per_tick];
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => {
                            counters.open_at_end.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                        _ = tokio::time::sleep(READ_TICK) => {}
                    }
                    match stream.read(&mut buffer).await {
                        Ok(n) if n > 0 => {
                            counters.read.fetch_add(n as u64, Ordering::SeqCst);
                        }
                        // The whole body read, or the server gave up.
                        _ => {
                            counters.closed_after(began);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    counters.count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_slow_client_trickles_its_head_and_is_counted_open_at_the_end() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let server = {
            let received = Arc::clone(&received);
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buffer = [0u8; 64];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    received.fetch_add(n as u64, Ordering::SeqCst);
                }
            })
        };
        let stop = CancellationToken::new();
        let stopper = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                stop.cancel();
            })
        };
        let count = slow_clients(address, "x", 1, Duration::from_millis(50), stop).await;
        stopper.await.unwrap();
        server.await.unwrap();
        assert_eq!(count.opened, 1);
        assert_eq!(count.open_at_end, 1);
        assert_eq!(count.closed_by_server, 0);
        // One byte now and one per 50 ms: a few, never the whole head.
        assert!((3..=8).contains(&count.bytes_sent), "{count:?}");
        assert_eq!(received.load(Ordering::SeqCst), count.bytes_sent);
    }

    #[tokio::test]
    async fn a_connection_the_server_closes_is_counted_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(socket);
        });
        let stop = CancellationToken::new();
        let count = slow_clients(address, "x", 1, Duration::from_millis(20), stop.clone()).await;
        server.await.unwrap();
        assert_eq!(count.closed_by_server, 1, "{count:?}");
        assert_eq!(count.open_at_end, 0);
        assert_eq!(count.closed_after_secs.len(), 1);
    }
}
