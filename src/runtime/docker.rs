//! The Docker runtime: builds server images from the images tree, runs one
//! labelled container per cell, probes it, stops and removes it. The only
//! module that uses bollard.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    BuildImageOptions, CreateContainerOptions, InspectContainerOptions, ListContainersOptions,
    LogsOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{
    ContainerOptions, EngineInfo, LOG_TAIL_LINES, NetworkMode, PreparedImage, RUN_LABEL,
    RunningServer, Runtime, RuntimeError, SERVER_LABEL, StoppedServer, probe,
};
use crate::catalogue::Server;
use crate::images::Images;

/// Port servers listen on inside their container with bridge networking.
const CONTAINER_PORT: u16 = 8000;
/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Longest wait for one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Lines of build output kept for an error.
const BUILD_TAIL_LINES: usize = 30;

/// Servers in Docker containers, through the Docker API.
pub struct DockerRuntime {
    docker: Docker,
    endpoint: String,
    run_id: String,
    options: ContainerOptions,
    images: Images,
    cancel: CancellationToken,
}

fn engine_error(
    operation: impl Into<String>,
) -> impl FnOnce(bollard::errors::Error) -> RuntimeError {
    let operation = operation.into();
    move |error| RuntimeError::Engine {
        operation,
        reason: error.to_string(),
    }
}

impl DockerRuntime {
    /// Connect to the engine `DOCKER_HOST` names (or the local socket),
    /// check that it answers, and negotiate the API version. `cancel` stops
    /// builds and readiness waits early.
    pub async fn connect(
        options: ContainerOptions,
        images: Images,
        cancel: CancellationToken,
    ) -> Result<Self, RuntimeError> {
        let endpoint = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string());
        let unreachable = |reason: String| RuntimeError::Unreachable {
            endpoint: endpoint.clone(),
            reason,
        };
        let docker = Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(unreachable(error.to_string())),
            Err(_) => return Err(unreachable("no answer within 5 s".into())),
        }
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(DockerRuntime {
            docker,
            endpoint,
            run_id: new_run_id(),
            options,
            images,
            cancel,
        })
    }

    /// The engine's address.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn labels(&self, server: &str) -> HashMap<String, String> {
        HashMap::from([
            (RUN_LABEL.to_string(), self.run_id.clone()),
            (SERVER_LABEL.to_string(), server.to_string()),
        ])
    }

    /// The image tag for `server` on the configured base image, so images
    /// built on different bases do not overwrite each other.
    fn image_tag(&self, server: &str) -> String {
        let base = docker_safe(&self.options.base_image);
        format!("labour/{server}:{}", &base[..base.len().min(120)])
    }

    /// The build context: `images/<server>/` at the root, `images/app/`
    /// under `app/`, with fixed timestamps so Docker's cache holds.
    fn build_context(&self, server: &str) -> Result<Vec<u8>, RuntimeError> {
        let failed = |reason: String| RuntimeError::Build {
            server: server.to_string(),
            reason,
            log_tail: Vec::new(),
        };
        let mut files = self
            .images
            .files_under(server)
            .map_err(|e| failed(e.to_string()))?;
        files.extend(
            self.images
                .files_under("app")
                .map_err(|e| failed(e.to_string()))?,
        );
        let mut archive = tar::Builder::new(Vec::new());
        for file in files {
            let path = match file.path.strip_prefix(server) {
                Ok(inside) => inside.to_path_buf(),
                Err(_) => file.path.clone(),
            };
            let mut header = tar::Header::new_gnu();
            header.set_size(file.contents.len() as u64);
            header.set_mode(if file.executable { 0o755 } else { 0o644 });
            header.set_mtime(0);
            archive
                .append_data(&mut header, &path, file.contents.as_slice())
                .map_err(|e| failed(format!("packing {}: {e}", path.display())))?;
        }
        archive
            .into_inner()
            .map_err(|e| failed(format!("packing the context: {e}")))
    }

    fn build_network(&self) -> Option<String> {
        self.options
            .build_network
            .clone()
            .or(match self.options.network {
                NetworkMode::Host => Some("host".to_string()),
                NetworkMode::Bridge => None,
            })
    }

    async fn log_tail(&self, id: &str) -> Vec<String> {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            tail: LOG_TAIL_LINES.to_string(),
            ..Default::default()
        };
        let mut stream = self.docker.logs(id, Some(options));
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

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
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

    /// Create and start the container; returns its id and where it listens.
    async fn launch(
        &self,
        server: &Server,
        image: &PreparedImage,
        name: &str,
    ) -> Result<(String, u16), RuntimeError> {
        let start_error = |reason: String| RuntimeError::Start {
            server: server.name.clone(),
            reason,
        };
        let host_port = match self.options.network {
            NetworkMode::Host => {
                Some(free_port().map_err(|e| start_error(format!("finding a free port: {e}")))?)
            }
            NetworkMode::Bridge => None,
        };
        let key = format!("{CONTAINER_PORT}/tcp");
        let (command, network_mode, port_bindings, exposed) = match host_port {
            Some(port) => (server.command_for("127.0.0.1", port), "host", None, None),
            None => {
                let binding = PortBinding {
                    host_ip: Some(Ipv4Addr::LOCALHOST.to_string()),
                    host_port: Some(String::new()),
                };
                let bindings = HashMap::from([(key.clone(), Some(vec![binding]))]);
                let command = server.command_for("0.0.0.0", CONTAINER_PORT);
                (command, "bridge", Some(bindings), Some(vec![key]))
            }
        };
        let body = ContainerCreateBody {
            image: Some(image.id.clone()),
            cmd: Some(command),
            labels: Some(self.labels(&server.name)),
            exposed_ports: exposed,
            host_config: Some(HostConfig {
                // Without an init, a server running as PID 1 ignores its own
                // SIGSEGV and looks falsely robust.
                init: Some(true),
                network_mode: Some(network_mode.to_string()),
                port_bindings,
                ..Default::default()
            }),
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
        let started = async {
            self.docker
                .start_container(&id, None)
                .await
                .map_err(|e| start_error(e.to_string()))?;
            match host_port {
                Some(port) => Ok(Some(port)),
                None => self.published_port(&id).await,
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

    async fn published_port(&self, id: &str) -> Result<Option<u16>, RuntimeError> {
        let inspect = self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .map_err(engine_error(format!("inspecting container {id}")))?;
        let key = format!("{CONTAINER_PORT}/tcp");
        Ok(inspect
            .network_settings
            .and_then(|settings| settings.ports)
            .and_then(|ports| ports.get(&key).cloned().flatten())
            .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port))
            .and_then(|port| port.parse().ok()))
    }

    /// Probe until the server answers, it exits, the deadline passes or the
    /// run is cancelled.
    async fn wait_ready(
        &self,
        server: &str,
        id: &str,
        address: SocketAddr,
    ) -> Result<(), RuntimeError> {
        let deadline = Instant::now() + self.options.ready_timeout;
        loop {
            let last = tokio::select! {
                _ = self.cancel.cancelled() => return Err(RuntimeError::Interrupted),
                result = probe(address, PROBE_TIMEOUT) => match result {
                    Ok(()) => return Ok(()),
                    Err(reason) => reason,
                },
            };
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
                    log_tail: self.log_tail(id).await,
                });
            }
            if Instant::now() >= deadline {
                return Err(RuntimeError::NotReady {
                    server: server.to_string(),
                    timeout: self.options.ready_timeout,
                    reason: last,
                    log_tail: self.log_tail(id).await,
                });
            }
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(RuntimeError::Interrupted),
                _ = tokio::time::sleep(PROBE_INTERVAL) => {}
            }
        }
    }
}

impl Runtime for DockerRuntime {
    fn run_id(&self) -> &str {
        &self.run_id
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
        })
    }

    async fn prepare(&self, server: &Server) -> Result<PreparedImage, RuntimeError> {
        let context = self.build_context(&server.name)?;
        let tag = self.image_tag(&server.name);
        let options = BuildImageOptions {
            t: Some(tag.clone()),
            rm: true,
            forcerm: true,
            buildargs: Some(HashMap::from([(
                "BASE_IMAGE".to_string(),
                self.options.base_image.clone(),
            )])),
            labels: Some(self.labels(&server.name)),
            networkmode: self.build_network(),
            ..Default::default()
        };
        let failed = |reason: String, log: &[String]| RuntimeError::Build {
            server: server.name.clone(),
            reason,
            log_tail: log[log.len().saturating_sub(BUILD_TAIL_LINES)..].to_vec(),
        };
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_full(context.into())));
        let mut log: Vec<String> = Vec::new();
        loop {
            let item = tokio::select! {
                _ = self.cancel.cancelled() => return Err(RuntimeError::Interrupted),
                item = stream.next() => item,
            };
            let Some(item) = item else { break };
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream {
                        log.extend(text.lines().map(str::to_string));
                    }
                    if let Some(detail) = info.error_detail {
                        let reason = detail.message.unwrap_or_else(|| "unknown error".into());
                        return Err(failed(reason, &log));
                    }
                }
                Err(error) => {
                    let reason = match error {
                        bollard::errors::Error::DockerStreamError { error } => error,
                        other => other.to_string(),
                    };
                    return Err(failed(reason, &log));
                }
            }
        }
        let inspect = self
            .docker
            .inspect_image(&tag)
            .await
            .map_err(|e| failed(format!("the built image {tag} is missing: {e}"), &log))?;
        Ok(PreparedImage {
            server: server.name.clone(),
            tag,
            id: inspect.id.unwrap_or_default(),
        })
    }

    async fn start(
        &self,
        server: &Server,
        image: &PreparedImage,
        cell: &str,
    ) -> Result<RunningServer, RuntimeError> {
        let name = container_name(&self.run_id, &server.name, cell);
        let started = Instant::now();
        let (id, port) = self.launch(server, image, &name).await?;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        if let Err(error) = self.wait_ready(&server.name, &id, address).await {
            self.remove(&id).await?;
            return Err(error);
        }
        Ok(RunningServer {
            server: server.name.clone(),
            id,
            name,
            address,
            ready_at: Instant::now(),
            startup: started.elapsed(),
        })
    }

    async fn stop(&self, running: &RunningServer) -> Result<StoppedServer, RuntimeError> {
        let grace = i32::try_from(self.options.stop_timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptions {
            t: Some(grace),
            ..Default::default()
        };
        // Docker's stop is the escalation: SIGTERM, `t` seconds, SIGKILL.
        // A container that already exited answers 304, which is fine.
        let stopped = self.docker.stop_container(&running.id, Some(options)).await;
        let inspect = self
            .docker
            .inspect_container(&running.id, None::<InspectContainerOptions>)
            .await;
        let log_tail = self.log_tail(&running.id).await;
        self.remove(&running.id).await?;
        match stopped {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => {}
            Err(error) => return Err(engine_error(format!("stopping {}", running.name))(error)),
        }
        let state = inspect
            .map_err(engine_error(format!("inspecting {}", running.name)))?
            .state
            .unwrap_or_default();
        Ok(StoppedServer {
            exit_code: state.exit_code,
            oom_killed: state.oom_killed.unwrap_or(false),
            log_tail,
        })
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
            .map_err(engine_error("listing this run's containers"))?;
        let mut removed = 0;
        for container in containers {
            if let Some(id) = container.id {
                self.remove(&id).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A run id: short, unique enough, valid in container names.
fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:08x}",
        (nanos as u64 ^ (u64::from(std::process::id()) << 32)) as u32
    )
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

/// A port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
