//! A real `sesame serve` process, for tests that kill it (`kill -9`) and start it again on the
//! same database.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `sesame serve`; killed with SIGKILL when dropped, so no test leaves one behind.
pub struct ServeProcess {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, as the server printed it.
    pub url: String,
}

impl ServeProcess {
    /// Starts `binary --config <config> serve` and waits until it says where it listens.
    pub fn start(binary: &Path, config: &Path) -> ServeProcess {
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sesame serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("sesame serve printed its address")
                .expect("a line");
            if let Some(rest) = line.strip_prefix("sesame: listening on ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        ServeProcess { child, url }
    }

    /// SIGKILL: no shutdown, no flushing, whatever was in flight is cut off.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
