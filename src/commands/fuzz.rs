//! The fuzz harness: ten thousand scenario files and command lines, made
//! by mutating the shipped scenarios and by drawing flags with hostile
//! values, each made into a plan the way `bench` makes one. None may
//! panic or hang; every refusal is one line that says what is wrong and
//! where (the file, line and column; or the flag). Deterministic (a fixed
//! seed), so a failure is the same on every machine.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::cli::{Cli, Command};

/// How many cases run; CI runs them all.
const CASES: u32 = 10_000;
/// Longest any one case may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(5);

/// Values that have broken parsers before, or might.
const HOSTILE: &[&str] = &[
    "",
    "\"\"",
    "''",
    " ",
    "0",
    "-1",
    "1",
    "0.0",
    "1e19",
    "1e308",
    "-1e308",
    ".nan",
    ".inf",
    "-.inf",
    "18446744073709551616",
    "4294967295",
    "4294967296",
    "99999999999999999999",
    "0x10",
    "null",
    "~",
    "[]",
    "{}",
    "[[]]",
    "true",
    "no",
    "on-failure:-1",
    "on-failure:99999999999",
    "9999999h",
    "1ns",
    "0.000000001",
    "1e-300",
    "10%",
    "120%",
    "-5%",
    "64m",
    "0m",
    "1t",
    "none",
    "é",
    "\t",
    "|",
    "&",
    "*a",
    "!!binary AA==",
    "Sleeping?sleep_duration=1e308",
    "EchoUpload?bytes=999999999999",
    "PlainResponse?status=204",
    "IOBound?filename=/etc/shadow",
    "Sleeping?sleep_duration=",
    "?",
    "Plain",
    "all",
    "seed",
    "wsgiref",
    "SIGSEGV",
];

/// The shipped scenario files and the broken ones the tests keep.
fn seeds() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/scenarios"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path.display().to_string(), text));
            }
        }
    }
    files.sort();
    files
}

/// One way to damage a scenario file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the n-th word with a hostile value.
    Replace(usize, &'static str),
    /// Delete the n-th line.
    DeleteLine(usize),
    /// Repeat the n-th line.
    DuplicateLine(usize),
    /// Cut the text at a share of its length.
    Truncate(u8),
    /// A very long value in place of the n-th word.
    Long(usize, usize),
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match *mutation {
        Mutation::Replace(n, _) | Mutation::Long(n, _) if !text.is_empty() => {
            let value = match *mutation {
                Mutation::Long(_, length) => "x".repeat(length),
                Mutation::Replace(_, value) => value.to_string(),
                _ => unreachable!(),
            };
            let words: Vec<(usize, &str)> = text
                .split_inclusive(|c: char| c.is_whitespace() || "[]{},:".contains(c))
                .scan(0, |at, word| {
                    let start = *at;
                    *at += word.len();
                    Some((start, word))
                })
                .collect();
            let (start, word) = words[n % words.len()];
            let trimmed =
                word.trim_end_matches(|c: char| c.is_whitespace() || "[]{},:".contains(c));
            format!(
                "{}{value}{}",
                &text[..start],
                &text[start + trimmed.len()..]
            )
        }
        Mutation::DeleteLine(n) if !lines.is_empty() => {
            let mut kept = lines.clone();
            kept.remove(n % lines.len());
            kept.join("\n")
        }
        Mutation::DuplicateLine(n) if !lines.is_empty() => {
            let mut more = lines.clone();
            more.insert(n % lines.len(), lines[n % lines.len()]);
            more.join("\n")
        }
        Mutation::Truncate(share) => {
            let mut cut = text.len() * usize::from(share) / 255;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        _ => text.to_string(),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), proptest::sample::select(HOSTILE)).prop_map(|(n, v)| Mutation::Replace(n, v)),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => any::<u8>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 1000usize..100_000).prop_map(|(n, l)| Mutation::Long(n, l)),
    ]
}

/// A command line: some of bench's flags, with hostile or plain values.
fn flags() -> impl Strategy<Value = Vec<String>> {
    let flag = proptest::sample::select(vec![
        "--requests",
        "--duration",
        "--cell-time",
        "--rate",
        "--concurrency",
        "--processes",
        "--timeout",
        "--give-up-after",
        "--jobs",
        "--repeat",
        "--seed",
        "--memory",
        "--memory-swap",
        "--cpus",
        "--pids-limit",
        "--restart",
        "--init",
        "--ready-timeout",
        "--stop-timeout",
        "--workers",
        "--threads",
        "--worker-timeout",
        "--max-requests",
        "--max-failure",
        "--max-innocent-failure",
        "--servers",
        "--tests",
        "--network",
        "--base-image",
    ]);
    let value = prop_oneof![
        proptest::sample::select(HOSTILE).prop_map(str::to_string),
        (0u64..5000).prop_map(|n| n.to_string()),
    ];
    proptest::collection::vec((flag, value), 0..6).prop_map(|pairs| {
        let mut args = vec![
            "labour".to_string(),
            "bench".to_string(),
            "--dry-run".to_string(),
        ];
        for (flag, value) in pairs {
            args.push(format!("{flag}={value}"));
        }
        args
    })
}

/// What became of one case.
#[derive(Debug)]
enum Verdict {
    Accepted,
    Refused(String),
}

/// Make a plan from `args` (and the scenario file they name), in a thread
/// of its own: a panic or a hang is found, not suffered.
fn judge(args: Vec<String>) -> Result<Verdict, String> {
    let (done, verdict) = mpsc::channel();
    let shown = args.join(" ");
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| match Cli::try_parse_args(&args) {
            Err(error) => Verdict::Refused(error.to_string()),
            Ok(Cli {
                command: Command::Bench(bench),
            }) => match super::bench::plan(&bench) {
                Ok(_) => Verdict::Accepted,
                Err(error) => Verdict::Refused(format!("{error:#}")),
            },
            Ok(_) => unreachable!("only bench is drawn"),
        });
        let _ = done.send(outcome.map_err(|_| format!("panicked on: {shown}")));
    });
    match verdict.recv_timeout(HANG) {
        Ok(outcome) => outcome,
        Err(_) => Err("hung (no verdict within 5 s)".to_string()),
    }
}

/// The refusal's class, for the tally, checking it says what and where.
fn class(refusal: &str, file: Option<&str>) -> Result<&'static str, String> {
    let first = refusal.lines().next().unwrap_or("");
    if first.trim().is_empty() {
        return Err(format!("an empty refusal: {refusal:?}"));
    }
    if refusal.starts_with("error: ") || refusal.contains("\n\nFor more information") {
        // The flag parser's: its first line names the flag, or the value.
        return Ok("flag refused by the parser");
    }
    if refusal.lines().count() > 1 {
        return Err(format!("a refusal of more than one line: {refusal:?}"));
    }
    if let Some(file) = file
        && let Some(rest) = refusal.strip_prefix(&format!("{file}:"))
    {
        let mut place = rest.splitn(3, ':');
        let located = place.next().is_some_and(|l| l.parse::<usize>().is_ok())
            && place.next().is_some_and(|c| c.parse::<usize>().is_ok());
        if !located {
            return Err(format!("names the file but no line and column: {refusal}"));
        }
        return Ok(if refusal.contains("unknown field") {
            "file: unknown key"
        } else if refusal.contains(" is not ") || refusal.contains("expected") {
            "file: value out of range or of the wrong type"
        } else {
            "file: other, located"
        });
    }
    if file.is_some() && refusal.contains(file.unwrap_or_default()) {
        return Ok("file: cannot read");
    }
    Ok("plan: combination refused")
}

#[test]
fn ten_thousand_scenarios_and_command_lines_never_panic_or_hang_and_say_where() {
    let seeds = seeds();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tally = std::cell::RefCell::new(BTreeMap::<&'static str, (u64, String)>::new());
    // A third of the cases are command lines alone, the rest scenario
    // files (alone, or with flags too).
    let case = (
        0..seeds.len(),
        proptest::collection::vec(mutation(), 1..4),
        flags(),
        0u8..3,
    );
    let result = runner.run(&case, |(seed, mutations, mut args, mode)| {
        let mut file = None;
        if mode == 1 {
            args.truncate(3);
        }
        if mode > 0 {
            let (_, text) = &seeds[seed];
            let text = mutations
                .iter()
                .fold(text.clone(), |text, m| apply(&text, m));
            let path = dir.path().join("fuzzed.yaml");
            std::fs::write(&path, &text).unwrap();
            args.push("--scenario".into());
            args.push(path.display().to_string());
            file = Some(path.display().to_string());
        }
        let verdict = judge(args).map_err(TestCaseError::fail)?;
        let (class, example) = match verdict {
            Verdict::Accepted => ("accepted", String::new()),
            Verdict::Refused(refusal) => (
                class(&refusal, file.as_deref()).map_err(TestCaseError::fail)?,
                refusal.lines().next().unwrap_or("").to_string(),
            ),
        };
        let mut tally = tally.borrow_mut();
        let entry = tally.entry(class).or_insert((0, example));
        entry.0 += 1;
        Ok(())
    });
    let tally = tally.into_inner();
    let total: u64 = tally.values().map(|(count, _)| count).sum();
    eprintln!("fuzz: {total} cases");
    for (class, (count, example)) in &tally {
        eprintln!("fuzz:   {count:>6}  {class}  e.g. {example}");
    }
    if let Err(error) = result {
        panic!("{error}");
    }
    assert!(total >= u64::from(CASES));
    assert!(
        tally.get("accepted").is_some_and(|(count, _)| *count > 0),
        "some cases make a plan"
    );
}
