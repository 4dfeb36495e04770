//! The digest's words in French and English: headings, labels, dates and numbers.
//!
//! Dates are written from tables of their own here (the twelve months and seven days of each
//! language) rather than from a locale database: the digest needs two languages, not every
//! locale of the C library.

use chrono::{DateTime, Datelike, Timelike};

use crate::analyze::aspect::Aspect;
use crate::analyze::lang::Lang;
use crate::doc::{ExpectationKind, Label};

/// Everything a digest says in one language.
#[derive(Debug)]
pub struct Words {
    pub lang: Lang,
    /// `<html lang>`.
    pub code: &'static str,
    pub title: &'static str,
    pub in_period: (&'static str, &'static str),
    pub summary: &'static str,
    pub alerts: &'static str,
    pub unmet: &'static str,
    pub emerging: &'static str,
    pub strengths: &'static str,
    pub weaknesses: &'static str,
    pub ideas: &'static str,
    pub voices: &'static str,
    pub share_of_voice: &'static str,
    pub mention: (&'static str, &'static str),
    pub document: (&'static str, &'static str),
    pub alert: (&'static str, &'static str),
    pub reminder: (&'static str, &'static str),
    pub tone: &'static str,
    pub last_days: &'static str,
    pub by: &'static str,
    pub also_at: &'static str,
    pub similar: (&'static str, &'static str),
    pub and_more: &'static str,
    pub read: &'static str,
    pub source: &'static str,
    pub footer: &'static str,
    pub no_change: &'static str,
    pub new: &'static str,
    pub reach: &'static str,
    pub posts: (&'static str, &'static str),
    pub chart_alt: &'static str,
    pub months: [&'static str; 12],
    pub months_short: [&'static str; 12],
    pub days: [&'static str; 7],
    pub days_short: [&'static str; 7],
}

pub const EN: Words = Words {
    lang: Lang::En,
    code: "en",
    title: "vigie digest",
    in_period: ("document in the period", "documents in the period"),
    summary: "Summary",
    alerts: "Alerts",
    unmet: "Unmet expectations",
    emerging: "Emerging",
    strengths: "Strengths",
    weaknesses: "Weaknesses",
    ideas: "Ideas",
    voices: "Voices",
    share_of_voice: "share of voice",
    mention: ("mention", "mentions"),
    document: ("document", "documents"),
    alert: ("alert", "alerts"),
    reminder: ("reminder", "reminders"),
    tone: "sentiment",
    last_days: "last {n} days",
    by: "by",
    also_at: "also at",
    similar: ("similar mention", "similar mentions"),
    and_more: "… and {n} more",
    read: "read",
    source: "source",
    footer: "Made by vigie from the sources of this watch. Every mention, expectation and alert links to the documents behind it.",
    no_change: "no change",
    new: "new",
    reach: "reach",
    posts: ("post", "posts"),
    chart_alt: "Mentions of {brand} per day over the last {n} days, by sentiment",
    months: [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    months_short: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    days: [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ],
    days_short: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
};

pub const FR: Words = Words {
    lang: Lang::Fr,
    code: "fr",
    title: "Synthèse vigie",
    in_period: ("document sur la période", "documents sur la période"),
    summary: "Résumé",
    alerts: "Alertes",
    unmet: "Attentes sans réponse",
    emerging: "Signaux émergents",
    strengths: "Points forts",
    weaknesses: "Points faibles",
    ideas: "Idées",
    voices: "Voix",
    share_of_voice: "part de voix",
    mention: ("mention", "mentions"),
    document: ("document", "documents"),
    alert: ("alerte", "alertes"),
    reminder: ("rappel", "rappels"),
    tone: "tonalité",
    last_days: "{n} derniers jours",
    by: "par",
    also_at: "repris sur",
    similar: ("mention semblable", "mentions semblables"),
    and_more: "… et {n} de plus",
    read: "lire",
    source: "source",
    footer: "Préparé par vigie à partir des sources de cette veille. Chaque mention, attente et alerte renvoie aux documents qui la fondent.",
    no_change: "stable",
    new: "nouveau",
    reach: "portée",
    posts: ("publication", "publications"),
    chart_alt: "Mentions de {brand} par jour sur les {n} derniers jours, par tonalité",
    months: [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre",
    ],
    months_short: [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
        "nov.", "déc.",
    ],
    days: [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    days_short: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
};

/// The words of `lang` (English for any language but French).
pub fn words(lang: Lang) -> &'static Words {
    if lang == Lang::Fr {
        &FR
    } else {
        &EN
    }
}

impl Words {
    fn fr(&self) -> bool {
        self.lang == Lang::Fr
    }

    /// `n` and the word, singular or plural as the language wants ("0 mention" in French).
    pub fn count(&self, n: usize, forms: (&str, &str)) -> String {
        let plural = if self.fr() { n > 1 } else { n != 1 };
        format!(
            "{} {}",
            self.number(n),
            if plural { forms.1 } else { forms.0 }
        )
    }

    /// The singular or plural alone.
    pub fn plural<'a>(&self, n: usize, forms: (&'a str, &'a str)) -> &'a str {
        let plural = if self.fr() { n > 1 } else { n != 1 };
        if plural {
            forms.1
        } else {
            forms.0
        }
    }

    /// A whole number with the language's thousands separator.
    pub fn number(&self, n: usize) -> String {
        let digits = n.to_string();
        let sep = if self.fr() { "\u{202f}" } else { "," };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    /// A share as a percentage ("42 %", "42%").
    pub fn percent(&self, share: f64) -> String {
        let p = (share * 100.0).round() as i64;
        if self.fr() {
            format!("{p}\u{a0}%")
        } else {
            format!("{p}%")
        }
    }

    /// The change from `before` to `now` ("+138 %", "new", "no change").
    pub fn change(&self, now: usize, before: usize) -> String {
        if before == 0 {
            return if now == 0 { self.no_change } else { self.new }.to_string();
        }
        let pct = ((now as f64 - before as f64) * 100.0 / before as f64).round() as i64;
        let sign = if pct > 0 { "+" } else { "" };
        if self.fr() {
            format!("{sign}{pct}\u{a0}%")
        } else {
            format!("{sign}{pct}%")
        }
    }

    /// "Thursday 3 September 2026" / "jeudi 3 septembre 2026".
    pub fn long_date<Tz: chrono::TimeZone>(&self, t: &DateTime<Tz>) -> String {
        let day = self.days[t.weekday().num_days_from_monday() as usize];
        let month = self.months[t.month0() as usize];
        if self.fr() {
            let d = if t.day() == 1 {
                "1er".to_string()
            } else {
                t.day().to_string()
            };
            format!("{day} {d} {month} {}", t.year())
        } else {
            format!("{day} {} {month} {}", t.day(), t.year())
        }
    }

    /// "Thu 3 Sep 14:00" / "jeu. 3 sept. 14:00", with the year when asked.
    pub fn short_time<Tz: chrono::TimeZone>(&self, t: &DateTime<Tz>, year: bool) -> String {
        let day = self.days_short[t.weekday().num_days_from_monday() as usize];
        let month = self.months_short[t.month0() as usize];
        let y = if year {
            format!(" {}", t.year())
        } else {
            String::new()
        };
        format!(
            "{day} {} {month}{y} {:02}:{:02}",
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    /// "03/12 14:00": day first in both languages.
    pub fn stamp<Tz: chrono::TimeZone>(&self, t: &DateTime<Tz>) -> String {
        format!(
            "{:02}/{:02} {:02}:{:02}",
            t.day(),
            t.month(),
            t.hour(),
            t.minute()
        )
    }

    /// What came before a period of `hours`: "the day before", "the previous 7 days".
    pub fn before(&self, hours: i64) -> String {
        let days = (hours as f64 / 24.0).round() as i64;
        match (self.fr(), hours) {
            (false, h) if h <= 25 => "the day before".into(),
            (true, h) if h <= 25 => "la veille".into(),
            (false, _) if days == 7 => "the week before".into(),
            (true, _) if days == 7 => "la semaine précédente".into(),
            (false, _) if days >= 1 => format!("the previous {days} days"),
            (true, _) if days >= 1 => format!("les {days} jours précédents"),
            (false, h) => format!("the previous {h} hours"),
            (true, h) => format!("les {h} heures précédentes"),
        }
    }

    pub fn label(&self, l: Label) -> &'static str {
        match (self.fr(), l) {
            (false, Label::Negative) => "negative",
            (false, Label::Neutral) => "neutral",
            (false, Label::Positive) => "positive",
            (true, Label::Negative) => "négatif",
            (true, Label::Neutral) => "neutre",
            (true, Label::Positive) => "positif",
        }
    }

    /// The label of a count of mentions ("12 negative", "12 négatives").
    pub fn labels(&self, l: Label) -> &'static str {
        match (self.fr(), l) {
            (true, Label::Negative) => "négatives",
            (true, Label::Neutral) => "neutres",
            (true, Label::Positive) => "positives",
            (false, l) => self.label(l),
        }
    }

    pub fn kind_title(&self, k: ExpectationKind) -> &'static str {
        match (self.fr(), k) {
            (false, ExpectationKind::Request) => "Requests still waiting",
            (false, ExpectationKind::Complaint) => "Complaints",
            (false, ExpectationKind::Wish) => "Wishes and suggestions",
            (true, ExpectationKind::Request) => "Demandes en attente de réponse",
            (true, ExpectationKind::Complaint) => "Réclamations",
            (true, ExpectationKind::Wish) => "Souhaits et suggestions",
        }
    }

    /// An aspect's name in a heading or a list ("customer service", "service client").
    pub fn aspect(&self, a: Aspect) -> &'static str {
        match (self.fr(), a) {
            (false, Aspect::Price) => "prices",
            (false, Aspect::Billing) => "billing",
            (false, Aspect::Network) => "the network",
            (false, Aspect::CustomerService) => "customer service",
            (false, Aspect::Delivery) => "delivery",
            (false, Aspect::Product) => "the products",
            (false, Aspect::App) => "the app and website",
            (false, Aspect::Stores) => "the shops",
            (true, Aspect::Price) => "les prix",
            (true, Aspect::Billing) => "la facturation",
            (true, Aspect::Network) => "le réseau",
            (true, Aspect::CustomerService) => "le service client",
            (true, Aspect::Delivery) => "la livraison",
            (true, Aspect::Product) => "les produits",
            (true, Aspect::App) => "l'appli et le site",
            (true, Aspect::Stores) => "les boutiques",
        }
    }

    /// "about the network" / "du réseau" (after "complaints" / "à cause").
    pub fn about(&self, a: Aspect) -> String {
        if !self.fr() {
            return self.aspect(a).to_string();
        }
        let name = self.aspect(a);
        if let Some(rest) = name.strip_prefix("le ") {
            format!("du {rest}")
        } else if let Some(rest) = name.strip_prefix("les ") {
            format!("des {rest}")
        } else {
            format!("de {name}")
        }
    }

    /// Replaces `{n}` (and `{brand}`) in one of the phrases.
    pub fn fill(&self, phrase: &str, n: usize, brand: &str) -> String {
        phrase
            .replace("{n}", &n.to_string())
            .replace("{brand}", brand)
    }
}

/// An aspect's name capitalised, for a list item.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_and_numbers_in_each_language() {
        let t = chrono_tz::Europe::Paris
            .with_ymd_and_hms(2026, 12, 3, 14, 5, 0)
            .unwrap();
        assert_eq!(FR.long_date(&t), "jeudi 3 décembre 2026");
        assert_eq!(EN.long_date(&t), "Thursday 3 December 2026");
        assert_eq!(FR.short_time(&t, false), "jeu. 3 déc. 14:05");
        assert_eq!(EN.short_time(&t, true), "Thu 3 Dec 2026 14:05");
        assert_eq!(FR.number(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(EN.number(1234), "1,234");
        assert_eq!(EN.number(12), "12");
        assert_eq!(FR.change(57, 24), "+138\u{a0}%");
        assert_eq!(EN.change(10, 20), "-50%");
        assert_eq!(FR.count(0, FR.mention), "0 mention");
        assert_eq!(EN.count(0, EN.mention), "0 mentions");
        assert_eq!(FR.count(2, FR.alert), "2 alertes");
        assert_eq!(FR.about(Aspect::Network), "du réseau");
        assert_eq!(FR.about(Aspect::Price), "des prix");
        assert_eq!(FR.about(Aspect::Billing), "de la facturation");
        assert_eq!(EN.before(24), "the day before");
        assert_eq!(FR.before(24 * 7), "la semaine précédente");
        assert_eq!(FR.before(240), "les 10 jours précédents");
    }
}
