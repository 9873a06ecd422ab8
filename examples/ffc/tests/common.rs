//! Shared by the CLI tests: running `ffc` and hosting simulators on a background runtime.
#![allow(dead_code)]

use std::process::{Command, Stdio};

/// Exit status, stdout, stderr of `ffc args...` with `env` set and `stdin` fed.
pub fn ffc_with(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> (bool, String, String) {
    use std::io::Write as _;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ffc"));
    cmd.args(args)
        .env_remove("FFC_PASSWORD")
        .env_remove("FFC_DEVICE_URL")
        .env_remove("FFC_V9_URL")
        .env_remove("FFC_V9_EMAIL")
        .env_remove("FFC_V9_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run ffc");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("feed stdin");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("ffc output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `ffc args...` with no env and no stdin.
pub fn ffc(args: &[&str]) -> (bool, String, String) {
    ffc_with(args, &[], None)
}

/// A runtime whose worker thread keeps simulators answering while the test thread waits
/// on the CLI process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}
