//! Alert delivery: a structured log line, a webhook (JSON POST with a Slack-compatible `text`,
//! retried, under a timeout), or an e-mail to the watch's recipients.
//!
//! Delivery runs on its own thread so a slow webhook never holds up indexing. Alerts are
//! delivered once the commit that records them is on disk; alerts about events older than
//! [`FRESH_FOR`] (a replay of last month, say) are recorded and logged, not pushed.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;

use crate::alert::Alert;
use crate::config::{Channel, Watch};

/// Alerts older than this (by event time) are not pushed to webhooks or mail.
pub const FRESH_FOR: Duration = Duration::from_secs(48 * 3600);
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
const WEBHOOK_ATTEMPTS: u32 = 3;

/// The text of an alert for chat and mail.
pub fn alert_text(a: &Alert) -> String {
    let mut s = format!("vigie [{}] {}\n{}", a.watch, a.summary(), a.message);
    for u in a.evidence.iter().take(5) {
        s.push_str("\n• ");
        s.push_str(u);
    }
    s
}

/// Logs an alert (always done, whatever the channels).
pub fn log_alert(a: &Alert) {
    tracing::warn!(
        target: "vigie::alert",
        kind = a.kind.as_str(),
        watch = %a.watch,
        brand = a.brand.as_deref().unwrap_or(""),
        terms = %a.terms.join(", "),
        at = %a.at.to_rfc3339(),
        score = a.score,
        evidence = a.evidence.len(),
        "{}",
        a.message
    );
}

struct Job {
    alert: Alert,
    channels: Vec<Channel>,
    to: Vec<String>,
    from: Option<String>,
}

/// Delivers alerts in the background.
pub struct Deliverer {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// The events whose alert reached the channels: a reminder goes only where its alert went.
    delivered: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// What makes alerts one event: their watch, kind, brand and, for terms, the terms.
fn event_key(a: &Alert) -> String {
    format!(
        "{}\u{1}{}\u{1}{}\u{1}{}",
        a.watch,
        a.kind.as_str(),
        a.brand.as_deref().unwrap_or(""),
        if a.brand.is_some() {
            String::new()
        } else {
            a.terms.join(" ")
        }
    )
}

impl Default for Deliverer {
    fn default() -> Self {
        Self::new()
    }
}

impl Deliverer {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("vigie-alerts".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
                let client = reqwest::Client::builder().timeout(WEBHOOK_TIMEOUT).user_agent(crate::agent::USER_AGENT).build();
                for job in rx {
                    for ch in &job.channels {
                        match ch {
                            Channel::Log => {}
                            Channel::Webhook(url) => {
                                if let (Ok(rt), Ok(client)) = (&rt, &client) {
                                    if let Err(e) = rt.block_on(post_webhook(client, url.as_str(), &job.alert)) {
                                        tracing::error!(url = %url, error = %e, "alert webhook failed");
                                    }
                                }
                            }
                            Channel::Email => {
                                let m = crate::mail::Outgoing {
                                    from: job.from.clone(),
                                    to: job.to.clone(),
                                    subject: format!("vigie alert [{}]: {}", job.alert.watch, job.alert.summary()),
                                    text: alert_text(&job.alert),
                                    ..Default::default()
                                };
                                if let Err(e) = crate::mail::send(&m) {
                                    tracing::error!(error = %e, "alert e-mail failed");
                                }
                            }
                        }
                    }
                }
            })
            .ok();
        Deliverer {
            tx: Some(tx),
            thread,
            delivered: Default::default(),
        }
    }

    /// Logs the alert, and pushes it to the watch's other channels if it is fresh. A channel
    /// never gets the reminder of an alert it was not sent: an event still going on when it
    /// is first deliverable (its alert was too old to push, replayed data) is sent as new.
    pub fn deliver(&self, alert: &Alert, watch: Option<&Watch>) {
        log_alert(alert);
        let Some(w) = watch else { return };
        let age = Utc::now().signed_duration_since(alert.at);
        if age.num_seconds() > FRESH_FOR.as_secs() as i64 {
            return;
        }
        let channels: Vec<Channel> = w
            .alerts
            .channels
            .iter()
            .filter(|c| !matches!(c, Channel::Log))
            .cloned()
            .collect();
        if channels.is_empty() {
            return;
        }
        let alert = self.as_sent(alert);
        if let Some(tx) = &self.tx {
            let _ = tx.send(Job {
                alert,
                channels,
                to: w.digest.to.clone(),
                from: w.digest.from.clone(),
            });
        }
    }

    /// The alert as the channels get it: the reminder of an event they never heard of is
    /// the event's first alert for them.
    fn as_sent(&self, alert: &Alert) -> Alert {
        let mut alert = alert.clone();
        let mut delivered = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        if delivered.insert(event_key(&alert)) {
            alert.reminder = false;
        }
        alert
    }

    /// Waits for pending deliveries.
    pub fn finish(mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn post_webhook(client: &reqwest::Client, url: &str, a: &Alert) -> Result<(), String> {
    let mut body = serde_json::to_value(a).map_err(|e| e.to_string())?;
    if let Some(o) = body.as_object_mut() {
        o.insert("text".into(), serde_json::Value::String(alert_text(a)));
    }
    let mut last = String::new();
    for attempt in 0..WEBHOOK_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let payload = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        match client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().is_client_error() && r.status().as_u16() != 429 => {
                return Err(format!("HTTP {}", r.status()))
            }
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("{last} after {WEBHOOK_ATTEMPTS} attempts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: &str, brand: &str, reminder: bool) -> Alert {
        serde_json::from_value(serde_json::json!({
            "kind": kind, "watch": "w", "brand": brand, "terms": [], "at": "2026-11-30T10:00:00Z",
            "score": 9.0, "evidence": [], "message": "m", "reminder": reminder, "id": "x"
        }))
        .expect("an alert")
    }

    #[test]
    fn a_channel_never_gets_the_reminder_of_an_alert_it_was_not_sent() {
        let d = Deliverer::new();
        // the shift itself was too old to push (replayed data): its reminder is the first news
        let first = d.as_sent(&alert("sentiment_shift", "sfr", true));
        assert!(!first.reminder);
        // later reminders of the same event are reminders
        assert!(d.as_sent(&alert("sentiment_shift", "sfr", true)).reminder);
        // an alert sent as new, then its reminder
        assert!(!d.as_sent(&alert("volume_spike", "sfr", false)).reminder);
        assert!(d.as_sent(&alert("volume_spike", "sfr", true)).reminder);
        // another brand is another event
        assert!(!d.as_sent(&alert("volume_spike", "orange", true)).reminder);
        d.finish();
    }
}
