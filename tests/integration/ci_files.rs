//! The CI files users copy (.github/workflows/labour.yml,
//! ci/gitlab-ci.yml, the example's examples/wsgi-gunicorn/labour-guard.yml) call labour with flags it has: every labour command in
//! them is parsed by the labour built here, a bench as a dry run, a list for
//! real, and the matrix they feed on is JSON.

use std::path::Path;

use crate::util::labour;

/// Sample values for the variables the CI files use.
fn expand(token: &str) -> String {
    let mut text = token.to_string();
    for (name, value) in [
        ("${SHARD%/*}", "1"),
        ("$MAX_INNOCENT_FAILURE", "10%"),
        ("$LABOUR_SEED", "2010"),
        ("$SERVERS", "all"),
        ("$SERVER", "wsgiref"),
        ("$TESTS", "all"),
        ("$SHARD", "1/4"),
    ] {
        text = text.replace(name, value);
    }
    assert!(
        !text.contains('$'),
        "a variable this test does not know: {token}"
    );
    text
}

/// The labour command lines of a CI file: the words after the binary, up
/// to a redirection or a shell operator, with `\` continuations joined.
fn commands(text: &str) -> Vec<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        let line = line
            .trim()
            .trim_start_matches("- ")
            .trim_start_matches("run: ");
        // The binary starts the command, or a command substitution.
        let Some(start) = ["bin/labour ", "./labour ", "target/release/labour "]
            .iter()
            .find_map(|binary| {
                let at = line.find(binary)?;
                let before = line[..at].trim_end();
                (before.is_empty() || before.ends_with("$(")).then_some(at + binary.len())
            })
        else {
            continue;
        };
        let mut words = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in line[start..].chars() {
            match c {
                '"' => quoted = !quoted,
                // The end of a command substitution.
                ')' if !quoted => break,
                ' ' if !quoted => {
                    if !current.is_empty() {
                        words.push(std::mem::take(&mut current));
                    }
                }
                _ => current.push(c),
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
        let words: Vec<String> = words
            .into_iter()
            .take_while(|w| !matches!(w.as_str(), ">>" | ">" | "||" | "|" | "&&" | ")"))
            .map(|w| expand(&w))
            .collect();
        found.push(words);
    }
    found
}

fn check(file: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let commands = commands(&text);
    assert!(!commands.is_empty(), "{file}: no labour command found");
    for words in &commands {
        let mut args = words.clone();
        match words[0].as_str() {
            "bench" => args.push("--dry-run".into()),
            "list" => {}
            _ => args.push("--help".into()),
        }
        let output = labour().args(&args).output().unwrap();
        assert!(
            output.status.success(),
            "{file}: `labour {}` is refused: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        if words[0] == "list" {
            let servers: Vec<String> = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|e| panic!("{file}: the matrix is not a JSON list: {e}"));
            assert!(
                servers.contains(&"gunicorn-sync".to_string()),
                "{servers:?}"
            );
        }
    }
    commands.len()
}

#[test]
fn the_github_workflow_calls_labour_with_flags_it_has() {
    let subcommands: Vec<String> = commands(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/labour.yml"),
        )
        .unwrap(),
    )
    .into_iter()
    .map(|words| words[0].clone())
    .collect();
    for needed in ["list", "bench", "merge", "report"] {
        assert!(
            subcommands.iter().any(|s| s == needed),
            "{needed}: {subcommands:?}"
        );
    }
    assert!(check(".github/workflows/labour.yml") >= 5);
}

#[test]
fn the_examples_guard_job_calls_labour_with_flags_it_has() {
    assert_eq!(check("examples/wsgi-gunicorn/labour-guard.yml"), 2);
}

#[test]
fn the_gitlab_pipeline_calls_labour_with_flags_it_has() {
    assert!(check("ci/gitlab-ci.yml") >= 4);
}
