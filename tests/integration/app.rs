//! The stress application's own Python unittest (wsgiref.validate), run
//! with the machine's python3, and with Python 2.7 in the py27 base image.

use std::process::Command;

use crate::util::{docker_image_available, py27_base_image};

#[test]
fn the_stress_app_passes_its_python_unittests() {
    let Ok(output) = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests/app"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    else {
        eprintln!("skipping the stress app's unittests: python3 is not installed");
        return;
    };
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("OK"), "{report}");
}

#[test]
fn the_stress_app_passes_its_python_unittests_on_python_2_7() {
    let test = "the_stress_app_passes_its_python_unittests_on_python_2_7";
    let image = py27_base_image();
    if !docker_image_available(test, &image) {
        return;
    }
    let source = format!("{}:/src:ro", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("docker")
        .args(["run", "--rm", "--network", "none", "-v", &source, &image])
        .args([
            "python2.7",
            "-m",
            "unittest",
            "discover",
            "-s",
            "/src/tests/app",
            // The ASGI twin's tests are Python 3 only.
            "-p",
            "test_labour_app.py",
        ])
        .output()
        .expect("docker runs");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("OK"), "{report}");
    assert!(!report.contains("skipped"), "{report}");
}

/// What `images/app/<script> --describe` says; `None` without python3.
fn describe(script: &str) -> Option<serde_json::Value> {
    let Ok(output) = Command::new("python3")
        .args([&format!("images/app/{script}"), "--describe"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    else {
        eprintln!("skipping the agreement test: python3 is not installed");
        return None;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn the_rust_catalogue_and_the_python_app_agree() {
    let Some(described) = describe("labour_app.py") else {
        return;
    };
    // The WSGI app has every behaviour but those marked ASGI only.
    let wsgi: Vec<&labour::behaviour::BehaviourSpec> = labour::behaviour::SPECS
        .iter()
        .filter(|spec| spec.asgi_only.is_none())
        .collect();
    agree(&described, &wsgi);
    assert!(wsgi.len() < labour::behaviour::SPECS.len());
}

#[test]
fn the_rust_catalogue_and_the_asgi_app_agree() {
    let Some(described) = describe("labour_asgi.py") else {
        return;
    };
    // The ASGI twin has every behaviour, with the same parameters.
    let all: Vec<&labour::behaviour::BehaviourSpec> = labour::behaviour::SPECS.iter().collect();
    agree(&described, &all);
    for name in ["LoopBlock", "AsyncSleep", "NeverFinish", "RaiseAfterStart"] {
        assert!(described.get(name).is_some(), "the ASGI app has {name}");
    }
    let only: Vec<&str> = labour::behaviour::SPECS
        .iter()
        .filter(|spec| spec.asgi_only.is_some())
        .map(|spec| spec.name)
        .collect();
    assert_eq!(only, ["AsyncSleep"]);
}

/// The app's `--describe` and the Rust `specs` name the same behaviours,
/// with the same parameters, types, defaults and bounds.
fn agree(described: &serde_json::Value, specs: &[&labour::behaviour::BehaviourSpec]) {
    let python: Vec<&String> = described.as_object().unwrap().keys().collect();
    let mut rust: Vec<&str> = specs.iter().map(|s| s.name).collect();
    rust.sort();
    assert_eq!(python, rust, "the same behaviours on both sides");
    for spec in specs {
        let params = described[spec.name].as_object().unwrap();
        let mut python: Vec<(&str, &str, String)> = params
            .iter()
            .map(|(name, p)| {
                (
                    name.as_str(),
                    p["type"].as_str().unwrap(),
                    p["default"].to_string(),
                )
            })
            .collect();
        python.sort();
        let mut rust: Vec<(&str, &str, String)> = spec
            .params
            .iter()
            .map(|p| (p.name, p.kind, p.default.to_string()))
            .collect();
        rust.sort();
        assert_eq!(python, rust, "{}: names, types and defaults", spec.name);
        // The app's bounds (without a memory limit) are labour's own.
        for param in spec.params {
            if let Some(max) = params[param.name].get("max") {
                assert_eq!(
                    param.max.map(|max| max.to_string()),
                    Some(max.to_string()),
                    "{}: {}'s bound",
                    spec.name,
                    param.name
                );
            }
        }
    }
    for (behaviour, param) in [
        ("LeakMemory", "how_many"),
        ("MemoryBalloon", "mb"),
        ("BigResponse", "bytes"),
        ("IOBound", "length"),
        ("FdLeak", "count"),
    ] {
        assert!(
            described[behaviour][param]["max"].is_u64(),
            "the app bounds {behaviour}'s {param}"
        );
    }
}
