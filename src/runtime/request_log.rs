//! The application's own account of the requests that reached it: the
//! stress application appends a line when a request reaches it and one
//! when it has produced the whole answer (`images/app/labour_app.py`,
//! `LABOUR_REQUEST_LOG`), to a file a runtime reads once the server is
//! stopped. Lines are appended by one write(2) each, so a worker killed
//! mid-request leaves its start line whole; a line cut short by the end of
//! what was read, or not of the form, is counted and left out.

use std::collections::BTreeMap;

/// The variable that tells the application where to log its requests.
pub(crate) const REQUEST_LOG_ENV: &str = "LABOUR_REQUEST_LOG";
/// Where the log is in a container (its writable layer, which outlives
/// the server's processes until the container is removed).
pub(crate) const CONTAINER_REQUEST_LOG: &str = "/tmp/labour-requests.log";
/// The most of a log labour reads: about 700,000 requests' lines.
pub(crate) const REQUEST_LOG_MAX: u64 = 64 << 20;

/// One request, as the application saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AppRequest {
    /// The worker process that ran it.
    pub pid: u32,
    /// When it reached the application: seconds since the Unix epoch, as
    /// the application's clock said (the host's, in a container).
    pub started: f64,
    /// When the application had produced its whole answer, if it did.
    pub finished: Option<f64>,
}

/// What the application logged, or why there is nothing to read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AppLog {
    /// Read: each request by its id, and the lines that were not one.
    Read {
        /// The requests, by the id the client sent.
        requests: BTreeMap<u64, AppRequest>,
        /// Lines that were not a request's (cut short, or garbled).
        bad_lines: u64,
    },
    /// Not read, and why (the runtime cannot, the file could not be read).
    Unread(String),
}

impl Default for AppLog {
    fn default() -> Self {
        AppLog::Unread("the runtime keeps no request log".into())
    }
}

impl AppLog {
    /// Parse the text of a request log. A log that was never written (no
    /// request with an id reached the application) is read as empty.
    pub(crate) fn parse(text: &[u8]) -> AppLog {
        let mut requests: BTreeMap<u64, AppRequest> = BTreeMap::new();
        let mut bad_lines = 0;
        let mut finishes = Vec::new();
        let complete = match text.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                if last + 1 < text.len() {
                    bad_lines += 1;
                }
                &text[..=last]
            }
            None => {
                bad_lines += u64::from(!text.is_empty());
                &[]
            }
        };
        for line in complete.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let Some((mark, id, pid, at)) = std::str::from_utf8(line).ok().and_then(fields) else {
                bad_lines += 1;
                continue;
            };
            match mark {
                'S' => {
                    requests.entry(id).or_insert(AppRequest {
                        pid,
                        started: at,
                        finished: None,
                    });
                }
                _ => finishes.push((id, at)),
            }
        }
        for (id, at) in finishes {
            match requests.get_mut(&id) {
                Some(request) => {
                    request.finished.get_or_insert(at);
                }
                // A finish with no start: the start line was lost.
                None => bad_lines += 1,
            }
        }
        AppLog::Read {
            requests,
            bad_lines,
        }
    }
}

/// `S|F <hex id> <pid> <seconds>`.
fn fields(line: &str) -> Option<(char, u64, u32, f64)> {
    let mut parts = line.split(' ');
    let mark = match parts.next()? {
        "S" => 'S',
        "F" => 'F',
        _ => return None,
    };
    let id = u64::from_str_radix(parts.next()?, 16).ok()?;
    let pid = parts.next()?.parse().ok()?;
    let at: f64 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && at.is_finite()).then_some((mark, id, pid, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_finishes_pair_by_id_and_broken_lines_are_counted() {
        let log = AppLog::parse(
            b"S 2a 7 100.5\nS 100000000 8 100.6\nF 2a 7 101.0\nX nonsense\nF 99 7 1.0\nS 3 7 10",
        );
        let AppLog::Read {
            requests,
            bad_lines,
        } = log
        else {
            panic!("a log reads");
        };
        assert_eq!(
            requests[&0x2a],
            AppRequest {
                pid: 7,
                started: 100.5,
                finished: Some(101.0)
            }
        );
        assert_eq!(requests[&(1 << 32)].finished, None, "it died inside");
        // The garbled line, the finish with no start, the line cut short.
        assert_eq!(bad_lines, 3);
        assert_eq!(requests.len(), 2);
    }

    #[test]
    fn an_empty_log_is_read_and_empty() {
        assert_eq!(
            AppLog::parse(b""),
            AppLog::Read {
                requests: BTreeMap::new(),
                bad_lines: 0
            }
        );
    }
}
