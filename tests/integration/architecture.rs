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

/// A rule of the code map: the modules a section is about, and those they
/// must never import (`crate::NAME`).
#[derive(Debug, PartialEq)]
struct Rule {
    modules: Vec<String>,
    never: Vec<String>,
}

/// The top-level modules of `src/`: its folders and its files.
fn top_modules(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("src"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() || path.extension().is_some_and(|e| e == "rs"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Words in backquotes in `text`.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The module a `src/` path in a heading names: `src/plan/` is `plan`,
/// `src/policy.rs` is `policy`.
fn module_of_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("src/")?;
    let name = rest.trim_end_matches('/');
    let name = name.strip_suffix(".rs").unwrap_or(name);
    (!name.contains('/')).then(|| name.to_string())
}

/// The sentence of `text` that begins at `at`, up to its full stop.
fn sentence_from(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let end = rest
        .char_indices()
        .find(|&(i, c)| c == '.' && (i + 1 == rest.len() || rest[i + 1..].starts_with([' ', '\n'])))
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// The code map's sections: each `###` heading's modules and its text.
fn sections(doc: &str) -> Vec<(Vec<String>, String)> {
    let map = doc
        .split("\n## ")
        .find(|part| part.starts_with("Code map"))
        .expect("ARCHITECTURE.md has a code map");
    map.split("\n### ")
        .skip(1)
        .map(|section| {
            let (heading, body) = section.split_once('\n').unwrap_or((section, ""));
            let modules = quoted(heading)
                .into_iter()
                .filter_map(module_of_path)
                .collect();
            (modules, body.to_string())
        })
        .collect()
}

/// The "must never import" rules the code map states, read from its text:
/// "Must never import `a`, `b` or `c`.", and "Must never import anything
/// but `units`-level helpers." (every module but those and itself).
fn rules(doc: &str, all: &[String]) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (modules, body) in sections(doc) {
        let lower = body.to_lowercase();
        let Some(at) = lower.find("never import") else {
            continue;
        };
        let sentence = sentence_from(&body, at);
        let named: Vec<String> = quoted(sentence)
            .into_iter()
            .map(|word| word.to_string())
            .collect();
        let never = if sentence.contains("anything but") {
            all.iter()
                .filter(|m| !named.contains(m) && !modules.contains(m))
                .cloned()
                .collect()
        } else {
            named
        };
        assert!(
            !never.is_empty(),
            "a rule that forbids nothing: {sentence:?}"
        );
        rules.push(Rule { modules, never });
    }
    rules
}

/// The top-level modules `code` names as `crate::NAME` (in `use
/// crate::{a, b}` too), comments left out.
fn imports(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                // `crate::{a::X, b}`: the group may go on over lines; the
                // names on this line are enough for the rule.
                for item in group.split([',', '}']) {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.push(name);
                    }
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
            rest = after;
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Each file's module and its code, unit tests left out (a test may build
/// its fixtures from anything).
fn sources(root: &Path) -> Vec<(String, String, String)> {
    let src = root.join("src");
    walk(&src)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| path.file_name().is_some_and(|name| name != "tests.rs"))
        .map(|path| {
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str();
            let module = Path::new(first)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            (module, path.display().to_string(), code)
        })
        .collect()
}

/// What breaks the rules: one line per file and module it must not import.
fn violations(rules: &[Rule], sources: &[(String, String, String)]) -> Vec<String> {
    let mut broken = Vec::new();
    for (module, file, code) in sources {
        let imported = imports(code);
        for rule in rules.iter().filter(|rule| rule.modules.contains(module)) {
            for name in imported.iter().filter(|name| rule.never.contains(name)) {
                broken.push(format!(
                    "{file} imports crate::{name}, which {module} must never import"
                ));
            }
        }
    }
    broken
}

/// The modules that import both `runtime` and `client`, but those allowed.
fn knowing_both(sources: &[(String, String, String)], allowed: &[String]) -> Vec<String> {
    let mut modules: Vec<String> = Vec::new();
    for (module, _, _) in sources {
        if modules.contains(module) || allowed.contains(module) {
            continue;
        }
        let imported: Vec<String> = sources
            .iter()
            .filter(|(m, _, _)| m == module)
            .flat_map(|(_, _, code)| imports(code))
            .collect();
        if imported.iter().any(|n| n == "runtime") && imported.iter().any(|n| n == "client") {
            modules.push(module.clone());
        }
    }
    modules
}

/// The module the code map says is the only one that knows both the
/// runtime and the client, and those its sentence leaves aside.
fn only_both(doc: &str) -> Vec<String> {
    const CLAIM: &str = "the only module that knows both the runtime and the client";
    let flat = |body: &str| body.replace('\n', " ").to_lowercase();
    let (modules, body) = sections(doc)
        .into_iter()
        .find(|(_, body)| flat(body).contains(CLAIM))
        .expect("the code map says which module knows both the runtime and the client");
    let flat = flat(&body);
    let at = flat.find(CLAIM).unwrap();
    let start = flat[..at].rfind(". ").map_or(0, |i| i + 2);
    let sentence = &flat[start..at];
    let mut allowed = modules;
    allowed.extend(quoted(sentence).into_iter().map(String::from));
    allowed
}

#[test]
fn the_code_map_rules_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let all = top_modules(root);
    let rules = rules(&doc, &all);
    assert!(rules.len() >= 7, "the code map's rules, read: {rules:?}");
    for rule in &rules {
        for name in rule.modules.iter().chain(&rule.never) {
            assert!(
                all.contains(name),
                "the code map names a module src/ lacks: {name}"
            );
        }
    }
    let sources = sources(root);
    let broken = violations(&rules, &sources);
    assert!(
        broken.is_empty(),
        "ARCHITECTURE.md's rules broken:\n{}",
        broken.join("\n")
    );
    let allowed = only_both(&doc);
    assert_eq!(allowed, ["record", "bench", "commands"]);
    let both = knowing_both(&sources, &allowed);
    assert!(
        both.is_empty(),
        "only record, bench (and commands above them) may know both the runtime and the client: {both:?}"
    );
}

#[test]
fn a_broken_rule_is_caught() {
    let all: Vec<String> = ["behaviour", "bench", "client", "plan", "runtime", "units"]
        .map(String::from)
        .to_vec();
    let doc = "# A\n\n## Code map\n\n### `src/plan/`\n\nData. Must never import: `runtime`, \
               `client`.\n\n### `src/behaviour/`\n\nMust never import anything but `units`-level \
               helpers.\n\n### `src/bench/`\n\nDrives. The only module that knows both the \
               runtime and the client.\n\n## Invariants\n";
    let rules = rules(doc, &all);
    assert_eq!(
        rules,
        [
            Rule {
                modules: vec!["plan".into()],
                never: vec!["runtime".into(), "client".into()],
            },
            Rule {
                modules: vec!["behaviour".into()],
                never: vec![
                    "bench".into(),
                    "client".into(),
                    "plan".into(),
                    "runtime".into()
                ],
            },
        ]
    );
    let file = |module: &str, code: &str| {
        (
            module.to_string(),
            format!("src/{module}/x.rs"),
            code.to_string(),
        )
    };
    let sources = [
        file(
            "plan",
            "use crate::units::parse;\nuse crate::{behaviour::Outcome, runtime::Runtime};\n",
        ),
        file("plan", "// crate::client in a comment is no import\n"),
        file("behaviour", "fn f() -> crate::plan::LoadSpec { todo!() }\n"),
        file("client", "use crate::runtime::Runtime;\n"),
        file("client", "use crate::plan::LoadSpec;\n"),
        file("runtime", "use crate::client::Mix;\n"),
    ];
    assert_eq!(
        violations(&rules, &sources),
        [
            "src/plan/x.rs imports crate::runtime, which plan must never import",
            "src/behaviour/x.rs imports crate::plan, which behaviour must never import",
        ]
    );
    let allowed = only_both(doc);
    assert_eq!(allowed, ["bench"]);
    let sources = [
        file(
            "bench",
            "use crate::runtime::Runtime;\nuse crate::client::Mix;\n",
        ),
        file("client", "use crate::runtime::Runtime;\n"),
        file("client", "use crate::client::Mix;\n"),
    ];
    assert_eq!(knowing_both(&sources, &allowed), ["client"]);
}
