//! The keeper: a small process (labour itself, as a hidden subcommand)
//! that leads each local server's process group. It starts the server's
//! command in its group, adopts the server's orphaned workers (child
//! subreaper), and exits as the server's main process exits, with its
//! status. Should labour die, whatever the way (`kill -9` included), the
//! kernel tells the keeper (parent-death signal), which kills the whole
//! group: no wedged worker of a dead run keeps spinning.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};

/// The hidden subcommand.
pub(crate) const KEEPER_SUBCOMMAND: &str = "keep-group";

/// The signal the kernel sends the keeper when labour dies.
const PARENT_DIED: libc::c_int = libc::SIGUSR1;

extern "C" fn on_parent_death(_: libc::c_int) {
    // SAFETY: killpg is async-signal-safe; 0 is the keeper's own group,
    // the server's.
    unsafe {
        libc::killpg(0, libc::SIGKILL);
    }
}

extern "C" fn wait_for_the_server(_: libc::c_int) {}

fn handle(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: a zeroed sigaction with a plain handler is valid; the
    // handlers only call async-signal-safe functions. Handlers (unlike
    // ignored signals) are reset to the default in the server on exec.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// Run `command` as the group's server and exit as it exits. Never
/// returns.
pub(crate) fn keep(command: &[OsString]) -> ! {
    let Some((program, args)) = command.split_first() else {
        eprintln!("labour keep-group: no command");
        std::process::exit(2);
    };
    handle(PARENT_DIED, on_parent_death);
    // Signals sent to the whole group (labour's SIGTERM, a terminal's) are
    // for the server: the keeper waits for it to exit.
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT] {
        handle(signal, wait_for_the_server);
    }
    // SAFETY: prctl and getppid have no memory effects.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, PARENT_DIED);
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
        if libc::getppid() == 1 {
            // labour died before the keeper could hear of it.
            std::process::exit(137);
        }
        // The keeper may end itself with the server's fatal signal: no
        // core file of its own for that.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
    }
    let child = match std::process::Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!(
                "labour keep-group: cannot run {}: {error}",
                program.to_string_lossy()
            );
            std::process::exit(127);
        }
    };
    let server = child.id() as libc::pid_t;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid writes only `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == server {
            exit_as(std::process::ExitStatus::from_raw(status));
        }
        if pid == -1 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                _ => std::process::exit(1),
            }
        }
        // Another pid: an orphaned worker the keeper adopted, now reaped.
    }
}

/// Exit with `status`: its code, or the same signal.
fn exit_as(status: std::process::ExitStatus) -> ! {
    if let Some(code) = status.code() {
        std::process::exit(code);
    }
    let signal = status.signal().unwrap_or(libc::SIGKILL);
    // SAFETY: restoring the default action and raising the signal on
    // ourselves ends the process as the server ended.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut unblock: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut unblock);
        libc::sigaddset(&mut unblock, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &unblock, std::ptr::null_mut());
        libc::raise(signal);
    }
    std::process::exit(128 + signal);
}

/// How the local runtime starts a server under a keeper: `labour
/// keep-group -- PROGRAM ARGS...`.
pub(crate) fn command(
    keeper: &std::path::Path,
    program: &std::path::Path,
) -> std::process::Command {
    let mut command = std::process::Command::new(keeper);
    command.arg(KEEPER_SUBCOMMAND).arg("--").arg(program);
    command.arg0("labour-keeper");
    command
}
