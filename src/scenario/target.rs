//! A target that is not in the catalogue, from flags (`--target-*`) or a
//! scenario's `target:` section: the settings as written, the flags over
//! the file, checked into a [`TargetSpec`] and the server entry that runs
//! it. Every refusal names the setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::behaviour::Interface;
use crate::catalogue::Server;
use crate::plan::target::{MAX_REQUEST_BODY, parse_callable, parse_path};
use crate::plan::{TargetSource, TargetSpec, UserRequest};

/// The name a target has in reports unless given.
pub(crate) const DEFAULT_TARGET_NAME: &str = "target";
/// The readiness path unless given.
pub(crate) const DEFAULT_READY: &str = "/";
/// The Dockerfile in a build context unless given.
pub(crate) const DEFAULT_DOCKERFILE: &str = "Dockerfile";
/// The most requests a target may list.
const MAX_REQUESTS: usize = 100;
/// The largest weight of one of a target's requests.
const MAX_REQUEST_WEIGHT: u32 = 1000;

/// A target as written; every field optional, so flags can be laid over
/// a file's.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetSettings {
    /// Its name in reports (lowercase, digits and dashes).
    pub name: Option<String>,
    /// An image the engine has.
    pub image: Option<String>,
    /// Or a build context and its Dockerfile.
    pub build: Option<BuildSettings>,
    /// Its command: a list, or a string split on spaces.
    pub command: Option<CommandSetting>,
    /// Environment variables.
    pub env: Option<BTreeMap<String, String>>,
    /// The port it listens on.
    pub port: Option<u16>,
    /// The path that answers 2xx once it is ready.
    pub ready: Option<String>,
    /// wsgi (default) or asgi.
    pub interface: Option<Interface>,
    /// `module:callable` of the application, to add labour's middleware.
    pub wrap: Option<String>,
    /// The innocent requests.
    pub requests: Option<Vec<RequestSettings>>,
}

/// A build context and its Dockerfile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildSettings {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context [default: Dockerfile].
    pub dockerfile: Option<String>,
}

/// A command as a list of arguments or one string split on spaces.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(crate) enum CommandSetting {
    /// Each argument.
    List(Vec<String>),
    /// Arguments separated by spaces.
    Text(String),
}

impl CommandSetting {
    fn arguments(&self) -> Vec<String> {
        match self {
            CommandSetting::List(list) => list.clone(),
            CommandSetting::Text(text) => text.split_whitespace().map(String::from).collect(),
        }
    }
}

/// One innocent request as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestSettings {
    /// Its name in reports [default: METHOD path].
    pub name: Option<String>,
    /// The method [default: GET, POST with a body].
    pub method: Option<String>,
    /// Path and query.
    pub path: String,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A file whose bytes are the body.
    pub body_file: Option<PathBuf>,
    /// The status that counts as expected [default: 200].
    pub status: Option<u16>,
    /// Text the body must contain.
    pub body_contains: Option<String>,
    /// Relative share [default: 1].
    pub weight: Option<u32>,
}

impl RequestSettings {
    /// `METHOD PATH [STATUS]`, as `--target-request` takes it.
    pub(crate) fn parse_flag(text: &str) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let bad = || format!("{text:?} is not METHOD PATH [STATUS] (GET /health 200)");
        let (method, path, status) = match words.as_slice() {
            [method, path] => (*method, *path, None),
            [method, path, status] => (*method, *path, Some(status.parse().map_err(|_| bad())?)),
            _ => return Err(bad()),
        };
        Ok(RequestSettings {
            method: Some(method.to_string()),
            path: path.to_string(),
            status,
            ..RequestSettings::default()
        })
    }
}

impl TargetSettings {
    /// Whether anything is set.
    pub(crate) fn is_set(&self) -> bool {
        *self != TargetSettings::default()
    }

    /// `self` where set, else `other`'s (flags over a file).
    pub(crate) fn or(self, other: TargetSettings) -> TargetSettings {
        TargetSettings {
            name: self.name.or(other.name),
            image: self.image.or(other.image),
            build: self.build.or(other.build),
            command: self.command.or(other.command),
            env: self.env.or(other.env),
            port: self.port.or(other.port),
            ready: self.ready.or(other.ready),
            interface: self.interface.or(other.interface),
            wrap: self.wrap.or(other.wrap),
            requests: self.requests.or(other.requests),
        }
    }
}

/// Check `settings` into the server entry that runs the target and its
/// innocent requests with their weights. Relative paths are read from
/// `base`. The error is one line naming the setting.
pub(crate) fn resolve(
    settings: &TargetSettings,
    base: &Path,
) -> Result<(Server, Vec<(UserRequest, u32)>), String> {
    let name = settings
        .name
        .clone()
        .unwrap_or_else(|| DEFAULT_TARGET_NAME.to_string());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "target name {name:?}: names are lowercase letters, digits and dashes"
        ));
    }
    let source = match (&settings.image, &settings.build) {
        (Some(_), Some(_)) => {
            return Err(
                "target: give an image or a build (context and Dockerfile), not both".into(),
            );
        }
        (None, None) => {
            return Err(
                "target: no image: give --target-image (an image the engine has) or \
                 --target-build (a directory with a Dockerfile)"
                    .into(),
            );
        }
        (Some(image), None) => {
            if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
                return Err(format!("target image {image:?} is not an image name"));
            }
            TargetSource::Image(image.clone())
        }
        (None, Some(build)) => {
            let context = base.join(&build.context);
            if !context.is_dir() {
                return Err(format!(
                    "target build context {}: not a directory",
                    context.display()
                ));
            }
            let dockerfile = build
                .dockerfile
                .clone()
                .unwrap_or_else(|| DEFAULT_DOCKERFILE.to_string());
            if !context.join(&dockerfile).is_file() {
                return Err(format!(
                    "target dockerfile: no {dockerfile} in {}",
                    context.display()
                ));
            }
            TargetSource::Build {
                context,
                dockerfile,
            }
        }
    };
    let port = settings.port.ok_or(
        "target: no port: give --target-port (or port: in the scenario's target), the port \
         your server listens on",
    )?;
    if port == 0 {
        return Err("target port: 0 is not a port (1 to 65535)".into());
    }
    let ready = parse_path(settings.ready.as_deref().unwrap_or(DEFAULT_READY))
        .map_err(|problem| format!("target ready: {problem}"))?;
    let wrap = settings
        .wrap
        .as_deref()
        .map(parse_callable)
        .transpose()
        .map_err(|problem| format!("target wrap: {problem}"))?;
    let command = settings
        .command
        .as_ref()
        .map(CommandSetting::arguments)
        .unwrap_or_default();
    let env = settings.env.clone().unwrap_or_default();
    if let Some(key) = env
        .keys()
        .find(|key| key.is_empty() || key.contains('=') || key.chars().any(char::is_whitespace))
    {
        return Err(format!("target env: {key:?} is not a variable name"));
    }
    let spec = TargetSpec {
        source,
        command,
        env,
        port,
        ready: ready.clone(),
        interface: settings.interface.unwrap_or_default(),
        wrap,
    };
    if !spec.command.is_empty() {
        spec.wrapped_command(&spec.command)
            .map_err(|problem| format!("target command: {problem}"))?;
    }
    let requests = match &settings.requests {
        None => vec![(UserRequest::get(&ready), 1)],
        Some(requests) if requests.is_empty() => {
            return Err("target requests: the list is empty".into());
        }
        Some(requests) if requests.len() > MAX_REQUESTS => {
            return Err(format!(
                "target requests: {} requests; at most {MAX_REQUESTS}",
                requests.len()
            ));
        }
        Some(requests) => requests
            .iter()
            .enumerate()
            .map(|(index, request)| {
                user_request(request, base)
                    .map_err(|problem| format!("target requests[{index}]: {problem}"))
            })
            .collect::<Result<_, _>>()?,
    };
    if requests.iter().all(|(_, weight)| *weight == 0) {
        return Err("target requests: every weight is 0".into());
    }
    Ok((Server::from_target(&name, spec), requests))
}

fn user_request(settings: &RequestSettings, base: &Path) -> Result<(UserRequest, u32), String> {
    let path = parse_path(&settings.path).map_err(|problem| format!("path: {problem}"))?;
    let body = match &settings.body_file {
        None => None,
        Some(file) => {
            let file = base.join(file);
            let bytes = std::fs::read(&file)
                .map_err(|error| format!("body_file {}: {error}", file.display()))?;
            if bytes.len() as u64 > MAX_REQUEST_BODY {
                return Err(format!(
                    "body_file {}: {} bytes; at most {MAX_REQUEST_BODY}",
                    file.display(),
                    bytes.len()
                ));
            }
            Some(bytes)
        }
    };
    let method = settings
        .method
        .clone()
        .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.to_string())
        .to_ascii_uppercase();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!("method: {method:?} is not an HTTP method"));
    }
    for (name, value) in &settings.headers {
        let reserved = ["host", "content-length", "connection", "transfer-encoding"];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
        {
            return Err(format!("headers: {name:?} is not a header name"));
        }
        if reserved.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!("headers: labour sets {name} itself"));
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(format!(
                "headers: the value of {name} has a control character"
            ));
        }
    }
    let status = settings.status.unwrap_or(200);
    if !(100..=599).contains(&status) {
        return Err(format!("status: {status} is not an HTTP status"));
    }
    let weight = settings.weight.unwrap_or(1);
    if weight > MAX_REQUEST_WEIGHT {
        return Err(format!(
            "weight: {weight} is not a weight from 0 to {MAX_REQUEST_WEIGHT}"
        ));
    }
    let request = UserRequest {
        name: settings
            .name
            .clone()
            .unwrap_or_else(|| format!("{method} {path}")),
        method,
        path,
        headers: settings.headers.clone(),
        body_file: settings.body_file.as_ref().map(|file| base.join(file)),
        body,
        status,
        body_contains: settings.body_contains.clone(),
    };
    Ok((request, weight))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TargetSettings {
        TargetSettings {
            image: Some("shop:1".into()),
            port: Some(8000),
            ..TargetSettings::default()
        }
    }

    #[test]
    fn a_target_needs_an_image_and_a_port_and_names_what_is_missing() {
        let base = Path::new(".");
        let (server, requests) = resolve(&settings(), base).unwrap();
        assert_eq!(server.name, "target");
        let target = server.target.unwrap();
        assert_eq!(target.ready, "/");
        assert_eq!(requests, [(UserRequest::get("/"), 1)]);

        let no_port = TargetSettings {
            port: None,
            ..settings()
        };
        let error = resolve(&no_port, base).unwrap_err();
        assert!(error.starts_with("target: no port"), "{error}");
        let no_image = TargetSettings {
            image: None,
            ..settings()
        };
        assert!(
            resolve(&no_image, base)
                .unwrap_err()
                .contains("--target-image")
        );
        let bad_wrap = TargetSettings {
            wrap: Some("app".into()),
            ..settings()
        };
        assert!(
            resolve(&bad_wrap, base)
                .unwrap_err()
                .starts_with("target wrap:")
        );
        let unwrapped_command = TargetSettings {
            wrap: Some("app:app".into()),
            command: Some(CommandSetting::Text("gunicorn other:app".into())),
            ..settings()
        };
        assert!(
            resolve(&unwrapped_command, base)
                .unwrap_err()
                .starts_with("target command:")
        );
        let missing_body = TargetSettings {
            requests: Some(vec![RequestSettings {
                path: "/orders".into(),
                body_file: Some("no-such-order.json".into()),
                ..RequestSettings::default()
            }]),
            ..settings()
        };
        let error = resolve(&missing_body, base).unwrap_err();
        assert!(
            error.starts_with("target requests[0]: body_file ./no-such-order.json:"),
            "{error}"
        );
        assert!(!error.contains('\n'));
    }

    #[test]
    fn requests_read_their_bodies_and_flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("order.json"), b"{\"id\": 1}").unwrap();
        let file = TargetSettings {
            requests: Some(vec![RequestSettings {
                path: "/orders".into(),
                body_file: Some("order.json".into()),
                status: Some(201),
                weight: Some(3),
                ..RequestSettings::default()
            }]),
            name: Some("shop".into()),
            ..settings()
        };
        let flags = TargetSettings {
            port: Some(9000),
            ..TargetSettings::default()
        };
        let (server, requests) = resolve(&flags.or(file), dir.path()).unwrap();
        assert_eq!(server.name, "shop");
        assert_eq!(server.target.unwrap().port, 9000);
        let (request, weight) = &requests[0];
        assert_eq!(
            (request.method.as_str(), request.status, *weight),
            ("POST", 201, 3)
        );
        assert_eq!(request.body.as_deref(), Some(&b"{\"id\": 1}"[..]));
        assert_eq!(request.name, "POST /orders");
        assert_eq!(
            RequestSettings::parse_flag("GET /health 204")
                .unwrap()
                .status,
            Some(204)
        );
        assert!(RequestSettings::parse_flag("/health").is_err());
    }
}
