//! The workspace's own words, in French and English (the digest's words, `digest::words`,
//! give numbers, dates and the digest's sentences).

use crate::analyze::lang::Lang;

/// Every label of the pages.
pub struct Ui {
    pub lang: Lang,
    pub code: &'static str,
    pub overview: &'static str,
    pub search: &'static str,
    pub search_button: &'static str,
    pub queue: &'static str,
    pub alerts: &'static str,
    pub sources: &'static str,
    pub brands: &'static str,
    pub brand: &'static str,
    pub mentions: &'static str,
    pub change: &'static str,
    pub tone: &'static str,
    pub negative: &'static str,
    pub neutral: &'static str,
    pub positive: &'static str,
    pub share_of_voice: &'static str,
    pub summary: &'static str,
    pub look_first: &'static str,
    pub emerging: &'static str,
    pub no_alert: &'static str,
    pub period: &'static str,
    pub times_in: &'static str,
    pub documents: &'static str,
    pub results: &'static str,
    pub no_result: &'static str,
    pub any: &'static str,
    pub language: &'static str,
    pub sentiment: &'static str,
    pub expectation: &'static str,
    pub source: &'static str,
    pub since: &'static str,
    pub until: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page: &'static str,
    pub export: &'static str,
    pub copies: &'static str,
    pub copy_of: &'static str,
    pub by: &'static str,
    pub request: &'static str,
    pub complaint: &'static str,
    pub wish: &'static str,
    pub open: &'static str,
    pub answered: &'static str,
    pub dismissed: &'static str,
    pub all: &'static str,
    pub mark_answered: &'static str,
    pub mark_dismissed: &'static str,
    pub reopen: &'static str,
    pub urgency: &'static str,
    pub waiting_since: &'static str,
    pub response_time: &'static str,
    pub median: &'static str,
    pub p90: &'static str,
    pub answered_by_brand: &'static str,
    pub answered_by_team: &'static str,
    pub queue_empty: &'static str,
    pub evidence: &'static str,
    pub useful: &'static str,
    pub noise: &'static str,
    pub verdict: &'static str,
    pub score: &'static str,
    pub kind: &'static str,
    pub address: &'static str,
    pub tags: &'static str,
    pub interval: &'static str,
    pub status: &'static str,
    pub last_poll: &'static str,
    pub last_success: &'static str,
    pub errors: &'static str,
    pub problems: &'static str,
    pub never_polled: &'static str,
    pub healthy: &'static str,
    pub failing: &'static str,
    pub backing_off: &'static str,
    pub health_unknown: &'static str,
    pub no_index: &'static str,
    pub login: &'static str,
    pub login_intro: &'static str,
    pub token: &'static str,
    pub wrong_token: &'static str,
    pub logout: &'static str,
    pub new_documents: &'static str,
    pub reload: &'static str,
    pub reasons: Reasons,
    pub facets: &'static str,
    pub chart_title: &'static str,
    pub no_watch: &'static str,
    pub see_all: &'static str,
}

/// Why a queue item is urgent, as people read it.
pub struct Reasons {
    pub outage: &'static str,
    pub money: &'static str,
    pub account: &'static str,
    pub cancellation: &'static str,
    pub waiting: &'static str,
    pub reach: &'static str,
    pub intensity: &'static str,
    pub echoes: &'static str,
}

pub static FR: Ui = Ui {
    lang: Lang::Fr,
    code: "fr",
    overview: "Aperçu",
    search: "Recherche",
    search_button: "Rechercher",
    queue: "File d'attente",
    alerts: "Alertes",
    sources: "Sources",
    brands: "Marques",
    brand: "Marque",
    mentions: "Mentions",
    change: "Évolution",
    tone: "Tonalité",
    negative: "négatives",
    neutral: "neutres",
    positive: "positives",
    share_of_voice: "Part de voix",
    summary: "Résumé",
    look_first: "À regarder d'abord",
    emerging: "Signaux émergents",
    no_alert: "Aucune alerte sur la période.",
    period: "Période",
    times_in: "Heures affichées en {tz}.",
    documents: "documents",
    results: "résultats",
    no_result: "Aucun document ne correspond.",
    any: "toutes",
    language: "Langue",
    sentiment: "Tonalité",
    expectation: "Attente",
    source: "Source",
    since: "Depuis",
    until: "Jusqu'au",
    previous: "Précédente",
    next: "Suivante",
    page: "page",
    export: "Exporter en CSV",
    copies: "reprises",
    copy_of: "reprise de",
    by: "par",
    request: "demande",
    complaint: "réclamation",
    wish: "souhait",
    open: "À traiter",
    answered: "Répondues",
    dismissed: "Écartées",
    all: "Toutes",
    mark_answered: "Répondu",
    mark_dismissed: "Écarter",
    reopen: "Rouvrir",
    urgency: "Urgence",
    waiting_since: "attend depuis",
    response_time: "Temps de réponse",
    median: "médiane",
    p90: "90ᵉ centile",
    answered_by_brand: "réponse de la marque",
    answered_by_team: "traité par l'équipe",
    queue_empty: "Personne n'attend de réponse sur la période.",
    evidence: "Documents à l'origine",
    useful: "Utile",
    noise: "Bruit",
    verdict: "Avis de l'équipe",
    score: "intensité",
    kind: "Type",
    address: "Adresse",
    tags: "Étiquettes",
    interval: "Intervalle",
    status: "État",
    last_poll: "Dernier relevé",
    last_success: "Dernière réussite",
    errors: "Erreurs",
    problems: "Anomalies",
    never_polled: "jamais relevée",
    healthy: "en bonne santé",
    failing: "en échec",
    backing_off: "en pause",
    health_unknown: "L'état des sources est tenu par le processus qui les relève : ouvrez cette page depuis `vigie run --listen` pour le voir.",
    no_index: "Aucun document pour l'instant : lancez `vigie run` ou `vigie ingest FICHIER`.",
    login: "Connexion",
    login_intro: "Cet espace est protégé : saisissez le jeton de l'équipe.",
    token: "Jeton",
    wrong_token: "Jeton incorrect.",
    logout: "Déconnexion",
    new_documents: "De nouveaux documents sont arrivés.",
    reload: "Recharger",
    reasons: Reasons {
        outage: "panne",
        money: "argent",
        account: "compte bloqué",
        cancellation: "résiliation",
        waiting: "attente longue",
        reach: "audience",
        intensity: "colère",
        echoes: "répété",
    },
    facets: "Affiner",
    chart_title: "Mentions par jour",
    no_watch: "Aucune veille configurée (pipelines/NOM.toml).",
    see_all: "tout voir",
};

pub static EN: Ui = Ui {
    lang: Lang::En,
    code: "en",
    overview: "Overview",
    search: "Search",
    search_button: "Search",
    queue: "Queue",
    alerts: "Alerts",
    sources: "Sources",
    brands: "Brands",
    brand: "Brand",
    mentions: "Mentions",
    change: "Change",
    tone: "Tone",
    negative: "negative",
    neutral: "neutral",
    positive: "positive",
    share_of_voice: "Share of voice",
    summary: "Summary",
    look_first: "Look at first",
    emerging: "Emerging signals",
    no_alert: "No alert in the period.",
    period: "Period",
    times_in: "Times shown in {tz}.",
    documents: "documents",
    results: "results",
    no_result: "No document matches.",
    any: "any",
    language: "Language",
    sentiment: "Sentiment",
    expectation: "Expectation",
    source: "Source",
    since: "Since",
    until: "Until",
    previous: "Previous",
    next: "Next",
    page: "page",
    export: "Export as CSV",
    copies: "copies",
    copy_of: "copy of",
    by: "by",
    request: "request",
    complaint: "complaint",
    wish: "wish",
    open: "Open",
    answered: "Answered",
    dismissed: "Dismissed",
    all: "All",
    mark_answered: "Answered",
    mark_dismissed: "Dismiss",
    reopen: "Reopen",
    urgency: "Urgency",
    waiting_since: "waiting for",
    response_time: "Response time",
    median: "median",
    p90: "90th percentile",
    answered_by_brand: "answered by the brand",
    answered_by_team: "handled by the team",
    queue_empty: "Nobody is waiting for an answer in the period.",
    evidence: "Evidence",
    useful: "Useful",
    noise: "Noise",
    verdict: "Team's verdict",
    score: "strength",
    kind: "Kind",
    address: "Address",
    tags: "Tags",
    interval: "Interval",
    status: "Status",
    last_poll: "Last poll",
    last_success: "Last success",
    errors: "Errors",
    problems: "Problems",
    never_polled: "never polled",
    healthy: "healthy",
    failing: "failing",
    backing_off: "backing off",
    health_unknown: "Source health is held by the process that polls them: open this page from `vigie run --listen` to see it.",
    no_index: "No document yet: run `vigie run` or `vigie ingest FILE`.",
    login: "Sign in",
    login_intro: "This workspace is protected: enter the team's token.",
    token: "Token",
    wrong_token: "Wrong token.",
    logout: "Sign out",
    new_documents: "New documents have arrived.",
    reload: "Reload",
    reasons: Reasons {
        outage: "outage",
        money: "money",
        account: "blocked account",
        cancellation: "cancellation",
        waiting: "long wait",
        reach: "reach",
        intensity: "anger",
        echoes: "repeated",
    },
    facets: "Refine",
    chart_title: "Mentions per day",
    no_watch: "No watch configured (pipelines/NAME.toml).",
    see_all: "see all",
};

/// The words of `lang` (English for any language but French).
pub fn ui(lang: Lang) -> &'static Ui {
    if lang == Lang::Fr {
        &FR
    } else {
        &EN
    }
}

/// The language a reader asked for: `?hl=`, else the first of French or English in
/// `Accept-Language` by preference, else `fallback`.
pub fn pick(hl: Option<&str>, accept_language: Option<&str>, fallback: Lang) -> Lang {
    match hl.map(|h| h.trim().to_ascii_lowercase()) {
        Some(h) if h.starts_with("fr") => return Lang::Fr,
        Some(h) if h.starts_with("en") => return Lang::En,
        _ => {}
    }
    if let Some(al) = accept_language {
        let mut best: Option<(f32, Lang)> = None;
        for part in al.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("fr") {
                Lang::Fr
            } else if tag.starts_with("en") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        if let Some((_, l)) = best {
            return l;
        }
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_s_language() {
        assert_eq!(pick(Some("fr"), Some("en"), Lang::En), Lang::Fr);
        assert_eq!(
            pick(None, Some("de-DE,en;q=0.5,fr;q=0.8"), Lang::En),
            Lang::Fr
        );
        assert_eq!(pick(None, Some("en-GB,fr;q=0.3"), Lang::Fr), Lang::En);
        assert_eq!(pick(None, Some("de"), Lang::Fr), Lang::Fr);
        assert_eq!(pick(Some("xx"), None, Lang::En), Lang::En);
    }
}
