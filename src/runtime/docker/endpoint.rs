//! Where the Docker engine is, read as the docker CLI reads it: `--context`,
//! then `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`),
//! then `DOCKER_CONTEXT`, then the current context of the CLI's
//! `config.json`, then the local socket.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use bollard::{API_DEFAULT_VERSION, Docker};
use sha2::{Digest, Sha256};

use crate::runtime::RuntimeError;

/// The engine's socket when nothing names another.
pub(crate) const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";
/// Seconds one engine call may take.
const CALL_TIMEOUT_SECS: u64 = 120;

/// How to reach one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The address, as `DOCKER_HOST` writes it.
    pub url: String,
    /// The client certificate, its key and the CA that signs the engine's
    /// certificate, when the engine speaks TLS.
    pub tls: Option<TlsFiles>,
    /// Where the address came from, for messages.
    pub source: String,
}

/// The three files of a TLS engine, as `DOCKER_CERT_PATH` holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// The CA that signs the engine's certificate.
    pub ca: PathBuf,
    /// labour's client certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

impl TlsFiles {
    fn in_dir(dir: &Path) -> TlsFiles {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    fn missing(&self) -> Option<&Path> {
        [&self.ca, &self.cert, &self.key]
            .into_iter()
            .find(|path| !path.is_file())
            .map(PathBuf::as_path)
    }
}

/// How an address is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Unix,
    Tcp,
    Https,
    Ssh,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)?;
        if self.tls.is_some() {
            write!(f, " (TLS)")?;
        }
        Ok(())
    }
}

/// What the endpoint's resolution reads from the outside world.
pub(crate) trait Surroundings {
    /// An environment variable, `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;
    /// The docker CLI's configuration directory (`DOCKER_CONFIG`, else
    /// `~/.docker`).
    fn config_dir(&self) -> Option<PathBuf> {
        self.var("DOCKER_CONFIG").map(PathBuf::from).or_else(|| {
            self.var("HOME")
                .map(|home| PathBuf::from(home).join(".docker"))
        })
    }
}

/// This process's environment.
pub(crate) struct ProcessEnv;

impl Surroundings for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

fn bad(endpoint: &str, reason: impl Into<String>) -> RuntimeError {
    RuntimeError::BadEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.into(),
    }
}

impl Endpoint {
    /// The engine `context` (from `--context`) or the environment names.
    pub(crate) fn resolve(context: Option<&str>) -> Result<Endpoint, RuntimeError> {
        Self::resolve_in(context, &ProcessEnv)
    }

    /// [`Endpoint::resolve`] against any surroundings.
    pub(crate) fn resolve_in(
        context: Option<&str>,
        env: &impl Surroundings,
    ) -> Result<Endpoint, RuntimeError> {
        if let Some(name) = context {
            return Self::from_context(name, "--context", env);
        }
        if let Some(url) = env.var("DOCKER_HOST") {
            let tls = match env.var("DOCKER_TLS_VERIFY") {
                Some(_) => {
                    let dir = env
                        .var("DOCKER_CERT_PATH")
                        .map(PathBuf::from)
                        .or_else(|| env.config_dir());
                    let Some(dir) = dir else {
                        return Err(bad(
                            &url,
                            "DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor HOME says where ca.pem, cert.pem and key.pem are",
                        ));
                    };
                    Some(TlsFiles::in_dir(&dir))
                }
                None => None,
            };
            return Self::checked(url, tls, "DOCKER_HOST".into());
        }
        if let Some(name) = env.var("DOCKER_CONTEXT") {
            return Self::from_context(&name, "DOCKER_CONTEXT", env);
        }
        if let Some(name) = current_context(env)? {
            return Self::from_context(&name, "the docker CLI's current context", env);
        }
        Ok(Endpoint {
            url: DEFAULT_SOCKET.to_string(),
            tls: None,
            source: "the default socket".into(),
        })
    }

    /// The endpoint of context `name`, from the docker CLI's context store.
    fn from_context(
        name: &str,
        source: &str,
        env: &impl Surroundings,
    ) -> Result<Endpoint, RuntimeError> {
        let source = format!("context {name} ({source})");
        if name == "default" {
            return Ok(Endpoint {
                url: DEFAULT_SOCKET.to_string(),
                tls: None,
                source,
            });
        }
        let Some(config) = env.config_dir() else {
            return Err(bad(
                &format!("context {name}"),
                "neither DOCKER_CONFIG nor HOME says where the docker CLI keeps its contexts",
            ));
        };
        let digest = hex(&Sha256::digest(name.as_bytes()));
        let meta_path = config.join("contexts/meta").join(&digest).join("meta.json");
        let text = std::fs::read_to_string(&meta_path).map_err(|error| {
            bad(
                &format!("context {name}"),
                format!(
                    "no such docker context ({}: {error}; `docker context ls` lists them)",
                    meta_path.display()
                ),
            )
        })?;
        let meta: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
            bad(
                &format!("context {name}"),
                format!("{} is not JSON: {error}", meta_path.display()),
            )
        })?;
        let docker = &meta["Endpoints"]["docker"];
        let Some(url) = docker["Host"].as_str().filter(|host| !host.is_empty()) else {
            return Err(bad(
                &format!("context {name}"),
                format!("{} names no Endpoints.docker.Host", meta_path.display()),
            ));
        };
        if docker["SkipTLSVerify"].as_bool() == Some(true) {
            return Err(bad(
                url,
                format!(
                    "context {name} skips TLS verification, which labour does not do; give the context the engine's CA"
                ),
            ));
        }
        let tls_dir = config.join("contexts/tls").join(&digest).join("docker");
        let tls = tls_dir.is_dir().then(|| TlsFiles::in_dir(&tls_dir));
        Self::checked(url.to_string(), tls, source)
    }

    /// An endpoint whose scheme labour speaks and whose TLS files exist.
    fn checked(
        url: String,
        tls: Option<TlsFiles>,
        source: String,
    ) -> Result<Endpoint, RuntimeError> {
        let scheme = scheme(&url)?;
        let tls = match (scheme, tls) {
            (Scheme::Https, None) => {
                return Err(bad(
                    &url,
                    "https:// needs DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH with ca.pem, cert.pem and key.pem",
                ));
            }
            (Scheme::Unix | Scheme::Ssh, Some(_)) => None,
            (_, tls) => tls,
        };
        if let Some(missing) = tls.as_ref().and_then(TlsFiles::missing) {
            return Err(bad(
                &url,
                format!(
                    "TLS needs {} (DOCKER_CERT_PATH holds ca.pem, cert.pem and key.pem)",
                    missing.display()
                ),
            ));
        }
        if scheme != Scheme::Unix && host_of(&url).is_none() {
            return Err(bad(&url, "no host in the address"));
        }
        if scheme == Scheme::Ssh && has_port(&url) {
            return Err(bad(
                &url,
                "an ssh:// address cannot carry a port here; give the host a `Port` in ~/.ssh/config and write ssh://user@host",
            ));
        }
        Ok(Endpoint { url, tls, source })
    }

    /// A client for this engine (it has not spoken to it yet).
    pub(crate) fn client(&self) -> Result<Docker, RuntimeError> {
        let failed = |error: bollard::errors::Error| bad(&self.url, error.to_string());
        match (scheme(&self.url)?, &self.tls) {
            (Scheme::Unix, _) if !Path::new(self.url.trim_start_matches("unix://")).exists() => {
                Err(RuntimeError::Unreachable {
                    endpoint: self.to_string(),
                    reason: "no such socket (is dockerd running? DOCKER_HOST or --context selects \
                             another engine)"
                        .into(),
                })
            }
            (Scheme::Unix, _) => {
                Docker::connect_with_unix(&self.url, CALL_TIMEOUT_SECS, API_DEFAULT_VERSION)
                    .map_err(failed)
            }
            (Scheme::Tcp | Scheme::Https, Some(tls)) => Docker::connect_with_ssl(
                &self.url,
                &tls.key,
                &tls.cert,
                &tls.ca,
                CALL_TIMEOUT_SECS,
                API_DEFAULT_VERSION,
            )
            .map_err(failed),
            (Scheme::Tcp | Scheme::Https, None) => {
                Docker::connect_with_http(&self.url, CALL_TIMEOUT_SECS, API_DEFAULT_VERSION)
                    .map_err(failed)
            }
            (Scheme::Ssh, _) => {
                Docker::connect_with_ssh(&self.url, CALL_TIMEOUT_SECS, API_DEFAULT_VERSION, None)
                    .map_err(failed)
            }
        }
    }

    /// The engine's host name for engines on another machine (`tcp://`,
    /// `ssh://`); `None` for a local socket.
    pub(crate) fn remote_host(&self) -> Option<String> {
        match scheme(&self.url).ok()? {
            Scheme::Unix => None,
            _ => host_of(&self.url),
        }
    }

    /// The address the servers are published on and dialled at:
    /// `server_host` when given, else the engine's host, else loopback.
    pub(crate) async fn server_address(
        &self,
        server_host: Option<&str>,
    ) -> Result<IpAddr, RuntimeError> {
        let (host, what) = match (server_host, self.remote_host()) {
            (Some(given), _) => (given.to_string(), "--server-host"),
            (None, Some(remote)) => (remote, "the engine's host"),
            (None, None) => return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        };
        if let Ok(address) = host.parse::<IpAddr>() {
            return Ok(address);
        }
        let found = tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map_err(|error| {
                bad(
                    &self.url,
                    format!("{what} {host} does not resolve: {error}"),
                )
            })?
            .map(|address| address.ip())
            .collect::<Vec<_>>();
        found
            .iter()
            .find(|address| address.is_ipv4())
            .or(found.first())
            .copied()
            .ok_or_else(|| bad(&self.url, format!("{what} {host} resolves to no address")))
    }

    /// A one-line reason for a failed first call, naming what to fix.
    pub(crate) fn explain(&self, error: &bollard::errors::Error) -> String {
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            let text = inner.to_string();
            if !reason.contains(&text) {
                reason.push_str(": ");
                reason.push_str(&text);
            }
            source = inner.source();
        }
        let mut reason = reason.replace('\n', " ");
        // The transport's own wrapping says nothing to the user.
        for noise in [
            "Error in the hyper legacy client: ",
            "client error (Connect): ",
        ] {
            reason = reason.replace(noise, "");
        }
        match &self.tls {
            Some(tls) if reason.contains("certificate") || reason.contains("UnknownIssuer") => {
                format!(
                    "the engine's certificate was refused ({reason}); is it signed by {}?",
                    tls.ca.display()
                )
            }
            _ => reason,
        }
    }
}

fn scheme(url: &str) -> Result<Scheme, RuntimeError> {
    let (scheme, _) = url.split_once("://").ok_or_else(|| {
        bad(
            url,
            "not an engine address (write unix:///path, tcp://host:port or ssh://user@host)",
        )
    })?;
    match scheme {
        "unix" => Ok(Scheme::Unix),
        "tcp" | "http" => Ok(Scheme::Tcp),
        "https" => Ok(Scheme::Https),
        "ssh" => Ok(Scheme::Ssh),
        other => Err(bad(
            url,
            format!(
                "labour does not speak {other}:// (it speaks unix://, tcp://, https:// and ssh://)"
            ),
        )),
    }
}

/// The host of `scheme://[user@]host[:port][/path]`, brackets off an IPv6
/// address.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(inner) = authority.strip_prefix('[') {
        inner.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Whether `scheme://[user@]host:port` names a port.
fn has_port(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let after_brackets = host.rsplit_once(']').map_or(host, |(_, tail)| tail);
    after_brackets.contains(':')
}

/// The current context of the docker CLI's `config.json`, if it names one.
fn current_context(env: &impl Surroundings) -> Result<Option<String>, RuntimeError> {
    let Some(path) = env.config_dir().map(|dir| dir.join("config.json")) else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let config: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        bad(
            "the docker CLI's current context",
            format!("{} is not JSON: {error}", path.display()),
        )
    })?;
    Ok(config["currentContext"]
        .as_str()
        .filter(|name| !name.is_empty() && *name != "default")
        .map(str::to_string))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Fake(HashMap<&'static str, String>);

    impl Surroundings for Fake {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn env(pairs: &[(&'static str, &str)]) -> Fake {
        Fake(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    fn context_store(dir: &Path, name: &str, host: &str, tls: bool) {
        let digest = hex(&Sha256::digest(name.as_bytes()));
        let meta = dir.join("contexts/meta").join(&digest);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(
                r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            ),
        )
        .unwrap();
        if tls {
            let files = dir.join("contexts/tls").join(&digest).join("docker");
            std::fs::create_dir_all(&files).unwrap();
            for file in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(files.join(file), "").unwrap();
            }
        }
    }

    #[test]
    fn nothing_set_is_the_local_socket() {
        let endpoint = Endpoint::resolve_in(None, &env(&[])).unwrap();
        assert_eq!(endpoint.url, DEFAULT_SOCKET);
        assert_eq!(endpoint.tls, None);
        assert_eq!(endpoint.remote_host(), None);
    }

    #[test]
    fn docker_host_with_tls_reads_the_cert_path() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        let path = dir.path().to_str().unwrap();
        let endpoint = Endpoint::resolve_in(
            None,
            &env(&[
                ("DOCKER_HOST", "tcp://engine.example:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", path),
            ]),
        )
        .unwrap();
        assert_eq!(endpoint.remote_host().as_deref(), Some("engine.example"));
        assert_eq!(endpoint.tls.unwrap().ca, dir.path().join("ca.pem"));
    }

    #[test]
    fn a_missing_certificate_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = Endpoint::resolve_in(
            None,
            &env(&[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", dir.path().to_str().unwrap()),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("tcp://127.0.0.1:2376"), "{error}");
        assert!(error.contains("ca.pem"), "{error}");
    }

    #[test]
    fn an_unknown_scheme_is_refused_with_the_ones_labour_speaks() {
        let error = Endpoint::resolve_in(None, &env(&[("DOCKER_HOST", "npipe:////./pipe/docker")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("npipe://"), "{error}");
        assert!(error.contains("ssh://"), "{error}");
        let error = Endpoint::resolve_in(None, &env(&[("DOCKER_HOST", "127.0.0.1:2375")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("not an engine address"), "{error}");
    }

    #[test]
    fn contexts_come_from_the_flag_then_docker_host_then_the_variable_then_the_config() {
        let dir = tempfile::tempdir().unwrap();
        context_store(dir.path(), "far", "tcp://far.example:2376", true);
        context_store(dir.path(), "near", "ssh://me@near.example", false);
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"near"}"#,
        )
        .unwrap();
        let config = dir.path().to_str().unwrap();

        let flag = Endpoint::resolve_in(
            Some("far"),
            &env(&[("DOCKER_CONFIG", config), ("DOCKER_HOST", "unix:///x.sock")]),
        )
        .unwrap();
        assert_eq!(flag.url, "tcp://far.example:2376");
        assert!(flag.tls.is_some());
        assert_eq!(flag.remote_host().as_deref(), Some("far.example"));

        let host = Endpoint::resolve_in(
            None,
            &env(&[
                ("DOCKER_CONFIG", config),
                ("DOCKER_HOST", "unix:///x.sock"),
                ("DOCKER_CONTEXT", "far"),
            ]),
        )
        .unwrap();
        assert_eq!(host.url, "unix:///x.sock");

        let variable = Endpoint::resolve_in(
            None,
            &env(&[("DOCKER_CONFIG", config), ("DOCKER_CONTEXT", "far")]),
        )
        .unwrap();
        assert_eq!(variable.url, "tcp://far.example:2376");

        let current = Endpoint::resolve_in(None, &env(&[("DOCKER_CONFIG", config)])).unwrap();
        assert_eq!(current.url, "ssh://me@near.example");
        assert_eq!(current.tls, None);
        assert_eq!(current.remote_host().as_deref(), Some("near.example"));

        let error = Endpoint::resolve_in(Some("nowhere"), &env(&[("DOCKER_CONFIG", config)]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("context nowhere"), "{error}");
        assert!(error.contains("docker context ls"), "{error}");
    }

    #[test]
    fn hosts_are_read_from_every_form_of_address() {
        assert_eq!(host_of("tcp://10.0.0.5:2376").as_deref(), Some("10.0.0.5"));
        assert_eq!(host_of("ssh://user@build-1:22").as_deref(), Some("build-1"));
        assert_eq!(host_of("ssh://build-1").as_deref(), Some("build-1"));
        assert_eq!(host_of("tcp://[::1]:2375").as_deref(), Some("::1"));
        assert_eq!(host_of("tcp://:2375"), None);
        assert!(has_port("ssh://me@build-1:2222"));
        assert!(!has_port("ssh://me@build-1"));
        assert!(!has_port("tcp://[::1]"));
    }

    #[tokio::test]
    async fn servers_are_dialled_on_loopback_unless_the_engine_is_elsewhere() {
        let local = Endpoint::resolve_in(None, &env(&[])).unwrap();
        assert_eq!(
            local.server_address(None).await.unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        let remote =
            Endpoint::resolve_in(None, &env(&[("DOCKER_HOST", "tcp://127.0.0.2:2375")])).unwrap();
        assert_eq!(
            remote.server_address(None).await.unwrap().to_string(),
            "127.0.0.2"
        );
        assert_eq!(
            remote
                .server_address(Some("127.0.0.3"))
                .await
                .unwrap()
                .to_string(),
            "127.0.0.3"
        );
    }
}
