//! Per-host politeness, shared by every source, item page and robots.txt on a host: a
//! concurrency cap (a semaphore), a pause between the starts of two requests, and pauses the
//! host asks for (429/503 with Retry-After).
//!
//! A request given up on (timed out) may still be running on the server. Its slot is not
//! given back at once: it *lingers* until the server answers or closes, or for at most
//! [`FetchSettings::linger`](super::client::FetchSettings), so that a struggling server
//! never sees more than `per_host_concurrency` requests from vigie. Other requests to the
//! host wait for a slot meanwhile (a few slow addresses do not cost the host's other
//! items), unless the host looks down: every slot lingering and more timeouts in a row than
//! it has slots, with no answer in between. Then further requests fail at once, so a silent
//! host never holds a pass for more than the linger time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The politeness state of every host seen.
pub struct Hosts {
    cap: usize,
    map: Mutex<HashMap<String, Arc<Host>>>,
}

impl Hosts {
    pub fn new(per_host_concurrency: usize) -> Self {
        Hosts {
            cap: per_host_concurrency.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The state of one host (by name, lower case, port ignored: two ports are one machine).
    pub fn get(&self, host: &str) -> Arc<Host> {
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        let mut map = self.map.lock().expect("hosts lock");
        map.entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Host {
                    name: key,
                    cap: self.cap,
                    slots: Arc::new(Semaphore::new(self.cap)),
                    lingering: AtomicUsize::new(0),
                    timeouts_in_a_row: AtomicUsize::new(0),
                    changed: Notify::new(),
                    schedule: Mutex::new(Schedule::default()),
                })
            })
            .clone()
    }
}

#[derive(Default)]
struct Schedule {
    /// When the last request was allowed to start.
    last_start: Option<Instant>,
    /// No request before this (Retry-After), and the status that asked for it.
    paused_until: Option<Instant>,
    paused_by: u16,
}

/// One host.
pub struct Host {
    pub name: String,
    cap: usize,
    slots: Arc<Semaphore>,
    lingering: AtomicUsize,
    timeouts_in_a_row: AtomicUsize,
    changed: Notify,
    schedule: Mutex<Schedule>,
}

/// Permission to have one request in flight to a host.
pub struct Slot {
    host: Arc<Host>,
    _permit: OwnedSemaphorePermit,
}

/// The host looks down: every slot is held by a request the server never answered.
#[derive(Debug)]
pub struct Unresponsive;

impl Host {
    /// Whether the host looks down (see the module documentation).
    pub fn looks_down(&self) -> bool {
        self.lingering.load(Ordering::Acquire) >= self.cap
            && self.timeouts_in_a_row.load(Ordering::Acquire) > self.cap
    }

    /// Waits for a free slot. Fails at once when the host looks down, and wakes waiting
    /// requests up when it comes to look so.
    pub async fn acquire(self: &Arc<Self>) -> Result<Slot, Unresponsive> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.looks_down() {
                return Err(Unresponsive);
            }
            tokio::select! {
                permit = self.slots.clone().acquire_owned() => {
                    let permit = permit.expect("host semaphores are never closed");
                    return Ok(Slot { host: self.clone(), _permit: permit });
                }
                _ = &mut changed => continue,
            }
        }
    }

    /// Waits until a request may start: `delay` after the previous start on this host, and
    /// not before a pause the host asked for. A pause longer than `max_pause` is not waited
    /// for: its remaining length is returned as an error.
    ///
    /// A turn is taken when it comes, not booked ahead: a task that wakes up late (a busy
    /// machine) moves the next turn later with it, so the host never sees two starts closer
    /// than `delay` because the first one left late.
    pub async fn wait_turn(&self, delay: Duration, max_pause: Duration) -> Result<(), Duration> {
        loop {
            let until = {
                let mut s = self.schedule.lock().expect("host schedule lock");
                let now = Instant::now();
                let mut at = now;
                if let Some(last) = s.last_start {
                    at = at.max(last + delay);
                }
                if let Some(p) = s.paused_until {
                    if p > now + max_pause {
                        return Err(p - now);
                    }
                    at = at.max(p);
                }
                if at <= now {
                    s.last_start = Some(now);
                    return Ok(());
                }
                at
            };
            tokio::time::sleep_until(until).await;
        }
    }

    /// No request to this host before `until`: it answered `status` (429 or 503) with a
    /// Retry-After.
    pub fn pause_until(&self, until: Instant, status: u16) {
        let mut s = self.schedule.lock().expect("host schedule lock");
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
            s.paused_by = status;
        }
    }

    /// How long the host asked to be left alone from now, and with which status.
    pub fn paused_for(&self) -> Option<(Duration, u16)> {
        let s = self.schedule.lock().expect("host schedule lock");
        let left = s.paused_until?.checked_duration_since(Instant::now())?;
        (!left.is_zero()).then_some((left, s.paused_by))
    }

    /// Requests given up on whose server has not answered yet.
    pub fn lingering(&self) -> usize {
        self.lingering.load(Ordering::Acquire)
    }

    /// The host answered a request: it is not down.
    pub fn answered(&self) {
        self.timeouts_in_a_row.store(0, Ordering::Release);
    }
}

impl Slot {
    /// Keeps the slot taken while `task` (a request given up on) may still be running on
    /// the server: until it ends, or for `max` at most, after which it is aborted. A task
    /// that ends `Ok` within `max` means the server answered after all.
    pub fn linger<T: Send + 'static, E: Send + 'static>(
        self,
        mut task: JoinHandle<Result<T, E>>,
        max: Duration,
    ) {
        let host = self.host.clone();
        host.timeouts_in_a_row.fetch_add(1, Ordering::AcqRel);
        host.lingering.fetch_add(1, Ordering::AcqRel);
        host.changed.notify_waiters();
        tokio::spawn(async move {
            match tokio::time::timeout(max, &mut task).await {
                Ok(Ok(Ok(_))) => host.answered(),
                Ok(_) => {}
                Err(_) => task.abort(),
            }
            host.lingering.fetch_sub(1, Ordering::AcqRel);
            drop(self);
            host.changed.notify_waiters();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn delay_spaces_request_starts() {
        let hosts = Hosts::new(2);
        let h = hosts.get("Example.org");
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            h.wait_turn(Duration::from_secs(2), Duration::MAX)
                .await
                .unwrap();
            starts.push(Instant::now() - t0);
        }
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_secs(2),
                Duration::from_secs(4)
            ]
        );
        assert!(Arc::ptr_eq(&h, &hosts.get("example.org")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_of_the_host() {
        let hosts = Hosts::new(2);
        let h = hosts.get("a.example");
        let t0 = Instant::now();
        h.pause_until(t0 + Duration::from_secs(5), 429);
        assert_eq!(h.paused_for(), Some((Duration::from_secs(5), 429)));
        assert_eq!(
            h.wait_turn(Duration::ZERO, Duration::from_secs(1)).await,
            Err(Duration::from_secs(5))
        );
        h.wait_turn(Duration::ZERO, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(Instant::now() - t0, Duration::from_secs(5));
        // other hosts are not paused
        let other = hosts.get("b.example");
        let t1 = Instant::now();
        other
            .wait_turn(Duration::ZERO, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(Instant::now(), t1);
    }

    fn never() -> JoinHandle<Result<(), ()>> {
        tokio::spawn(std::future::pending::<Result<(), ()>>())
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_address_keeps_its_slot_and_others_wait_for_answers() {
        let hosts = Hosts::new(2);
        let h = hosts.get("slow.example");
        let a = h.acquire().await.unwrap();
        let b = h.acquire().await.unwrap();
        let waiter = {
            let h = h.clone();
            tokio::spawn(async move { h.acquire().await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        // the first request is given up on; the server answers it 40 s later
        a.linger(
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_secs(40)).await;
                Ok::<(), ()>(())
            }),
            Duration::from_secs(120),
        );
        assert_eq!(h.lingering(), 1);
        assert!(!h.looks_down());
        drop(b);
        // the waiter gets the slot the other request gave back, not the lingering one
        assert!(waiter.await.unwrap().is_ok());
        tokio::time::sleep(Duration::from_secs(41)).await;
        assert_eq!(h.lingering(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_host_fails_fast_then_recovers() {
        let hosts = Hosts::new(2);
        let h = hosts.get("down.example");
        // two requests time out: every slot lingers, the others wait
        h.acquire()
            .await
            .unwrap()
            .linger(never(), Duration::from_secs(60));
        h.acquire()
            .await
            .unwrap()
            .linger(never(), Duration::from_secs(60));
        let waiter = {
            let h = h.clone();
            tokio::spawn(async move { h.acquire().await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        assert!(!h.looks_down());
        // the slots come back at the linger limit; the next two requests time out too
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(waiter.await.unwrap().is_ok());
        let a = h.acquire().await.unwrap();
        let b = h.acquire().await.unwrap();
        let w2 = {
            let h = h.clone();
            tokio::spawn(async move { h.acquire().await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        a.linger(never(), Duration::from_secs(60));
        b.linger(never(), Duration::from_secs(60));
        // more timeouts in a row than slots, every slot lingering: the host looks down,
        // and the request waiting for it is told at once
        assert!(h.looks_down());
        assert!(w2.await.unwrap().is_err());
        assert!(h.acquire().await.is_err());
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(h.acquire().await.is_ok());
        h.answered();
        assert!(!h.looks_down());
    }
}
