//! One HTTP/1.1 connection and one request over it, with the request's
//! ending classified into an [`Outcome`].
//!
//! The exchange runs inside the worker's own task: the request is written
//! from bytes prepared once per kind of request, the response head is
//! parsed with httparse, and the body is framed by Content-Length, chunked
//! encoding or the end of the connection, counted and dropped. A client
//! built on a separate connection task and a channel per request (hyper's)
//! spent four times wrk's CPU per request here; this one does not.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::chunked;
use crate::behaviour::Outcome;

/// Header the stress application puts on every response.
pub(super) const WORKER_HEADER: &str = "x-labour-worker";
/// Response headers parsed at most.
const MAX_HEADERS: usize = 64;
/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Read buffer size.
const READ_CHUNK: usize = 64 * 1024;

/// What one exchange produced.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Exchange {
    /// How it ended.
    pub outcome: Outcome,
    /// `X-Labour-Worker`, if headers arrived.
    pub worker_pid: Option<u32>,
    /// The error, in words, when there was one.
    pub detail: Option<String>,
    /// Time from the start of the exchange until the response headers
    /// arrived, if they did.
    pub headers_after: Option<Duration>,
    /// How long connecting took, when this exchange opened a new
    /// connection and the connect succeeded: a listen queue that overflows
    /// shows here, as a connect that waited for the kernel's SYN retry.
    pub connect: Option<Duration>,
}

impl Exchange {
    /// An exchange that ended before any response.
    pub(super) fn failed(outcome: Outcome, detail: String) -> Self {
        Exchange {
            outcome,
            worker_pid: None,
            detail: Some(detail),
            headers_after: None,
            connect: None,
        }
    }
}

/// What to send, prepared once per kind of request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    /// The request line and headers, ready to write.
    pub head: &'a [u8],
    /// A body to send after the head (its length is in the head).
    pub upload: Option<&'a [u8]>,
    /// Keep the connection for the next request (the head does not ask
    /// for `Connection: close`).
    pub keep_alive: bool,
    /// The status and body length of a correct answer, where known: a
    /// response with that status and another length is a wrong body.
    pub body_check: Option<(u16, u64)>,
    /// Text a correct answer's body holds (in its first
    /// [`MAX_CHECKED_BODY`] bytes): a response without it is a wrong body.
    pub body_contains: Option<&'a [u8]>,
}

use crate::plan::target::MAX_CHECKED_BODY;

/// The request head for `method path` with `headers` (and a body of
/// `body` bytes).
pub(super) fn custom_head(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(String, String)],
    body: Option<u64>,
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: labour/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(length) = body {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The request head for `GET path` (or a POST of `upload` bytes).
pub(super) fn request_head(
    path: &str,
    host: &str,
    upload: Option<u64>,
    keep_alive: bool,
) -> Vec<u8> {
    let method = if upload.is_some() { "POST" } else { "GET" };
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: labour/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(length) = upload {
        head.push_str(&format!(
            "Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n"
        ));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// An open connection and its read buffer; dropping it closes the socket.
pub(super) struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    /// Connect to `address`.
    pub(super) async fn open(address: SocketAddr) -> Result<Self, Exchange> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|error| Exchange::failed(classify_io(&error), error.to_string()))?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(READ_CHUNK),
        })
    }

    /// Whether the server closed (or wrote on) the connection while it sat
    /// idle, so it cannot carry another request. Checked before reuse, as
    /// curl does, so a closed keep-alive connection is not mistaken for the
    /// server failing the next request.
    fn closed_while_idle(&self) -> bool {
        let mut probe = [0u8; 1];
        !matches!(self.stream.try_read(&mut probe), Err(ref e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Read more bytes into the buffer; `Ok(0)` at the end of the stream.
    /// Reads go into the buffer's spare capacity: nothing is zeroed.
    async fn fill(&mut self) -> io::Result<usize> {
        self.buffer.reserve(READ_CHUNK);
        self.stream.read_buf(&mut self.buffer).await
    }
}

/// A parsed response head.
struct Head {
    status: u16,
    worker_pid: Option<u32>,
    framing: Framing,
    keep_alive: bool,
    length: usize,
}

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

enum Parsed {
    Head(Head),
    Partial,
}

fn parse_head(bytes: &[u8]) -> Result<Parsed, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(error) => return Err(format!("invalid response head: {error}")),
    };
    let status = response.code.unwrap_or(0);
    let http10 = response.version == Some(0);
    let mut worker_pid = None;
    let mut content_length = None;
    let mut chunked = false;
    let mut close = http10;
    // Only the few headers that matter are decoded.
    let text = |value: &[u8]| std::str::from_utf8(value).unwrap_or("").trim().to_string();
    for header in response.headers.iter() {
        let name = header.name.as_bytes();
        if name.eq_ignore_ascii_case(WORKER_HEADER.as_bytes()) {
            worker_pid = ascii_number(header.value).and_then(|n| u32::try_from(n).ok());
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let parsed = ascii_number(header.value)
                .ok_or_else(|| format!("invalid Content-Length {:?}", text(header.value)))?;
            if content_length.is_some_and(|known| known != parsed) {
                return Err("conflicting Content-Length headers".into());
            }
            content_length = Some(parsed);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = text(header.value)
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in text(header.value).split(',') {
                let option = option.trim();
                if option.eq_ignore_ascii_case("close") {
                    close = true;
                } else if option.eq_ignore_ascii_case("keep-alive") && http10 {
                    close = false;
                }
            }
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        close = true;
        Framing::UntilClose
    };
    Ok(Parsed::Head(Head {
        status,
        worker_pid,
        framing,
        keep_alive: !close,
        length,
    }))
}

/// A decimal number of ASCII digits, surrounding spaces allowed.
fn ascii_number(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |number, &byte| {
        byte.is_ascii_digit()
            .then(|| number * 10 + u64::from(byte - b'0'))
    })
}

/// Why a body could not be read in full.
enum BodyError {
    /// The connection ended first.
    Ended(String),
    /// The chunked framing was broken.
    Invalid(String),
}

/// Count the body's bytes, reading as needed; the buffer starts with
/// whatever followed the head.
async fn read_body(
    connection: &mut Connection,
    framing: Framing,
    mut keep: Option<&mut Vec<u8>>,
) -> Result<u64, (u64, BodyError)> {
    let mut received: u64 = 0;
    // The start of the body, kept up to MAX_CHECKED_BODY when asked.
    let keep_from = |bytes: &[u8], keep: &mut Option<&mut Vec<u8>>| {
        if let Some(kept) = keep {
            let room = MAX_CHECKED_BODY.saturating_sub(kept.len()).min(bytes.len());
            kept.extend_from_slice(&bytes[..room]);
        }
    };
    match framing {
        Framing::Length(length) => {
            let mut have = connection.buffer.len() as u64;
            let take = usize::try_from(length).unwrap_or(usize::MAX);
            let first = connection.buffer.len().min(take);
            keep_from(&connection.buffer[..first], &mut keep);
            connection.buffer.clear();
            while have < length {
                match connection.fill().await {
                    Ok(0) => return Err((have, BodyError::Ended("end of stream".into()))),
                    Ok(read) => {
                        let wanted = usize::try_from(length - have).unwrap_or(usize::MAX);
                        keep_from(&connection.buffer[..read.min(wanted)], &mut keep);
                        have += read as u64;
                    }
                    Err(error) => return Err((have, BodyError::Ended(error.to_string()))),
                }
                connection.buffer.clear();
            }
            Ok(length.min(have))
        }
        Framing::UntilClose => {
            received += connection.buffer.len() as u64;
            keep_from(&connection.buffer, &mut keep);
            connection.buffer.clear();
            loop {
                match connection.fill().await {
                    Ok(0) => return Ok(received),
                    Ok(read) => {
                        keep_from(&connection.buffer, &mut keep);
                        received += read as u64;
                    }
                    Err(error) => return Err((received, BodyError::Ended(error.to_string()))),
                }
                connection.buffer.clear();
            }
        }
        Framing::Chunked => {
            let mut decoder = chunked::Decoder::default();
            loop {
                let fed = decoder
                    .feed_into(
                        &connection.buffer,
                        keep.as_deref_mut().map(|kept| (kept, MAX_CHECKED_BODY)),
                    )
                    .map_err(|chunked::Invalid(why)| (received, BodyError::Invalid(why)))?;
                received += fed.body;
                connection.buffer.drain(..fed.consumed);
                if decoder.is_done() {
                    return Ok(received);
                }
                match connection.fill().await {
                    Ok(0) => return Err((received, BodyError::Ended("end of stream".into()))),
                    Ok(_) => {}
                    Err(error) => return Err((received, BodyError::Ended(error.to_string()))),
                }
            }
        }
    }
}

/// Send `target` over `slot`'s connection, opening one if there is none
/// or the last one cannot be reused. On any failure, and after every
/// response that does not keep the connection, it is dropped so the next
/// request starts afresh.
pub(super) async fn exchange(
    slot: &mut Option<Connection>,
    address: SocketAddr,
    target: Target<'_>,
) -> Exchange {
    let began = Instant::now();
    if slot.as_ref().is_some_and(Connection::closed_while_idle) {
        *slot = None;
    }
    let mut connect = None;
    let connection = match slot {
        Some(connection) => connection,
        None => match Connection::open(address).await {
            Ok(connection) => {
                connect = Some(began.elapsed());
                slot.insert(connection)
            }
            Err(failed) => return failed,
        },
    };
    let (mut answer, reusable) = talk(connection, target, began).await;
    if !reusable {
        *slot = None;
    }
    answer.connect = connect;
    answer
}

/// One request and response; the flag says whether the connection can
/// carry another.
async fn talk(connection: &mut Connection, target: Target<'_>, began: Instant) -> (Exchange, bool) {
    let failed = |outcome, detail: String| (Exchange::failed(outcome, detail), false);
    connection.buffer.clear();
    if let Err(error) = connection.stream.write_all(target.head).await {
        return failed(classify_io(&error), format!("sending the request: {error}"));
    }
    if let Some(upload) = target.upload
        && let Err(error) = connection.stream.write_all(upload).await
    {
        return failed(classify_io(&error), format!("sending the body: {error}"));
    }
    let head = loop {
        match parse_head(&connection.buffer) {
            Ok(Parsed::Head(head)) if (100..200).contains(&head.status) && head.status != 101 => {
                // An interim answer (100 Continue...): the real one follows.
                connection.buffer.drain(..head.length);
                continue;
            }
            Ok(Parsed::Head(head)) => break head,
            Ok(Parsed::Partial) if connection.buffer.len() > MAX_HEAD => {
                return failed(Outcome::ProtocolError, "response head too large".into());
            }
            Ok(Parsed::Partial) => {}
            Err(problem) => return failed(Outcome::ProtocolError, problem),
        }
        match connection.fill().await {
            Ok(0) if connection.buffer.is_empty() => {
                return failed(
                    Outcome::Reset,
                    "connection closed before any response".into(),
                );
            }
            Ok(0) => {
                return failed(
                    Outcome::Reset,
                    "connection closed inside the response head".into(),
                );
            }
            Ok(_) => {}
            Err(error) => return failed(classify_io(&error), error.to_string()),
        }
    };
    let headers_after = Some(began.elapsed());
    connection.buffer.drain(..head.length);
    let answered = |outcome, detail| Exchange {
        outcome,
        worker_pid: head.worker_pid,
        detail,
        headers_after,
        connect: None,
    };
    let mut kept = target.body_contains.map(|_| Vec::new());
    match read_body(connection, head.framing, kept.as_mut()).await {
        Ok(received) => {
            let missing = match (target.body_contains, &kept) {
                (Some(text), Some(kept)) => !contains(kept, text),
                _ => false,
            };
            let outcome = match target.body_check {
                Some((status, expected)) if status == head.status && expected != received => (
                    Outcome::WrongBody(head.status),
                    Some(format!("body of {received} bytes, expected {expected}")),
                ),
                _ if missing => (
                    Outcome::WrongBody(head.status),
                    Some(format!(
                        "body of {received} bytes without {:?}",
                        String::from_utf8_lossy(target.body_contains.unwrap_or_default())
                    )),
                ),
                _ => (Outcome::Status(head.status), None),
            };
            let reusable =
                target.keep_alive && head.keep_alive && head.framing != Framing::UntilClose;
            (answered(outcome.0, outcome.1), reusable)
        }
        Err((received, BodyError::Ended(why))) => (
            answered(
                Outcome::Truncated,
                Some(format!("after {received} body bytes: {why}")),
            ),
            false,
        ),
        Err((received, BodyError::Invalid(why))) => (
            answered(
                Outcome::ProtocolError,
                Some(format!("after {received} body bytes: {why}")),
            ),
            false,
        ),
    }
}

/// Whether `text` is somewhere in `body` (an empty text always is).
fn contains(body: &[u8], text: &[u8]) -> bool {
    text.is_empty() || body.windows(text.len()).any(|window| window == text)
}

/// An I/O error while connecting or talking.
pub(super) fn classify_io(error: &io::Error) -> Outcome {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => Outcome::Refused,
        io::ErrorKind::TimedOut => Outcome::Timeout,
        io::ErrorKind::InvalidData => Outcome::ProtocolError,
        _ => Outcome::Reset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        match parse_head(text.as_bytes()).unwrap() {
            Parsed::Head(head) => head,
            Parsed::Partial => panic!("partial"),
        }
    }

    #[test]
    fn heads_say_how_the_body_ends() {
        let ok = head("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Labour-Worker: 42\r\n\r\nPong!\n");
        assert_eq!(
            (ok.status, ok.worker_pid, ok.framing, ok.keep_alive),
            (200, Some(42), Framing::Length(6), true)
        );
        assert_eq!(
            ok.length,
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Labour-Worker: 42\r\n\r\n".len()
        );
        let chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(chunked.framing, Framing::Chunked);
        let closing = head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n");
        assert!(!closing.keep_alive);
        let old = head("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        assert!(!old.keep_alive);
        let old_kept =
            head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n");
        assert!(old_kept.keep_alive);
        let unframed = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(unframed.framing, Framing::UntilClose);
        assert!(!unframed.keep_alive);
        let empty = head("HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(empty.framing, Framing::Length(0));
    }

    #[test]
    fn numbers_are_plain_ascii_digits() {
        assert_eq!(ascii_number(b" 42 "), Some(42));
        assert_eq!(ascii_number(b"4x2"), None);
        assert_eq!(ascii_number(b"-1"), None);
        assert_eq!(ascii_number(b""), None);
        assert_eq!(ascii_number(b"99999999999999999999"), None);
    }

    #[test]
    fn broken_heads_are_protocol_errors_and_short_ones_partial() {
        assert!(parse_head(b"SPEAK FRIEND AND ENTER\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: six\r\n\r\n").is_err());
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .is_err()
        );
        assert!(matches!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le"),
            Ok(Parsed::Partial)
        ));
    }

    #[test]
    fn request_heads_are_complete_http() {
        let get = request_head("/PlainResponse?status=404", "127.0.0.1:80", None, false);
        let text = String::from_utf8(get).unwrap();
        assert!(
            text.starts_with("GET /PlainResponse?status=404 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n")
        );
        assert!(text.ends_with("Connection: close\r\n\r\n"));
        let post =
            String::from_utf8(request_head("/EchoUpload?bytes=3", "h", Some(3), true)).unwrap();
        assert!(post.starts_with("POST "));
        assert!(post.contains("Content-Length: 3\r\n"));
        assert!(!post.contains("Connection: close"));
    }
}
