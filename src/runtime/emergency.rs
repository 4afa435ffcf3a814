//! The last resort when labour cannot stop its servers the orderly way: a
//! second Ctrl-C, or a panic. Each runtime registers how to remove what it
//! started, synchronously; the registry runs them all once, then labour
//! exits. Whatever this misses (a `kill -9`), the next run sweeps.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

type Cleanup = Box<dyn Fn() + Send>;

static CLEANUPS: Mutex<Vec<(u64, Cleanup)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A registered cleanup; dropping it unregisters it (the runtime shut
/// down the orderly way).
pub(crate) struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut cleanups) = CLEANUPS.lock() {
            cleanups.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Register `cleanup`, to run if labour has to give up on its orderly
/// shutdown.
pub(crate) fn register(cleanup: impl Fn() + Send + 'static) -> Registration {
    let id = NEXT.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut cleanups) = CLEANUPS.lock() {
        cleanups.push((id, Box::new(cleanup)));
    }
    Registration(id)
}

/// Run every registered cleanup once.
pub(crate) fn run_all() {
    let cleanups: Vec<(u64, Cleanup)> = match CLEANUPS.lock() {
        Ok(mut cleanups) => cleanups.drain(..).collect(),
        Err(poisoned) => poisoned.into_inner().drain(..).collect(),
    };
    for (_, cleanup) in cleanups {
        cleanup();
    }
}

/// On a panic anywhere: say it as Rust does, remove what was started, and
/// exit with status 101 rather than go on with a run in an unknown state.
pub(crate) fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("labour: a panic: removing this run's servers");
        run_all();
        std::process::exit(101);
    }));
}
