//! What a client sends: weighted kinds of request, and how each one's
//! outcome is judged. A bench test becomes a mix of behaviours; `labour
//! load` sends one URL and counts any 2xx as expected.

use serde::{Deserialize, Serialize};

use crate::behaviour::{Behaviour, Outcome};
use crate::plan::{MixEntry, TestSpec};
use crate::policy::PolicyKind;

/// How an outcome is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Judge {
    /// As the behaviour expects.
    Behaviour(Behaviour),
    /// Any complete 2xx answer.
    Success,
    /// A complete answer with this status (and the body's text, where
    /// one is asked for).
    Status(u16),
}

impl Judge {
    /// Whether `outcome` is as expected.
    pub(crate) fn is_expected(&self, outcome: &Outcome) -> bool {
        match self {
            Judge::Behaviour(behaviour) => behaviour.is_expected(outcome),
            Judge::Success => matches!(outcome, Outcome::Status(200..=299)),
            Judge::Status(status) => *outcome == Outcome::Status(*status),
        }
    }
}

/// One kind of request of a mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MixItem {
    /// Path and query.
    pub path: String,
    /// Bytes to POST, if any.
    pub upload: Option<u64>,
    /// Status and body length of a correct answer, where known.
    pub body_check: Option<(u16, u64)>,
    /// Relative share of requests.
    pub weight: u32,
    /// How its outcome is judged.
    pub judge: Judge,
    /// Whether it is an innocent request (a plain answer), whose failures
    /// are what users of a misbehaving application's neighbours see.
    #[serde(default)]
    pub innocent: bool,
    /// A target's own request: its method, headers, body and the text its
    /// answer must hold; `None`: a `GET` (a `POST` of `upload` bytes).
    #[serde(default)]
    pub request: Option<RequestItem>,
}

/// What a user's request sends besides its path, and what its answer must
/// hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RequestItem {
    /// The method.
    pub method: String,
    /// Headers besides those labour sets.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Text the answer's body must contain.
    pub body_contains: Option<String>,
}

impl MixItem {
    /// What `entry` of a test's mix sends, a behaviour's path under
    /// `prefix`.
    pub(crate) fn of(entry: &MixEntry, prefix: &str) -> MixItem {
        match &entry.request {
            Some(request) => MixItem {
                path: request.path.clone(),
                upload: None,
                body_check: None,
                weight: entry.weight,
                judge: Judge::Status(request.status),
                innocent: true,
                request: Some(RequestItem {
                    method: request.method.clone(),
                    headers: request
                        .headers
                        .iter()
                        .map(|(name, value)| (name.clone(), value.clone()))
                        .collect(),
                    body: request.body.clone(),
                    body_contains: request.body_contains.clone(),
                }),
            },
            None => MixItem {
                path: format!("{prefix}{}", entry.behaviour.path_and_query()),
                upload: entry.behaviour.upload_len(),
                body_check: entry.behaviour.body_check(),
                weight: entry.weight,
                judge: Judge::Behaviour(entry.behaviour.clone()),
                innocent: entry.behaviour.is_innocent(),
                request: None,
            },
        }
    }

    /// The request line and headers, ready to write, for `host`.
    pub(crate) fn head(&self, host: &str, keep_alive: bool) -> Vec<u8> {
        match &self.request {
            Some(request) => super::connection::custom_head(
                &request.method,
                &self.path,
                host,
                &request.headers,
                request.body.as_ref().map(|body| body.len() as u64),
                keep_alive,
            ),
            None => super::connection::request_head(&self.path, host, self.upload, keep_alive),
        }
    }

    /// The body it sends after its head, if any.
    pub(crate) fn body(&self) -> Option<Vec<u8>> {
        match &self.request {
            Some(request) => request.body.clone(),
            None => self
                .upload
                .map(|len| vec![b'u'; usize::try_from(len).unwrap_or(usize::MAX)]),
        }
    }

    /// The text its answer's body must contain, if any.
    pub(crate) fn body_contains(&self) -> Option<&[u8]> {
        self.request
            .as_ref()
            .and_then(|request| request.body_contains.as_deref())
            .map(str::as_bytes)
    }
}

/// Everything the workers need to know about what to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Mix {
    /// How workers pick from the items.
    pub policy: PolicyKind,
    /// The kinds of request.
    pub items: Vec<MixItem>,
    /// The `Host` header.
    pub host: String,
    /// Whether each request carries its id (`X-Labour-Request`) for the
    /// application to log: not in a throughput cell, where the log costs
    /// a few percent of the rate (BENCHMARKS.md), nor for a server labour
    /// did not start.
    #[serde(default)]
    pub ids: bool,
}

impl Mix {
    /// A bench test's behaviours, for a server reached as `host`, each
    /// behaviour's path under `prefix` (labour's middleware in a target's
    /// application; empty for labour's own application).
    pub(crate) fn from_test(test: &TestSpec, host: &str, prefix: &str) -> Mix {
        Mix {
            policy: test.policy,
            host: host.to_string(),
            ids: !test.throughput,
            items: test
                .mix
                .iter()
                .map(|entry| MixItem::of(entry, prefix))
                .collect(),
        }
    }

    /// One `GET path` to `host`, any 2xx as expected.
    pub(crate) fn single(host: &str, path: &str) -> Mix {
        Mix {
            policy: PolicyKind::Repeat,
            host: host.to_string(),
            ids: false,
            items: vec![MixItem {
                path: path.to_string(),
                upload: None,
                body_check: None,
                weight: 1,
                judge: Judge::Success,
                innocent: true,
                request: None,
            }],
        }
    }

    /// The items' weights, in order.
    pub(crate) fn weights(&self) -> Vec<u32> {
        self.items.iter().map(|item| item.weight).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::named_tests;

    #[test]
    fn a_test_becomes_a_mix_of_its_behaviours() {
        let test = named_tests()
            .into_iter()
            .find(|t| t.name == "Plain")
            .unwrap();
        let mix = Mix::from_test(&test, "127.0.0.1:8000", "");
        assert_eq!(mix.weights(), [99, 1]);
        assert_eq!(mix.items[1].path, "/PlainResponse?status=404");
        assert_eq!(mix.items[1].body_check, Some((404, 6)));
        assert!(mix.items[1].judge.is_expected(&Outcome::Status(404)));
        assert_eq!(mix.policy, PolicyKind::Repeat);
    }

    #[test]
    fn a_plain_load_expects_any_success() {
        let judge = Mix::single("example:80", "/").items[0].judge.clone();
        assert!(judge.is_expected(&Outcome::Status(204)));
        assert!(!judge.is_expected(&Outcome::Status(301)));
        assert!(!judge.is_expected(&Outcome::WrongBody(200)));
        assert!(!judge.is_expected(&Outcome::Reset));
    }
}
