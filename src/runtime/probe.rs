//! Readiness: one plain HTTP request that must come back 200.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::RuntimeError;

/// Longest response head a probe reads.
const HEAD_LIMIT: usize = 8192;

/// What a ready server said about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Ready {
    /// The interpreter the stress application runs on (`X-Labour-Python`).
    pub python: Option<String>,
}

/// The path labour's own application is probed at.
pub(crate) const READY_PATH: &str = "/PlainResponse";

/// Ask `address` for `path` once; `Ok` when it answers 2xx within
/// `timeout`, otherwise why not.
pub(super) async fn probe(
    address: SocketAddr,
    path: &str,
    timeout: Duration,
) -> Result<Ready, String> {
    match tokio::time::timeout(timeout, probe_once(address, path)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

async fn probe_once(address: SocketAddr, path: &str) -> Result<Ready, String> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|error| format!("connecting to {address}: {error}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| format!("sending to {address}: {error}"))?;
    let mut head = Vec::with_capacity(256);
    let mut buffer = [0u8; 256];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < HEAD_LIMIT {
        let read = stream
            .read(&mut buffer)
            .await
            .map_err(|error| format!("reading from {address}: {error}"))?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&head);
    let status_line = line.lines().next().unwrap_or_default().trim();
    let status = status_line.split_whitespace().nth(1);
    let success = status.is_some_and(|code| code.len() == 3 && code.starts_with('2'));
    if status_line.starts_with("HTTP/1.") && success {
        let python = line.lines().find_map(|header| {
            let (name, value) = header.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("x-labour-python")
                .then(|| value.trim().to_string())
        });
        Ok(Ready { python })
    } else if status_line.is_empty() {
        Err(format!("{address} closed the connection without answering"))
    } else {
        Err(format!("{address} answered {status_line:?} to GET {path}"))
    }
}

/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Longest wait for one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How to wait for a started server.
pub(crate) struct Readiness<'a> {
    /// The server, for errors.
    pub server: &'a str,
    /// The path that answers 2xx once it is ready.
    pub path: &'a str,
    /// Where it should answer.
    pub address: SocketAddr,
    /// How long it may take.
    pub timeout: Duration,
    /// Ends the wait with [`RuntimeError::Interrupted`].
    pub cancel: &'a CancellationToken,
}

impl Readiness<'_> {
    /// Probe until the server answers, the deadline passes, or the run is
    /// cancelled. After each failed probe `gone` says whether the server has
    /// exited (its error ends the wait); `log_tail` gives its last lines for
    /// a server that never answered.
    pub(super) async fn wait<G, T>(
        &self,
        mut gone: impl FnMut() -> G,
        log_tail: impl FnOnce() -> T,
    ) -> Result<Ready, RuntimeError>
    where
        G: Future<Output = Result<(), RuntimeError>>,
        T: Future<Output = Vec<String>>,
    {
        let deadline = Instant::now() + self.timeout;
        loop {
            let last = tokio::select! {
                _ = self.cancel.cancelled() => return Err(RuntimeError::Interrupted),
                result = probe(self.address, self.path, PROBE_TIMEOUT) => match result {
                    Ok(ready) => return Ok(ready),
                    Err(reason) => reason,
                },
            };
            gone().await?;
            if Instant::now() >= deadline {
                return Err(RuntimeError::NotReady {
                    server: self.server.to_string(),
                    timeout: self.timeout,
                    reason: last,
                    log_tail: log_tail().await,
                });
            }
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(RuntimeError::Interrupted),
                _ = tokio::time::sleep(PROBE_INTERVAL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn serve_once(answer: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 1024];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(answer).await;
        });
        address
    }

    #[tokio::test]
    async fn a_200_is_ready() {
        let address = serve_once(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        assert_eq!(
            probe(address, READY_PATH, Duration::from_secs(5)).await,
            Ok(Ready::default())
        );
        let address =
            serve_once(b"HTTP/1.1 200 OK\r\nx-labour-python: 2.7.18\r\nContent-Length: 0\r\n\r\n")
                .await;
        let ready = probe(address, READY_PATH, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(ready.python.as_deref(), Some("2.7.18"));
    }

    #[tokio::test]
    async fn anything_else_says_what_came_back() {
        let address = serve_once(b"HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        let error = probe(address, READY_PATH, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(error.contains("503"), "{error}");
        let address = serve_once(b"").await;
        let error = probe(address, READY_PATH, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(error.contains("closed"), "{error}");
    }

    #[tokio::test]
    async fn nothing_listening_is_not_ready() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        assert!(
            probe(address, READY_PATH, Duration::from_secs(5))
                .await
                .is_err()
        );
    }
}
