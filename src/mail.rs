//! Outgoing mail over SMTP (lettre). The server comes from `VIGIE_SMTP_URL`, never from the
//! configuration files: `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
//! (STARTTLS), or `smtp://host:25` (plain, for a relay on the local network).

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};

/// The environment variable naming the SMTP server.
pub const SMTP_ENV: &str = "VIGIE_SMTP_URL";

/// A mail to send.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub from: Option<String>,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// PNG images referenced from the HTML as `cid:NAME`.
    pub inline_images: Vec<(String, Vec<u8>)>,
}

/// Problems sending mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no SMTP server: set {SMTP_ENV} (for example smtps://user:password@smtp.example.org)")]
    NoServer,
    #[error("invalid {SMTP_ENV}: {0}")]
    BadServer(String),
    #[error("invalid address {0:?}")]
    BadAddress(String),
    #[error("no recipient: set `to` in the watch's [digest]")]
    NoRecipient,
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// The sender when none is configured.
pub fn default_from() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .unwrap_or_else(|| "localhost".into());
    format!("vigie <vigie@{host}>")
}

/// Builds the MIME message: plain text alone, or text and HTML as alternatives with the
/// images inline beside the HTML.
pub fn build(m: &Outgoing) -> Result<Message, MailError> {
    let from_s = m.from.clone().unwrap_or_else(default_from);
    let from: Mailbox = from_s
        .parse()
        .map_err(|_| MailError::BadAddress(from_s.clone()))?;
    if m.to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    let mut b = Message::builder().from(from).subject(m.subject.clone());
    for t in &m.to {
        b = b.to(t.parse().map_err(|_| MailError::BadAddress(t.clone()))?);
    }
    let msg = match &m.html {
        None => b.header(ContentType::TEXT_PLAIN).body(m.text.clone()),
        Some(html) => {
            let html_part = SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html.clone());
            let alternative = if m.inline_images.is_empty() {
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(m.text.clone()))
                    .singlepart(html_part)
            } else {
                let mut related = MultiPart::related().singlepart(html_part);
                for (cid, png) in &m.inline_images {
                    let ct = ContentType::parse("image/png")
                        .map_err(|e| MailError::Build(e.to_string()))?;
                    related = related
                        .singlepart(Attachment::new_inline(cid.clone()).body(png.clone(), ct));
                }
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(m.text.clone()))
                    .multipart(related)
            };
            b.multipart(alternative)
        }
    };
    msg.map_err(|e| MailError::Build(e.to_string()))
}

/// Sends a message through the server of `VIGIE_SMTP_URL`.
pub fn send(m: &Outgoing) -> Result<(), MailError> {
    let url = std::env::var(SMTP_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .ok_or(MailError::NoServer)?;
    let msg = build(m)?;
    let transport = SmtpTransport::from_url(url.trim())
        .map_err(|e| MailError::BadServer(e.to_string()))?
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    transport
        .send(&msg)
        .map_err(|e| MailError::Smtp(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_mail_is_multipart_alternative_with_inline_image() {
        let m = Outgoing {
            from: Some("vigie <vigie@example.org>".into()),
            to: vec!["veille@example.org".into()],
            subject: "Digest".into(),
            text: "plain".into(),
            html: Some("<p>hi <img src=\"cid:chart\"></p>".into()),
            inline_images: vec![("chart".into(), vec![0x89, b'P', b'N', b'G'])],
        };
        let raw = String::from_utf8(build(&m).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("multipart/related")
                && raw.contains("text/html")
                && raw.contains("image/png")
        );
        assert!(raw.contains("Content-ID: <chart>"), "{raw}");
    }

    #[test]
    fn errors_are_explained() {
        assert!(matches!(
            build(&Outgoing {
                to: vec![],
                ..Default::default()
            }),
            Err(MailError::NoRecipient)
        ));
        let bad = Outgoing {
            to: vec!["not an address".into()],
            ..Default::default()
        };
        assert!(matches!(build(&bad), Err(MailError::BadAddress(_))));
    }
}
