//! The demo corpus: five weeks of French and English news, forum posts and reviews about
//! three fictional brands — Lumio (a fibre and mobile operator), Velocita (electric bikes) and
//! Ondine (a banking app) — written for vigie. Two stories are planted in the last days: a
//! Lumio fibre outage that turns its audience (complaints, requests left unanswered), and
//! "frais cachés" / hidden fees in the Ondine app, a phrase nobody used before.
//!
//! Generation is deterministic for a given "now": the same demo every time, dated so that it
//! ends today.

use chrono::{DateTime, Duration, Utc};

/// Where a post is published on the demo web.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// French news site: RSS with summaries, full articles on their own pages.
    Actu,
    /// English tech news: Atom with summaries, full articles on their own pages.
    Tech,
    /// A consumer forum: JSON Feed with the whole post in each item.
    Forum,
    /// A review board: an HTML page listing reviews (no feed).
    Avis,
}

/// One post of the demo web.
#[derive(Debug, Clone)]
pub struct Post {
    pub site: Site,
    pub slug: String,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub author: String,
    pub published: DateTime<Utc>,
    pub lang: &'static str,
}

/// Days of history.
pub const DAYS: i64 = 35;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Picks one and fills in a city.
    fn pick_fill(&mut self, items: &[&str]) -> String {
        let s = self.pick(items);
        s.replace("{city}", self.pick(CITIES))
    }
}

const AUTHORS_FR: &[&str] = &[
    "Camille R.",
    "Julien",
    "Sophie M.",
    "Karim B.",
    "Élodie",
    "Thomas_75",
    "Nadia",
    "Marc L.",
    "Inès",
    "Paul D.",
    "Léa",
    "Hugo",
];
const AUTHORS_EN: &[&str] = &[
    "Sam K.", "Priya", "Tom W.", "Jess", "Alex R.", "Morgan", "Chris P.", "Dana",
];
const CITIES: &[&str] = &[
    "Lyon",
    "Nantes",
    "Lille",
    "Bordeaux",
    "Toulouse",
    "Rennes",
    "Grenoble",
    "Marseille",
];

// --- background: the world goes on --------------------------------------------------------

const NEWS_FR: &[(&str, &[&str])] = &[
    ("La rentrée culturelle s'annonce chargée à {city}", &[
        "Les salles de spectacle de {city} affichent une programmation dense pour les prochaines semaines.",
        "Théâtre, concerts et expositions se succèdent, avec plusieurs créations locales très attendues.",
        "Les organisateurs misent sur des tarifs réduits pour attirer un public plus jeune.",
    ]),
    ("Météo : un week-end doux avant le retour de la pluie", &[
        "Les températures resteront agréables samedi sur la majeure partie du pays.",
        "Un front pluvieux arrivera par l'ouest dès dimanche soir, selon les prévisionnistes.",
        "Les jardiniers sont invités à profiter de la fenêtre pour les plantations d'automne.",
    ]),
    ("Le marché de l'immobilier marque le pas à {city}", &[
        "Les transactions reculent légèrement sur un an, tandis que les prix se stabilisent.",
        "Les agents immobiliers observent des délais de vente plus longs qu'au printemps.",
        "Les primo-accédants restent toutefois nombreux grâce à la baisse des taux.",
    ]),
    ("Transports : de nouvelles pistes cyclables inaugurées à {city}", &[
        "La municipalité a ouvert cinq kilomètres de voies sécurisées en centre-ville.",
        "Les associations d'usagers saluent l'initiative mais réclament un meilleur éclairage.",
        "Le trafic à vélo a progressé de près d'un quart depuis l'an dernier.",
    ]),
    ("Football : le club de {city} enchaîne une troisième victoire", &[
        "Porté par un public enthousiaste, le club local s'est imposé deux buts à zéro.",
        "L'entraîneur a salué la solidité défensive de son équipe.",
        "Le prochain match, à l'extérieur, s'annonce plus difficile.",
    ]),
    ("Le télétravail s'installe durablement dans les entreprises", &[
        "Une enquête montre que deux salariés sur trois travaillent au moins un jour par semaine à distance.",
        "Les entreprises réorganisent leurs bureaux autour d'espaces partagés.",
        "Les syndicats demandent un meilleur encadrement du droit à la déconnexion.",
    ]),
];

const NEWS_EN: &[(&str, &[&str])] = &[
    (
        "Chipmakers expect a steady quarter as demand recovers",
        &[
            "Several manufacturers said orders for consumer devices are slowly picking up.",
            "Analysts remain cautious, pointing to high inventories in some segments.",
            "The industry expects a clearer picture after the holiday season.",
        ],
    ),
    (
        "City councils test open data portals for public transport",
        &[
            "A handful of cities now publish live bus positions for developers to use.",
            "Early apps built on the feeds help riders plan connections.",
            "Officials hope the experiment will improve punctuality statistics.",
        ],
    ),
    (
        "Smartphone makers bet on longer software support",
        &[
            "Several brands promised up to seven years of security updates.",
            "Repairability scores are becoming a selling point in Europe.",
            "Consumer groups welcomed the move but want spare parts to stay affordable.",
        ],
    ),
    (
        "Streaming services reshuffle their catalogues again",
        &[
            "Subscribers will see dozens of films leave the platforms at the end of the month.",
            "Licensing costs keep rising, pushing services to produce more in-house shows.",
            "Bundles with mobile plans are increasingly common.",
        ],
    ),
];

const FORUM_FR: &[&str] = &[
    "Quelqu'un connaît un bon réparateur de machine à laver vers {city} ?",
    "Petit retour d'expérience sur mon déménagement à {city}, tout s'est bien passé.",
    "Vous utilisez quoi comme gestionnaire de mots de passe ? Je cherche une solution simple.",
    "Mon potager a donné plus de tomates que prévu cette année, des idées de recettes ?",
    "Je cherche des conseils pour isoler les combles avant l'hiver.",
    "Bonne adresse : une petite librairie très accueillante en centre-ville de {city}.",
    "Quel est votre avis sur les voitures hybrides d'occasion ?",
    "Le marché du dimanche à {city} est vraiment sympa, je recommande.",
];

const FORUM_EN: &[&str] = &[
    "Any tips for keeping a sourdough starter alive while travelling?",
    "Just finished a great hiking trail near the coast, highly recommend it.",
    "Which note-taking app do you all use these days?",
    "Thinking about switching to a standing desk, worth it?",
];

// --- the brands ---------------------------------------------------------------------------

const LUMIO_POS: &[&str] = &[
    "Fibre Lumio installée en une heure à {city}, technicien au top, merci !",
    "Très satisfait de mon forfait Lumio, le réseau est excellent même en déplacement.",
    "Le service client Lumio a réglé mon problème de facture en cinq minutes, bravo.",
    "Great Lumio network in {city} this week, fast and stable.",
];
const LUMIO_NEU: &[&str] = &[
    "Lumio présente ses nouveaux forfaits mobiles pour la rentrée.",
    "Lumio annonce l'ouverture d'une boutique à {city}.",
    "Lumio publishes its quarterly network coverage report.",
];
const LUMIO_NEG: &[&str] = &[
    "Ma box Lumio redémarre toute seule plusieurs fois par jour, c'est pénible.",
    "Débit très décevant sur la fibre Lumio ce soir.",
];
/// The wave: a fibre outage that lasts, and nobody answers.
const LUMIO_WAVE: &[&str] = &[
    "Panne de la fibre Lumio à {city} depuis hier soir, toujours aucune réponse du service client.",
    "Encore une panne Lumio, internet coupé depuis deux jours, c'est inadmissible.",
    "J'attends toujours un technicien Lumio, personne ne répond au téléphone.",
    "Lumio outage again in {city}, still waiting for an answer from support.",
    "Plus d'internet chez Lumio depuis lundi, et toujours pas de réponse à mes messages.",
    "Fibre Lumio coupée dans tout le quartier, le service client est injoignable. Honteux.",
];

const VELOCITA_POS: &[&str] = &[
    "Mon vélo Velocita a 2000 km au compteur, aucun souci, je recommande.",
    "Essai du nouveau Velocita Urban : léger, silencieux, très agréable en ville.",
    "Love my Velocita e-bike, the commute is so much easier now.",
    "Réparation rapide chez Velocita à {city}, personnel très sympa.",
];
const VELOCITA_WISH: &[&str] = &[
    "Ce serait bien que Velocita propose une batterie plus grande pour les longs trajets.",
    "J'aimerais que l'application Velocita affiche l'autonomie restante en kilomètres.",
    "Please add a rear rack option to the Velocita Urban, it would be great for groceries.",
    "Il faudrait que Velocita ouvre un atelier à {city}.",
];
const VELOCITA_NEG: &[&str] =
    &["Livraison de mon Velocita retardée de trois semaines, pas terrible."];

const ONDINE_NORMAL: &[&str] = &[
    "L'appli Ondine est pratique pour suivre mes dépenses, virement instantané en deux clics.",
    "Ouvert un compte Ondine hier, carte reçue en trois jours.",
    "Ondine app makes splitting bills with friends really easy.",
    "La banque Ondine lance une carte pour les moins de 25 ans.",
    "Service client Ondine réactif pour un souci de carte bloquée.",
];
/// The rising topic: hidden fees in the app, from nowhere.
const ONDINE_FEES: &[&str] = &[
    "Des frais cachés sur mon compte Ondine ce mois-ci, quelqu'un d'autre ?",
    "Frais cachés chez Ondine : 4,90 € prélevés sans explication dans l'appli.",
    "Attention aux frais cachés de la banque Ondine sur les virements à l'étranger.",
    "Ondine hidden fees on transfers abroad, nothing in the app explained them.",
    "Encore des frais cachés Ondine, j'ai écrit au service client.",
];

/// The whole demo corpus, ending at `now`.
pub fn generate(now: DateTime<Utc>) -> Vec<Post> {
    let mut r = Rng(20_261_123);
    let start = now - Duration::days(DAYS);
    let mut posts = Vec::new();
    let mut n = 0usize;
    let at = |r: &mut Rng, day: i64| -> DateTime<Utc> {
        let t = start + Duration::days(day) + Duration::seconds(r.below(86_400) as i64);
        t.min(now - Duration::minutes(5))
    };
    let mut slug = |prefix: &str| {
        n += 1;
        format!("{prefix}-{n}")
    };
    for day in 0..DAYS {
        let recent = DAYS - day; // 1 = the last day
                                 // news, French and English, with full articles
        for _ in 0..3 {
            let (title, paras) = NEWS_FR[r.below(NEWS_FR.len())];
            let city = r.pick(CITIES);
            posts.push(Post {
                site: Site::Actu,
                slug: slug("actu"),
                title: title.replace("{city}", city),
                paragraphs: paras.iter().map(|p| p.replace("{city}", city)).collect(),
                author: r.pick(AUTHORS_FR).to_string(),
                published: at(&mut r, day),
                lang: "fr",
            });
        }
        for _ in 0..2 {
            let (title, paras) = NEWS_EN[r.below(NEWS_EN.len())];
            posts.push(Post {
                site: Site::Tech,
                slug: slug("tech"),
                title: title.to_string(),
                paragraphs: paras.iter().map(|p| p.to_string()).collect(),
                author: r.pick(AUTHORS_EN).to_string(),
                published: at(&mut r, day),
                lang: "en",
            });
        }
        // forum chatter
        for _ in 0..14 {
            let en = r.chance(30);
            let text = r.pick_fill(if en { FORUM_EN } else { FORUM_FR });
            let t = at(&mut r, day);
            posts.push(forum(&mut r, &mut slug, text, t, en));
        }
        // Lumio: a steady audience, mostly content — until the outage of the last days
        let wave = recent <= 3;
        for _ in 0..8 {
            let x = r.below(100);
            let text = if wave && x < 65 {
                r.pick_fill(LUMIO_WAVE)
            } else if x < 15 {
                r.pick_fill(LUMIO_NEG)
            } else if x < 70 {
                r.pick_fill(LUMIO_POS)
            } else {
                r.pick_fill(LUMIO_NEU)
            };
            let en = text.contains(" the ")
                || text.starts_with("Great")
                || text.starts_with("Lumio outage");
            let t = at(&mut r, day);
            posts.push(forum(&mut r, &mut slug, text, t, en));
        }
        if wave {
            for _ in 0..10 {
                let text = r.pick_fill(LUMIO_WAVE);
                let en = text.starts_with("Lumio outage");
                let t = at(&mut r, day);
                posts.push(forum(&mut r, &mut slug, text, t, en));
            }
            // the press picks it up
            let city = r.pick(CITIES);
            posts.push(Post {
                site: Site::Actu,
                slug: slug("actu"),
                title: format!("Panne géante de la fibre Lumio : des milliers de clients privés d'internet à {city}"),
                paragraphs: vec![
                    format!("Depuis plusieurs jours, de nombreux abonnés de l'opérateur Lumio à {city} n'ont plus accès à internet."),
                    "Les clients dénoncent un service client injoignable et des délais d'intervention qui s'allongent.".into(),
                    "Contacté, l'opérateur évoque un incident sur un équipement du réseau et promet un retour à la normale rapide.".into(),
                    "Les associations de consommateurs demandent un geste commercial pour les foyers touchés.".into(),
                ],
                author: r.pick(AUTHORS_FR).to_string(),
                published: at(&mut r, day),
                lang: "fr",
            });
        }
        // Velocita: reviews, praise and wishes
        for _ in 0..4 {
            let x = r.below(100);
            let text = if x < 45 {
                r.pick_fill(VELOCITA_POS)
            } else if x < 85 {
                r.pick_fill(VELOCITA_WISH)
            } else {
                r.pick(VELOCITA_NEG).to_string()
            };
            let en = text.contains("Love") || text.starts_with("Please");
            posts.push(Post {
                site: Site::Avis,
                slug: slug("avis"),
                title: String::new(),
                paragraphs: vec![text],
                author: if en {
                    r.pick(AUTHORS_EN)
                } else {
                    r.pick(AUTHORS_FR)
                }
                .to_string(),
                published: at(&mut r, day),
                lang: if en { "en" } else { "fr" },
            });
        }
        // Ondine: quiet — then hidden fees, a phrase nobody used before
        for _ in 0..3 {
            let text = r.pick(ONDINE_NORMAL).to_string();
            let en = text.contains(" app ");
            let t = at(&mut r, day);
            posts.push(forum(&mut r, &mut slug, text, t, en));
        }
        if recent <= 2 {
            for _ in 0..15 {
                let text = r.pick(ONDINE_FEES).to_string();
                let en = text.contains("hidden");
                let t = at(&mut r, day);
                posts.push(forum(&mut r, &mut slug, text, t, en));
            }
        }
    }
    posts.sort_by(|a, b| a.published.cmp(&b.published).then(a.slug.cmp(&b.slug)));
    posts
}

const OPEN_FR: &[&str] = &[
    "",
    "",
    "",
    "Bon. ",
    "Franchement, ",
    "Sérieusement, ",
    "Petit coup de gueule : ",
    "Bonjour à tous, ",
    "Question rapide : ",
    "Info : ",
];
const CLOSE_FR: &[&str] = &[
    "",
    "",
    "",
    " Vous avez eu le même souci ?",
    " Merci d'avance.",
    " Je ne sais plus quoi faire.",
    " Bonne journée quand même.",
    " Des retours ?",
    " Ça commence à bien faire.",
];
const OPEN_EN: &[&str] = &[
    "",
    "",
    "",
    "Hey all, ",
    "Quick one: ",
    "Honestly, ",
    "PSA: ",
    "So, ",
];
const CLOSE_EN: &[&str] = &[
    "",
    "",
    "",
    " Anyone else?",
    " Any advice?",
    " Not impressed.",
    " Thanks in advance.",
];

/// A forum post: no title, like most posts; each writer words it a little differently.
fn forum(
    r: &mut Rng,
    slug: &mut impl FnMut(&str) -> String,
    text: String,
    published: DateTime<Utc>,
    en: bool,
) -> Post {
    let (open, close) = if en {
        (OPEN_EN, CLOSE_EN)
    } else {
        (OPEN_FR, CLOSE_FR)
    };
    let o = r.pick(open);
    let c = r.pick(close);
    let mut chars = text.chars();
    let first = chars.next().unwrap_or(' ');
    let rest: String = chars.collect();
    // after "Franchement, " the sentence goes on in lower case, brand names excepted
    let keeps_case = o.is_empty()
        || o.ends_with(": ")
        || o.ends_with(". ")
        || ["Lumio", "Ondine", "Velocita"]
            .iter()
            .any(|b| text.starts_with(b));
    let body = if keeps_case {
        format!("{o}{text}{c}")
    } else {
        format!("{o}{}{rest}{c}", first.to_lowercase())
    };
    Post {
        site: Site::Forum,
        slug: slug("forum"),
        title: String::new(),
        paragraphs: vec![body],
        author: if en {
            r.pick(AUTHORS_EN)
        } else {
            r.pick(AUTHORS_FR)
        }
        .to_string(),
        published,
        lang: if en { "en" } else { "fr" },
    }
}

/// The demo watch.
pub const WATCH: &str = r##"# The demo watch: three fictional brands.
name = "demo"

[[brands]]
id = "lumio"
name = "Lumio"
aliases = ["Lumio", "@LumioAide", "lumio.fr"]

[[brands]]
id = "velocita"
name = "Velocita"
aliases = ["Velocita", "#Velocita"]

[[brands]]
id = "ondine"
name = "Ondine"
aliases = ["Ondine app", "banque Ondine", "appli Ondine"]
ambiguous = ["Ondine"]
context = ["banque", "compte", "appli", "app", "carte", "virement", "frais", "service client"]

[[topics]]
id = "pannes"
query = 'panne OR outage OR coupé OR "plus d internet"'

[digest]
at = "07:00"
timezone = "Europe/Paris"
language = "fr"
to = ["veille@demo.example"]
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_deterministic_and_ends_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = generate(now);
        let b = generate(now);
        assert_eq!(a.len(), b.len());
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.slug == y.slug && x.paragraphs == y.paragraphs));
        assert!(a
            .iter()
            .all(|p| p.published < now && p.published > now - Duration::days(DAYS + 1)));
        assert!(a.len() > 1000, "{} posts", a.len());
        let fees = a
            .iter()
            .filter(|p| {
                p.paragraphs[0].contains("rais cachés") || p.paragraphs[0].contains("hidden fees")
            })
            .count();
        assert!(fees > 20);
    }
}
