//! Watching containers: the run's events stream (die, oom, start...), and
//! per container a watcher that keeps the log tail of every death, notices
//! when the server is down for good, and samples the stats API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::{EventsOptions, InspectContainerOptions, StatsOptions};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::log_tail;
use crate::runtime::{RUN_LABEL, ServerEvent, StatsSample};

/// One event as the engine sent it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RawEvent {
    pub id: String,
    pub action: String,
    pub at: SystemTime,
    pub attributes: HashMap<String, String>,
}

impl RawEvent {
    fn from_message(message: bollard::models::EventMessage) -> Option<Self> {
        let actor = message.actor?;
        let at = match (message.time_nano, message.time) {
            (Some(nanos), _) => UNIX_EPOCH + Duration::from_nanos(nanos.max(0) as u64),
            (None, Some(secs)) => UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64),
            _ => SystemTime::now(),
        };
        // Docker writes some actions with detail: "exec_start: sh", "health_status: ok".
        let action = message.action?.split(':').next()?.trim().to_string();
        Some(RawEvent {
            id: actor.id?,
            action,
            at,
            attributes: actor.attributes.unwrap_or_default(),
        })
    }

    /// As the runtime reports it.
    pub(super) fn to_server_event(&self, log_tail: Vec<String>) -> ServerEvent {
        ServerEvent {
            at: self.at,
            action: self.action.clone(),
            exit_code: self
                .attributes
                .get("exitCode")
                .and_then(|code| code.parse().ok()),
            signal: self.attributes.get("signal").cloned(),
            log_tail,
        }
    }
}

/// Whether the engine is gone mid-run, and the token that stops the run's
/// loads and waits when it is.
#[derive(Debug)]
pub(crate) struct Lost {
    reason: Mutex<Option<String>>,
    /// Cancelled when the run is interrupted or the engine is lost.
    pub halt: CancellationToken,
}

impl Lost {
    /// Not lost; `halt` follows the run's cancellation.
    pub(super) fn new(cancel: &CancellationToken) -> Self {
        Lost {
            reason: Mutex::new(None),
            halt: cancel.child_token(),
        }
    }

    /// The engine is gone: say why, and halt the run.
    pub(super) fn lose(&self, reason: String) {
        self.reason.lock().unwrap().get_or_insert(reason);
        self.halt.cancel();
    }

    /// Why the engine is gone, if it is.
    pub(super) fn reason(&self) -> Option<String> {
        self.reason.lock().unwrap().clone()
    }
}

/// Every event of this run's containers, kept for the run, and passed on
/// to the container watchers as they arrive.
pub(super) struct EventLog {
    events: Mutex<Vec<RawEvent>>,
    sender: broadcast::Sender<RawEvent>,
}

impl EventLog {
    /// Follow the events of containers labelled with `run_id`, from
    /// `since` on (the engine replays what happened before the stream
    /// opened, so nothing is missed), until `stop` is cancelled. When the
    /// stream ends on its own and the engine no longer answers a ping, the
    /// engine is lost: `lost` says so and its halt token stops the run.
    pub(super) fn follow(
        docker: Docker,
        run_id: &str,
        since: SystemTime,
        stop: CancellationToken,
        lost: Arc<Lost>,
    ) -> (Arc<Self>, JoinHandle<()>) {
        let (sender, _) = broadcast::channel(1024);
        let log = Arc::new(EventLog {
            events: Mutex::new(Vec::new()),
            sender,
        });
        let filters = HashMap::from([
            ("label".to_string(), vec![format!("{RUN_LABEL}={run_id}")]),
            ("type".to_string(), vec!["container".to_string()]),
        ]);
        let writer = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let mut since = since;
            loop {
                let options = EventsOptions {
                    since: Some(
                        since
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or_default()
                            .to_string(),
                    ),
                    filters: Some(filters.clone()),
                    ..Default::default()
                };
                let mut stream = docker.events(Some(options));
                let ended = loop {
                    let message = tokio::select! {
                        _ = stop.cancelled() => return,
                        message = stream.next() => message,
                    };
                    match message {
                        Some(Ok(message)) => {
                            if let Some(event) = RawEvent::from_message(message) {
                                since = since.max(event.at);
                                let mut events = writer.events.lock().unwrap();
                                // A stream opened again replays its second:
                                // an event already kept is not kept twice.
                                if !events.contains(&event) {
                                    events.push(event.clone());
                                    drop(events);
                                    let _ = writer.sender.send(event);
                                }
                            }
                        }
                        Some(Err(error)) => break error.to_string(),
                        None => break "the engine ended its events stream".to_string(),
                    }
                };
                let ping = tokio::time::timeout(Duration::from_secs(3), docker.ping()).await;
                match ping {
                    Ok(Ok(_)) => continue,
                    Ok(Err(error)) => lost.lose(format!("{ended}; {error}")),
                    Err(_) => lost.lose(format!("{ended}; no answer to a ping within 3 s")),
                }
                return;
            }
        });
        (log, task)
    }

    /// Events as they arrive from now on.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<RawEvent> {
        self.sender.subscribe()
    }

    /// Every event of container `id` so far, in order.
    pub(super) fn of(&self, id: &str) -> Vec<RawEvent> {
        let events = self.events.lock().unwrap();
        events.iter().filter(|e| e.id == id).cloned().collect()
    }

    /// Wait (at most `limit`) until container `id` has an `action` event.
    pub(super) async fn wait_for(&self, id: &str, action: &str, limit: Duration) {
        let mut receiver = self.subscribe();
        let seen = |log: &EventLog| log.of(id).iter().any(|e| e.action == action);
        if seen(self) {
            return;
        }
        let _ = tokio::time::timeout(limit, async {
            while let Ok(event) = receiver.recv().await {
                if event.id == id && event.action == action {
                    return;
                }
            }
        })
        .await;
    }
}

/// What a container's watcher found.
#[derive(Debug, Default)]
pub(super) struct WatchNotes {
    /// Log tail at each death, by the die event's time.
    pub die_logs: Vec<(SystemTime, Vec<String>)>,
    /// When it went down for good.
    pub down_at: Option<SystemTime>,
}

/// The watchers of one container.
pub(super) struct Watch {
    stopping: Arc<AtomicBool>,
    restarting: Arc<AtomicBool>,
    stop: CancellationToken,
    deaths: JoinHandle<WatchNotes>,
    stats: JoinHandle<Vec<StatsSample>>,
}

impl Watch {
    /// Start watching container `id`: its deaths (from `log`) and its
    /// resource use. `down` is cancelled when a death is final.
    pub(super) fn start(
        docker: &Docker,
        log: &EventLog,
        id: &str,
        down: CancellationToken,
    ) -> Self {
        let stopping = Arc::new(AtomicBool::new(false));
        let restarting = Arc::new(AtomicBool::new(false));
        let stop = CancellationToken::new();
        let deaths = tokio::spawn(watch_deaths(
            docker.clone(),
            log.subscribe(),
            id.to_string(),
            down,
            (Arc::clone(&stopping), Arc::clone(&restarting)),
            stop.clone(),
        ));
        let stats = tokio::spawn(sample_stats(docker.clone(), id.to_string(), stop.clone()));
        Watch {
            stopping,
            restarting,
            stop,
            deaths,
            stats,
        }
    }

    /// From now on, deaths are labour's own doing.
    pub(super) fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// While the returned flag is set, a death is a restart labour asked
    /// for, never final.
    pub(super) fn restarting(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.restarting)
    }

    /// End the watchers and take what they found.
    pub(super) async fn finish(self) -> (WatchNotes, Vec<StatsSample>) {
        self.stopping();
        self.stop.cancel();
        let notes = self.deaths.await.unwrap_or_default();
        let stats = self.stats.await.unwrap_or_default();
        (notes, stats)
    }

    /// End the watchers, dropping what they found.
    pub(super) fn abandon(self) {
        self.stopping();
        self.stop.cancel();
    }
}

async fn watch_deaths(
    docker: Docker,
    mut events: broadcast::Receiver<RawEvent>,
    id: String,
    down: CancellationToken,
    (stopping, restarting): (Arc<AtomicBool>, Arc<AtomicBool>),
    stop: CancellationToken,
) -> WatchNotes {
    let mut notes = WatchNotes::default();
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            event = events.recv() => match event {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        if event.id != id || event.action != "die" || stopping.load(Ordering::SeqCst) {
            continue;
        }
        notes
            .die_logs
            .push((event.at, log_tail(&docker, &id).await));
        // The engine decides on a restart before it reports the death, so
        // the state read now says whether this death is final.
        let inspect = docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await
            .ok();
        // A container that never restarts is down at its death, whenever
        // labour's stop comes after it: a slow engine (the log tail and the
        // inspect above) must not turn a death into a stop.
        let never_restarts = inspect
            .as_ref()
            .and_then(|inspect| inspect.host_config.as_ref()?.restart_policy.as_ref()?.name)
            .is_none_or(|name| {
                matches!(
                    name,
                    bollard::models::RestartPolicyNameEnum::NO
                        | bollard::models::RestartPolicyNameEnum::EMPTY
                )
            });
        let state = inspect
            .and_then(|inspect| inspect.state)
            .unwrap_or_default();
        let final_death = state.running != Some(true)
            && state.restarting != Some(true)
            && !restarting.load(Ordering::SeqCst);
        if final_death && (never_restarts || !stopping.load(Ordering::SeqCst)) {
            notes.down_at = Some(event.at);
            down.cancel();
        }
    }
    notes
}

/// Time between two stats samples.
const STATS_INTERVAL: Duration = Duration::from_millis(250);

/// CPU counters of one reading: the container's and the whole system's
/// CPU time, in nanoseconds.
#[derive(Debug, Clone, Copy)]
struct CpuCounters {
    container: u64,
    system: u64,
    cpus: u32,
}

/// Poll the stats API every [`STATS_INTERVAL`] until `stop`. One-shot
/// readings answer at once and follow the container across restarts; CPU
/// use is the change of the counters between two readings.
async fn sample_stats(docker: Docker, id: String, stop: CancellationToken) -> Vec<StatsSample> {
    let mut samples = Vec::new();
    let mut previous: Option<CpuCounters> = None;
    while !stop.is_cancelled() {
        let options = StatsOptions {
            stream: false,
            one_shot: true,
        };
        let mut readings = docker.stats(&id, Some(options));
        let reading = tokio::select! {
            _ = stop.cancelled() => break,
            reading = readings.next() => reading,
        };
        if let Some(Ok(stats)) = reading {
            let counters = cpu_counters(&stats);
            if let Some(mut sample) = sample(&stats) {
                sample.cpu_percent = match (previous, counters) {
                    (Some(before), Some(now)) => cpu_percent(before, now),
                    _ => None,
                };
                samples.push(sample);
            }
            previous = counters;
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(STATS_INTERVAL) => {}
        }
    }
    samples
}

/// One stats reading as a sample, without CPU use; `None` for the empty
/// reading of a container that is not running.
fn sample(stats: &ContainerStatsResponse) -> Option<StatsSample> {
    let memory = stats.memory_stats.as_ref()?;
    let usage = memory.usage?;
    let cache = memory.stats.as_ref().and_then(|s| {
        s.get("total_inactive_file")
            .or_else(|| s.get("inactive_file"))
            .copied()
    });
    Some(StatsSample {
        at: SystemTime::now(),
        memory_bytes: usage.saturating_sub(cache.unwrap_or(0)),
        memory_peak_bytes: memory.max_usage.filter(|&peak| peak > 0),
        cpu_percent: None,
    })
}

fn cpu_counters(stats: &ContainerStatsResponse) -> Option<CpuCounters> {
    let cpu = stats.cpu_stats.as_ref()?;
    Some(CpuCounters {
        container: cpu.cpu_usage.as_ref()?.total_usage?,
        system: cpu.system_cpu_usage.filter(|&n| n > 0)?,
        cpus: cpu.online_cpus.unwrap_or(1).max(1),
    })
}

/// CPU use between two readings, in percent of one CPU, as `docker stats`
/// computes it; `None` across a restart (the counters start again).
fn cpu_percent(before: CpuCounters, now: CpuCounters) -> Option<f64> {
    let used = now.container.checked_sub(before.container)? as f64;
    let system = now.system.checked_sub(before.system)? as f64;
    (system > 0.0).then(|| used / system * f64::from(now.cpus) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_use_is_the_share_of_system_time_times_the_cpus() {
        let before = CpuCounters {
            container: 1_000,
            system: 10_000,
            cpus: 2,
        };
        let now = CpuCounters {
            container: 2_000,
            system: 14_000,
            cpus: 2,
        };
        assert_eq!(cpu_percent(before, now), Some(50.0));
        assert_eq!(
            cpu_percent(now, before),
            None,
            "counters that went back: a restart"
        );
    }
}
