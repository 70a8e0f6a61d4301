//! Runs work items, up to N at once, giving results in the items' order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Calls `work` on each item with at most `parallelism` calls at once (on
/// this thread when it is 1) and returns the results in the items' order.
pub(crate) fn run_all<T: Sync, R: Send>(
    items: &[T],
    parallelism: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = parallelism.clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { return };
                let result = work(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_keep_the_order_and_calls_overlap_up_to_the_limit() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items: Vec<u64> = (0..9).collect();
        let out = run_all(&items, 3, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30 + 10 * (9 - i)));
            running.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(out, (0..9).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn one_at_a_time_runs_in_order_on_this_thread() {
        let me = std::thread::current().id();
        let seen = Mutex::new(Vec::new());
        run_all(&[1, 2, 3], 1, |i| {
            assert_eq!(std::thread::current().id(), me);
            seen.lock().unwrap().push(*i);
        });
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
        assert!(run_all(&[] as &[u8], 4, |_| ()).is_empty());
    }
}
