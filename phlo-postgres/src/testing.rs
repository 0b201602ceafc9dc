//! The throwaway PostgreSQL server of this repository's tests and benches: `scripts/postgres.sh`
//! (which installs, initialises and starts one on loopback, once per machine), run once
//! per process.

use std::sync::OnceLock;

/// The server's URL (`postgres://phlo@127.0.0.1:55432/phlo`), starting it if needed; the
/// error carries the script's output, which says what to install.
pub fn server_url() -> Result<&'static str, String> {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    URL.get_or_init(|| {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh");
        let out = std::process::Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    })
    .as_deref()
    .map_err(Clone::clone)
}
