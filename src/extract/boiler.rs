//! Lines that carry no content whatever page they stand on: "Advertisement", stamps of the
//! last update, notices for readers without scripts, credits and tags, calls to subscribe or
//! write in. Main-content extraction drops the blocks made only of them.

const BOILER_LINES: &[&str] = &[
    "advertisement",
    "advertising",
    "advertisment",
    "publicité",
    "publicite",
    "sponsored",
    "sponsored content",
    "share",
    "share this",
    "share this article",
    "share this story",
    "share this post",
    "share on facebook",
    "share on twitter",
    "partager",
    "partager cet article",
    "tweet",
    "email",
    "print",
    "imprimer",
    "read more",
    "lire la suite",
    "lire aussi",
    "à lire aussi",
    "a lire aussi",
    "voir aussi",
    "continue reading",
    "related",
    "related articles",
    "related posts",
    "related stories",
    "more stories",
    "recommended",
    "you may also like",
    "you might also like",
    "loading",
    "chargement",
    "comments",
    "commentaires",
    "leave a comment",
    "leave a reply",
    "laisser un commentaire",
    "skip to content",
    "aller au contenu",
    "back to top",
    "retour en haut",
    "subscribe",
    "s'abonner",
    "abonnez-vous",
    "sign up",
    "log in",
    "connexion",
    "menu",
    "close",
    "fermer",
    "tags",
    "mots-clés",
    "follow us",
    "suivez-nous",
    "image",
    "photo",
    "video",
    "vidéo",
    "text size",
    "font size",
    "taille du texte",
    "listen",
    "listen to this article",
    "écouter",
    "écouter cet article",
    "save",
    "bookmark",
    "reprints",
    "permalink",
    "permalien",
    "related content",
    "more on this story",
    "more on this topic",
    "sur le même sujet",
    "dans la même rubrique",
    "à lire également",
    "a lire également",
];

/// Beginnings of short metadata lines: credits, categories, update stamps.
const BOILER_PREFIXES: &[&str] = &[
    "credit:",
    "credits:",
    "crédit:",
    "crédits:",
    "crédit photo",
    "crédits photo",
    "photo credit",
    "image credit",
    "photo:",
    "image:",
    "category:",
    "categories:",
    "catégorie:",
    "catégories:",
    "tags:",
    "tagged:",
    "tagged with",
    "mots-clés:",
    "mots clés:",
    "filed under",
    "posted in",
    "classé dans",
    "last modified",
    "last updated",
    "updated:",
    "mis à jour le",
    "release date",
    "published:",
    "publié le",
    "share this",
    "partager sur",
    "follow us",
    "suivez-nous",
    "news date:",
    "date:",
    "posted on:",
    "permalink:",
    "permalien",
];

/// What pages say to readers without scripts or with an old browser.
const NO_SCRIPT_NOTICES: &[&str] = &[
    "enable javascript",
    "javascript is disabled",
    "javascript is not enabled",
    "javascript must be enabled",
    "javascript is required",
    "requires javascript",
    "activez javascript",
    "activer javascript",
    "javascript est désactivé",
    "javascript doit être activé",
    "your browser does not support",
    "votre navigateur ne prend pas en charge",
    "update your browser",
];

/// Whether a block is only boilerplate lines (each of its lines, when it has several).
pub fn is_boiler_line(text: &str) -> bool {
    if text.contains('\n') {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next();
        return first.is_some_and(boiler_line) && lines.all(|l| boiler_line(l) || is_bare_url(l));
    }
    boiler_line(text)
}

fn is_bare_url(line: &str) -> bool {
    (line.starts_with("http://") || line.starts_with("https://")) && !line.contains(' ')
}

/// Stamps that only say when a page was touched.
const STAMPS: &[&str] = &[
    "last modified",
    "last updated",
    "dernière mise à jour",
    "modifié le",
];

fn boiler_line(text: &str) -> bool {
    let chars = text.chars().count();
    if chars <= 200 {
        let lower = text.to_lowercase();
        if NO_SCRIPT_NOTICES.iter().any(|n| lower.contains(n)) {
            return true;
        }
        if chars <= 100 && STAMPS.iter().any(|n| lower.contains(n)) {
            return true;
        }
    }
    if chars > 60 {
        return false;
    }
    let t: String = text
        .trim()
        .trim_end_matches([':', '.', '!', '…', ' ', '»', '›', '>'])
        .trim_start_matches(['«', '‹', '<', ' '])
        .to_lowercase();
    if chars <= 40 && BOILER_LINES.contains(&t.as_str()) {
        return true;
    }
    // "Credit : X", "(Photo: X)", "Tags: a, b": compared with the space before colons removed
    let lower = text
        .trim()
        .trim_start_matches(['(', '['])
        .to_lowercase()
        .replace(" :", ":")
        .replace('\u{a0}', " ");
    BOILER_PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// Calls to action that close articles: subscribe, follow, download the app, support us.
const CALLS_TO_ACTION: &[&str] = &[
    "subscribe",
    "sign up",
    "signing up",
    "newsletter",
    "follow us",
    "follow the",
    "download the",
    "download our",
    "our app",
    "support our",
    "support us",
    "donate",
    "if you enjoyed",
    "if you liked",
    "log in",
    "abonnez-vous",
    "s'abonner",
    "s’abonner",
    "déjà abonné",
    "inscrivez-vous",
    "lettre d'information",
    "lettre d’information",
    "suivez-nous",
    "téléchargez",
    "soutenez",
    "faites un don",
    "not responsible for the opinions",
    "submit your letter",
    "this post contains references to products",
    "we recommend the best products",
    "never miss",
    "do you want to be informed",
    "letter to the editor",
    "we want to hear what you think",
];

/// Whether a short block only asks the reader to subscribe, share or write in.
pub fn is_call_to_action(text: &str) -> bool {
    if text.chars().count() > 300 {
        return false;
    }
    let lower = text.to_lowercase();
    // whole words only: "subscribe" is a call, "subscribers" is a topic
    CALLS_TO_ACTION.iter().any(|c| {
        lower.match_indices(c).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + c.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lines_and_calls_to_action_go_but_topics_stay() {
        assert!(is_boiler_line("Tags : fibre, panne"));
        assert!(is_boiler_line("(Credit: Jane Doe / Agency)"));
        assert!(is_boiler_line(
            "News date : 04/21/2022\nCategory : Press Releases"
        ));
        assert!(is_boiler_line("Permalien\nhttps://p.example/x"));
        assert!(!is_boiler_line("Le réseau est tombé en panne mardi."));
        assert!(is_call_to_action("Subscribe to our newsletter!"));
        assert!(is_call_to_action("Abonnez-vous pour lire la suite."));
        // subscribers are a topic for an operator, not a call
        assert!(!is_call_to_action(
            "The operator lost 40,000 subscribers in the quarter."
        ));
        assert!(!is_call_to_action(
            "Les abonnés recevront un geste commercial."
        ));
    }
}
