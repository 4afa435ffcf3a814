//! Each server image's lock: `requirements.lock` beside the pins people
//! edit (`requirements.txt`), every package with its version and hashes,
//! made by `scripts/lock-images.sh`. A lock records the sha256 of the pins
//! it was made from; a lock that is missing, or made from other pins, is
//! refused, so an image never installs from a lock that says something
//! else than its pins.

use sha2::{Digest, Sha256};

use crate::images::Images;

/// The pins people edit, in a server's folder.
pub(crate) const PINS_FILE: &str = "requirements.txt";
/// The lock made from them, in the same folder.
pub(crate) const LOCK_FILE: &str = "requirements.lock";
/// The lock's line that records the pins it was made from.
const PINS_DIGEST_LINE: &str = "# requirements.txt sha256: ";

/// Lowercase hex of the sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The sha256 of `server`'s lock, once it is known to be the lock of its
/// pins; `Ok(None)` for a server without pins (it installs nothing). The
/// error is one line saying what is wrong and how to mend it.
pub(crate) fn lock_digest(images: &Images, server: &str) -> Result<Option<String>, String> {
    let Ok(pins) = images.read(&format!("{server}/{PINS_FILE}")) else {
        return Ok(None);
    };
    let remake = format!("run scripts/lock-images.sh {server}");
    let lock = images
        .read(&format!("{server}/{LOCK_FILE}"))
        .map_err(|_| format!("{server}/{PINS_FILE} has no {LOCK_FILE} beside it ({remake})"))?;
    let lock_text = String::from_utf8_lossy(&lock);
    let recorded = lock_text
        .lines()
        .find_map(|line| line.strip_prefix(PINS_DIGEST_LINE))
        .map(str::trim)
        .ok_or_else(|| {
            format!("{server}/{LOCK_FILE} does not say which pins it was made from ({remake})")
        })?;
    if recorded != sha256_hex(&pins) {
        return Err(format!(
            "{server}/{LOCK_FILE} is out of date: it was made from another {PINS_FILE} ({remake})"
        ));
    }
    let locked = pinned(&lock_text);
    for (name, version) in pinned(&String::from_utf8_lossy(&pins)) {
        let found = locked.iter().find(|(locked, _)| *locked == name);
        match found {
            Some((_, at)) if *at == version => {}
            Some((_, at)) => {
                return Err(format!(
                    "{server}/{LOCK_FILE} locks {name} at {at}, {PINS_FILE} pins {version} ({remake})"
                ));
            }
            None => {
                return Err(format!(
                    "{server}/{LOCK_FILE} has no {name}, which {PINS_FILE} pins ({remake})"
                ));
            }
        }
    }
    Ok(Some(sha256_hex(&lock)))
}

/// Every `name==version` at the start of a line of a requirements file,
/// the name normalised as pip compares them (lowercase, `-` for runs of
/// `-`, `_` and `.`).
fn pinned(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|line| !line.starts_with(|c: char| c.is_whitespace() || c == '#'))
        .filter_map(|line| {
            let (name, rest) = line.split_once("==")?;
            let version = rest.split([' ', ';', '\\']).next()?.trim();
            Some((normalise(name), version.to_string()))
        })
        .collect()
}

fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(pins: &str, lock: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        std::fs::write(dir.path().join("s").join(PINS_FILE), pins).unwrap();
        if let Some(lock) = lock {
            std::fs::write(dir.path().join("s").join(LOCK_FILE), lock).unwrap();
        }
        dir
    }

    fn lock_for(pins: &str, body: &str) -> String {
        format!(
            "# made\n{PINS_DIGEST_LINE}{}\n{body}",
            sha256_hex(pins.as_bytes())
        )
    }

    fn check(dir: &tempfile::TempDir) -> Result<Option<String>, String> {
        lock_digest(&Images::Directory(dir.path().into()), "s")
    }

    #[test]
    fn a_lock_made_from_its_pins_gives_its_digest() {
        let pins = "Twisted==26.10.0\nzope.interface==8.7\n";
        let lock = lock_for(
            pins,
            "twisted==26.10.0 \\\n    --hash=sha256:ab\n    # via -r requirements.txt\n\
             zope-interface==8.7 \\\n    --hash=sha256:cd\n",
        );
        let dir = folder(pins, Some(&lock));
        assert_eq!(check(&dir), Ok(Some(sha256_hex(lock.as_bytes()))));
    }

    #[test]
    fn a_missing_or_stale_lock_is_refused_in_one_line() {
        let pins = "gunicorn==27.0.1\n";
        let missing = check(&folder(pins, None)).unwrap_err();
        assert!(missing.contains("has no requirements.lock"), "{missing}");
        let stale = check(&folder(
            "gunicorn==27.0.2\n",
            Some(&lock_for(
                pins,
                "gunicorn==27.0.1 \\\n    --hash=sha256:ab\n",
            )),
        ))
        .unwrap_err();
        assert!(stale.contains("out of date"), "{stale}");
        assert!(stale.contains("scripts/lock-images.sh s"), "{stale}");
        let unsaid = check(&folder(pins, Some("gunicorn==27.0.1\n"))).unwrap_err();
        assert!(unsaid.contains("does not say"), "{unsaid}");
        // The digest line matches but the lock was edited by hand.
        let edited = check(&folder(
            pins,
            Some(&lock_for(
                pins,
                "gunicorn==26.0.0 \\\n    --hash=sha256:ab\n",
            )),
        ))
        .unwrap_err();
        assert!(edited.contains("locks gunicorn at 26.0.0"), "{edited}");
        let dropped = check(&folder(pins, Some(&lock_for(pins, "packaging==26.4\n")))).unwrap_err();
        assert!(dropped.contains("has no gunicorn"), "{dropped}");
        for error in [missing, stale, unsaid, edited, dropped] {
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn a_folder_without_pins_has_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            lock_digest(&Images::Directory(dir.path().into()), "s"),
            Ok(None)
        );
    }
}
