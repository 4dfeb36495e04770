//! Per-host politeness, shared by every source, item page and robots.txt on a host: a
//! concurrency cap (a semaphore), a pause between the starts of two requests, and pauses the
//! host asks for (429/503 with Retry-After).
//!
//! A request given up on (timed out) may still be running on the server. Its slot is not
//! given back at once: it *lingers* until the server answers or closes, or for at most
//! [`FetchSettings::linger`](super::client::FetchSettings), so that a struggling server
//! never sees more than `per_host_concurrency` requests from vigie. When every slot of a
//! host is lingering, the host is unresponsive: further requests to it fail at once instead
//! of waiting, so one silent host never stalls a pass.

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
    /// No request before this (Retry-After).
    paused_until: Option<Instant>,
}

/// One host.
pub struct Host {
    pub name: String,
    cap: usize,
    slots: Arc<Semaphore>,
    lingering: AtomicUsize,
    changed: Notify,
    schedule: Mutex<Schedule>,
}

/// Permission to have one request in flight to a host.
pub struct Slot {
    host: Arc<Host>,
    _permit: OwnedSemaphorePermit,
}

/// Every slot of the host is held by a request the server never answered.
#[derive(Debug)]
pub struct Unresponsive;

impl Host {
    /// Waits for a free slot. Fails at once when every slot is lingering on an unanswered
    /// request, and wakes waiting requests up when that happens.
    pub async fn acquire(self: &Arc<Self>) -> Result<Slot, Unresponsive> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.lingering.load(Ordering::Acquire) >= self.cap {
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
    /// not before a pause the host asked for.
    pub async fn wait_turn(&self, delay: Duration) {
        let start = {
            let mut s = self.schedule.lock().expect("host schedule lock");
            let now = Instant::now();
            let mut at = now;
            if let Some(last) = s.last_start {
                at = at.max(last + delay);
            }
            if let Some(p) = s.paused_until {
                at = at.max(p);
            }
            s.last_start = Some(at);
            at
        };
        tokio::time::sleep_until(start).await;
        // a pause may have been asked for while we waited
        loop {
            let until = self
                .schedule
                .lock()
                .expect("host schedule lock")
                .paused_until;
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
    }

    /// No request to this host before `until` (429/503 with Retry-After).
    pub fn pause_until(&self, until: Instant) {
        let mut s = self.schedule.lock().expect("host schedule lock");
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }

    /// Requests given up on whose server has not answered yet.
    pub fn lingering(&self) -> usize {
        self.lingering.load(Ordering::Acquire)
    }
}

impl Slot {
    /// Keeps the slot taken while `task` (a request given up on) may still be running on
    /// the server: until it ends, or for `max` at most, after which it is aborted.
    pub fn linger<T: Send + 'static>(self, mut task: JoinHandle<T>, max: Duration) {
        let host = self.host.clone();
        host.lingering.fetch_add(1, Ordering::AcqRel);
        host.changed.notify_waiters();
        tokio::spawn(async move {
            if tokio::time::timeout(max, &mut task).await.is_err() {
                task.abort();
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
            h.wait_turn(Duration::from_secs(2)).await;
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
        h.pause_until(t0 + Duration::from_secs(5));
        h.wait_turn(Duration::ZERO).await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(5));
        // other hosts are not paused
        let other = hosts.get("b.example");
        let t1 = Instant::now();
        other.wait_turn(Duration::ZERO).await;
        assert_eq!(Instant::now(), t1);
    }

    #[tokio::test(start_paused = true)]
    async fn lingering_slots_make_the_host_unresponsive_then_recover() {
        let hosts = Hosts::new(2);
        let h = hosts.get("slow.example");
        let a = h.acquire().await.unwrap();
        let b = h.acquire().await.unwrap();
        // a third request waits for a slot
        let waiter = {
            let h = h.clone();
            tokio::spawn(async move { h.acquire().await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        let never = tokio::spawn(std::future::pending::<()>());
        a.linger(never, Duration::from_secs(60));
        assert_eq!(h.lingering(), 1);
        let never = tokio::spawn(std::future::pending::<()>());
        b.linger(never, Duration::from_secs(60));
        // the waiter is told at once that the host is not answering
        assert!(waiter.await.unwrap().is_err());
        assert!(h.acquire().await.is_err());
        // after the linger limit the slots come back
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(h.lingering(), 0);
        assert!(h.acquire().await.is_ok());
    }
}
