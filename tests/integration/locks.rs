//! Locked images: every image installs from its lock (`requirements.lock`,
//! made by scripts/lock-images.sh from `requirements.txt`), a lock out of
//! date with its pins is refused in one line, and `labour compare` warns
//! when two runs were built from other locks or bases. No Docker needed.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::util::labour;

fn images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("images")
}

/// A copy of the images tree, to break.
fn copy_of_images() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&images(), dir.path());
    dir
}

#[test]
fn every_image_with_pins_installs_its_lock_by_hash() {
    let mut locked = 0;
    for entry in std::fs::read_dir(images()).unwrap() {
        let folder = entry.unwrap().path();
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(dockerfile) = std::fs::read_to_string(folder.join("Dockerfile")) else {
            continue;
        };
        if !folder.join("requirements.txt").is_file() {
            // Nothing to install: it runs on the base image's Python alone.
            assert!(
                !dockerfile.contains("pip install"),
                "{name} installs packages without pins"
            );
            continue;
        }
        locked += 1;
        assert!(
            folder.join("requirements.lock").is_file(),
            "{name} has no lock"
        );
        assert!(
            dockerfile.contains(&format!("COPY {name}/requirements.lock ")),
            "{name}'s Dockerfile does not copy its lock"
        );
        assert!(
            !dockerfile.contains(&format!("COPY {name}/requirements.txt")),
            "{name}'s Dockerfile installs from its pins, not its lock"
        );
        // Every pip install or download from the index checks hashes (a
        // source tree downloaded so, patched, then installed, is local).
        let text = dockerfile.replace("\\\n", " ");
        for step in text.split("&&") {
            let pip = step.contains("pip install") || step.contains("pip download");
            let local = step.contains("--no-deps") && step.contains(" /tmp/src/");
            assert!(
                !pip || local || step.contains("--require-hashes"),
                "{name}: `{}` does not check hashes",
                step.trim()
            );
        }
    }
    assert!(locked >= 25, "only {locked} locked images");
}

#[test]
fn the_vendored_concurrence_is_the_upstream_archive_its_notice_names() {
    let folder = images().join("concurrence");
    let tarball = std::fs::read(folder.join("concurrence-0.3.1-7b67f69.tar.gz")).unwrap();
    let digest = sha256_hex(&tarball);
    let notice = std::fs::read_to_string(folder.join("NOTICE.md")).unwrap();
    assert!(
        notice.replace('\n', " ").contains(&digest),
        "NOTICE.md does not name the tarball's sha256 {digest}"
    );
    for licence in ["LICENSE", "LICENSE.pyevent"] {
        assert!(folder.join(licence).is_file(), "{licence} is missing");
    }
    let dockerfile = std::fs::read_to_string(folder.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("COPY concurrence/concurrence-0.3.1-7b67f69.tar.gz"));
    // The final stage carries no compiler: no apt install of gcc after the
    // last FROM, and Cython leaves the virtualenv.
    let last_stage = dockerfile.rsplit("\nFROM ").next().unwrap();
    assert!(!last_stage.contains("gcc"), "{last_stage}");
    assert!(dockerfile.contains("pip uninstall --yes Cython"));
}

#[test]
fn a_lock_out_of_date_with_its_pins_is_refused_in_one_line() {
    let tree = copy_of_images();
    labour()
        .args(["list", "servers", "--images"])
        .arg(tree.path())
        .assert()
        .success();
    // A pin moved on, the lock did not.
    let pins = tree.path().join("gunicorn-sync/requirements.txt");
    let moved = std::fs::read_to_string(&pins)
        .unwrap()
        .replace("gunicorn==27.0.1", "gunicorn==27.0.0");
    std::fs::write(&pins, moved).unwrap();
    let assert = labour()
        .args(["list", "servers", "--images"])
        .arg(tree.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "gunicorn-sync/requirements.lock is out of date",
        ))
        .stderr(predicate::str::contains(
            "run scripts/lock-images.sh gunicorn-sync",
        ));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    // No lock at all.
    std::fs::remove_file(tree.path().join("waitress/requirements.lock")).unwrap();
    std::fs::write(
        &pins,
        std::fs::read_to_string(images().join("gunicorn-sync/requirements.txt")).unwrap(),
    )
    .unwrap();
    labour()
        .args(["list", "servers", "--images"])
        .arg(tree.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "waitress/requirements.txt has no requirements.lock beside it",
        ));
}

#[test]
fn compare_warns_when_runs_were_built_from_other_locks_or_bases() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results-small.json");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, lock: &str, base_id: &str| {
        let mut results: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
        let base = results["environment"]["engine"]["base_images"][0].clone();
        results["scenario"]["servers"][0]["lock_sha256"] = lock.into();
        results["environment"]["engine"]["base_image_digests"] =
            serde_json::json!([{"image": base, "id": base_id, "repo_digests": []}]);
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string(&results).unwrap()).unwrap();
        path
    };
    let first = write("first.json", &"ab".repeat(32), "sha256:0123456789abcdef");
    let same = write("same.json", &"ab".repeat(32), "sha256:0123456789abcdef");
    let other = write("other.json", &"cd".repeat(32), "sha256:fedcba9876543210");
    labour()
        .arg("compare")
        .args([&first, &same])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning").not());
    let assert = labour()
        .arg("compare")
        .args([&first, &other])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            ": built from another lock (lock abababababab in the first run, lock cdcdcdcdcdcd \
             in the second)",
        ))
        .stderr(predicate::str::contains(
            "image 0123456789ab in the first run, fedcba987654 in the second",
        ));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 2, "one line per difference: {stderr}");
}

/// The sha256 of `bytes` in hex, as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_string()
}
