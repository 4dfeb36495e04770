//! Prometheus text exposition of what the workspace serves and sees: HTTP requests by route and
//! status, a latency histogram, queue and alert decisions; documents, alerts and sources are
//! added at scrape time by the caller.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters shared by every request.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    pub decisions: AtomicU64,
}

impl Metrics {
    /// One request served: its route (the pattern, not the path), method, status and time.
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The exposition, with `gauges` (name, help, labelled values) after the counters.
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut s = String::new();
        s.push_str(
            "# HELP vigie_http_requests_total HTTP requests served, by route, method and status.\n",
        );
        s.push_str("# TYPE vigie_http_requests_total counter\n");
        for ((route, method, status), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                s,
                "vigie_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
        s.push_str("# HELP vigie_http_request_duration_seconds Time to answer an HTTP request.\n");
        s.push_str("# TYPE vigie_http_request_duration_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "vigie_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "vigie_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "vigie_http_request_duration_seconds_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "vigie_http_request_duration_seconds_count {count}");
        s.push_str("# HELP vigie_workspace_decisions_total Queue items and alerts marked by the team since start.\n");
        s.push_str("# TYPE vigie_workspace_decisions_total counter\n");
        let _ = writeln!(
            s,
            "vigie_workspace_decisions_total {}",
            self.decisions.load(Ordering::Relaxed)
        );
        for g in gauges {
            let _ = writeln!(s, "# HELP {} {}", g.name, g.help);
            let _ = writeln!(s, "# TYPE {} gauge", g.name);
            for (labels, v) in &g.values {
                if labels.is_empty() {
                    let _ = writeln!(s, "{} {v}", g.name);
                } else {
                    let l: Vec<String> = labels
                        .iter()
                        .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                        .collect();
                    let _ = writeln!(s, "{}{{{}}} {v}", g.name, l.join(","));
                }
            }
        }
        s
    }
}

/// A gauge read at scrape time.
pub struct Gauge {
    pub name: &'static str,
    pub help: &'static str,
    pub values: Vec<(Vec<(&'static str, String)>, f64)>,
}

/// A label value as the exposition format wants it.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("/api/search", "GET", 200, 0.003);
        m.observe("/api/search", "GET", 200, 0.2);
        let s = m.render(&[Gauge {
            name: "vigie_documents",
            help: "Documents in the index.",
            values: vec![(vec![], 12.0)],
        }]);
        assert!(s.contains(
            "vigie_http_requests_total{route=\"/api/search\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(s.contains("vigie_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(s.contains("vigie_http_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(s.contains("# TYPE vigie_documents gauge\nvigie_documents 12"));
    }
}
