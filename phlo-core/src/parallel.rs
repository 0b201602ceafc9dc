//! CPU work split over the cores with scoped threads: one helper for every place that
//! fans out (Parquet reading, validation, row hashing, deduplication).

/// The cores to use: `std::thread::available_parallelism`, at least 1.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Workers for `items` units of work when each worker should get at least `min_per`:
/// between 1 and [`cores`].
pub fn workers_for(items: usize, min_per: usize) -> usize {
    cores().min(items / min_per.max(1)).max(1)
}

/// Runs `f(0)`, …, `f(workers - 1)` on scoped threads (inline when `workers` is 1) and
/// returns their results in order; `None` when a thread panicked.
pub fn run<T: Send>(workers: usize, f: impl Fn(usize) -> T + Sync) -> Option<Vec<T>> {
    if workers <= 1 {
        return Some(vec![f(0)]);
    }
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = (0..workers).map(|w| scope.spawn(move || f(w))).collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    })
}

/// The contiguous range of `len` items worker `w` of `workers` takes.
pub fn share(len: usize, workers: usize, w: usize) -> std::ops::Range<usize> {
    let per = len.div_ceil(workers.max(1));
    (w * per).min(len)..((w + 1) * per).min(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_items_in_order_and_results_keep_worker_order() {
        let ranges: Vec<_> = (0..3).map(|w| share(10, 3, w)).collect();
        assert_eq!(ranges, vec![0..4, 4..8, 8..10]);
        assert_eq!(share(2, 4, 3), 2..2);
        assert_eq!(run(3, |w| w * 10), Some(vec![0, 10, 20]));
        assert_eq!(run(1, |w| w + 1), Some(vec![1]));
        assert_eq!(workers_for(0, 100), 1);
        assert!(workers_for(1_000_000, 1) >= 1);
    }

    #[test]
    fn a_panicking_worker_is_reported_not_propagated() {
        let out = run(2, |w| {
            if w == 1 {
                panic!("worker 1 fails");
            }
            w
        });
        assert_eq!(out, None);
    }
}
