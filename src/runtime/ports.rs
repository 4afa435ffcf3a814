//! Ports for servers that bind the host's loopback (host networking and
//! the local runtime). Several cells start servers at once, so a port is
//! handed out only once while its server runs, and never from the
//! kernel's ephemeral range, where the client's own outgoing connections
//! (thousands a second without keep-alive) take their local ports. A lock
//! file per port keeps two labour processes on one host apart; the kernel
//! drops the lock when a process dies, whatever the way.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::ops::RangeInclusive;
use std::path::PathBuf;

/// Ports handed out at most this far below the ephemeral range.
const SPAN: u16 = 12_000;
/// The lowest port ever handed out.
const LOWEST: u16 = 1024;

/// Where server ports come from.
#[derive(Debug)]
pub(crate) struct Ports {
    range: RangeInclusive<u16>,
    locks: Option<PathBuf>,
}

/// A port held for one server until dropped.
#[derive(Debug)]
pub(crate) struct Port {
    /// The port number.
    pub number: u16,
    _lock: Option<File>,
}

/// The kernel's ephemeral port range, or Linux's default.
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut numbers = text.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((numbers.next()??, numbers.next()??))
        })
        .unwrap_or((32768, 60999))
}

/// The ports to hand out: below the ephemeral range when there is room,
/// above it otherwise.
fn server_range((low, high): (u16, u16)) -> RangeInclusive<u16> {
    if low >= LOWEST + 1000 {
        low.saturating_sub(SPAN).max(LOWEST)..=low - 1
    } else {
        high.saturating_add(1).min(u16::MAX - 1000)..=u16::MAX
    }
}

impl Ports {
    /// Ports outside this host's ephemeral range.
    pub(super) fn new() -> Self {
        let locks = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .unwrap_or_else(|| {
                // SAFETY: getuid has no preconditions.
                std::env::temp_dir().join(format!("labour-{}", unsafe { libc::getuid() }))
            })
            .join("labour-ports");
        let locks = std::fs::create_dir_all(&locks).ok().map(|()| locks);
        Ports {
            range: server_range(ephemeral_range()),
            locks,
        }
    }

    /// A port that no other server of this run or of another labour on
    /// this host holds, and that nothing listens on now.
    pub(super) fn take(&self) -> io::Result<Port> {
        let (start, end) = (*self.range.start(), *self.range.end());
        let span = u32::from(end - start) + 1;
        let offset = rand::random::<u32>() % span;
        for step in 0..span {
            let number = start + ((offset + step) % span) as u16;
            let lock = match &self.locks {
                Some(dir) => {
                    let Ok(file) = File::create(dir.join(number.to_string())) else {
                        continue;
                    };
                    if file.try_lock().is_err() {
                        continue;
                    }
                    Some(file)
                }
                None => None,
            };
            if TcpListener::bind((Ipv4Addr::LOCALHOST, number)).is_ok() {
                return Ok(Port {
                    number,
                    _lock: lock,
                });
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("no free port in {start}-{end}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ports_stay_out_of_the_ephemeral_range() {
        assert_eq!(server_range((32768, 60999)), 20768..=32767);
        assert_eq!(server_range((1500, 60999)), 61000..=65535);
        assert_eq!(server_range((10000, 60999)), 1024..=9999);
    }

    #[test]
    fn a_held_port_is_not_handed_out_again() {
        let ports = Ports::new();
        let held: Vec<Port> = (0..50).map(|_| ports.take().unwrap()).collect();
        let mut numbers: Vec<u16> = held.iter().map(|p| p.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 50);
        assert!(numbers.iter().all(|n| ports.range.contains(n)));
    }
}
