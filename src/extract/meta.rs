//! Page metadata: title, publication date, author, declared language, canonical URL, from
//! Open Graph and Twitter cards, `<meta>` conventions (Dublin Core, Parse.ly, Sailthru…),
//! JSON-LD (schema.org `Article` and its kin), microdata, `<time>` and the URL itself.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::date::{date_in_url, parse_date};
use super::dom::{collapse_ws, Dom};

/// Metadata of a page, before the text.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub title: Option<String>,
    /// Every title the page gives (`<title>`, `og:title`, JSON-LD headline…): a heading that
    /// repeats one of them is the headline, not the text.
    pub titles: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub canonical: Option<String>,
}

#[derive(Default)]
struct LdFacts {
    headline: Option<String>,
    published: Option<String>,
    author: Option<String>,
    lang: Option<String>,
}

const ARTICLE_TYPES: &[&str] = &[
    "article",
    "newsarticle",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "scholarlyarticle",
    "techarticle",
    "socialmediaposting",
    "liveblogposting",
    "report",
    "review",
    "webpage",
    "creativework",
    "posting",
    "discussionforumposting",
    "qapage",
    "medicalwebpage",
    "itempage",
];

fn type_matches(v: &Value) -> Option<usize> {
    let rank = |t: &str| {
        let t = t.rsplit('/').next().unwrap_or(t).to_ascii_lowercase();
        ARTICLE_TYPES.iter().position(|a| *a == t)
    };
    match v.get("@type")? {
        Value::String(s) => rank(s),
        Value::Array(a) => a.iter().filter_map(|t| t.as_str().and_then(rank)).min(),
        _ => None,
    }
}

fn ld_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(ld_name),
        Value::Array(a) => {
            let names: Vec<String> = a.iter().filter_map(ld_name).take(5).collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        _ => None,
    }
}

fn ld_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(|x| x.as_str()).map(str::to_string),
        _ => None,
    }
}

/// Reads the schema.org objects of the page's JSON-LD, best-typed object first.
fn json_ld(scripts: &[String]) -> LdFacts {
    let mut objects: Vec<(usize, Value)> = Vec::new();
    for raw in scripts {
        let t = raw
            .trim()
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>")
            .trim()
            .trim_end_matches(';');
        let Ok(v) = serde_json::from_str::<Value>(t) else {
            continue;
        };
        // walk arrays and @graph, iteratively and boundedly
        let mut stack = vec![v];
        let mut seen = 0;
        while let Some(v) = stack.pop() {
            seen += 1;
            if seen > 200 {
                break;
            }
            match v {
                Value::Array(a) => stack.extend(a.into_iter().rev()),
                Value::Object(mut o) => {
                    if let Some(g) = o.remove("@graph") {
                        stack.push(g);
                    }
                    let obj = Value::Object(o);
                    if let Some(rank) = type_matches(&obj) {
                        objects.push((rank, obj));
                    } else if let Some(main) = obj.get("mainEntity").cloned() {
                        stack.push(main);
                    }
                }
                _ => {}
            }
        }
    }
    objects.sort_by_key(|(r, _)| *r);
    let mut f = LdFacts::default();
    for (_, o) in &objects {
        if f.headline.is_none() {
            f.headline = ld_str(o.get("headline")).or_else(|| {
                // a page's `name` is its title only for article-like types
                (type_matches(o).is_some_and(|r| r < 14))
                    .then(|| ld_str(o.get("name")))
                    .flatten()
            });
        }
        if f.published.is_none() {
            f.published = ld_str(o.get("datePublished")).or_else(|| ld_str(o.get("dateCreated")));
        }
        if f.author.is_none() {
            f.author = o
                .get("author")
                .or_else(|| o.get("creator"))
                .and_then(ld_name);
        }
        if f.lang.is_none() {
            f.lang = ld_str(o.get("inLanguage"));
        }
    }
    f
}

fn clean_author(s: &str) -> Option<String> {
    let s = collapse_ws(s);
    let lower = s.to_lowercase();
    let mut t = s.as_str();
    for p in [
        "by ",
        "par ",
        "written by ",
        "posted by ",
        "auteur : ",
        "author: ",
    ] {
        if lower.starts_with(p) {
            t = &s[p.len()..];
            break;
        }
    }
    let t = t.trim().trim_matches([',', '|', '-', '·']).trim();
    // a handle or a link names an account, not a person
    let bad = t.is_empty()
        || t.len() > 80
        || t.contains("://")
        || t.starts_with('@')
        || t.chars().all(|c| !c.is_alphabetic())
        || t.chars().any(|c| c.is_ascii_digit())
        || t.split_whitespace().count() > 8
        || t.ends_with(" says:")
        || t.ends_with(" says")
        || matches!(
            t.to_lowercase().trim_end_matches([':', '.']),
            "posted on"
                | "posted"
                | "published"
                | "published on"
                | "updated"
                | "by"
                | "par"
                | "publié le"
                | "mis à jour"
                | "author"
                | "auteur"
                | "admin"
                | "no author"
                | "staff"
        );
    (!bad).then(|| t.to_string())
}

fn clean_title(s: &str) -> Option<String> {
    let t = collapse_ws(s);
    (!t.is_empty() && t.len() < 1000).then_some(t)
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A title without the site's name around it (`Story | Site`, `Site - Story`): the headline
/// when the page's `<h1>` is one of the parts, else the parts that are not the site's name.
fn strip_site_name(
    title: &str,
    h1: Option<&str>,
    site: Option<&str>,
    host: Option<&str>,
) -> String {
    const SEPARATORS: &[&str] = &[
        " | ", " - ", " – ", " — ", " :: ", " · ", " » ", " « ", " / ",
    ];
    let Some(sep) = SEPARATORS.iter().find(|s| title.contains(*s)) else {
        return title.to_string();
    };
    let parts: Vec<&str> = title
        .split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return title.to_string();
    }
    if let Some(h) = h1.map(squash).filter(|h| h.len() >= 4) {
        if let Some(p) = parts.iter().find(|p| squash(p) == h) {
            return p.to_string();
        }
    }
    let site = site.map(squash).unwrap_or_default();
    let host = host.map(squash).unwrap_or_default();
    let is_site = |p: &str| {
        let q = squash(p);
        !q.is_empty()
            && (q == site
                || (!host.is_empty() && (host.contains(&q) || q.contains(&host)))
                || (!site.is_empty()
                    && site.len() >= 3
                    && q.contains(&site)
                    && q.len() < site.len() + 8))
    };
    // the site's name is the first or the last part
    let mut kept: Vec<&str> = parts.clone();
    if kept.last().is_some_and(|p| is_site(p)) {
        kept.pop();
    } else if kept.first().is_some_and(|p| is_site(p)) {
        kept.remove(0);
    }
    if kept.len() == parts.len() || kept.is_empty() {
        return title.to_string();
    }
    kept.join(sep)
}

/// Whether an element sits in a comment (whose author is not the page's).
fn in_comments(dom: &Dom, i: usize) -> bool {
    let mut a = i;
    for _ in 0..16 {
        if dom
            .hint(a)
            .is_some_and(|h| h.names.contains("comment") || h.itemprop.contains("comment"))
        {
            return true;
        }
        match dom.nodes[a].parent {
            u32::MAX => return false,
            p => a = p as usize,
        }
    }
    false
}

/// Normalises a declared language to its primary subtag (`fr-FR` → `fr`).
pub fn normalise_lang(s: &str) -> Option<String> {
    let s = s.trim();
    let primary = s
        .split(['-', '_', ',', ';', ' '])
        .next()?
        .to_ascii_lowercase();
    if primary.is_empty() || primary.len() > 3 || !primary.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return None;
    }
    Some(
        crate::analyze::lang::Lang::from_code(&primary)
            .map(|l| l.code().to_string())
            .unwrap_or(primary),
    )
}

/// Resolves `href` against the page's URL.
pub fn resolve(base: Option<&str>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match url::Url::parse(href) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u.to_string()),
        Ok(_) => None,
        Err(_) => {
            let b = url::Url::parse(base?).ok()?;
            let u = b.join(href).ok()?;
            matches!(u.scheme(), "http" | "https").then(|| u.to_string())
        }
    }
}

/// Reads the metadata of a parsed page.
pub fn read(dom: &Dom, url: Option<&str>) -> Meta {
    let m = &dom.meta;
    let meta = |keys: &[&str]| -> Option<&str> {
        keys.iter().find_map(|k| {
            m.metas
                .iter()
                .find(|(name, c)| name == k && !c.trim().is_empty())
                .map(|(_, c)| c.as_str())
        })
    };
    let ld = json_ld(&m.json_ld);
    let h1 = dom
        .nodes
        .iter()
        .position(|n| n.tag == super::dom::Tag::H1)
        .map(|i| dom.subtree_text(i))
        .filter(|t| !t.is_empty());

    let og_title = meta(&["og:title", "twitter:title", "sailthru.title", "dc.title"]);
    let html_title = m.title.as_deref().and_then(clean_title);
    let site = meta(&["og:site_name", "application-name", "twitter:site"]);
    let host = url.and_then(|u| url::Url::parse(u).ok()).and_then(|u| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_string())
    });
    let host_name = host
        .as_deref()
        .map(|h| h.rsplit_once('.').map_or(h, |(a, _)| a));
    let title = og_title
        .and_then(clean_title)
        .or_else(|| ld.headline.as_deref().and_then(clean_title))
        .or_else(|| html_title.clone())
        .or_else(|| h1.clone())
        .map(|t| strip_site_name(&t, h1.as_deref(), site, host_name));
    let mut titles: Vec<String> = Vec::new();
    for t in [
        og_title.map(str::to_string),
        ld.headline.clone(),
        html_title,
        meta(&["twitter:title"]).map(str::to_string),
    ]
    .into_iter()
    .flatten()
    {
        if !titles.contains(&t) {
            titles.push(t);
        }
    }

    let mut published = meta(&[
        "article:published_time",
        "og:article:published_time",
        "article.published",
        "datepublished",
        "parsely-pub-date",
        "sailthru.date",
        "dc.date.issued",
        "dcterms.issued",
        "dc.date",
        "dc:date",
        "dcterms.date",
        "dcterms.created",
        "dcterms:created",
        "dcterms:issued",
        "dc.date.created",
        "citation_publication_date",
        "citation_date",
        "citation_online_date",
        "bepress_citation_date",
        "publishdate",
        "publish-date",
        "publish_date",
        "pubdate",
        "date",
        "article_date_original",
        "cxenseparse:recs:publishtime",
        "og:pubdate",
        "release_date",
    ])
    .and_then(parse_date)
    .or_else(|| ld.published.as_deref().and_then(parse_date));
    if published.is_none() {
        published = m
            .itemprops
            .iter()
            .filter(|(p, _, _)| p == "datepublished" || p == "datecreated")
            .find_map(|(_, v, i)| {
                v.as_deref()
                    .and_then(parse_date)
                    .or_else(|| parse_date(&dom.subtree_text(*i)))
            });
    }
    if published.is_none() {
        published = m
            .times
            .iter()
            .filter(|(_, pubdate)| *pubdate)
            .find_map(|(t, _)| parse_date(t));
    }
    if published.is_none() {
        published = m.date_nodes.iter().find_map(|&i| {
            let t = dom.subtree_text(i);
            (t.len() < 80).then(|| parse_date(&t)).flatten()
        });
    }
    if published.is_none() {
        published = url.and_then(date_in_url);
    }
    if published.is_none() && m.times.len() == 1 {
        published = parse_date(&m.times[0].0);
    }

    let author = meta(&[
        "author",
        "article:author",
        "parsely-author",
        "sailthru.author",
        "dc.creator",
        "dcterms.creator",
        "byl",
        "citation_author",
        "dc.creator.name",
    ])
    .and_then(clean_author)
    .or_else(|| ld.author.as_deref().and_then(clean_author))
    .or_else(|| {
        m.itemprops
            .iter()
            .filter(|(p, _, _)| p == "author" || p == "creator")
            .find_map(|(_, v, i)| {
                v.as_deref()
                    .and_then(clean_author)
                    .or_else(|| clean_author(&dom.subtree_text(*i)))
            })
    })
    .or_else(|| {
        m.author_nodes
            .iter()
            .filter(|&&i| !in_comments(dom, i))
            .find_map(|&i| {
                let t = dom.subtree_text(i);
                (t.len() < 100).then(|| clean_author(&t)).flatten()
            })
    });

    let lang = m
        .lang
        .as_deref()
        .and_then(normalise_lang)
        .or_else(|| {
            meta(&["content-language", "language", "dc.language", "og:locale"])
                .and_then(normalise_lang)
        })
        .or_else(|| ld.lang.as_deref().and_then(normalise_lang));

    let canonical = m
        .links
        .iter()
        .find(|(rel, _)| rel.split_ascii_whitespace().any(|r| r == "canonical"))
        .and_then(|(_, href)| resolve(url, href))
        .or_else(|| meta(&["og:url"]).and_then(|u| resolve(url, u)))
        .map(|u| super::url::canonicalize(&u));

    Meta {
        title,
        titles,
        published,
        author,
        lang,
        canonical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_of(html: &str, url: Option<&str>) -> Meta {
        read(&Dom::parse(html), url)
    }

    #[test]
    fn open_graph_and_meta_conventions() {
        let m = meta_of(
            r#"<html lang="fr-FR"><head><title>Panne géante | Le Journal</title>
            <meta property="og:title" content="Panne géante">
            <meta property="article:published_time" content="2024-03-05T08:30:00+01:00">
            <meta name="author" content="Par Jeanne Martin">
            <link rel="canonical" href="/2024/03/panne?utm_source=rss#top">
            </head><body><h1>Panne géante</h1></body></html>"#,
            Some("https://journal.example/x"),
        );
        assert_eq!(m.title.as_deref(), Some("Panne géante"));
        assert_eq!(
            m.published.unwrap().to_rfc3339(),
            "2024-03-05T07:30:00+00:00"
        );
        assert_eq!(m.author.as_deref(), Some("Jeanne Martin"));
        assert_eq!(m.lang.as_deref(), Some("fr"));
        assert_eq!(
            m.canonical.as_deref(),
            Some("https://journal.example/2024/03/panne")
        );
    }

    #[test]
    fn json_ld_graph() {
        let m = meta_of(
            r#"<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
            {"@type":"WebSite","name":"Site"},
            {"@type":["NewsArticle"],"headline":"Outage","datePublished":"2024-03-05T08:30:00Z",
             "author":[{"@type":"Person","name":"Ann Lee"},{"@type":"Person","name":"Bo Chen"}],
             "inLanguage":"en-GB"}]}</script><p>x</p>"#,
            None,
        );
        assert_eq!(m.title.as_deref(), Some("Outage"));
        assert_eq!(m.author.as_deref(), Some("Ann Lee, Bo Chen"));
        assert_eq!(m.lang.as_deref(), Some("en"));
        assert!(m.published.is_some());
    }

    #[test]
    fn fallbacks_time_h1_url() {
        let m = meta_of(
            r#"<body><h1>Only a heading</h1><p class="byline">By <a rel="author" href="/a">Sam Roe</a></p>
            <time datetime="2023-01-02">2 Jan</time></body>"#,
            None,
        );
        assert_eq!(m.title.as_deref(), Some("Only a heading"));
        assert_eq!(m.author.as_deref(), Some("Sam Roe"));
        assert_eq!(
            m.published.unwrap().format("%Y-%m-%d").to_string(),
            "2023-01-02"
        );
        assert!(m.canonical.is_none());
        let m = meta_of("<p>x</p>", Some("https://e.example/2022/05/06/x"));
        assert_eq!(
            m.published.unwrap().format("%Y-%m-%d").to_string(),
            "2022-05-06"
        );
    }

    #[test]
    fn site_names_leave_titles() {
        let t = |title: &str, h1: Option<&str>, site: Option<&str>| {
            strip_site_name(title, h1, site, Some("journal"))
        };
        assert_eq!(
            t("Panne géante | Le Journal", None, Some("Le Journal")),
            "Panne géante"
        );
        assert_eq!(
            t("Le Journal - Panne géante", None, Some("Le Journal")),
            "Panne géante"
        );
        assert_eq!(t("Panne - Journal", None, None), "Panne");
        assert_eq!(
            t(
                "Accueil | Panne - reprise | Site",
                Some("Panne - reprise"),
                None
            ),
            "Panne - reprise"
        );
        // a dash inside the headline stays
        assert_eq!(
            t("Rennes - Lyon : 2-1", None, Some("Foot")),
            "Rennes - Lyon : 2-1"
        );
    }

    #[test]
    fn dates_and_authors_from_classes() {
        let m = meta_of(
            r#"<body><div class="post"><span class="vcard author">Loïc Le Clerc</span>
            <span class="date">, le 15 septembre 2009</span><p>x</p></div></body>"#,
            None,
        );
        assert_eq!(m.author.as_deref(), Some("Loïc Le Clerc"));
        assert_eq!(
            m.published.unwrap().format("%Y-%m-%d").to_string(),
            "2009-09-15"
        );
        let m = meta_of(
            r#"<meta name="twitter:creator" content="@someone"><p>x</p>"#,
            None,
        );
        assert_eq!(m.author, None);
    }

    #[test]
    fn broken_json_ld_is_ignored() {
        let m = meta_of(
            r#"<script type="application/ld+json">{"@type": "Article", "headline": </script>"#,
            None,
        );
        assert!(m.title.is_none());
    }
}
