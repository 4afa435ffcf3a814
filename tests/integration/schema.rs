//! The results document follows its checked-in JSON Schema, without Docker:
//! a document with a cell that could not run.

use std::time::Duration;

use labour::catalogue::Catalogue;
use labour::plan::{ContainerOptions, Limits, LoadSpec, NetworkMode, RestartPolicy, Thresholds};
use labour::results::{Cell, CellError, CellStatus, Engine, Results};
use labour::{Plan, named_tests};

use crate::util::assert_valid;

#[test]
fn a_results_document_follows_the_schema() {
    let catalogue = Catalogue::embedded();
    let mut plan = Plan {
        servers: catalogue.servers().to_vec(),
        tests: named_tests()
            .into_iter()
            .map(|mut test| {
                test.load = Some(LoadSpec {
                    requests: Some(10),
                    ..LoadSpec::default()
                });
                test
            })
            .collect(),
        seed: 7,
        jobs: 2,
        repeat: 1,
        shard: None,
        container: ContainerOptions {
            network: NetworkMode::Host,
            base_image: Some("python:3.12-slim".into()),
            base_image_py27: Some("python:2.7-slim".into()),
            build_network: None,
            ready_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(10),
            build_log_dir: None,
        },
        thresholds: Thresholds {
            max_failure_ratio: Some(0.1),
            max_innocent_failure_ratio: None,
        },
    };
    plan.servers[0].limits = Limits {
        memory_bytes: Some(64 << 20),
        cpus: Some(1.5),
        restart: RestartPolicy::OnFailure {
            max_retries: Some(3),
        },
        ..Limits::default()
    };
    let mut results = Results::new("abc", &plan, Engine::default());
    let mut cell = Cell::new(&plan.servers[0], &plan.tests[0], CellStatus::Error);
    cell.error = Some(CellError {
        message: "building the image of wsgiref failed: pip failed".into(),
        log_tail: vec!["Step 3/7".into()],
    });
    results.cells.push(cell);
    results.finish(false);
    let value = serde_json::to_value(&results).unwrap();
    assert_valid(&value);
    assert_eq!(
        value["scenario"]["servers"][0]["limits"]["restart"],
        "on-failure:3"
    );
    assert_eq!(value["cells"][0]["status"], "error");
}
