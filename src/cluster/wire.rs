//! What travels between the roles, and the message ids that make a redelivery harmless.
//!
//! A fetched document is JSON, deflated; one whose compressed body is over [`MAX_INLINE`]
//! goes to the object store and its message carries the object's name. A prepared record
//! carries the index record (as tantivy's JSON) and what the sink's deduplication and
//! detectors read.

use std::io::{Read, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::schema::document::Document as _;
use tantivy::schema::Schema;
use tantivy::TantivyDocument;
use xxhash_rust::xxh3::xxh3_64;

use crate::doc::{Document, Label};
use crate::extract::dedup::Signature;
use crate::index::IndexRecord;
use crate::pipeline::{Incoming, Ready};

/// Largest compressed body sent inside a message; larger ones go to the object store.
pub const MAX_INLINE: usize = 512 * 1024;
/// First byte of a payload: the body inline (deflated JSON)...
const INLINE: u8 = b'z';
/// ...or the name of an object in the bodies' store.
const OBJECT: u8 = b'o';

/// A fetched document on its way to an analyser.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WireDoc {
    pub doc: Document,
    pub html: Option<String>,
    pub tags: Vec<String>,
    pub origin: String,
}

impl WireDoc {
    pub fn from_incoming(inc: Incoming) -> Self {
        WireDoc {
            doc: inc.doc,
            html: inc.html,
            tags: inc.tags,
            origin: inc.origin,
        }
    }

    pub fn into_incoming(self) -> Incoming {
        Incoming {
            doc: self.doc,
            html: self.html,
            tags: self.tags,
            origin: self.origin,
        }
    }

    /// The message id: the canonical address and a hash of what was read there. The same
    /// page fetched twice (a fetcher killed before it acked its work) is one message; an
    /// edited page is a new one.
    pub fn id(&self) -> String {
        let key = crate::extract::url::canonicalize(&self.doc.url);
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in [
            &self.doc.title,
            &self.doc.text,
            self.html.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        if let Some(p) = self.doc.published {
            h.update(&p.timestamp().to_le_bytes());
        }
        format!("d-{:016x}-{:016x}", xxh3_64(key.as_bytes()), h.digest())
    }
}

/// A prepared document on its way to the index role: [`Ready`] with its index record as
/// tantivy's JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireRecord {
    pub key: String,
    pub url: String,
    pub hash: u64,
    pub hash_content: u64,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
    pub brands: Vec<(String, Label)>,
    pub watches: Vec<String>,
    pub terms: crate::analyze::signal::Terms,
    pub signature: Option<Signature>,
    pub record: String,
}

impl WireRecord {
    pub fn from_ready(r: Ready, schema: &Schema) -> Self {
        WireRecord {
            record: r.record.doc.to_json(schema),
            key: r.key,
            url: r.url,
            hash: r.hash,
            hash_content: r.hash_content,
            author: r.author,
            published: r.published,
            at: r.at,
            brands: r.brands,
            watches: r.watches,
            terms: r.terms,
            signature: r.signature,
        }
    }

    pub fn into_ready(self, schema: &Schema) -> Result<Ready, String> {
        let doc = TantivyDocument::parse_json(schema, &self.record)
            .map_err(|e| format!("index record of {}: {e}", self.url))?;
        Ok(Ready {
            record: IndexRecord {
                key: self.key.clone(),
                doc,
            },
            key: self.key,
            url: self.url,
            hash: self.hash,
            hash_content: self.hash_content,
            author: self.author,
            published: self.published,
            at: self.at,
            brands: self.brands,
            watches: self.watches,
            terms: self.terms,
            signature: self.signature,
        })
    }
}

/// A payload as sent: the body inline, or too large for a message.
pub enum Payload {
    Inline(Vec<u8>),
    /// The compressed body, to be stored under this payload's message id.
    TooLarge(Vec<u8>),
}

/// JSON, deflated, behind its marker byte.
pub fn encode<T: Serialize>(value: &T) -> Payload {
    let json = serde_json::to_vec(value).expect("wire values serialise");
    let mut z = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(json.len() / 3 + 16),
        flate2::Compression::fast(),
    );
    z.write_all(&json).expect("deflate to memory");
    let packed = z.finish().expect("deflate to memory");
    if packed.len() > MAX_INLINE {
        return Payload::TooLarge(packed);
    }
    let mut out = Vec::with_capacity(packed.len() + 1);
    out.push(INLINE);
    out.extend_from_slice(&packed);
    Payload::Inline(out)
}

/// The message that points at an object.
pub fn object_pointer(name: &str) -> Vec<u8> {
    let mut out = vec![OBJECT];
    out.extend_from_slice(name.as_bytes());
    out
}

/// What a payload holds.
pub enum Received<'a> {
    /// Deflated JSON.
    Packed(&'a [u8]),
    /// The name of the object holding the deflated JSON.
    Object(String),
}

pub fn received(payload: &[u8]) -> Result<Received<'_>, String> {
    match payload.split_first() {
        Some((&INLINE, rest)) => Ok(Received::Packed(rest)),
        Some((&OBJECT, rest)) => Ok(Received::Object(
            String::from_utf8(rest.to_vec()).map_err(|_| "object name is not UTF-8")?,
        )),
        _ => Err("not a vigie message".into()),
    }
}

/// Inflates and parses deflated JSON.
pub fn unpack<T: serde::de::DeserializeOwned>(packed: &[u8]) -> Result<T, String> {
    let mut json = Vec::with_capacity(packed.len() * 3);
    flate2::read::DeflateDecoder::new(packed)
        .read_to_end(&mut json)
        .map_err(|e| format!("cannot inflate: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("cannot parse: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::lang::Lang;
    use std::sync::Arc;

    fn incoming(text: &str) -> Incoming {
        Incoming {
            doc: Document {
                url: "https://Example.com/a?utm_source=x".into(),
                title: "Panne".into(),
                text: text.into(),
                published: Some(Utc::now()),
                fetched: Utc::now(),
                source: "feed".into(),
                author: Some("Léa".into()),
                followers: Some(12),
                rating: None,
                lang_hint: Some(Lang::Fr),
            },
            html: None,
            tags: vec!["presse".into()],
            origin: "https://example.com/feed".into(),
        }
    }

    #[test]
    fn documents_round_trip_and_ids_follow_content() {
        let w = WireDoc::from_incoming(incoming("Le réseau est en panne depuis ce matin."));
        let Payload::Inline(bytes) = encode(&w) else {
            panic!("small body inline")
        };
        let Received::Packed(p) = received(&bytes).unwrap() else {
            panic!("inline")
        };
        let back: WireDoc = unpack(p).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.id(), w.id());
        let other = WireDoc::from_incoming(incoming("Le réseau est revenu."));
        assert_ne!(other.id(), w.id());
        let inc = back.into_incoming();
        assert_eq!(inc.doc.lang_hint, Some(Lang::Fr));
        assert!(received(b"?").is_err());
    }

    #[test]
    fn large_bodies_are_not_inline() {
        let mut big = String::new();
        let mut x = 1u64;
        while big.len() < 4 * MAX_INLINE {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            big.push_str(&format!("{x:x} "));
        }
        let w = WireDoc::from_incoming(incoming(&big));
        assert!(matches!(encode(&w), Payload::TooLarge(_)));
        assert_eq!(
            received(&object_pointer("d-1"))
                .ok()
                .map(|r| matches!(r, Received::Object(n) if n == "d-1")),
            Some(true)
        );
    }

    #[test]
    fn records_round_trip_to_the_same_index_document() {
        let config = Arc::new(crate::config::Config::default());
        let t = crate::pipeline::Transform::new(config);
        let p = t
            .prepare(incoming(
                "Le réseau de Kestrel est en panne depuis ce matin.",
            ))
            .unwrap();
        let (schema, _) = crate::index::schema();
        let before = p.record.doc.to_json(&schema);
        let ready = p.ready();
        let key = ready.key.clone();
        let w = WireRecord::from_ready(ready, &schema);
        let Payload::Inline(bytes) = encode(&w) else {
            panic!("inline")
        };
        let Received::Packed(packed) = received(&bytes).unwrap() else {
            panic!("inline")
        };
        let back: WireRecord = unpack(packed).unwrap();
        let r = back.into_ready(&schema).unwrap();
        assert_eq!(r.key, key);
        assert_eq!(r.record.doc.to_json(&schema), before);
    }
}
