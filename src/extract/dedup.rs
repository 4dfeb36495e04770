//! Duplicates across sources: one story syndicated to twenty sites is one document.
//!
//! Two levels:
//!
//! - **Exact**: the canonical URL ([`super::url::canonicalize`]) keys a document; the same
//!   words at another URL have the same [`exact_hash`].
//! - **Near**: a MinHash signature ([`fingerprint`]) of the set of overlapping three-word
//!   shingles of the folded words estimates how much two texts share (their Jaccard
//!   similarity). A copy that kept another byline, another closing line or a few edits shares
//!   most of its shingles; unrelated texts share none. Texts shorter than [`MIN_WORDS`] get no
//!   signature at all: short social posts that differ by a number or a name ("panne à Lyon" /
//!   "panne à Nantes") are different posts, never copies.
//!
//! [`SimIndex`] finds, among documents already indexed, the one most similar to a new text
//! (at least [`MIN_SIMILARITY`]), by locality-sensitive hashing: 16 bands of 3 signature
//! values, kept in [`State`]'s near-duplicate index with a one-byte-a-value sketch of each
//! signature. Texts sharing half their shingles are found 88 % of the time, 80 % always;
//! unrelated texts are almost never even compared.
//!
//! Intended use by the index sink, for each prepared document (folded word tokens in hand):
//!
//! ```ignore
//! let words = analyzed.tokens.iter().filter(|t| t.is_word()).map(|t| t.folded.as_str());
//! if let Some(sig) = dedup::fingerprint(words) {
//!     let index = dedup::SimIndex::new(&state);
//!     match index.find(&sig, &key) {
//!         // a copy: add this URL to the original's "also seen at" and do not index it again
//!         // (so it counts once in volumes and signals)
//!         Some(original) => { /* … */ }
//!         None => index.insert(&sig, &key),
//!     }
//! }
//! ```
//!
//! The writes are staged in `State` like every other and reach disk with the index commit.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::state::{Bands, Sketch, State, LSH_BANDS, SKETCH_LEN};

/// Fewer words than this and a text is too short to be a copy of anything.
pub const MIN_WORDS: usize = 40;
/// Least estimated share of shingles for two texts to be near-duplicates.
pub const MIN_SIMILARITY: f64 = 0.5;
/// Words per shingle.
const SHINGLE: usize = 3;
/// Values in a signature.
pub const SIGNATURE_LEN: usize = 128;
/// Locality-sensitive hashing: [`LSH_BANDS`] bands of this many values (the first 48 of the
/// signature).
const ROWS: usize = 3;

/// Hash of a text's words alone (no source, no date): equal for exact copies.
pub fn exact_hash<'a>(words: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut buf = String::new();
    for w in words {
        buf.push_str(w);
        buf.push(' ');
    }
    xxh3_64(buf.as_bytes())
}

const fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The hash family: `(a·x + b) >> 32` with odd `a`.
const PERMS: [(u64, u64); SIGNATURE_LEN] = {
    let mut p = [(0u64, 0u64); SIGNATURE_LEN];
    let mut i = 0;
    while i < SIGNATURE_LEN {
        p[i] = (splitmix(2 * i as u64) | 1, splitmix(2 * i as u64 + 1));
        i += 1;
    }
    p
};

/// A MinHash signature of a text's shingles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(pub Vec<u32>);

impl Signature {
    /// Estimated Jaccard similarity of the two texts' shingle sets (0..1).
    pub fn similarity(&self, other: &Signature) -> f64 {
        if self.0.len() != other.0.len() || self.0.is_empty() {
            return 0.0;
        }
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        same as f64 / self.0.len() as f64
    }

    /// Whether the two texts are near-duplicates.
    pub fn is_near_duplicate(&self, other: &Signature) -> bool {
        self.similarity(other) >= MIN_SIMILARITY
    }

    /// The bucket of each band: [`ROWS`] values of the signature hashed with the band's
    /// number.
    pub fn bands(&self) -> Bands {
        let mut out = [0u32; LSH_BANDS];
        for (b, rows) in self.0.chunks(ROWS).take(LSH_BANDS).enumerate() {
            let mut bytes = [0u8; 1 + ROWS * 4];
            bytes[0] = b as u8;
            for (i, r) in rows.iter().enumerate() {
                bytes[1 + i * 4..5 + i * 4].copy_from_slice(&r.to_le_bytes());
            }
            out[b] = xxh3_64(&bytes) as u32;
        }
        out
    }

    /// One byte of each value (b-bit MinHash): enough to estimate a similarity, at a
    /// quarter of the size.
    pub fn sketch(&self) -> Sketch {
        let mut out = [0u8; SKETCH_LEN];
        for (o, v) in out.iter_mut().zip(&self.0) {
            *o = *v as u8;
        }
        out
    }
}

/// Estimated share of shingles two sketches' texts have in common: the share of equal bytes,
/// less the chance of two different values agreeing on their low byte.
pub fn sketch_similarity(a: &Sketch, b: &Sketch) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / SKETCH_LEN as f64;
    let chance = 1.0 / 256.0;
    ((equal - chance) / (1.0 - chance)).max(0.0)
}

/// MinHash signature of a text's folded words, or `None` when it has fewer than
/// [`MIN_WORDS`] words.
pub fn fingerprint<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Signature> {
    let hashes: Vec<u64> = words.into_iter().map(|w| xxh3_64(w.as_bytes())).collect();
    if hashes.len() < MIN_WORDS {
        return None;
    }
    let mut shingles: Vec<u64> = hashes
        .windows(SHINGLE)
        .map(|w| {
            // order-sensitive combination of the word hashes
            let h = w.iter().fold(0x9E37_79B9_7F4A_7C15u64, |a, &x| {
                (a ^ x).wrapping_mul(0x100_0000_01B3).rotate_left(29)
            });
            splitmix(h)
        })
        .collect();
    shingles.sort_unstable();
    shingles.dedup();
    let mut sig = vec![u32::MAX; SIGNATURE_LEN];
    for &x in &shingles {
        for (slot, &(a, b)) in sig.iter_mut().zip(PERMS.iter()) {
            let v = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
            if v < *slot {
                *slot = v;
            }
        }
    }
    Some(Signature(sig))
}

/// [`fingerprint`] of a raw text, tokenised and folded as the analyses do.
pub fn fingerprint_text(text: &str) -> Option<Signature> {
    let tokens = crate::analyze::text::tokenize(text);
    fingerprint(
        tokens
            .iter()
            .filter(|t| t.is_word())
            .map(|t| t.folded.as_str()),
    )
}

/// Near-duplicate lookup over the documents already indexed, persisted in [`State`]'s
/// near-duplicate index: the [`LSH_BANDS`] band hashes of each fingerprinted document and its
/// [`Sketch`].
pub struct SimIndex<'a> {
    state: &'a State,
}

impl<'a> SimIndex<'a> {
    pub fn new(state: &'a State) -> Self {
        // fingerprints an earlier version kept in sled move into the near-duplicate index
        for (key, json) in state.take_legacy_fingerprints() {
            if let Ok(sig) = serde_json::from_slice::<Signature>(&json) {
                if sig.0.len() == SIGNATURE_LEN {
                    state.near_insert(&key, &sig.bands(), &sig.sketch());
                }
            }
        }
        SimIndex { state }
    }

    /// The key of the indexed document most similar to `sig` (at least [`MIN_SIMILARITY`]),
    /// other than `key` itself.
    pub fn find(&self, sig: &Signature, key: &str) -> Option<String> {
        self.most_similar(&sig.bands(), &sig.sketch(), key)
    }

    /// [`SimIndex::find`], and when nothing is found, `key` remembered as an original: the
    /// bands and sketch computed once.
    pub fn find_or_insert(&self, sig: &Signature, key: &str) -> Option<String> {
        let (bands, sketch) = (sig.bands(), sig.sketch());
        let found = self.most_similar(&bands, &sketch, key);
        if found.is_none() {
            self.state.near_insert(key, &bands, &sketch);
        }
        found
    }

    fn most_similar(&self, bands: &Bands, sketch: &Sketch, key: &str) -> Option<String> {
        let mut best: Option<(f64, String)> = None;
        for (k, other) in self.state.near_candidates(bands) {
            if k == key {
                continue;
            }
            let s = sketch_similarity(sketch, &other);
            let better = best
                .as_ref()
                .is_none_or(|(bs, bk)| s > *bs || s == *bs && k < *bk);
            if s >= MIN_SIMILARITY && better {
                best = Some((s, k));
            }
        }
        best.map(|(_, k)| k)
    }

    /// Remembers a document's fingerprint (staged; it reaches disk with the next flush).
    pub fn insert(&self, sig: &Signature, key: &str) {
        self.state.near_insert(key, &sig.bands(), &sig.sketch());
    }

    /// Forgets a document by its key alone, if it was remembered.
    pub fn forget(&self, key: &str) {
        self.state.near_remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "La panne qui a privé d'internet des milliers d'abonnés de l'opérateur \
        dans le sud-ouest depuis lundi matin a été réparée mercredi soir, a annoncé l'entreprise \
        dans un communiqué. Selon la direction régionale, un câble de fibre optique avait été \
        sectionné lors de travaux de voirie près de Toulouse, ce qui a coupé l'accès au réseau \
        pour près de quarante mille foyers et plusieurs entreprises. Les équipes techniques sont \
        intervenues jour et nuit pour remplacer le tronçon endommagé. Les clients concernés \
        recevront un geste commercial sur leur prochaine facture, précise le communiqué, qui \
        invite les abonnés dont la connexion ne serait pas rétablie à redémarrer leur box.";

    fn fp(s: &str) -> Signature {
        fingerprint_text(s).expect("long enough")
    }

    #[test]
    fn syndicated_copy_with_other_header_and_footer_is_a_near_duplicate() {
        let original = format!("Par la rédaction. {STORY}");
        let copy =
            format!("Publié le 12 mars 2024 à 18h05. {STORY} Cet article a été repris de l'AFP.");
        let s = fp(&original).similarity(&fp(&copy));
        assert!(s >= MIN_SIMILARITY, "similarity {s}");
    }

    #[test]
    fn lightly_edited_copy_is_a_near_duplicate() {
        let edited = STORY.replace("mercredi soir", "mercredi dans la soirée");
        let s = fp(STORY).similarity(&fp(&edited));
        assert!(s >= 0.8, "similarity {s}");
    }

    #[test]
    fn truncated_copy_is_found_by_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        let index = SimIndex::new(&state);
        index.insert(&fp(STORY), "https://a.example/panne");
        // a site that publishes the first three quarters and "read more at the source"
        let cut = STORY.len() * 3 / 4;
        let cut = (0..=cut)
            .rev()
            .find(|&i| STORY.is_char_boundary(i))
            .unwrap();
        let teaser = format!("{} Lire la suite sur le site de la source.", &STORY[..cut]);
        assert_eq!(
            index.find(&fp(&teaser), "https://c.example/x").as_deref(),
            Some("https://a.example/panne")
        );
    }

    #[test]
    fn different_stories_are_far_apart() {
        let other = "Le nouveau forfait mobile de l'opérateur inclut désormais cent gigaoctets \
            de données en France et vingt en Europe, pour un prix mensuel inchangé pendant la \
            première année. Les abonnés actuels pourront basculer sans frais depuis leur espace \
            client, a indiqué l'entreprise, qui espère ainsi reconquérir les clients partis chez \
            la concurrence au cours des derniers mois, marqués par une guerre des prix sans \
            précédent sur le marché des offres sans engagement.";
        let s = fp(STORY).similarity(&fp(other));
        assert!(s < 0.1, "similarity {s}");
        assert!(!fp(STORY).is_near_duplicate(&fp(other)));
    }

    #[test]
    fn short_posts_never_collapse() {
        // a number or a name apart: different posts, and too short to fingerprint at all
        let a = "Encore une panne de la box à Lyon ce matin, 3 heures sans internet !";
        let b = "Encore une panne de la box à Nantes ce matin, 5 heures sans internet !";
        assert_eq!(fingerprint_text(a), None);
        assert_eq!(fingerprint_text(b), None);
        assert_ne!(
            exact_hash(a.split_whitespace()),
            exact_hash(b.split_whitespace())
        );
    }

    #[test]
    fn index_finds_copies_across_sources_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let copy = format!("{STORY} Avec AFP.");
        {
            let state = State::open(dir.path()).unwrap();
            let index = SimIndex::new(&state);
            assert_eq!(index.find(&fp(STORY), "https://a.example/panne"), None);
            index.insert(&fp(STORY), "https://a.example/panne");
            // visible before the flush (staged), to documents of the same batch
            assert_eq!(
                index
                    .find(&fp(&copy), "https://b.example/reprise")
                    .as_deref(),
                Some("https://a.example/panne")
            );
            // a document is not its own duplicate
            assert_eq!(index.find(&fp(STORY), "https://a.example/panne"), None);
            state.flush(1).unwrap();
        }
        let state = State::open(dir.path()).unwrap();
        let index = SimIndex::new(&state);
        assert_eq!(
            index
                .find(&fp(&copy), "https://b.example/reprise")
                .as_deref(),
            Some("https://a.example/panne")
        );
        index.forget("https://a.example/panne");
        assert_eq!(index.find(&fp(&copy), "https://b.example/reprise"), None);
        // forgetting by key alone
        index.insert(&fp(STORY), "https://a.example/panne");
        index.forget("https://a.example/panne");
        index.forget("https://never.example/seen");
        assert_eq!(index.find(&fp(&copy), "https://b.example/reprise"), None);
    }

    #[test]
    fn exact_hash_ignores_nothing_but_is_stable() {
        let w = ["la", "box", "est", "en", "panne"];
        assert_eq!(exact_hash(w), exact_hash(w));
        assert_ne!(exact_hash(w), exact_hash(["la", "box", "est", "reparee"]));
    }

    #[test]
    fn fingerprints_of_earlier_versions_move_out_of_sled() {
        use crate::state::Space;
        let dir = tempfile::tempdir().unwrap();
        {
            // as earlier versions kept them: the signature as JSON, one key per band bucket
            let state = State::open(dir.path()).unwrap();
            state.put(Space::Simhash, "s/https://a.example/panne", &fp(STORY));
            state.put(
                Space::Simhash,
                "b0/00000000000000ff",
                &vec!["https://a.example/panne"],
            );
            state.put(
                Space::Simhash,
                "x/0000000000000001/auteur",
                &"https://a.example/court",
            );
            state.flush(1).unwrap();
        }
        let state = State::open(dir.path()).unwrap();
        let index = SimIndex::new(&state);
        let copy = format!("{STORY} Avec AFP.");
        assert_eq!(
            index
                .find(&fp(&copy), "https://b.example/reprise")
                .as_deref(),
            Some("https://a.example/panne")
        );
        state.flush(2).unwrap();
        assert!(state
            .get_raw(Space::Simhash, "s/https://a.example/panne")
            .is_none());
        assert!(state
            .get_raw(Space::Simhash, "b0/00000000000000ff")
            .is_none());
        // exact-copy keys of short texts stay where they are
        assert!(state
            .get_raw(Space::Simhash, "x/0000000000000001/auteur")
            .is_some());
        drop(state);
        let state = State::open(dir.path()).unwrap();
        assert_eq!(state.near_len(), 1);
    }
}
