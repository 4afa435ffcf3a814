//! compose/docker-compose.yml: what `labour compose` writes, byte for byte;
//! docker-compose reads it; and a service of it builds from the images
//! tree and answers (docker-compose and the engine required only when
//! LABOUR_REQUIRE_DOCKER=1, skipped with a reason otherwise).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::{base_image, docker_available, docker_image_available, labour};

/// The checked-in file.
fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compose/docker-compose.yml")
}

/// What `labour compose` prints.
fn generated() -> String {
    let output = labour().arg("compose").output().unwrap();
    assert!(
        output.status.success(),
        "labour compose failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_checked_in_compose_file_is_what_labour_compose_writes() {
    let generated = generated();
    let checked_in = std::fs::read_to_string(checked_in()).unwrap_or_default();
    if generated != checked_in {
        let line = generated
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || generated.lines().count().min(checked_in.lines().count()) + 1,
                |index| index + 1,
            );
        panic!(
            "compose/docker-compose.yml differs from what `labour compose` writes for the \
             catalogue (first at line {line}): run `labour compose -o \
             compose/docker-compose.yml` (cargo run -- compose -o compose/docker-compose.yml) \
             and commit the file"
        );
    }
}

#[test]
fn labour_compose_writes_the_same_to_a_file_as_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    labour()
        .args(["compose", "-o"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), generated());
}

/// Whether `docker-compose` runs. When not, the test is skipped with a
/// printed reason, or fails if LABOUR_REQUIRE_DOCKER=1.
fn docker_compose_available(test: &str) -> bool {
    let runs = Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if runs {
        return true;
    }
    if std::env::var("LABOUR_REQUIRE_DOCKER").as_deref() == Ok("1") {
        panic!("{test}: docker-compose is not installed and LABOUR_REQUIRE_DOCKER=1");
    }
    eprintln!("skipping {test}: docker-compose is not installed (apt-get install docker-compose)");
    false
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn docker_compose_accepts_the_compose_file() {
    if !docker_compose_available("docker_compose_accepts_the_compose_file") {
        return;
    }
    let output = Command::new("docker-compose")
        .arg("-f")
        .arg(checked_in())
        .args(["config", "-q"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "docker-compose config refused the file: {}",
        said(&output)
    );
    // Each service's build resolves to the images tree and its Dockerfile.
    let output = Command::new("docker-compose")
        .arg("-f")
        .arg(checked_in())
        .arg("config")
        .output()
        .unwrap();
    let config: serde_yaml::Value = serde_yaml::from_slice(&output.stdout).unwrap();
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
    let services = config["services"].as_mapping().unwrap();
    assert!(!services.is_empty());
    for (name, service) in services {
        let name = name.as_str().unwrap();
        let context = Path::new(service["build"]["context"].as_str().unwrap());
        assert_eq!(
            context.canonicalize().unwrap(),
            images.canonicalize().unwrap()
        );
        let dockerfile = service["build"]["dockerfile"].as_str().unwrap();
        assert!(context.join(dockerfile).is_file(), "{name}: {dockerfile}");
    }
}

/// `docker-compose -p <project> -f <file> down` when dropped: the test's
/// containers and image go on every way out.
struct Project {
    name: String,
    file: PathBuf,
}

impl Project {
    fn compose(&self) -> Command {
        let mut command = Command::new("docker-compose");
        command.arg("-p").arg(&self.name).arg("-f").arg(&self.file);
        command
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .compose()
            .args(["down", "--rmi", "all", "--volumes", "--timeout", "5"])
            .output();
    }
}

/// A GET of `path` on `port` of 127.0.0.1: the response, or `None` while
/// nothing answers.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    (!response.is_empty()).then_some(response)
}

#[test]
fn a_compose_service_builds_from_the_images_tree_and_answers() {
    let test = "a_compose_service_builds_from_the_images_tree_and_answers";
    if !docker_compose_available(test) || !docker_available(test) {
        return;
    }
    let base = base_image();
    if !docker_image_available(test, &base) {
        return;
    }
    // The checked-in service, with what only this engine needs: the host's
    // network (it may have no bridge), so a port of the host's own, and no
    // network sysctl (Docker refuses them in the host's namespace); the
    // context as an absolute path, and an image name of the test's own.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut file: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(checked_in()).unwrap()).unwrap();
    let service = file["services"]["wsgiref"].clone();
    let mut service = service.as_mapping().unwrap().clone();
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
    let mut build = service["build"].as_mapping().unwrap().clone();
    build.insert("context".into(), images.display().to_string().into());
    build.insert("network".into(), "host".into());
    service.insert("build".into(), build.into());
    let command: Vec<serde_yaml::Value> = service["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|arg| {
            let arg = arg
                .as_str()
                .unwrap()
                .replace("0.0.0.0:8000", &format!("127.0.0.1:{port}"));
            arg.into()
        })
        .collect();
    assert!(
        command.contains(&format!("127.0.0.1:{port}").into()),
        "wsgiref binds host:port in one argument: {command:?}"
    );
    service.insert("command".into(), command.into());
    service.insert("network_mode".into(), "host".into());
    service.remove("ports");
    service.remove("sysctls");
    let project = format!("labourcomposetest{}", std::process::id());
    service.insert("image".into(), format!("{project}/wsgiref:test").into());
    file["services"] = serde_yaml::Mapping::from_iter([("wsgiref".into(), service.into())]).into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker-compose.yml");
    std::fs::write(&path, serde_yaml::to_string(&file).unwrap()).unwrap();
    let project = Project {
        name: project,
        file: path,
    };

    let up = project
        .compose()
        .env("LABOUR_BASE_IMAGE", &base)
        .args(["up", "-d", "--build", "wsgiref"])
        .output()
        .unwrap();
    assert!(up.status.success(), "docker-compose up: {}", said(&up));
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = loop {
        if let Some(response) = get(port, "/PlainResponse") {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "wsgiref did not answer on 127.0.0.1:{port} within 60 s: {}",
            said(
                &project
                    .compose()
                    .args(["logs", "--no-color"])
                    .output()
                    .unwrap()
            )
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(response.starts_with("HTTP/1.0 200"), "{response}");
    assert!(response.ends_with("Pong!\n"), "{response}");
    // Run as labour runs it: an init as PID 1, the server as a non-root user.
    let top = project
        .compose()
        .args(["exec", "-T", "wsgiref", "id", "-u"])
        .output()
        .unwrap();
    assert!(top.status.success(), "{}", said(&top));
    assert_ne!(String::from_utf8_lossy(&top.stdout).trim(), "0");
    let inspect = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{.HostConfig.Init}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.CapDrop}}",
        ])
        .arg(format!("{}_wsgiref_1", project.name))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inspect.stdout).trim(),
        "true 268435456 512 [ALL]",
        "{}",
        said(&inspect)
    );
}
