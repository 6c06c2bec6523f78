//! Real services for the store tests, from the Python venv `scripts/test` installs
//! (`tests/.venv`: `chromadb`, `opentelemetry-proto`): a Chroma server and an OTLP receiver
//! that decodes with the official protobuf definitions. Each runs on 127.0.0.1 and is
//! stopped when its guard drops, also when a test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bins::workspace_root;

/// The venv's `bin/` directory; panics with what to run when it is missing.
pub fn venv_bin(tool: &str) -> PathBuf {
    let p = workspace_root().join("tests/.venv/bin").join(tool);
    assert!(
        p.exists(),
        "{} is missing: run ./scripts/test once (it installs chromadb and opentelemetry-proto \
         into tests/.venv)",
        p.display()
    );
    p
}

/// A child process killed on drop.
pub struct Service {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `chroma run` on a fresh data folder; returns once `/api/v2/heartbeat` answers.
pub fn chroma() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("chroma.log")).unwrap();
    let child = Command::new(venv_bin("chroma"))
        .args([
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--path",
        ])
        .arg(dir.path().join("data"))
        .env("ANONYMIZED_TELEMETRY", "False")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start chroma");
    let mut svc = Service { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /api/v2/heartbeat HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.") && buf.contains(" 200 ") {
                return svc;
            }
        }
        if let Ok(Some(st)) = svc.child.try_wait() {
            panic!(
                "chroma exited ({st}): {}",
                std::fs::read_to_string(svc.dir.path().join("chroma.log")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "chroma did not answer its heartbeat in 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The OTLP receiver (`tests/py/otlp_receiver.py`); answers the first requests with `faults`.
pub fn otlp_receiver(faults: &[u16]) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let faults: Vec<String> = faults.iter().map(u16::to_string).collect();
    let child = Command::new(venv_bin("python"))
        .arg(workspace_root().join("tests/py/otlp_receiver.py"))
        .arg("--port-file")
        .arg(&port_file)
        .arg("--out")
        .arg(dir.path().join("requests.jsonl"))
        .arg("--faults")
        .arg(faults.join(","))
        .stdout(Stdio::null())
        .spawn()
        .expect("start the OTLP receiver");
    let mut svc = Service {
        child,
        port: 0,
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while svc.port == 0 {
        if let Ok(s) = std::fs::read_to_string(&port_file) {
            svc.port = s.trim().parse().unwrap();
        } else {
            if let Ok(Some(st)) = svc.child.try_wait() {
                panic!("the OTLP receiver exited: {st}");
            }
            assert!(Instant::now() < deadline, "the OTLP receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    svc
}

impl Service {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request the OTLP receiver got, decoded.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        read_jsonl(&self.dir.path().join("requests.jsonl"))
    }
}

fn read_jsonl(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
