//! A bounded load: `n` requests from `c` threads, each taking the next index
//! until all are sent; one latency per request.

use super::percentile;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Load {
    pub n: usize,
    pub c: usize,
    /// First send to last answer.
    pub elapsed: Duration,
    /// Sorted.
    pub lat: Vec<Duration>,
    pub non_2xx: usize,
}

impl Load {
    pub fn rps(&self) -> f64 {
        self.n as f64 / self.elapsed.as_secs_f64()
    }

    pub fn p(&self, q: f64) -> Duration {
        percentile(&self.lat, q)
    }

    pub fn max(&self) -> Duration {
        self.lat.last().copied().unwrap_or_default()
    }
}

/// Sends request `i` for every `i` in `0..n` with `send`, which answers the
/// HTTP status, from `c` threads at once.
pub fn drive(n: usize, c: usize, send: impl Fn(usize) -> u16 + Sync) -> Load {
    let c = c.max(1);
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let (mut lat, non_2xx) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..c)
            .map(|_| {
                s.spawn(|| {
                    let (mut lat, mut failures) = (Vec::new(), 0usize);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break (lat, failures);
                        }
                        let t = Instant::now();
                        let status = send(i);
                        lat.push(t.elapsed());
                        failures += usize::from(!(200..300).contains(&status));
                    }
                })
            })
            .collect();
        workers.into_iter().fold((Vec::with_capacity(n), 0), |(mut l, f), w| {
            let (wl, wf) = w.join().expect("bench worker");
            l.extend(wl);
            (l, f + wf)
        })
    });
    let elapsed = start.elapsed();
    lat.sort();
    Load { n, c, elapsed, lat, non_2xx }
}
