//! What a run's images were built from, beyond their pins: the base image
//! the engine had, and each server's lock (`scenario.servers[].lock_sha256`).
//! Two runs built from other locks or bases did not measure the same
//! bytes; [`differences`] says where, one line each.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Results;

/// The image the engine had under a base image's name when a run began.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaseImageDigest {
    /// The name it was asked by (`labour/base:bookworm`, `python@sha256:...`).
    pub image: String,
    /// The engine's image id (`sha256:...`), the digest of its
    /// configuration: the same on every host that has the same image.
    pub id: String,
    /// `name@sha256:...` of each registry it was pulled from (none for an
    /// image made on the engine's host, as labour's offline bases are).
    #[serde(default)]
    pub repo_digests: Vec<String>,
}

/// The first 12 hex digits of a digest, as people compare them.
fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

/// Each way `new` was not built from what `base` was: a server's lock
/// (servers in both), or a base image (by position: Python 3's, then
/// 2.7's), by name or by what the engine had under the name. One line
/// each, naming both sides; empty when both were built alike.
pub(crate) fn differences(base: &Results, new: &Results) -> Vec<String> {
    let mut lines = Vec::new();
    for server in &base.scenario.servers {
        let Some(other) = new.scenario.servers.iter().find(|s| s.name == server.name) else {
            continue;
        };
        let said = |lock: &Option<String>| {
            lock.as_deref()
                .map_or_else(|| "no lock".to_string(), |l| format!("lock {}", short(l)))
        };
        if server.lock_sha256 != other.lock_sha256 {
            lines.push(format!(
                "{}: built from another lock ({} in the first run, {} in the second)",
                server.name,
                said(&server.lock_sha256),
                said(&other.lock_sha256)
            ));
        }
    }
    let (ours, theirs) = (&base.environment.engine, &new.environment.engine);
    let id = |engine: &super::Engine, image: &str| {
        engine
            .base_image_digests
            .iter()
            .find(|digest| digest.image == image)
            .map(|digest| digest.id.clone())
    };
    for (index, (image, other)) in ours.base_images.iter().zip(&theirs.base_images).enumerate() {
        let python = if index == 0 { "Python 3" } else { "Python 2.7" };
        // The image ids say whether the bytes were the same, whatever the
        // names; without both, the names do.
        match (id(ours, image), id(theirs, other)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if image == other => lines.push(format!(
                "{python} base image {image}: image {} in the first run, {} in the second",
                short(&a),
                short(&b)
            )),
            (Some(a), Some(b)) => lines.push(format!(
                "{python} base image: {image} (image {}) in the first run, {other} (image {}) \
                 in the second",
                short(&a),
                short(&b)
            )),
            _ if image != other => lines.push(format!(
                "{python} base image: {image} in the first run, {other} in the second"
            )),
            (Some(_), None) | (None, Some(_)) => lines.push(format!(
                "{python} base image {image}: only one run recorded which image it was"
            )),
            (None, None) => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Results {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/results-small.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn digest(image: &str, id: &str) -> BaseImageDigest {
        BaseImageDigest {
            image: image.into(),
            id: id.into(),
            repo_digests: Vec::new(),
        }
    }

    #[test]
    fn runs_built_alike_differ_in_nothing() {
        let mut run = fixture();
        run.scenario.servers[0].lock_sha256 = Some("ab".repeat(32));
        assert_eq!(differences(&run, &run.clone()), Vec::<String>::new());
    }

    #[test]
    fn another_lock_or_base_is_one_line_each() {
        let mut first = fixture();
        let mut second = fixture();
        let bookworm = first.environment.engine.base_images[0].clone();
        first.scenario.servers[0].lock_sha256 = Some("ab".repeat(32));
        second.scenario.servers[0].lock_sha256 = Some("cd".repeat(32));
        first.scenario.servers[1].lock_sha256 = Some("ef".repeat(32));
        second.scenario.servers[1].lock_sha256 = None;
        first.environment.engine.base_image_digests =
            vec![digest(&bookworm, "sha256:0123456789abcdef")];
        second.environment.engine.base_image_digests =
            vec![digest(&bookworm, "sha256:fedcba9876543210")];
        second.environment.engine.base_images[1] = "python:2.7-slim".into();
        let lines = differences(&first, &second);
        // The same image under another name (its id) is the same bytes.
        let mut by_id = first.clone();
        by_id.environment.engine.base_images[0] = "sha256:0123456789abcdef".into();
        by_id.environment.engine.base_image_digests =
            vec![digest("sha256:0123456789abcdef", "sha256:0123456789abcdef")];
        assert_eq!(differences(&first, &by_id), Vec::<String>::new());
        let server = |i: usize| first.scenario.servers[i].name.clone();
        assert_eq!(
            lines,
            [
                format!(
                    "{}: built from another lock (lock abababababab in the first run, \
                     lock cdcdcdcdcdcd in the second)",
                    server(0)
                ),
                format!(
                    "{}: built from another lock (lock efefefefefef in the first run, \
                     no lock in the second)",
                    server(1)
                ),
                format!(
                    "Python 3 base image {bookworm}: image 0123456789ab in the first run, \
                     fedcba987654 in the second"
                ),
                format!(
                    "Python 2.7 base image: {} in the first run, python:2.7-slim in the second",
                    first.environment.engine.base_images[1]
                ),
            ]
        );
    }
}
