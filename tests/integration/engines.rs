//! Any Docker host: an engine behind TLS (a proxy on 127.0.0.1 in front of
//! the local socket that asks for a client certificate, as `dockerd
//! --tlsverify` does, with certificates this test makes) runs a
//! cell; the same endpoint with the wrong CA, an engine nobody runs and an
//! address labour cannot speak each fail in one line naming the endpoint.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::util::{assert_valid, containers_of_run, docker_available, labour, run_id};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(output.status.success(), "openssl {args:?}: {output:?}");
}

/// A CA in `dir/<name>-ca.pem`, and, signed by it, `dir/<name>-<leaf>.pem`
/// with its key, for each leaf (a server certificate for 127.0.0.1, a
/// client certificate).
fn authority(dir: &Path, name: &str) {
    let ca_key = format!("{name}-ca-key.pem");
    let ca = format!("{name}-ca.pem");
    openssl(dir, &["genrsa", "-out", &ca_key, "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &ca_key,
            "-sha256",
            "-days",
            "2",
            "-subj",
            &format!("/CN=labour test CA {name}"),
            "-out",
            &ca,
        ],
    );
    for (leaf, extensions) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        ),
        (
            "client",
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
        ),
    ] {
        let key = format!("{name}-{leaf}-key.pem");
        let csr = format!("{name}-{leaf}.csr");
        let ext = format!("{name}-{leaf}.ext");
        std::fs::write(dir.join(&ext), extensions).unwrap();
        openssl(dir, &["genrsa", "-out", &key, "2048"]);
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                &format!("/CN={leaf}"),
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-sha256",
                "-extfile",
                &ext,
                "-out",
                &format!("{name}-{leaf}.pem"),
            ],
        );
    }
}

/// `DOCKER_CERT_PATH` contents: `ca` as ca.pem, the `client` authority's
/// client certificate and key.
fn cert_path(dir: &Path, sub: &str, ca: &str, client: &str) -> std::path::PathBuf {
    let path = dir.join(sub);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::copy(dir.join(format!("{ca}-ca.pem")), path.join("ca.pem")).unwrap();
    std::fs::copy(
        dir.join(format!("{client}-client.pem")),
        path.join("cert.pem"),
    )
    .unwrap();
    std::fs::copy(
        dir.join(format!("{client}-client-key.pem")),
        path.join("key.pem"),
    )
    .unwrap();
    path
}

/// A TLS endpoint on 127.0.0.1 in front of the local engine's socket,
/// asking for a client certificate signed by the `good` CA.
struct TlsProxy {
    child: Child,
    port: u16,
}

impl TlsProxy {
    fn start(dir: &Path) -> Option<TlsProxy> {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tls_engine_proxy.py"
        );
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir.join("good-server.pem"))
            .arg(dir.join("good-server-key.pem"))
            .arg(dir.join("good-ca.pem"))
            .arg("/var/run/docker.sock")
            .process_group(0)
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(TlsProxy { child, port })
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        // SAFETY: killpg on the group this test started.
        unsafe {
            libc::killpg(self.child.id() as i32, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn tools_present(test: &str) -> bool {
    let present = |tool: &str| {
        Command::new(tool)
            .arg("-V")
            .output()
            .is_ok_and(|output| output.status.success())
            || Command::new(tool).arg("version").output().is_ok()
    };
    if present("python3") && present("openssl") {
        return true;
    }
    if std::env::var("LABOUR_REQUIRE_DOCKER").as_deref() == Ok("1") {
        panic!("{test}: python3 and openssl stand in for a TLS engine; install them");
    }
    eprintln!("skipping {test}: python3 or openssl is not installed");
    false
}

#[test]
fn an_engine_behind_tls_runs_a_cell_and_the_wrong_ca_is_refused_in_one_line() {
    let test = "an_engine_behind_tls_runs_a_cell";
    if !docker_available(test) || !tools_present(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    authority(dir.path(), "good");
    authority(dir.path(), "other");
    let Some(proxy) = TlsProxy::start(dir.path()) else {
        panic!("the TLS proxy did not listen");
    };
    let endpoint = format!("tcp://127.0.0.1:{}", proxy.port);

    let good = cert_path(dir.path(), "good", "good", "good");
    let output = dir.path().join("r.json");
    let run = labour()
        .args([
            "bench", "-s", "wsgiref", "-t", "Plain", "-n", "40", "--quiet", "--output",
        ])
        .arg(&output)
        .env("DOCKER_HOST", &endpoint)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &good)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    for id in containers_of_run(run_id(&results)) {
        let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    }
    assert!(run.status.success(), "{run:?}");
    assert_valid(&results);
    let engine = &results["environment"]["engine"];
    assert_eq!(
        engine["endpoint"],
        format!("{endpoint} (TLS)"),
        "{engine:#}"
    );
    assert_eq!(engine["server_address"], "127.0.0.1", "{engine:#}");
    let cell = &results["cells"][0];
    assert_eq!(cell["status"], "completed", "{cell:#}");
    assert_eq!(cell["expected"], 40, "{cell:#}");

    // The engine's certificate is signed by a CA this client does not
    // trust.
    let wrong = cert_path(dir.path(), "wrong", "other", "good");
    let refused = labour()
        .args([
            "bench", "-s", "wsgiref", "-t", "Plain", "-n", "10", "--quiet",
        ])
        .env("DOCKER_HOST", &endpoint)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &wrong)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(&endpoint), "names the endpoint: {stderr}");
    assert!(stderr.contains("certificate"), "says why: {stderr}");
    assert!(
        stderr.contains(&wrong.join("ca.pem").display().to_string()),
        "names the CA it used: {stderr}"
    );
}

#[test]
fn unreachable_and_unspeakable_engines_are_one_line_errors() {
    // A port nothing listens on: the engine the user named is not there,
    // and labour does not fall back to local processes behind their back.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("tcp://127.0.0.1:{port}");
    for (host, needle) in [
        (endpoint.as_str(), "no Docker engine answers at"),
        ("npipe:////./pipe/docker_engine", "does not speak npipe://"),
        ("127.0.0.1:2375", "not an engine address"),
    ] {
        let output = labour()
            .args([
                "bench", "-s", "wsgiref", "-t", "Plain", "-n", "10", "--quiet",
            ])
            .env("DOCKER_HOST", host)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{host}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{host}: one line: {stderr}"
        );
        assert!(stderr.contains(host), "{host}: names it: {stderr}");
        assert!(stderr.contains(needle), "{host}: {stderr}");
    }
}

#[test]
fn a_context_that_does_not_exist_is_named() {
    let dir = tempfile::tempdir().unwrap();
    labour()
        .args([
            "bench",
            "-s",
            "wsgiref",
            "-t",
            "Plain",
            "--context",
            "far-away",
        ])
        .env("DOCKER_CONFIG", dir.path())
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("context far-away"))
        .stderr(predicates::str::contains("docker context ls"));
}
