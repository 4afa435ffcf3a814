//! When a load's answer is known: the rule that ends a cell early
//! (`ended_by: settled`).
//!
//! A cell answers two things: whether more than the seed's 10% of its
//! requests failed, and how many requests a second the server answered.
//! Once both are known to within what could change them, more requests
//! only cost time. The rule, checked as the load goes:
//!
//! - at least [`MIN_TIME`] of load and [`MIN_REQUESTS`] requests counted;
//! - the failure share's 95% Wilson score interval lies wholly on one
//!   side of [`THRESHOLD`] (both bounds under it, or both over it);
//! - the rate's 95% interval is within [`RATE_PRECISION`] of the rate: the
//!   load so far is cut into [`BATCHES`] equal batches, and the interval is
//!   the mean of their rates ± Student's t (9 degrees of freedom) standard
//!   errors (batch means: the batches grow with the load, so a server that
//!   answers in bursts, behind sleeping or respawning workers, is measured
//!   over batches long enough to hold several bursts each).
//!
//! Loads with faults or with behaviours whose effect adds up never settle
//! (`TestSpec::may_settle`): their early figures say nothing of their
//! later ones.

use std::time::Duration;

/// The least load before a cell may settle.
pub(crate) const MIN_TIME: Duration = Duration::from_secs(3);
/// The least number of requests counted before a cell may settle.
pub(crate) const MIN_REQUESTS: u64 = 200;
/// The failure share the verdict turns on (the seed's 10%).
pub(crate) const THRESHOLD: f64 = 0.10;
/// How narrow the rate's interval must be, as a share of the rate.
pub(crate) const RATE_PRECISION: f64 = 0.05;
/// The batches the load so far is cut into for the rate's interval.
pub(crate) const BATCHES: usize = 10;
/// The counts are noted at this resolution.
pub(crate) const TICK: Duration = Duration::from_millis(100);
/// The normal quantile of a two-sided 95% interval.
const Z: f64 = 1.96;
/// Student's t quantile of a two-sided 95% interval, [`BATCHES`] - 1
/// degrees of freedom.
const T_9: f64 = 2.262;

/// The 95% Wilson score interval of `failed` out of `done`.
pub(crate) fn wilson(failed: u64, done: u64) -> (f64, f64) {
    if done == 0 {
        return (0.0, 1.0);
    }
    let n = done as f64;
    let p = failed as f64 / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The mean of `rates` and the half width of its 95% interval (Student's
/// t with [`BATCHES`] - 1 degrees of freedom; `None` for another count).
pub(crate) fn rate_interval(rates: &[f64]) -> Option<(f64, f64)> {
    if rates.len() != BATCHES {
        return None;
    }
    let n = rates.len() as f64;
    let mean = rates.iter().sum::<f64>() / n;
    let variance = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, T_9 * (variance / n).sqrt()))
}

/// What the rule watches: the requests counted at each tick.
#[derive(Debug, Default)]
pub(crate) struct Settling {
    /// Requests counted by the end of each whole tick.
    counted: Vec<u64>,
}

impl Settling {
    /// Note the counts at `elapsed`; whether the answer is now known.
    pub(crate) fn settled(&mut self, elapsed: Duration, done: u64, failed: u64) -> bool {
        let ticks = (elapsed.as_nanos() / TICK.as_nanos()) as usize;
        while self.counted.len() < ticks {
            self.counted.push(done);
        }
        if elapsed < MIN_TIME || done < MIN_REQUESTS || ticks < BATCHES {
            return false;
        }
        let (low, high) = wilson(failed, done);
        if low <= THRESHOLD && high >= THRESHOLD {
            return false;
        }
        // BATCHES equal batches of whole ticks over the load so far.
        let per = ticks / BATCHES;
        let seconds = (per as u32 * TICK).as_secs_f64();
        let at = |tick: usize| match tick {
            0 => 0,
            t => self.counted[t - 1],
        };
        let offset = ticks - per * BATCHES;
        let rates: Vec<f64> = (0..BATCHES)
            .map(|b| {
                let (from, to) = (offset + b * per, offset + (b + 1) * per);
                at(to).saturating_sub(at(from)) as f64 / seconds
            })
            .collect();
        match rate_interval(&rates) {
            Some((mean, half)) => mean > 0.0 && half <= RATE_PRECISION * mean,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed a steady load of `rate` requests a second with `share` failing,
    /// ticking every 100 ms; when it settled.
    fn feed(rate: f64, share: f64, jitter: impl Fn(usize) -> f64, limit: Duration) -> Option<f64> {
        let mut settling = Settling::default();
        let mut done = 0.0;
        for tick in 1.. {
            let elapsed = Duration::from_millis(100 * tick as u64);
            if elapsed > limit {
                return None;
            }
            done += rate * 0.1 * jitter(tick);
            let failed = (done * share) as u64;
            if settling.settled(elapsed, done as u64, failed) {
                return Some(elapsed.as_secs_f64());
            }
        }
        None
    }

    #[test]
    fn a_steady_load_far_from_the_threshold_settles_after_the_least_time() {
        let at = feed(400.0, 0.0, |_| 1.0, Duration::from_secs(45)).unwrap();
        assert!((3.0..3.2).contains(&at), "{at}");
        let at = feed(400.0, 0.5, |_| 1.0, Duration::from_secs(45)).unwrap();
        assert!((3.0..3.2).contains(&at), "{at}");
    }

    #[test]
    fn a_share_on_the_threshold_never_settles() {
        assert_eq!(feed(400.0, 0.10, |_| 1.0, Duration::from_secs(45)), None);
    }

    #[test]
    fn a_rate_that_swings_settles_only_over_batches_that_hold_its_swings() {
        // Half a second on, half off: steady over batches of whole seconds.
        let swinging = |tick: usize| {
            if (tick / 5).is_multiple_of(2) {
                2.0
            } else {
                0.0
            }
        };
        assert!(feed(400.0, 0.0, swinging, Duration::from_secs(45)).is_some());
        // A load that stood still for its first 4 s is not narrow by 8 s.
        let growing = |tick: usize| if tick % 97 < 40 { 0.0 } else { 1.7 };
        assert_eq!(feed(400.0, 0.0, growing, Duration::from_secs(8)), None);
    }

    #[test]
    fn too_few_requests_never_settle() {
        assert_eq!(feed(20.0, 0.0, |_| 1.0, Duration::from_secs(9)), None);
    }

    #[test]
    fn the_wilson_interval_holds_its_share_and_narrows_with_the_count() {
        let (low, high) = wilson(10, 100);
        assert!(low < 0.1 && high > 0.1);
        let (low, high) = wilson(0, 1000);
        assert_eq!(low, 0.0);
        assert!(high < 0.005, "{high}");
        let (low, _) = wilson(500, 1000);
        assert!(low > 0.46);
    }
}
