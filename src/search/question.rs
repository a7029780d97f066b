//! Question analysis, the first stage of a search: what kind of answer a
//! question wants (a date, a name, a number…) and in which tense, and the
//! [`Unit`]s it asks about — single words, synonym phrases ("official development
//! assistance") and capitalised names ("Chinggis Khaan"). Each unit carries its
//! variants (its own terms, synonyms and — only when the part of the index in scope
//! has never seen the word — typo corrections) and a weight (inverse document
//! frequency within that part).

use serde::Serialize;
use tantivy::Term as IndexTerm;
use tantivy::query::PhraseQuery;
use tantivy::schema::Field;

use super::analyzer::{self, QUESTION_FILLER, STOP_WORDS};
use super::index::{SearchError, Snapshot};
use super::scope::Counts;
use super::typo;
use crate::text;

/// What kind of answer a question wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    When,
    Who,
    Where,
    HowMany,
    Which,
    Why,
    What,
    How,
    YesNo,
    Other,
}

/// Whether a question asks about the past, the future, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tense {
    Past,
    Future,
    Neutral,
}

const QUESTION_WORDS: &[(&str, Kind)] = &[
    ("when", Kind::When),
    ("where", Kind::Where),
    ("who", Kind::Who),
    ("whom", Kind::Who),
    ("whose", Kind::Who),
    ("which", Kind::Which),
    ("what", Kind::What),
    ("why", Kind::Why),
    ("how", Kind::How),
];

const TIME_NOUNS: &[&str] = &[
    "year",
    "years",
    "date",
    "dates",
    "month",
    "months",
    "day",
    "days",
    "time",
    "hour",
    "decade",
    "decades",
    "century",
    "centuries",
    "era",
];
const PLACE_NOUNS: &[&str] = &[
    "country",
    "countries",
    "city",
    "cities",
    "place",
    "places",
    "region",
    "regions",
    "capital",
    "town",
    "towns",
    "village",
    "province",
    "continent",
    "island",
    "county",
    "district",
    "neighborhood",
    "venue",
    "airport",
    "location",
    "locations",
];
/// Nouns after "what"/"which" that ask for a quantity ("what percentage of…").
const QUANTITY_NOUNS: &[&str] = &[
    "percentage",
    "percent",
    "proportion",
    "fraction",
    "number",
    "amount",
    "population",
    "size",
    "price",
    "cost",
    "temperature",
    "height",
    "length",
    "distance",
    "speed",
];
const FUTURE: &[&str] = &[
    "will",
    "going",
    "gonna",
    "upcoming",
    "next",
    "plan",
    "plans",
    "planned",
    "planning",
    "expected",
    "expects",
    "soon",
    "future",
    "scheduled",
    "promises",
    "shall",
    "forthcoming",
    "proposed",
];
const PAST: &[&str] = &[
    "did",
    "was",
    "were",
    "had",
    "last",
    "previously",
    "ago",
    "earlier",
    "formerly",
    "once",
    "former",
];

/// What a question's first words say about the answer it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub kind: Kind,
    /// Leading words that only said so (a mistyped question word: "wen").
    pub skip: usize,
    /// The noun naming what is asked for ("which *festival*"): the answer may well
    /// not contain it, so it counts for less.
    pub type_noun: Option<usize>,
}

/// What a question asks for, when it may come after a statement of the problem
/// ("Users see the consent page every time. How do I stop that?"): the first
/// sentence's question word when it has one, else the last sentence's; and
/// yes or no when its last clause asks that ("the debug port is taken, can
/// it pick a free one?", "In our formatter settings, do we use single
/// quotes?"). With it, false when that was read from another language's
/// words that ask ([`asked_in_paired`], [`asked_in_other`]).
fn asked_in(text: &str, lower: &[&str]) -> (Asked, bool) {
    if analyzer::mostly_paired(text) {
        return (asked_in_paired(text), false);
    }
    if german(lower) {
        // "Was ist…", "Wo liegt…", "Wen traf…": what, where and whom, not
        // the English "was" of a yes-or-no question nor "who" and "when"
        // mistyped.
        let kind = asked_in_other(lower);
        return (
            Asked {
                kind,
                skip: 0,
                type_noun: None,
            },
            false,
        );
    }
    let asked = asked_by_words(text, lower);
    if asked.kind == Kind::Other && !text.is_ascii() {
        // "Naadam什么时候开始": not mostly Chinese, yet asked in Chinese.
        let paired = asked_in_paired(text);
        if paired.kind != Kind::Other {
            return (paired, false);
        }
    }
    let asked = asked_in_english(text, asked);
    if asked.kind == Kind::Other && !reads_as_english(lower) {
        // "Wann wurde…", "Cuantos…" (typed without accents too).
        let kind = asked_in_other(lower);
        if kind != Kind::Other {
            return (Asked { kind, ..asked }, false);
        }
    }
    (asked, true)
}

/// What a question in English asks for, its question words read (`asked`):
/// yes or no, when its last clause asks that.
fn asked_in_english(text: &str, asked: Asked) -> Asked {
    if asked.kind != Kind::Other || !text.trim_end().ends_with('?') {
        return asked;
    }
    let clause = [",", ";", " - ", " – ", " — "]
        .iter()
        .filter_map(|sep| text.rfind(sep).map(|at| at + sep.len()))
        .max()
        .map_or("", |at| &text[at..]);
    let opens = clause.split_whitespace().next().unwrap_or("");
    if YES_NO.iter().any(|w| w.eq_ignore_ascii_case(opens)) {
        return Asked {
            kind: Kind::YesNo,
            ..asked
        };
    }
    asked
}

/// What a question in another language written with spaces asks for: when or
/// how many, the kinds whose answers show in any language (a year or a number
/// in digits), when its first word that asks asks that. "¿Qué pasa cuando…?"
/// asks what happens: "cuando" (when, as a conjunction too) comes after "qué".
fn asked_in_other(lower: &[&str]) -> Kind {
    #[rustfmt::skip]
    const WHEN: &[&str] = &[
        "wann", "quand", "cuándo", "cuando", "quando", "când", "cand", "πότε", "когда", "متى",
        "कब",
    ];
    #[rustfmt::skip]
    const HOW_MANY: &[&str] = &[
        "wieviel", "wieviele", "combien", "cuánto", "cuánta", "cuántos", "cuántas", "cuantos",
        "cuantas", "quanti", "quante", "quantos", "quantas", "câte", "câți", "câtă", "kaç", "mấy",
        "πόσος", "πόση", "πόσο", "πόσοι", "πόσες", "πόσα", "πόσων", "πόσους", "сколько", "كم",
        "कितना", "कितने", "कितनी",
    ];
    for (i, &w) in lower.iter().enumerate() {
        let pair = pair_at(lower, i);
        if WHEN.contains(&w) || WHEN_PAIRS.contains(&pair) {
            return Kind::When;
        }
        if HOW_MANY.contains(&w) || HOW_MANY_PAIRS.contains(&pair) {
            return Kind::HowMany;
        }
        if other_question_word(w) {
            return Kind::Other;
        }
    }
    Kind::Other
}

/// Two words of another language that ask when together: "ne zaman", "khi nào".
const WHEN_PAIRS: &[(&str, &str)] = &[("ne", "zaman"), ("khi", "nào"), ("bao", "giờ")];
/// And how many: "wie viele", "bao nhiêu".
const HOW_MANY_PAIRS: &[(&str, &str)] = &[("wie", "viele"), ("wie", "viel"), ("bao", "nhiêu")];

/// The words at `i` and after it ("" past the end), as the pairs are kept.
fn pair_at<'w>(lower: &[&'w str], i: usize) -> (&'w str, &'w str) {
    (lower[i], lower.get(i + 1).copied().unwrap_or(""))
}

/// Whether `word` (lowercase) is a word that asks in another language than
/// English ([`OTHER_QUESTION_WORDS`], [`GERMAN_QUESTION_WORDS`]).
fn other_question_word(word: &str) -> bool {
    OTHER_QUESTION_WORDS.contains(&word) || GERMAN_QUESTION_WORDS.contains(&word)
}

/// Which of a question's words (lowercase) are another language's words that
/// ask, passed over as filler is (both of a pair: "ne zaman"); none when the
/// question is English.
fn asking_in_other(lower: &[&str]) -> Vec<bool> {
    let other = !reads_as_english(lower);
    let pair = |at: usize| {
        let p = pair_at(lower, at);
        WHEN_PAIRS.contains(&p) || HOW_MANY_PAIRS.contains(&p)
    };
    (0..lower.len())
        .map(|i| other && (other_question_word(lower[i]) || pair(i) || (i > 0 && pair(i - 1))))
        .collect()
}

/// Words only English writes among the languages whose question words
/// citebot knows: a question holding one is English, and its "Wie" (Michelle
/// Wie), "NE" or "que" are what it asks about, not words that ask.
const ENGLISH_MARKS: &[&str] = &[
    "the", "what", "when", "where", "who", "whom", "whose", "which", "why", "how", "is", "are",
    "were", "did", "does", "can", "of", "about", "and",
];

/// Whether the question (its words, lowercase) reads as English.
fn reads_as_english(lower: &[&str]) -> bool {
    lower.iter().any(|w| ENGLISH_MARKS.contains(w))
}

/// Words only German writes among the languages whose question words citebot
/// knows, besides those that ask ([`GERMAN_QUESTION_WORDS`]): "Was ist…?"
/// holds no other word that asks.
const GERMAN_MARKS: &[&str] = &[
    "ist", "sind", "wird", "werden", "wurde", "wurden", "haben", "und", "der", "dem", "einer",
    "eines", "einem", "nicht", "für", "auf", "im", "vom", "zum", "zur",
];

/// Whether the question (its words, lowercase) is German: it does not read as
/// English and holds German's words that ask or others only German writes.
fn german(lower: &[&str]) -> bool {
    !reads_as_english(lower)
        && lower
            .iter()
            .any(|w| GERMAN_QUESTION_WORDS.contains(w) || GERMAN_MARKS.contains(w))
}

/// Whether the question (its words, lowercase) is in another language than
/// English: it does not read as English and holds another language's words
/// that ask ([`OTHER_QUESTION_WORDS`], [`GERMAN_QUESTION_WORDS`]) or others
/// only German writes. A question of English keywords ("emperor mongolia trip
/// date") holds none.
fn foreign(lower: &[&str]) -> bool {
    german(lower)
        || (!reads_as_english(lower) && lower.iter().any(|w| OTHER_QUESTION_WORDS.contains(w)))
}

/// What a question in Chinese, Japanese, Korean or Thai asks for, by the question
/// words it holds wherever they stand (these languages put them where the
/// answer goes: "蒙古国的首都是哪里", "天皇はいつ訪問しますか"). Only the kinds
/// whose answers show in such text: a date, a number.
fn asked_in_paired(text: &str) -> Asked {
    const WHEN: &[&str] = &[
        "什么时候",
        "什麼時候",
        "何时",
        "何時",
        "哪一年",
        "哪年",
        "哪一天",
        "いつ",
        "何年",
        "何月",
        "何日",
        "언제",
        "เมื่อไร",
        "เมื่อไหร่",
        "เมื่อใด",
    ];
    const HOW_MANY: &[&str] = &[
        "多少",
        "几个",
        "幾個",
        "几年",
        "幾年",
        "几次",
        "幾次",
        "几位",
        "幾位",
        "几种",
        "幾種",
        "いくつ",
        "いくら",
        "何人",
        "何個",
        "何回",
        "何本",
        "何歳",
        "몇",
        "얼마나",
        "กี่",
        "เท่าไร",
        "เท่าไหร่",
    ];
    // Words that hold a question word and ask nothing: "いつも" (always),
    // "或多或少" (more or less), "언제나" (always), "몇몇" (several).
    const NOT_ASKING: &[&str] = &[
        "いつも",
        "あいつ",
        "思いつ",
        "或多或少",
        "多少の",
        "언제나",
        "몇몇",
        "얼마 전",
        "เกี่ยว",
    ];
    let mut plain = text.to_string();
    for w in NOT_ASKING {
        plain = plain.replace(w, "\u{3000}");
    }
    let kind = if WHEN.iter().any(|w| plain.contains(w)) {
        Kind::When
    } else if HOW_MANY.iter().any(|w| plain.contains(w)) {
        Kind::HowMany
    } else {
        Kind::Other
    };
    Asked {
        kind,
        skip: 0,
        type_noun: None,
    }
}

/// The words that ask in other languages written with spaces: French,
/// Spanish, Italian, Portuguese, Romanian, Turkish, Vietnamese, Greek,
/// Russian, Arabic and Hindi (German's are [`GERMAN_QUESTION_WORDS`]). A
/// statement rarely holds them, so counted as concepts they would read as
/// words the knowledge lacks and refuse the question; they frame it, as
/// "when" and "which" do. Left out are those
/// that are English words or names too ("comment", "dove", "care", "Kim",
/// "ai", "cine", "chi", "quanta"); the rest are passed over only in a question
/// that does not read as English ([`reads_as_english`]). Hindi's "क्या" and
/// "क्यों" are not among them: a virama cuts a word in two ([`words`]).
/// Lowercase, with and without accents as typed.
#[rustfmt::skip]
const OTHER_QUESTION_WORDS: &[&str] = &[
    // French
    "quand", "qui", "quoi", "où", "quel", "quelle", "quels", "quelles", "combien", "pourquoi",
    "lequel", "laquelle", "lesquels", "lesquelles",
    // Spanish, Italian, Portuguese
    "qué", "que", "quién", "quiénes", "quien", "quienes", "cuándo", "cuando", "dónde", "donde",
    "adónde", "cuál", "cuáles", "cual", "cuales", "cuánto", "cuánta", "cuántos", "cuántas",
    "cuanto", "cuanta", "cuantos", "cuantas", "cómo", "quando", "quale", "quali", "quanti",
    "quante", "perché", "quem", "onde", "qual", "quais", "quantos", "quantas", "porquê",
    // Romanian
    "când", "cand", "unde", "câte", "câți", "câtă", "cât", "cum", "căror", "cărui",
    // Turkish
    "ne", "neydi", "nedir", "neden", "niçin", "niye", "nasıl", "nerede", "nereye", "nereden",
    "neresi", "hangi", "hangisi", "kimin", "kime", "kimi", "kimler", "kimden", "kaç", "kaçta",
    "kaçıncı",
    // Vietnamese (its words are syllables: "bao nhiêu", "khi nào")
    "gì", "nào", "đâu", "mấy", "nhiêu",
    // Greek
    "πότε", "ποιος", "ποια", "ποιο", "ποιοι", "ποιες", "ποιου", "ποιας", "ποιον", "ποιων",
    "ποιός", "ποιά", "ποιό", "πού", "πόσος", "πόση", "πόσο", "πόσοι", "πόσες", "πόσα",
    "πόσων", "πόσους", "πώς", "γιατί", "τι", "τί",
    // Russian
    "когда", "кто", "кого", "кому", "кем", "чей", "чья", "чьё", "чье", "чьи", "что", "чего",
    "чему", "чем", "где", "куда", "откуда", "почему", "зачем", "как", "какой", "какая",
    "какое", "какие", "какого", "каком", "какому", "каким", "какую", "какими", "каких",
    "сколько", "который", "которая", "которое", "которые", "каков", "какова", "каковы",
    // Arabic
    "متى", "ماذا", "أين", "اين", "كم", "كيف", "لماذا", "أي", "اي", "ما", "هل",
    // Hindi
    "कब", "कौन", "किस", "किसे", "किसने", "किसका", "किसकी", "किसके", "किन", "किसको", "कहाँ",
    "कहां", "कितना", "कितने", "कितनी", "कैसे", "कैसा", "कैसी", "कौनसा",
];

/// German's words that ask, passed over as [`OTHER_QUESTION_WORDS`] are.
/// German writes every noun with a capital: in a question asked with them, a
/// capitalised word is no sign of a name.
#[rustfmt::skip]
const GERMAN_QUESTION_WORDS: &[&str] = &[
    "wann", "wer", "wen", "wem", "wessen", "wo", "wohin", "woher", "warum", "wieso", "weshalb",
    "weswegen", "wie", "wieviel", "wieviele", "welche", "welcher", "welches", "welchem",
    "welchen", "womit", "wofür", "wodurch", "worin", "worauf", "worüber", "wovon", "wozu",
];

/// The words a question asking yes or no opens with.
const YES_NO: &[&str] = &[
    "is", "are", "am", "does", "do", "did", "can", "could", "will", "would", "should", "shall",
    "might", "must", "was", "were", "has", "have", "had",
];

/// [`asked_in`] by the question words of its first or last sentence.
fn asked_by_words(text: &str, lower: &[&str]) -> Asked {
    let first = kind_of(lower);
    if first.kind != Kind::Other {
        return first;
    }
    let last = text
        .trim_end()
        .trim_end_matches(['?', '!', '.'])
        .rfind(['?', '!', '.'])
        .filter(|&at| text[at + 1..].starts_with(char::is_whitespace));
    let Some(at) = last else {
        let late = late_kind_of(lower);
        return if late.kind == Kind::Other {
            first
        } else {
            late
        };
    };
    let off = words(&text[..=at]).len();
    match kind_of(lower.get(off..).unwrap_or_default()) {
        Asked {
            kind,
            skip: 0,
            type_noun,
        } if kind != Kind::Other => Asked {
            kind,
            skip: 0,
            type_noun: type_noun.map(|t| t + off),
        },
        _ => {
            // Neither sentence opens with a question word: the last one may hold
            // one further on.
            let late = late_kind_of(lower.get(off..).unwrap_or_default());
            if late.kind == Kind::Other {
                return first;
            }
            Asked {
                type_noun: late.type_noun.map(|t| t + off),
                ..late
            }
        }
    }
}

/// The kind of answer `words` (the question's lowercase words) asks for.
pub fn kind_of(words: &[&str]) -> Asked {
    let mut skip = 0;
    let mut found = None;
    for (i, w) in words.iter().enumerate().take(4) {
        if let Some((_, k)) = QUESTION_WORDS.iter().find(|(q, _)| q == w) {
            found = Some((i, *k));
            break;
        }
    }
    if found.is_none()
        && let Some(first) = words.first()
        && (2..=6).contains(&first.len())
        && !STOP_WORDS.contains(first)
        && let Some((_, k)) = QUESTION_WORDS
            .iter()
            .find(|(q, _)| text::edit_distance(q, first) == 1)
    {
        found = Some((0, *k));
        skip = 1;
    }
    refine(words, found, skip)
}

/// [`kind_of`] for a question whose question word comes late: "The Duchy of
/// Warsaw was created by whom?", "In the 1800s, buildings over how many stories
/// needed one?". Other when none does, or the question asks yes or no.
fn late_kind_of(words: &[&str]) -> Asked {
    let asks_yes_no = refine(words, None, 0).kind == Kind::YesNo;
    // Last first.
    let late = || {
        words.iter().enumerate().skip(4).rev().filter_map(|(i, w)| {
            QUESTION_WORDS
                .iter()
                .find(|(q, _)| q == w)
                .map(|(_, k)| (i, *k))
        })
    };
    // The last that asks, an auxiliary and a pronoun after it ("…, where do I
    // shorten how long a token is valid?": "where do I", not "how long a
    // token is", which names what is shortened; a relative "which are" does
    // not ask); else the last: an earlier one may open a clause ("If
    // connected when first set up, what file system…?").
    let asks = |&(i, _): &(usize, Kind)| {
        words.get(i + 1).is_some_and(|w| YES_NO.contains(w))
            && words
                .get(i + 2)
                .is_some_and(|w| matches!(*w, "i" | "we" | "you" | "it" | "they" | "he" | "she"))
    };
    let found = late().find(asks).or_else(|| late().next());
    refine(words, found.filter(|_| !asks_yes_no), 0)
}

/// Whether the words after "what" ask what the asker is to do: a modal or
/// "do" and then "I", "we" or "you" within three words ("should I set",
/// "URL should I point", "do we need"); what the asker did or left out
/// ("what am I missing", "what did I forget"); or the way to do it ("what's
/// the safe way to send it").
fn asks_what_to_do(after: &[&str]) -> bool {
    after.windows(2).take(3).any(|w| {
        matches!(
            w[0],
            "should" | "do" | "can" | "must" | "could" | "am" | "did" | "have"
        ) && matches!(w[1], "i" | "we" | "you")
    }) || after.iter().take(4).any(|w| *w == "way")
}

/// The kind asked for by the question word `found` (its place and kind) of
/// `words`, as the word after it narrows it ("how *many*", "what *year*").
fn refine(words: &[&str], found: Option<(usize, Kind)>, skip: usize) -> Asked {
    let Some((i, kind)) = found else {
        let kind = if words.first().is_some_and(|w| YES_NO.contains(w)) {
            Kind::YesNo
        } else {
            Kind::Other
        };
        return Asked {
            kind,
            skip: 0,
            type_noun: None,
        };
    };
    let next = words.get(i + 1).copied().unwrap_or("");
    let kind = match kind {
        Kind::How
            if matches!(
                next,
                "many" | "much" | "long" | "old" | "far" | "large" | "big"
            ) =>
        {
            Kind::HowMany
        }
        Kind::What | Kind::Which if TIME_NOUNS.contains(&next) => Kind::When,
        Kind::What | Kind::Which if PLACE_NOUNS.contains(&next) => Kind::Where,
        Kind::What | Kind::Which if QUANTITY_NOUNS.contains(&next) => Kind::HowMany,
        Kind::What if next == "for" => Kind::Why,
        // "What should I set?", "what URL do we point it at?": an action.
        Kind::What if asks_what_to_do(&words[i + 1..]) => Kind::How,
        k => k,
    };
    let type_noun = (matches!(words[i], "which" | "what" | "whose")
        && !next.is_empty()
        && !STOP_WORDS.contains(&next)
        && !matches!(next, "many" | "much" | "for"))
    .then_some(i + 1);
    Asked {
        kind,
        skip,
        type_noun,
    }
}

/// Whether the question asks about the past or the future.
pub fn question_tense(words: &[&str]) -> Tense {
    let future = words.iter().any(|w| FUTURE.contains(w))
        || (words.iter().take(3).any(|w| matches!(*w, "is" | "are"))
            && words.iter().any(|w| w.len() > 4 && w.ends_with("ing")));
    let past = words.iter().any(|w| PAST.contains(w));
    match (past, future) {
        (true, false) => Tense::Past,
        (false, true) => Tense::Future,
        _ => Tense::Neutral,
    }
}

/// Strength of a match through a synonym.
pub(super) const SYNONYM: f32 = 0.9;
/// The noun of "which festival…" weighs this much of its usual weight.
const TYPE_NOUN: f32 = 0.5;
/// The longest run of capitalised words read as one name: a run is tried whole
/// and then word by word, so without a bound a message of Title Case words would
/// cost the square of its length.
const MAX_NAME_WORDS: usize = 6;
/// Unknown capitalised names weigh this much more: a question about an entity the
/// knowledge never mentions is most likely out of scope.
const UNKNOWN_NAME: f32 = 2.5;

/// How a variant relates to the word asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VariantKind {
    Exact,
    Synonym,
    Fuzzy,
}

/// One way a unit can appear in a passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// Index terms; more than one is a phrase.
    pub terms: Vec<String>,
    pub kind: VariantKind,
    pub strength: f32,
    /// Documents holding the variant (for a phrase, an upper bound).
    pub doc_freq: u64,
}

/// One concept of the question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// The words as asked.
    pub text: String,
    pub variants: Vec<Variant>,
    /// First letters of the word, for the weak prefix match.
    pub prefix: Option<String>,
    /// A capitalised name or acronym.
    pub name: bool,
    /// Whether any variant occurs in the index.
    pub known: bool,
    pub weight: f32,
    /// 0 for the question's own words; n for a concept carried over from the
    /// nth question before it in the conversation (a follow-up's context).
    pub context: usize,
}

/// A question, analysed.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub text: String,
    pub kind: Kind,
    /// False when its kind was read from another language's words that ask
    /// (a number answering it may then be written in that language's words).
    #[serde(skip)]
    pub english: bool,
    /// Asked in another language than English (by its words that ask and
    /// those only German writes): the semantic model, trained on English,
    /// means less there.
    #[serde(skip)]
    pub foreign: bool,
    pub tense: Tense,
    pub units: Vec<Unit>,
}

impl Question {
    /// The weight of all its units: what coverage is a share of.
    pub fn total_weight(&self) -> f32 {
        self.units
            .iter()
            .map(|u| u.weight)
            .sum::<f32>()
            .max(f32::EPSILON)
    }
}

/// A word of the question as typed.
#[derive(Debug, Clone)]
struct Word {
    raw: String,
    lower: String,
    index: usize,
    /// Chinese, Japanese, Korean or Thai, indexed as pairs of characters
    /// ([`analyzer::Script`]): the word is a run of them, not one word.
    paired: bool,
}

fn words(text: &str) -> Vec<Word> {
    analyzer::segments(text)
        .enumerate()
        .map(|(index, (from, to, script))| Word {
            raw: text[from..to].to_string(),
            lower: text[from..to].to_lowercase(),
            index,
            paired: script.paired(),
        })
        .collect()
}

/// How a unit of `span` was asked: its words, and of a Chinese, Japanese or
/// Korean word the characters its pairs span ("モン", "ンゴ", "ゴル" are
/// "モンゴル"). A synonym may run across words.
fn span_text(span: &[Content]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < span.len() {
        let word = &span[i].word;
        let n = span[i..]
            .iter()
            .take_while(|c| c.word.index == word.index)
            .count();
        if !out.is_empty() && !word.paired {
            out.push(' ');
        }
        if word.paired {
            let (from, to) = (span[i].pair, span[i + n - 1].pair + 2);
            out.extend(word.raw.chars().skip(from).take(to.saturating_sub(from)));
        } else {
            out.push_str(&word.raw);
        }
        i += n;
    }
    out
}

/// The pairs of characters (each by its first) of the stretches of two or
/// more characters that `covered` says nothing accounts for
/// ([`Snapshot::paired_units`]).
fn unaccounted(covered: &[bool]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < covered.len() {
        let end = (k..covered.len())
            .find(|&e| covered[e])
            .unwrap_or(covered.len());
        if end - k >= 2 {
            out.push(k..end - 1);
        }
        k = end + 1;
    }
    out
}

/// Question words of Chinese, Japanese and Korean, as the pairs (or single
/// characters) a question's run of those letters is cut into: what it asks,
/// not what it is about, as "what" and "when" are in English.
const PAIRED_QUESTION_WORDS: &[&str] = &[
    "什么", "什麼", "甚麼", "时候", "時候", "哪里", "哪裡", "哪儿", "哪個", "哪个", "为什", "為什",
    "怎么", "怎麼", "多少", "如何", "是否", "何时", "何時", "何処", "何", "무엇", "누구", "어디",
    "언제", "어떻", "떻게", "얼마", "무슨", "어느", "왜", "몇",
];

/// Characters that ask, whatever stands beside them: a pair holding one
/// ("是谁", "哪国") is a question word.
const ASKING_CHARACTERS: &[char] = &['谁', '誰', '哪'];

/// Which characters of `word` (a run of letters read as pairs: Chinese…)
/// ask: those of a question word, and the [`ASKING_CHARACTERS`] alone.
fn asking(word: &str) -> Vec<bool> {
    let chars: Vec<char> = word.chars().collect();
    let mut out: Vec<bool> = chars
        .iter()
        .map(|c| ASKING_CHARACTERS.contains(c))
        .collect();
    let mut pair = String::new();
    for k in 0..chars.len().saturating_sub(1) {
        pair.clear();
        pair.extend(&chars[k..k + 2]);
        // Both characters of a question word; of a pair holding a character
        // that asks alone ("是谁"), only that one.
        if PAIRED_QUESTION_WORDS.contains(&pair.as_str()) || pair.starts_with(ASKING_WITH_NEXT) {
            out[k..k + 2].fill(true);
        }
    }
    out
}

/// Korean particles (josa), the longest first: a noun takes them in the
/// sentence ("금강산의", "금강산은", "금강산에서"), so the question's form of a
/// word is rarely the passage's.
#[rustfmt::skip]
const KOREAN_PARTICLES: &[&str] = &[
    "에서는", "에게서", "으로는", "으로서", "으로써", "에서", "에게", "께서", "까지", "부터",
    "으로", "처럼", "보다", "마다", "이나", "은", "는", "이", "가", "을", "를", "의", "에",
    "로", "와", "과", "도", "만",
];

/// Korean endings that ask ("무엇인가", "나왔는가", "몇일입니까"): what the
/// question asks, not what it is about, as the question words are.
const KOREAN_ASKING_ENDINGS: &[&str] = &["인가요", "인가", "는가", "입니까", "습니까", "나요"];

/// How many characters at the end of `word` are a Korean particle or an
/// ending that asks ([`KOREAN_PARTICLES`], [`KOREAN_ASKING_ENDINGS`]), left
/// out of the word it closes: 0 unless two Hangul characters stay before it.
fn korean_tail(word: &str) -> usize {
    let hangul = |w: &str| {
        w.chars()
            .all(|c| analyzer::Script::of(c) == analyzer::Script::Hangul)
    };
    KOREAN_ASKING_ENDINGS
        .iter()
        .chain(KOREAN_PARTICLES)
        .find_map(|t| {
            let stem = word.strip_suffix(t)?;
            (stem.chars().count() >= 2 && hangul(stem)).then(|| t.chars().count())
        })
        .unwrap_or(0)
}

/// Characters that ask with the one after them, a counter or a unit: "何人"
/// (how many people), "几个", "몇년".
const ASKING_WITH_NEXT: &[char] = &['何', '几', '幾', '몇'];

/// Whether a pair of characters (or one) of a question asks rather than says.
fn asks(pair: &str) -> bool {
    PAIRED_QUESTION_WORDS.contains(&pair)
        || pair.contains(ASKING_CHARACTERS)
        || pair.starts_with(ASKING_WITH_NEXT)
}

/// A content word of the question: what it is about, not how it asks.
struct Content {
    word: Word,
    stem: String,
    /// Part of a capitalised name or an acronym.
    name: bool,
    /// For a pair of characters of a [`Word::paired`] word, which pair it is
    /// (the `pair`th and next characters).
    pair: usize,
}

/// Document frequencies within the part of the index a question may see.
struct Frequencies<'c, 's> {
    counts: &'c Counts<'s>,
    fields: super::index::Fields,
    docs: u64,
    /// Words whose spellings were tried for typo corrections so far.
    spelled: std::cell::Cell<usize>,
}

impl Frequencies<'_, '_> {
    fn of(&self, field: Field, term: &str) -> u64 {
        self.counts.term(field, term)
    }

    /// In the passage text, else the most of the title, headings and tags.
    fn any(&self, term: &str) -> u64 {
        let f = self.fields;
        let body = self.of(f.body, term);
        if body > 0 {
            body
        } else {
            self.of(f.heading, term)
                .max(self.of(f.title, term))
                .max(self.of(f.tags, term))
        }
    }

    /// Documents holding `terms` as a phrase (one word apart at most); for a
    /// phrase, an upper bound.
    fn phrase(&self, terms: &[String]) -> u64 {
        if terms.len() == 1 {
            return self.any(&terms[0]);
        }
        if terms.iter().any(|t| self.any(t) == 0) {
            return 0;
        }
        let mut p = PhraseQuery::new(
            terms
                .iter()
                .map(|t| IndexTerm::from_field_text(self.fields.body, t))
                .collect(),
        );
        p.set_slop(1);
        self.counts.matching(Box::new(p))
    }

    /// What the words of `terms` weigh apart.
    fn words_idf(&self, terms: &[String]) -> f32 {
        terms.iter().map(|t| idf(self.any(t), self.docs)).sum()
    }
}

impl Snapshot {
    /// Analyses a question against the part of this index `counts` covers
    /// (made for a room's collections; shared with the candidate search):
    /// every count, weight and typo correction comes from that part only, so
    /// what a room is told never depends on knowledge it may not see.
    pub(crate) fn question(
        &self,
        text: &str,
        counts: &Counts<'_>,
    ) -> Result<Question, SearchError> {
        let words = words(text);
        let lower: Vec<&str> = words.iter().map(|w| w.lower.as_str()).collect();
        let (asked, english) = asked_in(text, &lower);
        let tense = question_tense(&lower);
        let content = self.content_words(&words, &lower, asked.skip);
        let freq = Frequencies {
            counts,
            fields: self.store.fields,
            docs: counts.docs().max(1),
            spelled: std::cell::Cell::new(0),
        };
        let stems: Vec<String> = content.iter().map(|c| c.stem.clone()).collect();
        let mut units = Vec::new();
        let mut i = 0;
        while i < content.len() {
            if content[i].word.paired
                && self
                    .synonyms
                    .longest_match(&stems[i..], counts.collections())
                    .is_none()
            {
                i += self.paired_units(&content[i..], &asked, &freq, &mut units)?;
                continue;
            }
            let (len, alternatives) = self.span_at(&content, &stems, i, &freq);
            let unit = self.unit(&content[i..i + len], alternatives, &asked, &freq)?;
            // "carry ovr", "wat is": a word the knowledge lacks that is a stop
            // word mistyped is that stop word, not a topic the knowledge lacks.
            let mistyped_stop_word = len == 1
                && !unit.known
                && !content[i].name
                && is_stop_word_typo(&content[i].word.lower);
            if !mistyped_stop_word {
                units.push(unit);
            }
            i += len;
        }
        Ok(Question {
            text: text.to_string(),
            kind: asked.kind,
            english,
            foreign: foreign(&lower),
            tense,
            units,
        })
    }

    /// Adds to `q`, a follow-up, the concepts of the conversation's earlier
    /// questions (`context`, oldest first; the last [`MAX_CONTEXT`]) that it
    /// lacks and the knowledge holds, each weighing [`CONTEXT_WEIGHT`] of
    /// what it would in a question of its own: "what did she publish?" after
    /// "what did Ada Lovelace study?" searches for Lovelace's publications,
    /// and its own words still decide between her passages. Its kind and
    /// tense stay its own.
    pub(crate) fn carry_over(
        &self,
        q: &mut Question,
        context: &[String],
        counts: &Counts<'_>,
    ) -> Result<(), SearchError> {
        for (back, earlier) in context.iter().rev().take(MAX_CONTEXT).enumerate() {
            for mut u in self.question(earlier, counts)?.units {
                if !u.known || q.units.iter().any(|o| same_concept(o, &u)) {
                    continue;
                }
                u.weight *= CONTEXT_WEIGHT;
                u.context = back + 1;
                q.units.push(u);
            }
        }
        // The follow-up's own words decide what it asks: the concepts carried
        // over, but for names (what "he" or "it" stands for), weigh no more
        // together than they do. "And which port?" after "where does quuxd
        // write its logs?" asks for quuxd's port, not its logs again.
        let own: f32 = q
            .units
            .iter()
            .filter(|u| u.context == 0)
            .map(|u| u.weight)
            .sum();
        let capped = |u: &Unit| u.context > 0 && !u.name;
        let carried: f32 = q.units.iter().filter(|u| capped(u)).map(|u| u.weight).sum();
        if own > 0.0 && carried > own {
            for u in q.units.iter_mut().filter(|u| capped(u)) {
                u.weight *= own / carried;
            }
        }
        Ok(())
    }

    /// The question's content words (`lower`: each lowercase), from the
    /// `skip`th on: without question words, filler and stop words, each
    /// stemmed and marked when it is part of a name.
    fn content_words(&self, words: &[Word], lower: &[&str], skip: usize) -> Vec<Content> {
        let mut stem = self.stemmed.clone();
        // Title Case or SHOUTING carries no information about names.
        let rest = words.len().saturating_sub(1);
        let capitalised = words
            .iter()
            .skip(1)
            .filter(|w| w.raw.chars().next().is_some_and(char::is_uppercase))
            .count();
        let asking = asking_in_other(lower);
        let caps_mean_names = !german(lower) && (rest < 3 || capitalised * 4 < rest * 3);
        // A question in capitals throughout is shouted: its "IS" and "THE"
        // are stop words, not acronyms ([`analyzer::acronym`]).
        // Chinese, Japanese and Korean words have no capitals to shout in
        // ("WHOの本部は" is not shouted); numbers count ("IS 443 OPEN").
        let cased: Vec<&Word> = words
            .iter()
            .filter(|w| {
                w.raw
                    .chars()
                    .all(|c| analyzer::Script::of(c) == analyzer::Script::Spaced)
            })
            .collect();
        let capitals = cased
            .iter()
            .filter(|w| !w.raw.chars().any(char::is_lowercase))
            .count();
        let shouted = cased.len() >= 3 && capitals * 4 >= cased.len() * 3;
        let mut content = Vec::new();
        let mut framing = 0..0;
        for (i, w) in words.iter().enumerate() {
            if i < skip {
                continue;
            }
            // Before the filler words: "long" is one, "long form" a frame.
            if let Some(len) = acronym_framing(words, i) {
                framing = i..i + len;
            }
            if framing.contains(&i) || QUESTION_FILLER.contains(&w.lower.as_str()) || asking[i] {
                continue;
            }
            if w.paired {
                // Each pair of characters is a content word of its own.
                for t in analyzer::terms(&mut stem, &w.raw) {
                    if !asks(&t.text) {
                        content.push(Content {
                            word: w.clone(),
                            stem: t.text.to_string(),
                            name: false,
                            pair: t.position,
                        });
                    }
                }
                continue;
            }
            let written = if shouted { &w.lower } else { &w.raw };
            let Some(s) = analyzer::stem_word(&mut stem, written) else {
                continue;
            };
            let first_upper = w.raw.chars().next().is_some_and(char::is_uppercase);
            let acronym = is_acronym(&w.raw);
            let next_upper = words
                .get(i + 1)
                .is_some_and(|n| n.raw.chars().next().is_some_and(char::is_uppercase));
            let name = acronym || (caps_mean_names && first_upper && (i > 0 || next_upper));
            content.push(Content {
                word: w.clone(),
                stem: s,
                name,
                pair: 0,
            });
        }
        content
    }

    /// The units of the run of letters read as pairs (Chinese, Thai…) that
    /// `content` starts with (its pairs of characters: [`Word::paired`]); how
    /// many content words they took. The run is one concept where the
    /// knowledge writes it whole. Else, as a search without a dictionary must
    /// read it, the pairs of it the knowledge holds are concepts
    /// ("天皇什么时候访问蒙古" asks about "天皇", "访问" and "蒙古"), a pair the
    /// knowledge lacks whose characters those account for straddles two words
    /// ("皇什") and is passed over, and two or more characters in a row that
    /// no known pair accounts for are a word the knowledge lacks: a concept
    /// it does not hold, as an unknown English word is (on the Chinese and
    /// Japanese validation sets of scripts/cut-rc, counting those words
    /// refused 153 of 251 questions out of scope rather than 70, and 2.0%
    /// of 1,873 answerable ones rather than 1.5%). A synonym is looked for
    /// at every pair, as at every English word.
    fn paired_units(
        &self,
        content: &[Content],
        asked: &Asked,
        freq: &Frequencies<'_, '_>,
        units: &mut Vec<Unit>,
    ) -> Result<usize, SearchError> {
        let index = content[0].word.index;
        let taken = content
            .iter()
            .take_while(|c| c.word.paired && c.word.index == index)
            .count();
        let raw = &content[0].word.raw;
        let whole_chars = raw.chars().count();
        // A Korean particle or ending that asks closing the word is left out
        // of it: "금강산의" and "금강산은" are both 금강산, as the passages
        // that write it either way must be found.
        let chars = whole_chars - korean_tail(raw);
        let len = content[..taken]
            .iter()
            .take_while(|c| c.pair + 2 <= chars.max(2))
            .count();
        if len == 0 {
            // Nothing but what asks and its ending ("무엇인가"), or pairs a
            // synonym took before.
            return Ok(taken);
        }
        let run = &content[..len];
        // The run as asked, every pair of it here (none asked or went to a
        // synonym before it), is one concept when the knowledge writes it
        // whole, or when it is one pair.
        if len + 1 == chars.max(2) {
            let whole = self.unit(run, Vec::new(), asked, freq)?;
            if len == 1 || whole.known {
                units.push(whole);
                return Ok(taken);
            }
        }
        let covered = &mut asking(raw);
        covered[chars..].fill(true);
        // What went to a synonym before the run is accounted for: the pairs
        // before its first, the last of them ending on its first character.
        if run[0].pair > 0 {
            covered[..(run[0].pair + 1).min(chars)].fill(true);
        }
        let stems: Vec<String> = run.iter().map(|c| c.stem.clone()).collect();
        let scope = freq.counts.collections();
        let mut i = 0;
        while i < len {
            // A synonym anywhere in the run ("访问蒙古", 蒙古 = Mongolia).
            let (mut n, alternatives) = match self.synonyms.longest_match(&stems[i..], scope) {
                Some(m) => (m.len, m.alternatives),
                None => (1, Vec::new()),
            };
            let mut unit = self.unit(&run[i..i + n], alternatives, asked, freq)?;
            // A synonym the knowledge holds in no form leaves its first pair
            // to be read as any other.
            if !unit.known && n > 1 {
                n = 1;
                unit = self.unit(&run[i..=i], Vec::new(), asked, freq)?;
            }
            if unit.known {
                let (from, to) = (run[i].pair, run[i + n - 1].pair + 2);
                covered[from.min(chars)..to.min(chars)].fill(true);
                if !units.iter().any(|u| same_concept(u, &unit)) {
                    units.push(unit);
                }
            }
            i += n;
        }
        for lacking in unaccounted(covered) {
            let mut inside = (0..len).filter(|&i| lacking.contains(&run[i].pair));
            if let Some(first) = inside.next() {
                let last = inside.next_back().unwrap_or(first);
                units.push(self.unit(&run[first..=last], Vec::new(), asked, freq)?);
            }
        }
        Ok(taken)
    }

    /// How many content words from the `i`th make one unit, and the unit's
    /// synonyms: the longest synonym phrase there, else a run of adjacent
    /// capitalised words the knowledge holds together, else one word.
    fn span_at(
        &self,
        content: &[Content],
        stems: &[String],
        i: usize,
        freq: &Frequencies<'_, '_>,
    ) -> (usize, Vec<Vec<String>>) {
        let scope = freq.counts.collections();
        if let Some(m) = self.synonyms.longest_match(&stems[i..], scope) {
            return (m.len, m.alternatives);
        }
        // A run of adjacent capitalised words is one name.
        let mut len = 1;
        while content[i].name
            && len < MAX_NAME_WORDS
            && i + len < content.len()
            && content[i + len].name
            && content[i + len].word.index == content[i + len - 1].word.index + 1
            && self
                .synonyms
                .longest_match(&stems[i + len..], scope)
                .is_none()
        {
            len += 1;
        }
        // A run the knowledge never has together ("Mongolian FM") is read
        // word by word.
        if len > 1 && freq.phrase(&stems[i..i + len]) == 0 {
            len = 1;
        }
        (len, Vec::new())
    }

    /// One unit of the question: the content words `span`, with its synonyms
    /// `alternatives`, typo corrections and weight.
    fn unit(
        &self,
        span: &[Content],
        alternatives: Vec<Vec<String>>,
        asked: &Asked,
        freq: &Frequencies<'_, '_>,
    ) -> Result<Unit, SearchError> {
        let f = self.store.fields;
        let own: Vec<String> = span.iter().map(|c| c.stem.clone()).collect();
        let text = span_text(span);
        let name = span.iter().any(|c| c.name);
        let mut variants = vec![Variant {
            doc_freq: freq.phrase(&own),
            terms: own.clone(),
            kind: VariantKind::Exact,
            strength: 1.0,
        }];
        for alt in alternatives {
            variants.push(Variant {
                doc_freq: freq.phrase(&alt),
                terms: alt,
                kind: VariantKind::Synonym,
                strength: SYNONYM,
            });
        }
        // Two characters have no typos to correct: a change is another word.
        let paired = span[0].word.paired;
        if span.len() == 1 && !paired && variants.iter().all(|v| v.doc_freq == 0) {
            variants.extend(self.corrections(&span[0], &own[0], freq)?);
        }
        let known = variants.iter().any(|v| v.doc_freq > 0);
        let prefix = if span.len() == 1 && !paired {
            let mut normal = span[0].word.lower.clone();
            analyzer::american_spelling(&mut normal);
            let p: String = normal.chars().take(analyzer::PREFIX_LEN).collect();
            (normal.chars().count() >= analyzer::PREFIX_LEN && freq.of(f.prefix, &p) > 0)
                .then_some(p)
        } else {
            None
        };
        let concept_df = variants.iter().map(|v| v.doc_freq).max().unwrap_or(0);
        let type_noun = asked
            .type_noun
            .is_some_and(|t| span.iter().any(|c| c.word.index == t));
        let weight = TYPE_NOUN.powi(i32::from(type_noun))
            * if known {
                idf(concept_df, freq.docs)
            } else if span.len() > 1 && own.iter().all(|t| freq.any(t) > 0) {
                // A name whose words all occur, but never together ("United States"):
                // it weighs what its words weigh, and matches only in part.
                freq.words_idf(&own)
            } else {
                idf(1, freq.docs) * if name { UNKNOWN_NAME } else { 1.0 }
            };
        Ok(Unit {
            text,
            variants,
            prefix,
            name,
            known,
            weight,
            context: 0,
        })
    }

    /// Typo corrections of a word the index lacks: the index terms nearest its
    /// stem, else the stems of its one-edit spellings (a typo can change what
    /// the stemmer cuts off).
    fn corrections(
        &self,
        word: &Content,
        stem: &str,
        freq: &Frequencies<'_, '_>,
    ) -> Result<Vec<Variant>, SearchError> {
        let f = self.store.fields;
        let fuzzy = |term, distance, doc_freq| Variant {
            terms: vec![term],
            kind: VariantKind::Fuzzy,
            strength: typo::strength(distance),
            doc_freq,
        };
        let mut out: Vec<Variant> = typo::corrections(self, f.body, stem, freq.counts)?
            .into_iter()
            .map(|(term, distance, doc_freq)| fuzzy(term, distance, doc_freq))
            .collect();
        if out.is_empty() && freq.spelled.get() < typo::MAX_SPELLED_WORDS {
            freq.spelled.set(freq.spelled.get() + 1);
            out.extend(
                typo::spelled_corrections(f.body, &word.word.lower, freq.counts)
                    .into_iter()
                    .map(|(term, doc_freq)| fuzzy(term, 1, doc_freq)),
            );
        }
        // A name is corrected only to a name ("Mongoila" to Mongolia): a name
        // the knowledge never mentions ("Slack") is not its words "lack" or
        // "stack". On the docs sets, 3 more of 96 questions out of scope were
        // refused (Caddy, headscale, JBang), none answerable lost.
        if word.name && !is_acronym(&word.word.raw) {
            let mut kept = Vec::with_capacity(out.len());
            for v in out {
                if typo::written_as_name(self, f.body, &v.terms[0], freq.counts)? {
                    kept.push(v);
                }
            }
            out = kept;
        }
        Ok(out)
    }
}

/// How many earlier questions of a conversation a follow-up carries over.
pub const MAX_CONTEXT: usize = 2;

/// What a concept carried over from an earlier question weighs against the
/// follow-up's own, in ranking (not in the choice of the answer line, which
/// answers the follow-up's own words). Tried 0.3, 0.5, 0.7, 0.85 and 1, and
/// halving per question back, on QReCC follow-ups (scripts/cut-qrecc, the
/// tuning split): 0.7 with no halving put the right passage first for 67.8%
/// with the semantic model (1: 67.0%) and 63.7% by words alone (1: 65.7%),
/// and its answer line held the answer most often (24.0%; 1: 22.0%).
/// Weighing the carried concepts but names no more than the follow-up's own
/// words ([`Snapshot::carry_over`]) then took those to 68.7%, 64.8% and
/// 24.7% (capping names too: 69.5% with the model, 57.4% by words alone).
pub const CONTEXT_WEIGHT: f32 = 0.7;

/// Whether two units name the same concept: a way of writing one is a way
/// of writing the other.
fn same_concept(a: &Unit, b: &Unit) -> bool {
    a.variants
        .iter()
        .any(|x| b.variants.iter().any(|y| x.terms == y.terms))
}

/// BM25's inverse document frequency.
fn idf(df: u64, n: u64) -> f32 {
    let (df, n) = (df as f32, n as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05)
}

/// How much of a question is read by default: far more than any question asked
/// in chat or in the reading-comprehension sets (their longest are about 40
/// words), far less than a pasted page.
pub const DEFAULT_MAX_QUESTION_WORDS: usize = 100;
pub const DEFAULT_MAX_QUESTION_BYTES: usize = 2000;

/// A question longer than [`SearchSettings::max_question_words`] or
/// [`SearchSettings::max_question_bytes`]: only its start was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuestionCut {
    /// Words read (the question's first ones).
    pub words_read: usize,
    /// Words the question had.
    pub words_asked: usize,
    /// Whether the cut fell inside a word (one longer than the byte limit,
    /// such as a question in a script written without spaces): then
    /// characters say better than words how much was read.
    pub split_word: bool,
    /// Characters read, and the question's.
    pub chars_read: usize,
    pub chars_asked: usize,
}

/// The start of `question` within `max_words` words and `max_bytes` bytes (cut
/// at a word's end where one fits), and the cut when one was made. Linear in the
/// question's length.
pub fn cut_question(
    question: &str,
    max_words: usize,
    max_bytes: usize,
) -> (&str, Option<QuestionCut>) {
    let mut words = 0;
    let mut end = 0;
    let mut cut_at = None;
    for (start, word) in question
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - question.as_ptr() as usize, w))
    {
        let word_end = start + word.len();
        if cut_at.is_none() {
            if words < max_words && word_end <= max_bytes {
                end = word_end;
            } else {
                // One word longer than the byte limit: keep what fits of it.
                if words == 0 {
                    end = text::floor_char_boundary(question, max_bytes);
                }
                cut_at = Some(words);
            }
        }
        words += 1;
    }
    match cut_at {
        None => (question, None),
        Some(read) => (
            question[..end].trim_end(),
            Some(QuestionCut {
                words_read: read.max(usize::from(end > 0)),
                words_asked: words,
                split_word: read == 0 && end > 0,
                chars_read: question[..end].trim_end().chars().count(),
                chars_asked: question.chars().count(),
            }),
        ),
    }
}

/// Whether `word` is a stop word with one letter dropped ("ovr", "wat", "wen")
/// or two neighbouring letters swapped ("teh", "hwo"), and not one itself. A
/// letter typed for another is left out: that is how real words the knowledge
/// may lack sit next to stop words ("war"/"was", "car"/"can", "game"/"same").
fn is_stop_word_typo(word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    w.len() >= 3
        && !STOP_WORDS.contains(&word)
        && STOP_WORDS.iter().any(|s| {
            let s: Vec<char> = s.chars().collect();
            let dropped = s.len() == w.len() + 1
                && (0..s.len()).any(|i| s[..i] == w[..i] && s[i + 1..] == w[i..]);
            let swapped = s.len() == w.len()
                && (0..w.len() - 1).any(|i| {
                    w[i] == s[i + 1]
                        && w[i + 1] == s[i]
                        && w[..i] == s[..i]
                        && w[i + 2..] == s[i + 2..]
                });
            dropped || swapped
        })
}

/// Phrases that ask what an acronym stands for ("What does ODA stand for?",
/// "ODA full form", "what is NATO short for"): they frame the question like
/// "mean", they are not what it is about, and a text that spells the acronym
/// out never says them.
const ACRONYM_FRAMES: &[&[&str]] = &[
    &["stand", "for"],
    &["stands", "for"],
    &["full", "form"],
    &["long", "form"],
    &["short", "for"],
    &["abbreviation", "for"],
    &["abbreviation", "of"],
    &["acronym", "for"],
    &["acronym", "of"],
];

/// How many words from the `i`th of `words` frame an acronym question
/// ([`ACRONYM_FRAMES`]). "Stand for" always frames one; the others only next
/// to the acronym they ask about: right after it, ending the question ("ODA
/// full form", "what is NATO short for?", "UHI is an abbreviation of what?"),
/// or right before it ("full form of the ODA", "acronym for G7"). "The HR full
/// form submission" and "short for staff in Q3" are about forms and staff.
fn acronym_framing(words: &[Word], i: usize) -> Option<usize> {
    let frame = ACRONYM_FRAMES.iter().find(|frame| {
        frame
            .iter()
            .enumerate()
            .all(|(j, f)| words.get(i + j).is_some_and(|w| w.lower == *f))
    })?;
    if frame[0].starts_with("stand") {
        return Some(frame.len());
    }
    let rest = &words[i + frame.len()..];
    // The acronym just before, but for the words that make it a sentence
    // ("UHI is an abbreviation of what?", "What is UHI an abbreviation for?").
    let before = words[..i]
        .iter()
        .rev()
        .find(|w| !matches!(w.lower.as_str(), "is" | "was" | "an" | "a" | "the"))
        .is_some_and(|w| is_acronym(&w.raw))
        && rest.iter().all(|w| w.lower == "what");
    let after = rest
        .iter()
        .find(|w| !matches!(w.lower.as_str(), "of" | "for" | "the" | "a" | "an"))
        .is_some_and(|w| is_acronym(&w.raw));
    (before || after).then_some(frame.len())
}

/// Whether `raw` is written as an acronym: two or more capitals or digits, one
/// a capital at least ("ODA", "G7").
fn is_acronym(raw: &str) -> bool {
    raw.len() >= 2
        && raw
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && raw.chars().any(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_typed_with_a_letter_dropped_or_two_swapped() {
        let table = [
            ("ovr", true),  // over
            ("wat", true),  // what
            ("teh", true),  // the
            ("hwo", true),  // how
            ("the", false), // a stop word itself
            ("war", false), // "was" with a letter for another: a real word
            ("car", false),
            ("game", false),
            ("ab", false), // too short to tell
        ];
        for (word, typo) in table {
            assert_eq!(is_stop_word_typo(word), typo, "{word}");
        }
    }

    #[test]
    fn unaccounted_characters_make_words_of_two_or_more() {
        // (covered, the pairs of each unaccounted stretch as (from, to))
        type Stretches = &'static [(usize, usize)];
        let table: &[(&[bool], Stretches)] = &[
            (&[true, true, true], &[]),
            (&[false, true, true], &[]),
            (&[true, false, false, true], &[(1, 2)]),
            (
                &[false, false, false, true, false, false],
                &[(0, 2), (4, 5)],
            ),
            (&[], &[]),
        ];
        for (covered, want) in table {
            let got: Vec<(usize, usize)> = unaccounted(covered)
                .into_iter()
                .map(|r| (r.start, r.end))
                .collect();
            assert_eq!(got, *want, "{covered:?}");
        }
    }

    #[test]
    fn chinese_japanese_and_korean_question_words_ask_for_dates_and_numbers() {
        let table: &[(&str, Kind)] = &[
            ("天皇什么时候访问蒙古？", Kind::When),
            ("亚洲协会是哪一年举行的", Kind::When),
            ("天皇はいつモンゴルを訪問しますか", Kind::When),
            ("몽골은 언제 독립했나요?", Kind::When),
            ("蒙古国的人口有多少？", Kind::HowMany),
            ("参加者は何人ですか", Kind::HowMany),
            ("蒙古国的首都是哪里？", Kind::Other),
            // A question word inside another word asks nothing.
            ("为什么几乎所有蒙古人都会骑马？", Kind::Other),
            ("いつも何を食べますか", Kind::Other),
            ("몇몇 사람이 왔나요?", Kind::Other),
            // English with a Japanese name is English, and a Latin name in
            // Chinese is asked in Chinese.
            ("When did ナーダム start?", Kind::When),
            ("Naadam什么时候开始", Kind::When),
        ];
        for (q, kind) in table {
            let lower: Vec<String> = words(q).into_iter().map(|w| w.lower).collect();
            let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
            assert_eq!(asked_in(q, &lower).0.kind, *kind, "{q}");
        }
    }

    #[test]
    fn a_korean_particle_or_ending_that_asks_is_left_out_of_its_word() {
        let table = [
            ("금강산의", 1),
            ("금강산은", 1),
            ("금강산에서는", 3),
            ("무엇인가", 2),
            ("나왔는가", 2),
            // Two characters stay: "나이" (age) and "시의" keep theirs.
            ("나이", 0),
            ("시의", 0),
            ("금강산", 0),
            // Only after Hangul: "iPhone의" is no Korean noun of two syllables.
            ("iPhone의", 0),
            ("東京の", 0),
        ];
        for (word, tail) in table {
            assert_eq!(korean_tail(word), tail, "{word}");
        }
    }

    #[test]
    fn other_languages_ask_for_dates_and_numbers() {
        // (question, kind, read from English words)
        let table: &[(&str, Kind, bool)] = &[
            (
                "Wann wurde die Warschauer Börse gegründet?",
                Kind::When,
                false,
            ),
            ("Wie viele Einwohner hat Warschau?", Kind::HowMany, false),
            ("Wann wurde die Borse gegrundet?", Kind::When, false),
            ("¿Cuántos goles marcó?", Kind::HowMany, false),
            ("Super Bowl 50 ne zaman oynandı?", Kind::When, false),
            ("Panthers kaç sayı aldı?", Kind::HowMany, false),
            ("Trận đấu diễn ra khi nào?", Kind::When, false),
            ("Πόσους πόντους δέχτηκε η άμυνα;", Kind::HowMany, false),
            ("Когда был основан город?", Kind::When, false),
            ("गंगा नदी की लंबाई कितनी है?", Kind::HowMany, false),
            ("กรุงเทพก่อตั้งเมื่อไร", Kind::When, false),
            // "เกี่ยวกับ" (about) holds "กี่" (how many) and asks nothing.
            ("บอกข้อมูลเกี่ยวกับกรุงเทพ", Kind::Other, false),
            // The first word that asks decides: "cuando", "quand" and "когда"
            // are conjunctions too.
            (
                "¿Qué pasa cuando se reinicia el servidor?",
                Kind::Other,
                true,
            ),
            ("Que faire quand le serveur plante ?", Kind::Other, true),
            ("Что происходит, когда сервер падает?", Kind::Other, true),
            // English stays English, its names and loanwords included.
            ("When did Wie win the cup?", Kind::When, true),
            ("How many quanto options are there?", Kind::HowMany, true),
            ("Who is Kim?", Kind::Who, true),
            ("Is the ne zaman option on?", Kind::YesNo, true),
            ("Tell me about quanto options", Kind::Other, true),
            // German's "was", "wo" and "wen" ask what, where and whom: not
            // the English "was" of a yes or no, nor "who" and "when" mistyped.
            ("Was ist die Hauptstadt von Bayern?", Kind::Other, false),
            ("Wo liegt Ulm?", Kind::Other, false),
            ("Wen traf die Kanzlerin 2005?", Kind::Other, false),
            ("Was Einstein born in Ulm?", Kind::YesNo, true),
            ("wen is the next release?", Kind::When, true),
        ];
        for (q, kind, english) in table {
            let lower: Vec<String> = words(q).into_iter().map(|w| w.lower).collect();
            let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
            let (asked, how) = asked_in(q, &lower);
            assert_eq!((asked.kind, how), (*kind, *english), "{q}");
        }
    }

    #[test]
    fn questions_in_other_languages() {
        let table: &[(&str, bool)] = &[
            ("When is the emperor visiting Mongolia?", false),
            ("emperor mongolia trip date", false),
            ("max_upload_size default", false),
            ("Who is Kim?", false),
            ("Tell me about quanto options", false),
            ("Wann besucht der Kaiser die Mongolei?", true),
            ("Was ist die Hauptstadt von Bayern?", true),
            ("Hauptstadt der Mongolei", true),
            ("¿Cuándo visita el emperador Mongolia?", true),
            ("Quand l'empereur visite-t-il la Mongolie ?", true),
            ("Когда император посетит Монголию?", true),
        ];
        for (q, want) in table {
            let lower: Vec<String> = words(q).into_iter().map(|w| w.lower).collect();
            let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
            assert_eq!(foreign(&lower), *want, "{q}");
        }
    }

    #[test]
    fn question_kinds() {
        let table: &[(&str, Kind, usize, Option<usize>)] = &[
            ("when is the emperor visiting", Kind::When, 0, None),
            ("wen is the emprer going", Kind::When, 1, None),
            ("who did battsetseg meet", Kind::Who, 0, None),
            ("how many detainees died", Kind::HowMany, 0, None),
            ("what year did it start", Kind::When, 0, Some(1)),
            ("which country borders", Kind::Where, 0, Some(1)),
            ("what percentage live there", Kind::HowMany, 0, Some(1)),
            ("which festival will they attend", Kind::Which, 0, Some(1)),
            ("what is the third neighbor policy", Kind::What, 0, None),
            ("why does japan fund it", Kind::Why, 0, None),
            ("is japan funding it", Kind::YesNo, 0, None),
            ("naadam festival", Kind::Other, 0, None),
            ("tell me when the visit is", Kind::When, 0, None),
            // What the asker is to do is asked as "how".
            ("what should i set", Kind::How, 0, None),
            ("what url do we point it at", Kind::How, 0, Some(1)),
            ("what is set up when i start", Kind::What, 0, None),
            ("what am i missing", Kind::How, 0, None),
            ("what did i forget", Kind::How, 0, None),
            ("what s the safe way to send it", Kind::How, 0, None),
            ("what did the minister say", Kind::What, 0, None),
        ];
        for (q, kind, skip, type_noun) in table {
            let words: Vec<&str> = q.split(' ').collect();
            assert_eq!(
                kind_of(&words),
                Asked {
                    kind: *kind,
                    skip: *skip,
                    type_noun: *type_noun
                },
                "{q}"
            );
        }
    }

    #[test]
    fn a_question_after_a_statement_of_the_problem_asks_what_its_own_words_say() {
        let table: &[(&str, Kind, Option<usize>)] = &[
            (
                "Users see the consent page every time. How do I stop that?",
                Kind::How,
                None,
            ),
            (
                "The build fails on ARM! Which flag fixes it?",
                Kind::Which,
                Some(6),
            ),
            (
                "Login breaks. Can I escape the dollar sign?",
                Kind::YesNo,
                None,
            ),
            ("When does it start? The docs say 9.", Kind::When, None),
            ("Version 2.1 crashes on start", Kind::Other, None),
            ("The sync stops. Nothing else happens.", Kind::Other, None),
            // The question word late in the sentence.
            ("The Duchy of Warsaw was created by whom?", Kind::Who, None),
            (
                "In the 1800s, towers were required on buildings over how many stories?",
                Kind::HowMany,
                None,
            ),
            (
                "Columbia University was founded in what year?",
                Kind::When,
                Some(6),
            ),
            (
                "If connected to a PC when first set up, what file system is used?",
                Kind::What,
                Some(10),
            ),
            (
                "The login page is blank. The server logs stop right when it loads, why?",
                Kind::Why,
                None,
            ),
            ("Is the page blank when it loads?", Kind::YesNo, None),
            (
                "NYC has the two largest stock exchanges, which are called what?",
                Kind::What,
                None,
            ),
            // A question word that asks, before one that names what is asked of.
            (
                "Tokens last too long, where do I shorten how long a token is valid?",
                Kind::Where,
                None,
            ),
            (
                "The page is blank, why does it stop when it loads?",
                Kind::Why,
                None,
            ),
            // Yes or no, asked by a modal or in the last clause.
            ("Should I squash the commits?", Kind::YesNo, None),
            (
                "The debug port is taken on my machine, can it pick a free one?",
                Kind::YesNo,
                None,
            ),
            (
                "In our formatter settings, do we go with single quotes?",
                Kind::YesNo,
                None,
            ),
            (
                "They offered to pay me - can I keep the fee?",
                Kind::YesNo,
                None,
            ),
            ("The sync stops, the logs say nothing.", Kind::Other, None),
            ("Once it stops, the logs say what?", Kind::What, None),
        ];
        for (q, kind, type_noun) in table {
            let all = words(q);
            let lower: Vec<&str> = all.iter().map(|w| w.lower.as_str()).collect();
            let (asked, _) = asked_in(q, &lower);
            assert_eq!((asked.kind, asked.type_noun), (*kind, *type_noun), "{q}");
        }
    }

    #[test]
    fn tenses() {
        let table: &[(&str, Tense)] = &[
            ("when is the emperor visiting mongolia", Tense::Future),
            ("when will they go", Tense::Future),
            ("when was naruhito last in mongolia", Tense::Past),
            ("who did she meet", Tense::Past),
            ("what is odа", Tense::Neutral),
        ];
        for (q, t) in table {
            let words: Vec<&str> = q.split(' ').collect();
            assert_eq!(question_tense(&words), *t, "{q}");
        }
    }
}
