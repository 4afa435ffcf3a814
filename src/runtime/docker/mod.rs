//! The Docker runtime: builds server images from the images tree, runs one
//! labelled container per cell, watches it, stops and removes it. The only
//! module that uses bollard.

mod act;
mod build;
pub(crate) mod compose;
mod direct;
pub(crate) mod endpoint;
mod settle;
mod spec;
mod sweep;
mod target;
mod watch;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, HostConfig, PortBinding, RestartPolicy as DockerRestart,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, InspectContainerOptions,
    ListContainersOptions, LogsOptions, RemoveContainerOptions, RemoveImageOptions,
    StopContainerOptions,
};
use futures_util::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::endpoint::Endpoint;
use self::spec::{ContainerSpec, Listen};
use self::watch::{EventLog, Lost, Watch};
use super::emergency;
use super::owner::{OWNER_LABEL, Owner};
use super::ports::{Port, Ports};
use super::probe::{READY_PATH, Readiness, Ready};
use super::request_log::{AppLog, CONTAINER_REQUEST_LOG, REQUEST_LOG_MAX};
use super::{
    Connection, EngineInfo, LOG_TAIL_LINES, PreparedImage, RUN_LABEL, RunningServer, Runtime,
    RuntimeError, SERVER_LABEL, StoppedServer, new_run_id,
};
use crate::catalogue::Server;
use crate::images::Images;
use crate::plan::{ContainerOptions, NetworkMode, RestartPolicy};

/// Longest wait for the engine to report a removed container's last events.
const EVENTS_SETTLE: Duration = Duration::from_secs(3);

/// Servers in Docker containers, through the Docker API.
pub(crate) struct DockerRuntime {
    docker: Docker,
    run_id: String,
    options: ContainerOptions,
    images: Images,
    cancel: CancellationToken,
    events: Arc<EventLog>,
    events_stop: CancellationToken,
    events_task: Mutex<Option<JoinHandle<()>>>,
    watches: Mutex<HashMap<String, Watch>>,
    ports: Ports,
    held_ports: Mutex<HashMap<String, Port>>,
    /// The images' tags of this run, untagged at its end.
    run_tags: Mutex<Vec<String>>,
    /// Where the engine is.
    endpoint: Endpoint,
    /// The address servers are published on and dialled at.
    server_address: IpAddr,
    /// What labour settled for the user (network, base images), one line
    /// each.
    choices: Vec<String>,
    /// Whether the engine is gone mid-run.
    lost: Arc<Lost>,
    /// How to remove this run's containers should labour have to give up
    /// on its orderly shutdown.
    _emergency: emergency::Registration,
}

/// Clears a container's restarting flag when dropped.
struct RestartGuard(Option<Arc<std::sync::atomic::AtomicBool>>);

impl Drop for RestartGuard {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// A cleanup that removes run `run_id`'s containers at once, from a
/// thread of its own with a client of its own to the run's engine (the
/// run's runtime may be stuck or panicking); it waits at most 15 s.
fn remove_run_now(run_id: String, endpoint: Endpoint) -> impl Fn() + Send + 'static {
    move || {
        let endpoint = endpoint.clone();
        let run_id = run_id.clone();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let removed = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .and_then(|runtime| {
                    runtime.block_on(async {
                        let docker = endpoint.client().ok()?;
                        let options = ListContainersOptions {
                            all: true,
                            filters: Some(HashMap::from([(
                                "label".to_string(),
                                vec![format!("{RUN_LABEL}={run_id}")],
                            )])),
                            ..Default::default()
                        };
                        let containers = docker.list_containers(Some(options)).await.ok()?;
                        let mut removed = 0;
                        for id in containers.into_iter().filter_map(|c| c.id) {
                            let options = RemoveContainerOptions {
                                force: true,
                                v: true,
                                ..Default::default()
                            };
                            if docker.remove_container(&id, Some(options)).await.is_ok() {
                                removed += 1;
                            }
                        }
                        Some(removed)
                    })
                });
            let _ = done.send(removed);
        });
        match finished.recv_timeout(Duration::from_secs(15)) {
            Ok(Some(removed)) => eprintln!("labour: removed {removed} server container(s)"),
            _ => eprintln!(
                "labour: could not remove this run's containers; the next run (or `labour \
                 clean`) will"
            ),
        }
    }
}

pub(super) fn engine_error(
    operation: impl Into<String>,
) -> impl FnOnce(bollard::errors::Error) -> RuntimeError {
    let operation = operation.into();
    move |error| RuntimeError::Engine {
        operation,
        reason: error.to_string(),
    }
}

/// The application's request log in container `id` (stopped, not yet
/// removed), from the engine's archive of the file.
async fn app_log(docker: &Docker, id: &str) -> AppLog {
    let options = DownloadFromContainerOptions {
        path: CONTAINER_REQUEST_LOG.to_string(),
    };
    let mut stream = docker.download_from_container(id, Some(options));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => archive.extend_from_slice(&bytes),
            // No request with an id reached the application: no file.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return AppLog::parse(b""),
            Err(error) => return AppLog::Unread(format!("reading the request log: {error}")),
        }
        if archive.len() as u64 > REQUEST_LOG_MAX + 4096 {
            break;
        }
    }
    let mut archive = tar::Archive::new(archive.as_slice());
    let mut entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => return AppLog::Unread(format!("reading the request log: {error}")),
    };
    let Some(Ok(entry)) = entries.next() else {
        return AppLog::Unread("the request log's archive is empty".into());
    };
    let mut text = Vec::new();
    match std::io::Read::read_to_end(&mut std::io::Read::take(entry, REQUEST_LOG_MAX), &mut text) {
        Ok(_) => AppLog::parse(&text),
        Err(error) => AppLog::Unread(format!("reading the request log: {error}")),
    }
}

/// The last [`LOG_TAIL_LINES`] lines of container `id`'s output.
async fn log_tail(docker: &Docker, id: &str) -> Vec<String> {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: LOG_TAIL_LINES.to_string(),
        ..Default::default()
    };
    let mut stream = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(output) => text.push_str(&String::from_utf8_lossy(&output.into_bytes())),
            Err(_) => break,
        }
    }
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines.into_iter().skip(skip).collect()
}

impl DockerRuntime {
    /// Connect to the engine `connection` names (the docker CLI's way:
    /// `--context`, `DOCKER_HOST`, `DOCKER_CONTEXT`, the CLI's current
    /// context, the local socket), check that it answers, negotiate the API
    /// version, settle the network and base images, and start following
    /// the run's events. `cancel` stops builds, readiness waits and loads.
    pub(crate) async fn connect(
        connection: &Connection,
        options: ContainerOptions,
        images: Images,
        cancel: CancellationToken,
    ) -> Result<Self, RuntimeError> {
        let endpoint = Endpoint::resolve(connection.context.as_deref())?;
        let unreachable = |reason: String| RuntimeError::Unreachable {
            endpoint: endpoint.to_string(),
            reason,
        };
        let hint = match endpoint.remote_host() {
            None => " (is dockerd running? DOCKER_HOST or --context selects another engine)",
            Some(_) => "",
        };
        let docker = endpoint.client()?;
        // An engine over ssh pays for the ssh handshake first.
        let patience = Duration::from_secs(if endpoint.url.starts_with("ssh://") {
            20
        } else {
            5
        });
        match tokio::time::timeout(patience, docker.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                return Err(unreachable(format!("{}{hint}", endpoint.explain(&error))));
            }
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {} s{hint}",
                    patience.as_secs()
                )));
            }
        }
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(endpoint.explain(&e)))?;
        let server_address = endpoint
            .server_address(connection.server_host.as_deref())
            .await?;
        let settled = settle::settle(&docker, options).await?;
        let run_id = new_run_id();
        let events_stop = CancellationToken::new();
        let lost = Arc::new(Lost::new(&cancel));
        let (events, events_task) = EventLog::follow(
            docker.clone(),
            &run_id,
            SystemTime::now(),
            events_stop.clone(),
            Arc::clone(&lost),
        );
        let emergency = emergency::register(remove_run_now(run_id.clone(), endpoint.clone()));
        Ok(DockerRuntime {
            _emergency: emergency,
            endpoint,
            server_address,
            choices: settled.choices,
            lost,
            docker,
            run_id,
            options: settled.options,
            images,
            cancel,
            events,
            events_stop,
            events_task: Mutex::new(Some(events_task)),
            watches: Mutex::new(HashMap::new()),
            ports: Ports::new(),
            held_ports: Mutex::new(HashMap::new()),
            run_tags: Mutex::new(Vec::new()),
        })
    }

    /// Mark container `id` as restarted by labour until the guard drops.
    fn restarting(&self, id: &str) -> RestartGuard {
        let flag = self.watches.lock().unwrap().get(id).map(Watch::restarting);
        if let Some(flag) = &flag {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        RestartGuard(flag)
    }

    /// Where the engine is and what labour settled for the user, one line
    /// each, for the start of a run.
    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "engine {} (from {}); servers at {}",
            self.endpoint, self.endpoint.source, self.server_address
        )];
        notes.extend(self.choices.iter().cloned());
        notes
    }

    fn labels(&self, server: &str) -> HashMap<String, String> {
        HashMap::from([
            (RUN_LABEL.to_string(), self.run_id.clone()),
            (SERVER_LABEL.to_string(), server.to_string()),
            (OWNER_LABEL.to_string(), Owner::current().to_string()),
        ])
    }

    /// Force-remove container `id` (a missing one is fine) and end its
    /// watchers.
    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        if let Some(watch) = self.watches.lock().unwrap().remove(id) {
            watch.abandon();
        }
        self.held_ports.lock().unwrap().remove(id);
        // A container frozen from this host must thaw to die.
        direct::thaw_if_frozen(id);
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(error) => Err(engine_error(format!("removing container {id}"))(error)),
        }
    }

    /// The engine's host settings of a container as `spec` describes it.
    fn host_config(
        spec: &ContainerSpec,
        network_mode: &str,
        port_bindings: Option<HashMap<String, Option<Vec<PortBinding>>>>,
    ) -> HostConfig {
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let restart_policy = match spec.restart {
            RestartPolicy::No => DockerRestart {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            },
            RestartPolicy::OnFailure { max_retries } => DockerRestart {
                name: Some(RestartPolicyNameEnum::ON_FAILURE),
                maximum_retry_count: max_retries.map(i64::from),
            },
            RestartPolicy::Always => DockerRestart {
                name: Some(RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: None,
            },
        };
        HostConfig {
            init: Some(spec.init),
            network_mode: Some(network_mode.to_string()),
            port_bindings,
            memory: spec.memory.map(to_i64),
            memory_swap: spec.memory_swap.map(to_i64),
            nano_cpus: spec.cpus.map(|cpus| (cpus * 1e9) as i64),
            pids_limit: spec.pids_limit.map(to_i64),
            restart_policy: Some(restart_policy),
            cap_drop: Some(spec.cap_drop.clone()),
            cap_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
            security_opt: Some(spec.security_opt.clone()),
            sysctls: (!spec.sysctls.is_empty()).then(|| {
                spec.sysctls
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            }),
            ..Default::default()
        }
    }

    /// Create the container, start watching it, start it; returns its id
    /// and the port it listens on.
    async fn launch(
        &self,
        server: &Server,
        image: &PreparedImage,
        name: &str,
        down: &CancellationToken,
    ) -> Result<(String, u16), RuntimeError> {
        let start_error = |reason: String| RuntimeError::Start {
            server: server.name.clone(),
            reason,
        };
        // A target listens on its own port, unless its command or
        // environment takes the one labour picks.
        let fixed_port = server
            .target
            .as_ref()
            .filter(|target| !target.takes_port())
            .map(|target| target.port);
        let held = match (self.options.network, fixed_port) {
            (NetworkMode::Host, None) => Some(
                self.ports
                    .take()
                    .map_err(|e| start_error(format!("finding a free port: {e}")))?,
            ),
            (NetworkMode::Host, Some(_)) | (NetworkMode::Bridge | NetworkMode::Auto, _) => None,
        };
        let host_port = match self.options.network {
            NetworkMode::Host => held.as_ref().map(|port| port.number).or(fixed_port),
            NetworkMode::Bridge | NetworkMode::Auto => None,
        };
        let key = format!("{}/tcp", spec::container_port(server));
        let (listen, port_bindings, exposed) = match host_port {
            Some(port) => (
                Listen::Host {
                    address: self.server_address.to_string(),
                    port,
                },
                None,
                None,
            ),
            None => {
                let binding = PortBinding {
                    host_ip: Some(self.server_address.to_string()),
                    host_port: Some(String::new()),
                };
                let bindings = HashMap::from([(key.clone(), Some(vec![binding]))]);
                (Listen::Bridge, Some(bindings), Some(vec![key]))
            }
        };
        let spec = ContainerSpec::of(server, &listen);
        let body = ContainerCreateBody {
            image: Some(image.id.clone()),
            cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
            labels: Some(self.labels(&server.name)),
            exposed_ports: exposed,
            env: (!spec.env.is_empty()).then(|| {
                spec.env
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect()
            }),
            host_config: Some(Self::host_config(
                &spec,
                listen.network_mode(),
                port_bindings,
            )),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.to_string()),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| start_error(e.to_string()))?;
        let id = created.id;
        let watch = Watch::start(&self.docker, &self.events, &id, down.clone());
        self.watches.lock().unwrap().insert(id.clone(), watch);
        if let Some(port) = held {
            self.held_ports.lock().unwrap().insert(id.clone(), port);
        }
        let started = async {
            self.docker
                .start_container(&id, None)
                .await
                .map_err(|e| start_error(e.to_string()))?;
            match host_port {
                Some(port) => Ok(Some(port)),
                None => self.published_port(&id, spec::container_port(server)).await,
            }
        }
        .await;
        match started {
            Ok(Some(port)) => Ok((id, port)),
            Ok(None) => {
                self.remove(&id).await?;
                Err(start_error("the engine published no port".into()))
            }
            Err(error) => {
                self.remove(&id).await?;
                Err(error)
            }
        }
    }

    async fn published_port(&self, id: &str, port: u16) -> Result<Option<u16>, RuntimeError> {
        let inspect = self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .map_err(engine_error(format!("inspecting container {id}")))?;
        let key = format!("{port}/tcp");
        Ok(inspect
            .network_settings
            .and_then(|settings| settings.ports)
            .and_then(|ports| ports.get(&key).cloned().flatten())
            .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port))
            .and_then(|port| port.parse().ok()))
    }

    /// Wait until the server answers; fail fast, with its log tail, when
    /// the container exits.
    async fn wait_ready(
        &self,
        server: &Server,
        id: &str,
        address: SocketAddr,
    ) -> Result<Ready, RuntimeError> {
        let path = server
            .target
            .as_ref()
            .map_or(READY_PATH, |t| t.ready.as_str());
        let server = server.name.as_str();
        let readiness = Readiness {
            server,
            path,
            address,
            timeout: self.options.ready_timeout,
            cancel: &self.cancel,
        };
        let gone = || async {
            let state = self
                .docker
                .inspect_container(id, None::<InspectContainerOptions>)
                .await
                .map_err(engine_error(format!("inspecting container {id}")))?
                .state
                .unwrap_or_default();
            if state.running != Some(true) && state.restarting != Some(true) {
                return Err(RuntimeError::ExitedEarly {
                    server: server.to_string(),
                    exit_code: state.exit_code.unwrap_or(-1),
                    log_tail: log_tail(&self.docker, id).await,
                });
            }
            Ok(())
        };
        readiness.wait(gone, || log_tail(&self.docker, id)).await
    }
}

impl Runtime for DockerRuntime {
    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn halt(&self) -> &CancellationToken {
        &self.lost.halt
    }

    fn lost(&self) -> Option<String> {
        self.lost
            .reason()
            .map(|reason| format!("lost the Docker engine at {}: {reason}", self.endpoint))
    }

    async fn engine_info(&self) -> Result<EngineInfo, RuntimeError> {
        let version = self
            .docker
            .version()
            .await
            .map_err(engine_error("asking the engine its version"))?;
        let info = self
            .docker
            .info()
            .await
            .map_err(engine_error("asking the engine about its host"))?;
        Ok(EngineInfo {
            runtime: "docker".into(),
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            kernel: info.kernel_version.unwrap_or_default(),
            os: info.operating_system.unwrap_or_default(),
            cpus: info.ncpu.unwrap_or_default().max(0) as u64,
            memory_bytes: info.mem_total.unwrap_or_default().max(0) as u64,
            selection: String::new(),
            endpoint: self.endpoint.to_string(),
            host: info.name.unwrap_or_default(),
            server_address: self.server_address.to_string(),
            network: self.options.network.as_str().to_string(),
            base_images: self.base_images(),
            base_image_digests: self.base_image_digests().await,
            choices: self.choices.clone(),
        })
    }

    async fn prepare(
        &self,
        server: &Server,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        self.build(server, on_step).await
    }

    async fn start(
        &self,
        server: &Server,
        image: &PreparedImage,
        cell: &str,
    ) -> Result<RunningServer, RuntimeError> {
        let name = container_name(&self.run_id, &server.name, cell);
        let down = self.lost.halt.child_token();
        let started = Instant::now();
        let (id, port) = self.launch(server, image, &name, &down).await?;
        let address = SocketAddr::new(self.server_address, port);
        let ready = match self.wait_ready(server, &id, address).await {
            Ok(ready) => ready,
            Err(error) => {
                self.remove(&id).await?;
                return Err(error);
            }
        };
        Ok(RunningServer {
            id,
            name,
            address,
            startup: started.elapsed(),
            down,
            python: ready.python,
        })
    }

    async fn stop(&self, running: &RunningServer) -> Result<StoppedServer, RuntimeError> {
        let watch = self.watches.lock().unwrap().remove(&running.id);
        if let Some(watch) = &watch {
            watch.stopping();
        }
        direct::thaw_if_frozen(&running.id);
        let stop_requested_at = SystemTime::now();
        let grace = i32::try_from(self.options.stop_timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptions {
            t: Some(grace),
            ..Default::default()
        };
        // Docker's stop is the escalation: SIGTERM, `t` seconds, SIGKILL.
        // A container that already exited answers 304, which is fine.
        let stopping = Instant::now();
        let stopped = self.docker.stop_container(&running.id, Some(options)).await;
        let stop_took = stopping.elapsed();
        let removing = Instant::now();
        let inspect = self
            .docker
            .inspect_container(&running.id, None::<InspectContainerOptions>)
            .await;
        let log_tail = log_tail(&self.docker, &running.id).await;
        let app_log = app_log(&self.docker, &running.id).await;
        self.remove(&running.id).await?;
        self.events
            .wait_for(&running.id, "destroy", EVENTS_SETTLE)
            .await;
        let (notes, stats) = match watch {
            Some(watch) => watch.finish().await,
            None => Default::default(),
        };
        let remove_took = removing.elapsed();
        match stopped {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => {}
            Err(error) => return Err(engine_error(format!("stopping {}", running.name))(error)),
        }
        let inspect = inspect.map_err(engine_error(format!("inspecting {}", running.name)))?;
        let state = inspect.state.unwrap_or_default();
        let events = self
            .events
            .of(&running.id)
            .iter()
            .map(|event| {
                let tail = notes
                    .die_logs
                    .iter()
                    .find(|(at, _)| *at == event.at && event.action == "die")
                    .map(|(_, tail)| tail.clone())
                    .unwrap_or_default();
                event.to_server_event(tail)
            })
            .collect();
        Ok(StoppedServer {
            exit_code: state.exit_code,
            oom_killed: state.oom_killed.unwrap_or(false),
            restart_count: inspect.restart_count.unwrap_or(0).max(0) as u64,
            stop_requested_at: Some(stop_requested_at),
            down_at: notes.down_at,
            events,
            stats,
            log_tail,
            stop_took,
            remove_took,
            app_log,
        })
    }

    async fn act(
        &self,
        running: &RunningServer,
        act: super::Act,
    ) -> Result<super::ActTarget, RuntimeError> {
        self.act_on(running, act).await
    }

    async fn direct(&self, running: &RunningServer) -> Option<Arc<dyn super::DirectActs>> {
        let host = self.host_processes(running).await?;
        Some(Arc::new(host))
    }

    async fn shutdown(&self) -> Result<usize, RuntimeError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![format!("{RUN_LABEL}={}", self.run_id)],
            )])),
            ..Default::default()
        };
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine_error("listing this run's containers"));
        let mut removed = 0;
        let mut result = Ok(());
        for id in containers?.into_iter().filter_map(|c| c.id) {
            match self.remove(&id).await {
                Ok(()) => removed += 1,
                Err(error) => result = Err(error),
            }
        }
        for (_, watch) in self.watches.lock().unwrap().drain() {
            watch.abandon();
        }
        // This run's own tags go; an image no tag names any more goes too,
        // unless a container (another run's) uses it.
        let run_tags: Vec<String> = self.run_tags.lock().unwrap().drain(..).collect();
        for tag in run_tags {
            let image = self
                .docker
                .inspect_image(&tag)
                .await
                .ok()
                .and_then(|i| i.id);
            let _ = self
                .docker
                .remove_image(&tag, None::<RemoveImageOptions>, None)
                .await;
            if let Some(id) = image {
                self.remove_if_unused(&id).await;
            }
        }
        self.events_stop.cancel();
        let task = self.events_task.lock().unwrap().take();
        if let Some(task) = task {
            let _ = task.await;
        }
        result.map(|()| removed)
    }
}

/// `labour-<run>-<server>-<cell>`, in the characters Docker allows.
fn container_name(run_id: &str, server: &str, cell: &str) -> String {
    format!("labour-{run_id}-{server}-{}", docker_safe(cell))
}

/// `text` with every character that is not allowed in both image tags and
/// container names (letters, digits, `.`, `_`, `-`) turned into `-`.
fn docker_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}
