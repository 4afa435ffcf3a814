//! What a client sends: weighted kinds of request, and how each one's
//! outcome is judged. A bench test becomes a mix of behaviours; `labour
//! load` sends one URL and counts any 2xx as expected.

use serde::{Deserialize, Serialize};

use crate::behaviour::{Behaviour, Outcome};
use crate::plan::TestSpec;
use crate::policy::PolicyKind;

/// How an outcome is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Judge {
    /// As the behaviour expects.
    Behaviour(Behaviour),
    /// Any complete 2xx answer.
    Success,
}

impl Judge {
    /// Whether `outcome` is as expected.
    pub(crate) fn is_expected(&self, outcome: &Outcome) -> bool {
        match self {
            Judge::Behaviour(behaviour) => behaviour.is_expected(outcome),
            Judge::Success => matches!(outcome, Outcome::Status(200..=299)),
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
}

impl Mix {
    /// A bench test's behaviours, for a server reached as `host`.
    pub(crate) fn from_test(test: &TestSpec, host: &str) -> Mix {
        Mix {
            policy: test.policy,
            host: host.to_string(),
            items: test
                .mix
                .iter()
                .map(|entry| MixItem {
                    path: entry.behaviour.path_and_query(),
                    upload: entry.behaviour.upload_len(),
                    body_check: entry.behaviour.body_check(),
                    weight: entry.weight,
                    judge: Judge::Behaviour(entry.behaviour.clone()),
                    innocent: entry.behaviour.is_innocent(),
                })
                .collect(),
        }
    }

    /// One `GET path` to `host`, any 2xx as expected.
    pub(crate) fn single(host: &str, path: &str) -> Mix {
        Mix {
            policy: PolicyKind::Repeat,
            host: host.to_string(),
            items: vec![MixItem {
                path: path.to_string(),
                upload: None,
                body_check: None,
                weight: 1,
                judge: Judge::Success,
                innocent: true,
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
        let mix = Mix::from_test(&test, "127.0.0.1:8000");
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
