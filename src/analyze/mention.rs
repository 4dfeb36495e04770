//! Brand mentions: aliases matched as whole tokens (never inside another word), `@handles`,
//! `#hashtags` (camel-case ones split: `#FreeEnPanne` is `Free` `En` `Panne`) and domains;
//! exclusions; ambiguous aliases that count only with a context word nearby. Case rules
//! (`case_sensitive`) apply to the ambiguous aliases only, and not in a text written in
//! capitals: an unambiguous alias is a mention however it is written.
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
                    // case tells the brand from the common word: only ambiguous names need it
                    case_sensitive: brand.case_sensitive && ambiguous && !is_domain && !is_handle,
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
        // in a text written in capitals, case tells nothing
        let case_rules = !shouting(doc);
        let mut cands: Vec<Candidate> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            let key = match_form(t);
            if let Some(ps) = self.by_first.get(key) {
                for &pi in ps {
                    if let Some(end) = self.match_at(doc, i, &self.patterns[pi], false, case_rules)
                    {
                        cands.push(Candidate::tokens(doc, i, end, pi));
                    }
                }
            }
            if t.kind == TokenKind::Hashtag {
                // `#Orange` mentions the alias `Orange`
                if let Some(ps) = self.by_first.get(&t.folded[1..]) {
                    for &pi in ps {
                        let p = &self.patterns[pi];
                        if p.folded.len() == 1
                            && self.match_at(doc, i, p, true, case_rules).is_some()
                        {
                            cands.push(Candidate::tokens(doc, i, i + 1, pi));
                        }
                    }
                }
                self.hashtag_parts(doc, i, case_rules, &mut cands);
            }
        }
        if cands.is_empty() {
            return Vec::new();
        }
        // longest first, then leftmost (a whole token before a part of it); drop overlaps
        cands.sort_by(|a, b| {
            (b.e - b.s)
                .cmp(&(a.e - a.s))
                .then(a.s.cmp(&b.s))
                .then(a.part.is_some().cmp(&b.part.is_some()))
                .then((b.end - b.start).cmp(&(a.end - a.start)))
        });
        let mut taken = vec![false; toks.len()];
        let mut kept: Vec<Candidate> = Vec::new();
        for c in cands {
            if taken[c.s..c.e].iter().any(|&x| x) {
                continue;
            }
            taken[c.s..c.e].iter_mut().for_each(|x| *x = true);
            kept.push(c);
        }
        kept.sort_by_key(|c| c.s);
        // brand rules: exclusions, then context for ambiguous aliases
        let firm: Vec<usize> = kept
            .iter()
            .filter(|c| !self.patterns[c.pattern].ambiguous)
            .map(|c| self.patterns[c.pattern].brand)
            .collect();
        let mut out = Vec::new();
        for c in kept {
            let p = &self.patterns[c.pattern];
            let rules = &self.brands[p.brand];
            let excluded = match &c.part {
                Some(part) => rules.exclude.iter().any(|ex| {
                    let words: Vec<&str> = part.words.iter().map(String::as_str).collect();
                    words_overlap(&words, ex, part.first, part.first + p.folded.len())
                }),
                None => rules
                    .exclude
                    .iter()
                    .any(|ex| phrase_overlaps(toks, ex, c.s, c.e)),
            };
            if excluded {
                continue;
            }
            if p.ambiguous && !firm.contains(&p.brand) {
                // a hashtag made on the name (`#OrangeEnPanne`) is about the brand; elsewhere
                // in a hashtag, or outside one, the name needs a context word
                let lead = c.part.as_ref().is_some_and(|part| part.first == 0);
                let context_in_tag = c.part.as_ref().is_some_and(|part| {
                    part.words.iter().enumerate().any(|(k, w)| {
                        (k < part.first || k >= part.first + p.folded.len())
                            && self.is_context_word(doc.lang, rules, w)
                    })
                });
                if !lead && !context_in_tag && !self.has_context(doc, rules, c.s, c.e) {
                    continue;
                }
            }
            out.push(Mention {
                brand: rules.id.clone(),
                alias: doc.text[c.start..c.end].to_string(),
                start: c.start,
                end: c.end,
                sentiment: None,
            });
        }
        out
    }

    /// Candidates inside a camel-case hashtag (`#FreeEnPanne`, `#SNCFenRetard`): aliases
    /// matched on its parts, case rules as for words.
    fn hashtag_parts(
        &self,
        doc: &Analyzed<'_>,
        i: usize,
        case_rules: bool,
        cands: &mut Vec<Candidate>,
    ) {
        let t = &doc.tokens[i];
        let body_start = t.start + 1;
        let body = &doc.text[body_start..t.end];
        let parts = camel_parts(body);
        if parts.len() < 2 {
            return;
        }
        let words: Vec<String> = parts.iter().map(|r| text::fold(&body[r.clone()])).collect();
        for k in 0..parts.len() {
            let Some(ps) = self.by_first.get(words[k].as_str()) else {
                continue;
            };
            for &pi in ps {
                let p = &self.patterns[pi];
                let n = p.folded.len();
                if k + n > parts.len() {
                    continue;
                }
                let ok = (0..n).all(|j| {
                    words[k + j] == p.folded[j]
                        && (!p.case_sensitive
                            || !case_rules
                            || body[parts[k + j].clone()] == p.exact[j])
                });
                if ok {
                    cands.push(Candidate {
                        s: i,
                        e: i + 1,
                        pattern: pi,
                        start: body_start + parts[k].start,
                        end: body_start + parts[k + n - 1].end,
                        part: Some(TagPart {
                            words: words.clone(),
                            first: k,
                        }),
                    });
                }
            }
        }
    }

    /// Whether one folded word is a one-word context of the brand (as written or by stem).
    fn is_context_word(&self, lang: Lang, rules: &BrandRules, word: &str) -> bool {
        let stem = text::stem(lang, word, word);
        rules.context_folded.iter().enumerate().any(|(k, c)| {
            c.len() == 1
                && (c[0] == word
                    || rules
                        .context
                        .get(&lang)
                        .is_some_and(|st| st[k].len() == 1 && st[k][0] == stem))
        })
    }

    /// Whether pattern `p` matches the tokens from `i`; gives the end token index.
    fn match_at(
        &self,
        doc: &Analyzed<'_>,
        i: usize,
        p: &Pattern,
        hashtag_body: bool,
        case_rules: bool,
    ) -> Option<usize> {
        let case_sensitive = p.case_sensitive && case_rules;
        let toks = &doc.tokens;
        if i + p.folded.len() > toks.len() {
            return None;
        }
        for k in 0..p.folded.len() {
            let t = &toks[i + k];
            if hashtag_body {
                if case_sensitive
                    && normalize_apostrophes(&doc.text[t.start + 1..t.end]) != p.exact[k]
                {
                    return None;
                }
                continue;
            }
            if match_form(t) != p.folded[k] {
                return None;
            }
            if case_sensitive && normalize_apostrophes(exact_form(doc.text, t)) != p.exact[k] {
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

/// One possible mention: tokens `s..e`, bytes `start..end` (a part of a hashtag when `part`).
struct Candidate {
    s: usize,
    e: usize,
    pattern: usize,
    start: usize,
    end: usize,
    part: Option<TagPart>,
}

impl Candidate {
    fn tokens(doc: &Analyzed<'_>, s: usize, e: usize, pattern: usize) -> Self {
        Candidate {
            s,
            e,
            pattern,
            start: doc.tokens[s].start,
            end: doc.tokens[e - 1].end,
            part: None,
        }
    }
}

/// Where in a split hashtag an alias was found: the hashtag's folded parts and the first one
/// the alias covers.
struct TagPart {
    words: Vec<String>,
    first: usize,
}

/// Whether a text is written in capitals: four words in five at least, of two words or more.
fn shouting(doc: &Analyzed<'_>) -> bool {
    let (mut words, mut caps) = (0usize, 0usize);
    for t in doc.tokens.iter().filter(|t| t.kind == TokenKind::Word) {
        let w = &doc.text[t.range()];
        if w.chars().filter(|c| c.is_alphabetic()).count() < 2 {
            continue;
        }
        words += 1;
        caps += !w.chars().any(char::is_lowercase) as usize;
    }
    words >= 2 && caps * 5 >= words * 4
}

/// The parts of a camel-case hashtag body, as byte ranges: `FreeEnPanne` → `Free` `En`
/// `Panne`, `SFRPanne` → `SFR` `Panne`, `Fibre_HS` → `Fibre` `HS`, `4GDown` → `4G` `Down`.
/// A body in one case is one part.
pub(crate) fn camel_parts(body: &str) -> Vec<std::ops::Range<usize>> {
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for k in 1..=chars.len() {
        let boundary = match (chars.get(k - 1), chars.get(k)) {
            (_, None) => true,
            (Some(&(_, a)), Some(&(_, b))) => {
                b == '_'
                    || a == '_'
                    || (a.is_lowercase() && b.is_uppercase())
                    || (a.is_alphabetic() && b.is_ascii_digit() && !a.is_uppercase())
                    // a run of capitals ends where a capitalised word starts: `SFRPanne`
                    || (a.is_uppercase()
                        && b.is_uppercase()
                        && chars.get(k + 1).is_some_and(|&(_, c)| c.is_lowercase()))
            }
            _ => false,
        };
        if boundary {
            let end = chars.get(k).map_or(body.len(), |&(j, _)| j);
            let r = chars[start].0..end;
            if !body[r.clone()].trim_matches('_').is_empty() {
                parts.push(r);
            }
            start = if chars.get(k).is_some_and(|&(_, c)| c == '_') {
                k + 1
            } else {
                k
            };
            if start >= chars.len() {
                break;
            }
        }
    }
    parts
}

/// Whether `phrase` occurs in `words` over any of the positions `s..e`.
fn words_overlap(words: &[&str], phrase: &[String], s: usize, e: usize) -> bool {
    let n = phrase.len();
    (0..words.len()).any(|j| {
        j + n <= words.len()
            && j < e
            && j + n > s
            && phrase.iter().enumerate().all(|(k, w)| words[j + k] == w)
    })
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
            own_handles: Vec::new(),
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
    fn case_rules_guard_the_ambiguous_names_only() {
        let m = MentionMatcher::new(&[orange()]);
        assert_eq!(aliases(&m, "Ma Livebox ne marche plus"), ["Livebox"]);
        assert_eq!(
            aliases(&m, "ma livebox ne marche plus"),
            ["livebox"],
            "an unambiguous alias in lower case"
        );
        assert_eq!(aliases(&m, "LIVEBOX EN PANNE"), ["LIVEBOX"]);
        assert_eq!(aliases(&m, "Encore en panne #sosh"), ["#sosh"]);
        assert!(
            aliases(&m, "le forfait de mon orange préférée").is_empty(),
            "case_sensitive = true holds for the ambiguous name"
        );
        assert_eq!(aliases(&m, "forfait Orange trop cher"), ["Orange"]);
        let m2 = MentionMatcher::new(&[brand("sncf", &["SNCF"])]);
        assert_eq!(aliases(&m2, "la sncf encore en retard"), ["sncf"]);
    }

    fn free() -> Brand {
        Brand {
            id: "free".into(),
            name: "Free".into(),
            aliases: vec!["Freebox".into(), "Free Mobile".into(), "@free".into()],
            ambiguous: vec!["Free".into()],
            context: vec!["opérateur".into(), "forfait".into(), "box".into()],
            exclude: vec!["free shipping".into()],
            case_sensitive: true,
            own_handles: Vec::new(),
        }
    }

    #[test]
    fn posts_in_capitals_are_read_like_any_other() {
        let m = MentionMatcher::new(&[orange(), free()]);
        assert_eq!(
            aliases(&m, "ORANGE A ENCORE AUGMENTÉ MON FORFAIT"),
            ["ORANGE"]
        );
        assert!(
            aliases(&m, "UNE ROBE ORANGE POUR L'ÉTÉ").is_empty(),
            "context rules still hold"
        );
        assert_eq!(aliases(&m, "FREEBOX HS DEPUIS HIER"), ["FREEBOX"]);
        assert!(aliases(&m, "entrée free le dimanche au musée").is_empty());
    }

    #[test]
    fn camel_case_hashtags_are_split() {
        let m = MentionMatcher::new(&[orange(), free()]);
        let text = "#FreeEnPanne encore une fois, merci @free";
        let found = m.find(&Analyzed::new(text, Lang::Fr));
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].brand.as_str(), found[0].alias.as_str()),
            ("free", "Free")
        );
        assert_eq!(&text[found[0].start..found[0].end], "Free");
        assert_eq!(aliases(&m, "#FreeEnPanne depuis ce matin"), ["Free"]);
        assert_eq!(aliases(&m, "#OrangeEnPanne depuis ce matin"), ["Orange"]);
        assert_eq!(aliases(&m, "#MaLiveboxHS"), ["Livebox"]);
        assert_eq!(aliases(&m, "#FreeMobileEnPanne"), ["FreeMobile"]);
        assert!(
            aliases(&m, "#MerciOrange pour cette belle soirée").is_empty(),
            "inside a hashtag, an ambiguous name needs context"
        );
        assert_eq!(aliases(&m, "#ForfaitOrange trop cher"), ["Orange"]);
        assert!(
            aliases(&m, "#FreeShipping on all orders").is_empty(),
            "exclusions hold inside hashtags"
        );
        assert!(aliases(&m, "#freeenpanne").is_empty(), "nothing to split");
    }

    #[test]
    fn camel_parts_split_where_a_reader_would() {
        let parts = |b: &str| -> Vec<String> {
            camel_parts(b)
                .into_iter()
                .map(|r| b[r].to_string())
                .collect()
        };
        assert_eq!(parts("FreeEnPanne"), ["Free", "En", "Panne"]);
        assert_eq!(parts("SFRPanne"), ["SFR", "Panne"]);
        assert_eq!(parts("Fibre_HS"), ["Fibre", "HS"]);
        assert_eq!(parts("panne4G"), ["panne", "4G"]);
        assert_eq!(parts("sosh"), ["sosh"]);
        assert_eq!(parts("ÉchecTotal"), ["Échec", "Total"]);
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
