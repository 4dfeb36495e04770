//! Brand mentions: aliases matched as whole tokens (never inside another word), `@handles`,
//! `#hashtags` and domains; case rules; exclusions; ambiguous aliases that count only with a
//! context word nearby.
//!
//! Aliases are indexed by their first folded token, so each token of a document costs one hash
//! lookup however many aliases are configured.

use std::collections::HashMap;

use crate::analyze::lang::Lang;
use crate::analyze::text::{self, Analyzed, Token, TokenKind};
use crate::config::Brand;
use crate::doc::Mention;

/// How far (in tokens, either side) a context word may be from an ambiguous alias.
pub const CONTEXT_WINDOW: usize = 20;

#[derive(Debug, Clone)]
struct Pattern {
    brand: usize,
    /// Folded tokens of the alias.
    folded: Vec<String>,
    /// The alias's tokens as written (for case-sensitive matching).
    exact: Vec<String>,
    /// What separates consecutive tokens in the alias (`" "`, `"."`, `"-"`, `""`).
    gaps: Vec<String>,
    case_sensitive: bool,
    ambiguous: bool,
}

#[derive(Debug, Clone)]
struct BrandRules {
    id: String,
    /// Exclusion phrases, folded tokens.
    exclude: Vec<Vec<String>>,
    /// Context words and phrases, per stemming language: folded stems.
    context: HashMap<Lang, Vec<Vec<String>>>,
    /// Context as folded words (for languages without a stemmer).
    context_folded: Vec<Vec<String>>,
}

/// Finds the mentions of a set of brands.
#[derive(Debug, Clone, Default)]
pub struct MentionMatcher {
    brands: Vec<BrandRules>,
    patterns: Vec<Pattern>,
    by_first: HashMap<String, Vec<usize>>,
}

fn normalize_apostrophes(s: &str) -> String {
    s.replace(['\u{2019}', '\u{02BC}'], "'")
}

/// The folded form used for matching: English possessives dropped (`Apple's` → `apple`).
fn match_form(t: &Token) -> &str {
    let f = t.folded.as_str();
    if t.kind == TokenKind::Word {
        if let Some(base) = f.strip_suffix("'s") {
            return base;
        }
    }
    f
}

fn exact_form<'t>(text: &'t str, t: &Token) -> &'t str {
    let s = &text[t.range()];
    s.strip_suffix("'s")
        .or_else(|| s.strip_suffix("’s"))
        .unwrap_or(s)
}

fn gap_matches(alias_gap: &str, doc_gap: &str) -> bool {
    if alias_gap.trim().is_empty() {
        // "Orange France" also matches "Orange-France" and line-wrapped text
        !doc_gap.is_empty() && doc_gap.chars().all(|c| c.is_whitespace() || c == '-')
    } else {
        normalize_apostrophes(alias_gap) == normalize_apostrophes(doc_gap)
    }
}

impl MentionMatcher {
    /// Builds a matcher for these brands; brands with the same id are merged.
    pub fn new<'b>(brands: impl IntoIterator<Item = &'b Brand>) -> Self {
        let mut m = MentionMatcher::default();
        for brand in brands {
            let bi = match m.brands.iter().position(|b| b.id == brand.id) {
                Some(i) => i,
                None => {
                    m.brands.push(BrandRules {
                        id: brand.id.clone(),
                        exclude: Vec::new(),
                        context: HashMap::new(),
                        context_folded: Vec::new(),
                    });
                    m.brands.len() - 1
                }
            };
            let rules = &mut m.brands[bi];
            for ex in &brand.exclude {
                let toks: Vec<String> = text::tokenize(ex).into_iter().map(|t| t.folded).collect();
                if !toks.is_empty() {
                    rules.exclude.push(toks);
                }
            }
            for ctx in &brand.context {
                let toks = text::tokenize(ctx);
                rules
                    .context_folded
                    .push(toks.iter().map(|t| t.folded.clone()).collect());
                for &lang in Lang::STEMMED {
                    let stems = toks
                        .iter()
                        .map(|t| text::stem(lang, &ctx[t.range()], &t.folded))
                        .collect();
                    rules.context.entry(lang).or_default().push(stems);
                }
            }
            for (alias, ambiguous) in brand
                .aliases
                .iter()
                .map(|a| (a, false))
                .chain(brand.ambiguous.iter().map(|a| (a, true)))
            {
                let alias = alias.trim();
                let toks = text::tokenize(alias);
                if toks.is_empty() {
                    continue;
                }
                let gaps = toks
                    .windows(2)
                    .map(|w| alias[w[0].end..w[1].start].to_string())
                    .collect();
                // handles and domains are case-insensitive whatever the brand says
                let is_domain = !alias.contains(char::is_whitespace) && alias.contains('.');
                let is_handle = toks.len() == 1 && toks[0].kind == TokenKind::Handle;
                let p = Pattern {
                    brand: bi,
                    folded: toks.iter().map(|t| match_form(t).to_string()).collect(),
                    exact: toks
                        .iter()
                        .map(|t| normalize_apostrophes(exact_form(alias, t)))
                        .collect(),
                    gaps,
                    case_sensitive: brand.case_sensitive && !is_domain && !is_handle,
                    ambiguous,
                };
                let first = p.folded[0].clone();
                let idx = m.patterns.len();
                m.patterns.push(p);
                m.by_first.entry(first).or_default().push(idx);
            }
        }
        m
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The mentions in an analysed text, in text order, without overlaps (the longest alias
    /// wins where two overlap).
    pub fn find(&self, doc: &Analyzed<'_>) -> Vec<Mention> {
        if self.patterns.is_empty() {
            return Vec::new();
        }
        let toks = &doc.tokens;
        // candidates: (token start, token end, pattern)
        let mut cands: Vec<(usize, usize, usize)> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            let key = match_form(t);
            if let Some(ps) = self.by_first.get(key) {
                for &pi in ps {
                    if let Some(end) = self.match_at(doc, i, &self.patterns[pi], false) {
                        cands.push((i, end, pi));
                    }
                }
            }
            // `#Orange` mentions the alias `Orange`
            if t.kind == TokenKind::Hashtag {
                if let Some(ps) = self.by_first.get(&t.folded[1..]) {
                    for &pi in ps {
                        let p = &self.patterns[pi];
                        if p.folded.len() == 1 && self.match_at(doc, i, p, true).is_some() {
                            cands.push((i, i + 1, pi));
                        }
                    }
                }
            }
        }
        if cands.is_empty() {
            return Vec::new();
        }
        // longest first, then leftmost; drop overlaps
        cands.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
        let mut taken = vec![false; toks.len()];
        let mut kept: Vec<(usize, usize, usize)> = Vec::new();
        for c in cands {
            if taken[c.0..c.1].iter().any(|&x| x) {
                continue;
            }
            taken[c.0..c.1].iter_mut().for_each(|x| *x = true);
            kept.push(c);
        }
        kept.sort_by_key(|c| c.0);
        // brand rules: exclusions, then context for ambiguous aliases
        let firm: Vec<usize> = kept
            .iter()
            .filter(|c| !self.patterns[c.2].ambiguous)
            .map(|c| self.patterns[c.2].brand)
            .collect();
        let mut out = Vec::new();
        for (s, e, pi) in kept {
            let p = &self.patterns[pi];
            let rules = &self.brands[p.brand];
            if rules
                .exclude
                .iter()
                .any(|ex| phrase_overlaps(toks, ex, s, e))
            {
                continue;
            }
            if p.ambiguous && !firm.contains(&p.brand) && !self.has_context(doc, rules, s, e) {
                continue;
            }
            let start = toks[s].start;
            let end = toks[e - 1].end;
            out.push(Mention {
                brand: rules.id.clone(),
                alias: doc.text[start..end].to_string(),
                start,
                end,
                sentiment: None,
            });
        }
        out
    }

    /// Whether pattern `p` matches the tokens from `i`; gives the end token index.
    fn match_at(
        &self,
        doc: &Analyzed<'_>,
        i: usize,
        p: &Pattern,
        hashtag_body: bool,
    ) -> Option<usize> {
        let toks = &doc.tokens;
        if i + p.folded.len() > toks.len() {
            return None;
        }
        for k in 0..p.folded.len() {
            let t = &toks[i + k];
            if hashtag_body {
                if p.case_sensitive
                    && normalize_apostrophes(&doc.text[t.start + 1..t.end]) != p.exact[k]
                {
                    return None;
                }
                continue;
            }
            if match_form(t) != p.folded[k] {
                return None;
            }
            if p.case_sensitive && normalize_apostrophes(exact_form(doc.text, t)) != p.exact[k] {
                return None;
            }
            if k > 0 && !gap_matches(&p.gaps[k - 1], &doc.text[toks[i + k - 1].end..t.start]) {
                return None;
            }
        }
        Some(i + p.folded.len())
    }

    fn has_context(&self, doc: &Analyzed<'_>, rules: &BrandRules, s: usize, e: usize) -> bool {
        let lo = s.saturating_sub(CONTEXT_WINDOW);
        let hi = (e + CONTEXT_WINDOW).min(doc.tokens.len());
        let stems = rules.context.get(&doc.lang);
        for phrase_i in 0..rules.context_folded.len() {
            let folded = &rules.context_folded[phrase_i];
            let stemmed = stems.map(|c| &c[phrase_i]);
            if folded.is_empty() {
                continue;
            }
            'pos: for j in lo..hi {
                if j + folded.len() > hi || (j >= s && j < e) {
                    continue;
                }
                for k in 0..folded.len() {
                    let t = &doc.tokens[j + k];
                    let ok = t.folded == folded[k]
                        || stemmed.is_some_and(|st| doc.stems[j + k] == st[k]);
                    if !ok {
                        continue 'pos;
                    }
                }
                return true;
            }
        }
        false
    }
}

/// Whether an occurrence of `phrase` covers any of the tokens `s..e`.
fn phrase_overlaps(toks: &[Token], phrase: &[String], s: usize, e: usize) -> bool {
    let n = phrase.len();
    let lo = (s + 1).saturating_sub(n);
    (lo..e.min(toks.len())).any(|j| {
        j + n <= toks.len()
            && j < e
            && j + n > s
            && phrase
                .iter()
                .enumerate()
                .all(|(k, w)| match_form(&toks[j + k]) == w || toks[j + k].folded == *w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(id: &str, aliases: &[&str]) -> Brand {
        Brand {
            id: id.into(),
            name: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn orange() -> Brand {
        Brand {
            id: "orange".into(),
            name: "Orange".into(),
            aliases: vec![
                "Orange France".into(),
                "@Orange_conseil".into(),
                "Livebox".into(),
                "Sosh".into(),
                "orange.fr".into(),
            ],
            ambiguous: vec!["Orange".into()],
            context: vec![
                "opérateur".into(),
                "forfait".into(),
                "fibre".into(),
                "box".into(),
                "réseau".into(),
                "service client".into(),
            ],
            exclude: vec!["jus d'orange".into(), "orange pressée".into()],
            case_sensitive: true,
        }
    }

    fn find(m: &MentionMatcher, text: &str, lang: Lang) -> Vec<(String, String)> {
        m.find(&Analyzed::new(text, lang))
            .into_iter()
            .map(|x| (x.brand, x.alias))
            .collect()
    }

    fn aliases(m: &MentionMatcher, text: &str) -> Vec<String> {
        find(m, text, Lang::Fr).into_iter().map(|x| x.1).collect()
    }

    #[test]
    fn whole_words_only() {
        let m = MentionMatcher::new(&[brand("apple", &["Apple"]), brand("free", &["Free"])]);
        assert_eq!(aliases(&m, "J'adore Apple."), ["Apple"]);
        assert_eq!(aliases(&m, "Apple's new phone"), ["Apple's"]);
        assert!(aliases(&m, "Dinner at Applebee's, freedom and Freebox").is_empty());
        assert!(aliases(&m, "Pineapple").is_empty());
    }

    #[test]
    fn offsets_point_at_the_alias() {
        let m = MentionMatcher::new(&[brand("sncf", &["SNCF Connect"])]);
        let text = "Merci à SNCF  Connect !";
        let ms = m.find(&Analyzed::new(text, Lang::Fr));
        assert_eq!(&text[ms[0].start..ms[0].end], "SNCF  Connect");
    }

    #[test]
    fn handles_hashtags_and_domains() {
        let m = MentionMatcher::new(&[orange()]);
        assert_eq!(
            aliases(&m, "merci @orange_conseil pour la réponse"),
            ["@orange_conseil"]
        );
        assert_eq!(
            aliases(&m, "Voir https://boutique.orange.fr/offres"),
            ["orange.fr"]
        );
        assert!(aliases(&m, "orange.fresh juice").is_empty());
        assert_eq!(aliases(&m, "Encore en panne #Sosh"), ["#Sosh"]);
    }

    #[test]
    fn case_sensitive_brands() {
        let m = MentionMatcher::new(&[orange()]);
        assert_eq!(aliases(&m, "Ma Livebox ne marche plus"), ["Livebox"]);
        assert!(
            aliases(&m, "ma livebox ne marche plus").is_empty(),
            "case_sensitive = true"
        );
        let m2 = MentionMatcher::new(&[brand("sncf", &["SNCF"])]);
        assert_eq!(aliases(&m2, "la sncf encore en retard"), ["sncf"]);
    }

    #[test]
    fn ambiguous_aliases_need_context() {
        let m = MentionMatcher::new(&[orange()]);
        assert_eq!(
            aliases(&m, "Orange a encore augmenté mon forfait"),
            ["Orange"]
        );
        assert_eq!(
            aliases(&m, "Les réseaux Orange sont en panne"),
            ["Orange"],
            "context matched on stems"
        );
        assert_eq!(
            aliases(&m, "Panne du reseau Orange"),
            ["Orange"],
            "accents folded"
        );
        assert!(aliases(&m, "Une robe Orange pour l'été").is_empty());
        assert_eq!(
            aliases(&m, "Le service client Orange ne répond pas"),
            ["Orange"],
            "multi-word context"
        );
        assert_eq!(
            aliases(&m, "Ma Livebox et Orange"),
            ["Livebox", "Orange"],
            "a firm alias is context enough"
        );
    }

    #[test]
    fn exclusions_win() {
        let m = MentionMatcher::new(&[orange()]);
        assert!(aliases(&m, "Un jus d'Orange et un forfait").is_empty());
        assert_eq!(
            aliases(&m, "Un jus d'Orange et un forfait Orange"),
            ["Orange"]
        );
    }

    #[test]
    fn longest_alias_wins_and_many_aliases_scale() {
        let mut b = orange();
        b.case_sensitive = false;
        let m = MentionMatcher::new(&[b]);
        assert_eq!(aliases(&m, "Orange France annonce"), ["Orange France"]);
        let many: Vec<Brand> = (0..5000)
            .map(|i| {
                brand(
                    &format!("b{i}"),
                    &[&format!("Marque{i}"), &format!("Produit {i} Pro")],
                )
            })
            .collect();
        let m = MentionMatcher::new(&many);
        assert_eq!(
            find(
                &m,
                "J'ai acheté un Produit 4999 Pro chez Marque17",
                Lang::Fr
            ),
            [
                ("b4999".into(), "Produit 4999 Pro".into()),
                ("b17".into(), "Marque17".into())
            ]
        );
    }
}
