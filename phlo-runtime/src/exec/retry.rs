//! Backoff for transient failures: exponential, with deterministic jitter.

use std::time::Duration;

/// The delay before retry number `attempt` (1 = first retry): `base × 2^(attempt-1)`
/// scaled by a jitter factor in `[0.5, 1.5)` derived from the run id and attempt (so a
/// run's delays are reproducible, while concurrent runs spread out), capped at 10 minutes.
pub fn backoff(base_seconds: f64, attempt: u32, run_id: &str) -> Duration {
    let exp = base_seconds * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    let seed = fnv1a(run_id.as_bytes(), u64::from(attempt));
    let jitter = 0.5 + (seed % 1000) as f64 / 1000.0;
    Duration::from_secs_f64((exp * jitter).clamp(0.0, 600.0))
}

pub(crate) fn fnv1a(bytes: &[u8], salt: u64) -> u64 {
    // FNV-1a: small, stable, good enough to spread jitter.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_jitter_bounds() {
        for attempt in 1..=5u32 {
            let d = backoff(2.0, attempt, "run-1").as_secs_f64();
            let nominal = 2.0 * 2f64.powi(attempt as i32 - 1);
            assert!(
                d >= nominal * 0.5 && d < nominal * 1.5,
                "attempt {attempt}: {d}"
            );
        }
        assert_eq!(backoff(2.0, 3, "run-1"), backoff(2.0, 3, "run-1"));
        assert_eq!(backoff(0.0, 3, "run-1"), Duration::ZERO);
        assert_eq!(backoff(30.0, 40, "x"), Duration::from_secs(600));
    }
}
