//! The runtime's `tracing` events reach a subscriber the user installs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use phlo_tests::events;

use crate::support::{input, runtime};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn runs_emit_spans_and_events_to_the_users_subscriber() -> phlo::Result<()> {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let dir = tempfile::tempdir()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let (rt, _) = runtime("traced", dir.path()).await;
            input(
                "traced",
                vec![events(&[("e1", "2025-01-15T01:00:00Z", 10.0, "a", None)])],
            );
            rt.materialize("api_events", "2025-01-15").await
        })?;
    let text = buffer
        .0
        .lock()
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default();
    assert!(
        text.contains("run{asset=\"api_events\" partition=\"2025-01-15\" run_id=traced-000001}"),
        "{text}"
    );
    assert!(text.contains("committed"), "{text}");
    assert!(text.contains("version_after=Some(0)"), "{text}");
    assert!(text.contains("run finished"), "{text}");
    assert!(text.contains("rows_in=1"), "{text}");
    Ok(())
}
