//! One HTTP/1.1 connection and one request over it, with the request's
//! ending classified into an [`Outcome`].

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Response, Uri, body::Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::AbortHandle;

use crate::behaviour::Outcome;

/// Header the stress application puts on every response.
pub const WORKER_HEADER: &str = "x-labour-worker";

/// What one exchange produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// How it ended.
    pub outcome: Outcome,
    /// `X-Labour-Worker`, if headers arrived.
    pub worker_pid: Option<u32>,
    /// The error, in words, when there was one.
    pub detail: Option<String>,
    /// Time from the start of the exchange until the response headers
    /// arrived, if they did.
    pub headers_after: Option<Duration>,
}

impl Exchange {
    /// An exchange that ended before any response.
    pub fn failed(outcome: Outcome, detail: String) -> Self {
        Exchange {
            outcome,
            worker_pid: None,
            detail: Some(detail),
            headers_after: None,
        }
    }
}

/// An open connection; dropping it closes the socket.
pub struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: AbortHandle,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The driver task owns the socket: stopping it closes the socket,
        // even when a wedged server never answers.
        self.driver.abort();
    }
}

impl Connection {
    /// Connect to `address`.
    pub async fn open(address: SocketAddr) -> Result<Self, Exchange> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|error| Exchange::failed(classify_io(&error), error.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| Exchange::failed(classify_hyper(&error, false), describe(&error)))?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        })
        .abort_handle();
        Ok(Connection { sender, driver })
    }

    /// Whether the connection can carry another request.
    pub fn is_usable(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// What to send, prepared once per kind of request.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Path and query, parsed.
    pub uri: &'a Uri,
    /// The `Host` header.
    pub host: &'a HeaderValue,
    /// A body to POST; `None` sends a GET.
    pub upload: Option<&'a Bytes>,
    /// Keep the connection for the next request; otherwise ask the server
    /// to close it (`Connection: close`) and open a new one next time.
    pub keep_alive: bool,
    /// The status and body length of a correct answer, where known: a
    /// response with that status and another length is a wrong body.
    pub body_check: Option<(u16, u64)>,
}

static USER_AGENT_VALUE: HeaderValue =
    HeaderValue::from_static(concat!("labour/", env!("CARGO_PKG_VERSION")));
static CLOSE: HeaderValue = HeaderValue::from_static("close");
static OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

fn request(target: Target<'_>) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(target.upload.cloned().unwrap_or_default()));
    *request.uri_mut() = target.uri.clone();
    let headers = request.headers_mut();
    headers.insert(HOST, target.host.clone());
    headers.insert(USER_AGENT, USER_AGENT_VALUE.clone());
    if !target.keep_alive {
        headers.insert(CONNECTION, CLOSE.clone());
    }
    if target.upload.is_some() {
        *request.method_mut() = Method::POST;
        request
            .headers_mut()
            .insert(CONTENT_TYPE, OCTET_STREAM.clone());
    }
    request
}

/// Send `target` over `slot`'s connection, opening one if there is none
/// or the last one was closed. On any failure, and after every request
/// without keep-alive, the connection is dropped so the next request
/// starts afresh.
pub async fn exchange(
    slot: &mut Option<Connection>,
    address: SocketAddr,
    target: Target<'_>,
) -> Exchange {
    let began = Instant::now();
    let result = send(slot, address, target).await;
    let response = match result {
        Ok(response) => response,
        Err(exchange) => {
            *slot = None;
            return exchange;
        }
    };
    let headers_after = Some(began.elapsed());
    let status = response.status().as_u16();
    let worker_pid = response
        .headers()
        .get(WORKER_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok());
    let mut body = response.into_body();
    let mut received: u64 = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    received += data.len() as u64;
                }
            }
            Err(error) => {
                *slot = None;
                return Exchange {
                    outcome: classify_hyper(&error, true),
                    worker_pid,
                    detail: Some(format!("after {received} body bytes: {}", describe(&error))),
                    headers_after,
                };
            }
        }
    }
    if !target.keep_alive {
        *slot = None;
    }
    match target.body_check {
        Some((checked, expected)) if checked == status && expected != received => Exchange {
            outcome: Outcome::WrongBody(status),
            worker_pid,
            detail: Some(format!("body of {received} bytes, expected {expected}")),
            headers_after,
        },
        _ => Exchange {
            outcome: Outcome::Status(status),
            worker_pid,
            detail: None,
            headers_after,
        },
    }
}

async fn send(
    slot: &mut Option<Connection>,
    address: SocketAddr,
    target: Target<'_>,
) -> Result<Response<Incoming>, Exchange> {
    let reused = matches!(slot, Some(connection) if connection.is_usable());
    if !reused {
        *slot = Some(Connection::open(address).await?);
    }
    let connection = slot.as_mut().expect("a connection was just opened");
    match connection.sender.try_send_request(request(target)).await {
        Ok(response) => Ok(response),
        Err(mut error) => {
            // A kept-alive connection the server closed while idle hands the
            // request back unsent: that is not the server failing the
            // request, so send it once more on a fresh connection.
            if reused && error.take_message().is_some() {
                *slot = Some(Connection::open(address).await?);
                let connection = slot.as_mut().expect("a connection was just opened");
                return connection
                    .sender
                    .send_request(request(target))
                    .await
                    .map_err(|error| {
                        Exchange::failed(classify_hyper(&error, false), describe(&error))
                    });
            }
            let error = error.into_error();
            Err(Exchange::failed(
                classify_hyper(&error, false),
                describe(&error),
            ))
        }
    }
}

/// An I/O error while connecting or talking.
pub fn classify_io(error: &io::Error) -> Outcome {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => Outcome::Refused,
        io::ErrorKind::TimedOut => Outcome::Timeout,
        io::ErrorKind::InvalidData => Outcome::ProtocolError,
        _ => Outcome::Reset,
    }
}

/// A hyper error; `in_body` tells whether the headers had arrived.
fn classify_hyper(error: &hyper::Error, in_body: bool) -> Outcome {
    if error.is_parse() || error.is_parse_status() || error.is_parse_too_large() {
        return Outcome::ProtocolError;
    }
    if in_body {
        return Outcome::Truncated;
    }
    if let Some(io_error) = io_source(error) {
        return classify_io(io_error);
    }
    Outcome::Reset
}

fn io_source<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io_error) = cause.downcast_ref::<io::Error>() {
            return Some(io_error);
        }
        source = cause.source();
    }
    None
}

/// The error and its causes on one line.
fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
