//! ARCHITECTURE.md's code map matches the tree: every folder of src/ (and
//! every file at its top) is named, and every path it names exists.

use std::path::Path;

#[test]
fn the_code_map_matches_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    // Paths in backquotes: `src/...`, `images/`, ...
    let named: Vec<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|quoted| quoted.split_whitespace())
        .map(|path| path.trim_end_matches([',', '.']))
        .filter(|path| !path.contains('<'))
        .filter(|path| {
            [
                "src/",
                "images/",
                "schema/",
                "scenarios/",
                "scripts/",
                "tests/",
            ]
            .iter()
            .any(|top| path.starts_with(top))
        })
        .collect();
    for path in &named {
        assert!(
            root.join(path).exists(),
            "ARCHITECTURE.md names {path}, which does not exist"
        );
    }
    let mut missing = Vec::new();
    for entry in walk(&root.join("src")) {
        let relative = entry
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let is_top_file = entry.parent() == Some(&root.join("src"));
        if entry.is_dir() || is_top_file {
            let as_named = if entry.is_dir() {
                format!("{relative}/")
            } else {
                relative.clone()
            };
            let mentioned = named
                .iter()
                .any(|path| *path == as_named || *path == relative)
                || text.contains(&format!("`{as_named}`"));
            // Folders below a named one that only hold assets or snapshots
            // are covered by their parent's entry.
            let covered = ["src/report/html/", "src/report/snapshots"]
                .iter()
                .any(|parent| relative.starts_with(parent));
            if !mentioned && !covered {
                missing.push(as_named);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in ARCHITECTURE.md's code map: {missing:?}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.push(path.clone());
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
