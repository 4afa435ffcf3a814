//! The stress application's own Python unittest (wsgiref.validate), run
//! with the machine's python3.

use std::process::Command;

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
