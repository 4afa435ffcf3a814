//! A target that is not in the catalogue: the user's own image (or a
//! Dockerfile and its context), its command, environment, port and
//! readiness URL, the user's innocent requests, and whether labour's
//! behaviours are added to the user's application by a middleware.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::behaviour::Interface;

/// The path prefix under which the middleware answers labour's behaviour
/// requests (`/_labour/SIGSEGV`); every other path goes to the user's
/// application. The same prefix as `LABOUR_PREFIX` in
/// `images/app/labour_app.py` and `labour_asgi.py`.
pub(crate) const BEHAVIOUR_PREFIX: &str = "/_labour";

/// The module of the shim the derived image adds: it exposes the user's
/// callable wrapped by labour's middleware as `application`.
pub(crate) const SHIM_CALLABLE: &str = "labour_target:application";

/// Where the target's image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetSource {
    /// An image the engine has (a name, `name:tag` or an id): run as it is.
    Image(String),
    /// Built from a Dockerfile and its context (with labour's base image
    /// as the `BASE_IMAGE` build argument).
    Build {
        /// The build context, a directory.
        context: PathBuf,
        /// The Dockerfile, relative to the context.
        dockerfile: String,
    },
}

/// One innocent request of the user's: what is sent, and what counts as
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserRequest {
    /// Its name in reports (`GET /health` unless given).
    pub name: String,
    /// The method, upper case.
    pub method: String,
    /// Path and query, from `/`.
    pub path: String,
    /// Headers sent besides Host, User-Agent, Content-Length and Connection.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The file its body was read from, if it sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<PathBuf>,
    /// The body's bytes, read from `body_file` when the plan was made.
    #[serde(skip)]
    #[schemars(skip)]
    pub body: Option<Vec<u8>>,
    /// The status that counts as expected.
    pub status: u16,
    /// Text the body must contain (in its first MiB) to count as
    /// expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

/// How much of a body is kept to look for `body_contains` in.
pub(crate) const MAX_CHECKED_BODY: usize = 1 << 20;

/// The largest body a user request may send.
pub(crate) const MAX_REQUEST_BODY: u64 = 16 << 20;

impl UserRequest {
    /// `GET path`, expecting 200.
    pub fn get(path: &str) -> Self {
        UserRequest {
            name: format!("GET {path}"),
            method: "GET".into(),
            path: path.into(),
            headers: BTreeMap::new(),
            body_file: None,
            body: None,
            status: 200,
            body_contains: None,
        }
    }

    /// What counts as expected, in words.
    pub fn expectation(&self) -> String {
        match &self.body_contains {
            Some(text) => format!("HTTP {} with {text:?} in its body", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// The user's deployment, as labour runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetSpec {
    /// Where its image comes from.
    pub source: TargetSource,
    /// Its command; empty: the image's own. `{host}` and `{port}` are
    /// replaced by the address to bind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Environment variables, `{host}` and `{port}` replaced too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The port it listens on (inside its container with bridge
    /// networking; on the host with host networking, unless its command or
    /// environment takes `{port}`).
    pub port: u16,
    /// The path that answers 2xx once it is ready.
    pub ready: String,
    /// The interface its application speaks.
    #[serde(default, skip_serializing_if = "Interface::is_wsgi")]
    pub interface: Interface,
    /// `module:callable` of the user's application: labour adds its
    /// middleware to the image and points the command at the wrapped
    /// callable; `None`: the image runs as it is, and tests that need a
    /// behaviour are skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap: Option<String>,
}

impl TargetSpec {
    /// Whether its command or environment takes the port labour picks.
    pub fn takes_port(&self) -> bool {
        self.command
            .iter()
            .chain(self.env.values())
            .any(|text| text.contains("{port}"))
    }

    /// Its command with `wrap`'s callable replaced by the wrapped one;
    /// `Err` with why when the command does not name the callable.
    pub fn wrapped_command(&self, command: &[String]) -> Result<Vec<String>, String> {
        let Some(callable) = &self.wrap else {
            return Ok(command.to_vec());
        };
        let mut found = false;
        let replaced = command
            .iter()
            .map(|arg| {
                if arg == callable {
                    found = true;
                    SHIM_CALLABLE.to_string()
                } else if let Some(value) = arg
                    .split_once('=')
                    .filter(|(_, value)| value == callable)
                    .map(|(flag, _)| format!("{flag}={SHIM_CALLABLE}"))
                {
                    found = true;
                    value
                } else {
                    arg.clone()
                }
            })
            .collect();
        if found {
            Ok(replaced)
        } else {
            Err(format!(
                "the command {command:?} does not name {callable} (the wrap setting): give the \
                 command that serves it (--target-cmd, target.command)"
            ))
        }
    }
}

/// `module:callable`, a Python dotted module and an attribute; `Err` with
/// why not.
pub(crate) fn parse_callable(text: &str) -> Result<String, String> {
    let identifier = |part: &str| {
        !part.is_empty()
            && !part.starts_with(|c: char| c.is_ascii_digit())
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match text.trim().split_once(':') {
        Some((module, callable))
            if module.split('.').all(identifier) && callable.split('.').all(identifier) =>
        {
            Ok(text.trim().to_string())
        }
        _ => Err(format!(
            "{text:?} is not module:callable (a Python module and the WSGI or ASGI callable in it, \
             as app:app)"
        )),
    }
}

/// A path from `/`, with no space or control character.
pub(crate) fn parse_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') && !text.chars().any(|c| c.is_control() || c == ' ') {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{text:?} is not a path from / (with no space or control character)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &[&str], wrap: Option<&str>) -> TargetSpec {
        TargetSpec {
            source: TargetSource::Image("mine".into()),
            command: command.iter().map(|s| s.to_string()).collect(),
            env: BTreeMap::new(),
            port: 8000,
            ready: "/".into(),
            interface: Interface::Wsgi,
            wrap: wrap.map(String::from),
        }
    }

    #[test]
    fn the_command_is_pointed_at_the_wrapped_callable() {
        let target = spec(&[], Some("app:app"));
        assert_eq!(
            target
                .wrapped_command(&[
                    "gunicorn".into(),
                    "-c".into(),
                    "g.py".into(),
                    "app:app".into()
                ])
                .unwrap(),
            ["gunicorn", "-c", "g.py", "labour_target:application"]
        );
        assert_eq!(
            target
                .wrapped_command(&["uwsgi".into(), "--module=app:app".into()])
                .unwrap(),
            ["uwsgi", "--module=labour_target:application"]
        );
        let error = target.wrapped_command(&["gunicorn".into()]).unwrap_err();
        assert!(error.contains("does not name app:app"), "{error}");
        assert!(!spec(&[], None).takes_port());
        assert!(spec(&["x", "--bind={host}:{port}"], None).takes_port());
    }

    #[test]
    fn callables_and_paths_are_checked() {
        assert_eq!(
            parse_callable("pkg.app:create.app").unwrap(),
            "pkg.app:create.app"
        );
        for bad in ["app", "app:", ":app", "app:app()", "1app:app", "a b:c"] {
            assert!(parse_callable(bad).is_err(), "{bad}");
        }
        assert!(parse_path("/health?x=1").is_ok());
        assert!(parse_path("health").is_err());
        assert!(parse_path("/a b").is_err());
    }
}
