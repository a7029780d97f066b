//! The extractive answer: which sentence of a passage gives what a question asks
//! for (a date, a name, a number…), and whether a plan it speaks of is overdue.

use std::ops::Range;

use super::analyzer;
use super::question::{Kind, Question, Tense};
use crate::text;

/// What sentence choice needs to know of a question.
#[derive(Debug, Clone, Copy)]
pub struct Sought<'q> {
    /// The question as asked.
    pub text: &'q str,
    pub kind: Kind,
    pub tense: Tense,
}

impl<'q> Sought<'q> {
    /// What `q` seeks.
    pub fn of(q: &'q Question) -> Self {
        Sought {
            text: &q.text,
            kind: q.kind,
            tense: q.tense,
        }
    }
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const NUMBER_WORDS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "once",
    "twice",
    "half",
    "dozen",
    "dozens",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "millions",
    "billion",
    "billions",
    "trillion",
];
const REASONS: &[&str] = &[
    "because",
    "aim",
    "aims",
    "aimed",
    "goal",
    "goals",
    "objective",
    "purpose",
    "purposes",
    "order",
    "hopes",
    "seeks",
    "reduce",
    "due",
    "so",
    "reason",
    "thereby",
    "intended",
    "mitigate",
];

/// The latest date a sentence speaks of, as the last day it covers and as written
/// ("July 2025" → 2025-07-31): "in 2025" ends on 31 December, "May 9, 2025" that day.
pub fn latest_date(sentence: &str) -> Option<(chrono::NaiveDate, String)> {
    use chrono::NaiveDate;
    let words: Vec<&str> = sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let year_of = |w: &str| {
        w.parse::<i32>()
            .ok()
            .filter(|y| (1700..=2199).contains(y) && w.len() == 4)
    };
    let month_of = |w: &str| {
        MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(w))
            .map(|i| i as u32 + 1)
    };
    let last_day = |y: i32, m: u32| {
        let next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        next.and_then(|d| d.pred_opt())
    };
    let mut best: Option<(NaiveDate, String)> = None;
    for (i, w) in words.iter().enumerate() {
        let Some(year) = year_of(w) else { continue };
        // "July 2025", "July 9, 2025", "9 July 2025", or a bare year.
        let found = match (
            i.checked_sub(1).map(|j| words[j]),
            i.checked_sub(2).map(|j| words[j]),
        ) {
            (Some(p1), _) if month_of(p1).is_some() => {
                let m = month_of(p1).unwrap_or(12);
                last_day(year, m).map(|d| (d, format!("{} {year}", MONTHS[m as usize - 1])))
            }
            (Some(p1), Some(p2)) if month_of(p2).is_some() && p1.parse::<u32>().is_ok() => {
                let m = month_of(p2).unwrap_or(12);
                NaiveDate::from_ymd_opt(year, m, p1.parse().unwrap_or(1))
                    .map(|d| (d, format!("{} {p1}, {year}", MONTHS[m as usize - 1])))
            }
            _ => NaiveDate::from_ymd_opt(year, 12, 31).map(|d| (d, year.to_string())),
        };
        if let Some((d, label)) = found
            && best.as_ref().is_none_or(|(b, _)| d > *b)
        {
            best = Some((d, capitalise(&label)));
        }
    }
    best
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// When `sentence` presents something as expected or planned for a date that is
/// already past on `today`, that date as written ("July 2025").
pub fn overdue(sentence: &str, today: chrono::NaiveDate) -> Option<String> {
    if sentence_tense(sentence) != Tense::Future {
        return None;
    }
    latest_date(sentence)
        .filter(|(end, _)| *end < today)
        .map(|(_, label)| label)
}

fn sentence_tense(sentence: &str) -> Tense {
    let (mut past, mut future) = (false, false);
    // Every sentence of every candidate passage comes here when a question
    // asks in a tense: each word is matched as ASCII-lowercased bytes, not
    // compared with each of the lists' words in turn.
    let mut lower = [0u8; 10];
    for word in sentence.split(|c: char| !c.is_alphanumeric()) {
        let bytes = word.as_bytes();
        if !(3..=lower.len()).contains(&bytes.len()) {
            continue;
        }
        let lower = &mut lower[..bytes.len()];
        lower.copy_from_slice(bytes);
        lower.make_ascii_lowercase();
        match &*lower {
            b"will" | b"expected" | b"plans" | b"planned" | b"upcoming" | b"set" | b"scheduled"
            | b"promises" | b"future" | b"proposed" => future = true,
            b"previously" | b"was" | b"were" | b"had" | b"ago" | b"formerly" | b"earlier"
            | b"once" => past = true,
            _ => {}
        }
    }
    match (past, future) {
        (true, false) => Tense::Past,
        (false, true) => Tense::Future,
        _ => Tense::Neutral,
    }
}

fn has_date(text: &str) -> bool {
    // Split at changes of script too: "1786年2月2日" holds the year 1786.
    let year_or_month = |(from, to, _): (usize, usize, _)| {
        let w = &text[from..to];
        let digits = w.trim_end_matches(['s', 'S']);
        (digits.len() == 4
            && digits.chars().all(|c| c.is_ascii_digit())
            && (1700..=2199).contains(&digits.parse::<u32>().unwrap_or(0)))
            || MONTHS.iter().any(|m| m.eq_ignore_ascii_case(w))
    };
    cjk_date(text) || analyzer::segments(text).any(year_or_month)
}

/// Numerals of Chinese and Japanese.
const HAN_NUMERALS: &[char] = &[
    '〇', '零', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千', '万', '萬',
    '亿', '億', '兩', '两',
];

/// Words of Chinese, Japanese and Korean that a number counts or dates.
const COUNTED: &[char] = &[
    '年', '月', '日', '个', '個', '人', '名', '次', '回', '位', '件', '倍', '岁', '歳', '歲', '년',
    '월', '일', '명', '개',
];

/// Whether `text` writes a number as Chinese, Japanese and Korean do: in
/// digits of any width or in numerals, joined to what it counts or to more
/// numerals ("一百六十万", "１６００万人", "三个", "7월"). A lone numeral
/// ("一般", "一些") is no number.
fn cjk_number(text: &str) -> bool {
    numbers_joined(text, |n| COUNTED.contains(&n) || HAN_NUMERALS.contains(&n))
}

/// Whether `text` writes a date as [`cjk_number`] reads numbers: joined to
/// "年", "月" or "日" ("二〇二五年七月", "2025년").
fn cjk_date(text: &str) -> bool {
    numbers_joined(text, |n| {
        matches!(n, '年' | '月' | '日' | '년' | '월' | '일')
    })
}

/// Whether a digit or numeral of `text` is followed by a character `joins`
/// accepts.
fn numbers_joined(text: &str, joins: impl Fn(char) -> bool) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if (c.is_numeric() || HAN_NUMERALS.contains(&c)) && chars.peek().is_some_and(|&n| joins(n))
        {
            return true;
        }
    }
    false
}

/// Units a "how long" question is answered in: "until the end of the month"
/// says how long as surely as "30 days" does.
const DURATION_WORDS: &[&str] = &[
    "second",
    "seconds",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "decade",
    "decades",
    "century",
    "centuries",
];

/// A number (in digits or words) that the question itself does not hold; for
/// "how long", a unit of time too.
fn has_number(text: &str, question: &str) -> bool {
    if cjk_number(text) {
        return true;
    }
    let q = question.to_lowercase();
    let how_long = q.contains("how long");
    let asked: Vec<&str> = analyzer::segments(&q).map(|(a, b, _)| &q[a..b]).collect();
    // Split at changes of script too: "人口约1600万" holds 1600.
    analyzer::segments(text)
        .map(|(a, b, _)| text[a..b].to_lowercase())
        .filter(|w| !asked.contains(&w.as_str()))
        .any(|w| {
            w.starts_with(|c: char| c.is_ascii_digit())
                || NUMBER_WORDS.contains(&w.as_str())
                || (how_long && DURATION_WORDS.contains(&w.as_str()))
        })
}

fn is_capitalised(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

/// Capitalised words that are not the first of a sentence and not in the question.
fn has_name(text: &str, question: &str) -> bool {
    let q = question.to_lowercase();
    text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .skip(1)
        .any(|w| is_capitalised(w) && !q.contains(&w.to_lowercase()))
}

/// A name right after words of the question: "Foreign Minister *Battsetseg*".
fn names_after(sentence: &str, matched: &[(usize, usize)], question: &str) -> bool {
    let q = question.to_lowercase();
    matched.iter().any(|&(_, to)| {
        let rest = sentence.get(to..).unwrap_or("");
        let next = rest
            .trim_start_matches([' ', ','])
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        rest.starts_with(' ') && is_capitalised(next) && !q.contains(&next.to_lowercase())
    })
}

/// Whether `text` names something a reader sets, types or calls that the question
/// does not: an identifier (`max_upload_size`, `promptType`), a flag (`--config`),
/// a path (`/etc/dex`), an assignment (`mode=disable`). In docs, the answer to "how
/// do I…" is the sentence that says which of these to use; the sentence restating
/// the problem shares more of the question's words but names none.
fn names_a_setting(text: &str, question: &str) -> bool {
    let q = question.to_lowercase();
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || "_-/.=".contains(c))))
        .map(|w| w.trim_end_matches(['.', '-']))
        .filter(|w| w.len() > 2 && !q.contains(&w.to_lowercase()))
        .any(|w| {
            let letters = |s: &str| s.chars().any(char::is_alphabetic);
            let inner = |sep: char| {
                w.split(sep).filter(|p| !p.is_empty()).count() > 1
                    && w.split(sep).all(|p| p.is_empty() || letters(p))
            };
            let camel = w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars().any(|c| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_alphanumeric());
            (w.starts_with("--") && letters(w))
                || camel
                || inner('_')
                || ((w.starts_with('/') || w.matches('/').count() > 1) && inner('/'))
                || (w.contains('=') && inner('='))
        })
}

/// Whether the question asks for a default: it names one ("default",
/// "defaults") and asks neither how nor why.
fn asks_default(q: &Sought<'_>) -> bool {
    !matches!(q.kind, Kind::How | Kind::Why) && states_default(q.text)
}

/// Whether `text` speaks of a default: "default", "defaults", "defaulted" — not
/// JavaScript's `export default`, which is no setting's.
fn states_default(text: &str) -> bool {
    let mut previous = "";
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let default = ["default", "defaults", "defaulted"]
            .iter()
            .any(|d| w.eq_ignore_ascii_case(d));
        if default && !previous.eq_ignore_ascii_case("export") {
            return true;
        }
        previous = w;
    }
    false
}

/// Whether `text` holds the kind of thing `kind` asks for.
pub fn holds_kind(kind: Kind, text: &str, question: &str) -> bool {
    // "3. Open the config.": the step's number is no number it states, and
    // "Open" is the first word of what it says, no name.
    let text = crate::text::without_item_number(text);
    match kind {
        Kind::When => has_date(text),
        Kind::HowMany => has_number(text, question),
        Kind::Who | Kind::Where => has_name(text, question),
        // "Which flag makes it write the file?", "which endpoint reloads
        // it?": in docs what a which-question asks for is as often a flag, a
        // setting or a path as a name.
        Kind::Which => has_name(text, question) || names_a_setting(text, question),
        Kind::How => names_a_setting(text, question),
        Kind::Why => text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| REASONS.iter().any(|r| r.eq_ignore_ascii_case(w))),
        _ => false,
    }
}

/// Where in `passage` the sentence that best answers `q` is, with its score, given
/// each sentence's coverage of the question and where in the passage its words
/// matched.
#[cfg(test)]
pub fn best_sentence(
    q: &Sought<'_>,
    passage: &str,
    coverage: impl Fn(Range<usize>) -> (f32, Vec<(usize, usize)>),
) -> Option<(Range<usize>, f32)> {
    best_sentence_with(q, passage, coverage, |_| 0.0)
}

/// What the choice of an answer sentence weighs of one sentence of a passage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figures {
    /// Where it is in the passage.
    pub range: Range<usize>,
    /// Its coverage of the question.
    pub coverage: f32,
    /// Whether it holds the kind of thing asked for ([`holds_kind`]).
    pub holds_kind: bool,
    /// For who/which: whether a name follows words of the question.
    pub names_after: bool,
    /// +1 when its tense is the question's, -1 when it is the other, else 0.
    pub tense: i8,
    /// What the caller adds to it (the semantic model's cosine, weighted).
    pub bonus: f32,
    /// The coverage of it and the next sentence together, when that is in the
    /// same paragraph (else 0).
    pub with_next: f32,
}

impl Figures {
    /// Its score in the choice, less the bonus; `i` its place in the passage.
    fn score(&self, i: usize) -> f32 {
        let mut score = self.coverage;
        if self.holds_kind {
            score += 0.3;
        }
        if self.names_after {
            score += 0.2;
        }
        score += match self.tense {
            1 => 0.15,
            -1 => -0.1,
            _ => 0.0,
        };
        score - 0.01 * i as f32
    }
}

/// Each sentence of `passage` ([`text::passage_sentences`], `code` its code)
/// with what the choice of an answer weighs of it.
pub fn figures(
    q: &Sought<'_>,
    passage: &str,
    code: &[(usize, usize)],
    coverage: impl Fn(Range<usize>) -> (f32, Vec<(usize, usize)>),
    bonus: impl Fn(usize) -> f32,
) -> Vec<Figures> {
    let sentences = text::passage_sentences(passage, code);
    sentences
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, range)| {
            let sentence = &passage[range.clone()];
            let with_next = sentences
                .get(i + 1)
                .filter(|n| one_paragraph(passage, &range, n))
                .map_or(0.0, |n| coverage(range.start..n.end).0);
            let (coverage, matched) = coverage(range.clone());
            let names_after = matches!(q.kind, Kind::Who | Kind::Which) && {
                let local: Vec<(usize, usize)> = matched
                    .iter()
                    .map(|&(a, b)| (a - range.start, b - range.start))
                    .collect();
                names_after(sentence, &local, q.text)
            };
            // Most questions ask in no tense: then no sentence's is read.
            let tense = match q.tense {
                Tense::Neutral => 0,
                asked => match sentence_tense(sentence) {
                    Tense::Neutral => 0,
                    said if said == asked => 1,
                    _ => -1,
                },
            };
            Figures {
                holds_kind: holds_kind(q.kind, sentence, q.text),
                range,
                coverage,
                names_after,
                tense,
                bonus: bonus(i),
                with_next,
            }
        })
        .collect()
}

/// [`best_sentence`], the choice also weighing `bonus` of each sentence (the
/// `i`th of [`text::sentences`]), which the score returned leaves out.
#[cfg(test)]
pub fn best_sentence_with(
    q: &Sought<'_>,
    passage: &str,
    coverage: impl Fn(Range<usize>) -> (f32, Vec<(usize, usize)>),
    bonus: impl Fn(usize) -> f32,
) -> Option<(Range<usize>, f32)> {
    choose(q, passage, &figures(q, passage, &[], coverage, bonus), true)
}

/// The answer sentence among `figures` (of `passage`'s sentences), chosen with
/// their bonus when `weighed`, and the score of the best by words alone (which
/// ranks the passage: the bonus sways only the choice).
pub fn choice(
    q: &Sought<'_>,
    passage: &str,
    figures: &[Figures],
    weighed: bool,
) -> Option<(Range<usize>, f32)> {
    let (range, lexical) = choose(q, passage, figures, false)?;
    if !weighed {
        return Some((range, lexical));
    }
    choose(q, passage, figures, true).map(|(range, _)| (range, lexical))
}

/// Which of `figures` (of `passage`'s sentences) answers best, by its score and,
/// when `with_bonus`, its bonus; with its score. A question after a default
/// ("the default port?", "is it on by default?") is answered by a sentence that
/// states one ("Default: 5173", "If unspecified, dex defaults to…") when the
/// passage has one: config references give a setting's default in a line of
/// its own that shares nothing else with the question, so it never wins on
/// words or meaning. The score is then still the best sentence's by words: it
/// ranks the passage.
fn pick(
    q: &Sought<'_>,
    passage: &str,
    figures: &[Figures],
    with_bonus: bool,
) -> Option<(usize, f32)> {
    // Which sentences state a default, when one is asked and some do.
    let defaults: Option<Vec<bool>> = asks_default(q)
        .then(|| {
            figures
                .iter()
                .map(|f| states_default(&passage[f.range.clone()]))
                .collect::<Vec<bool>>()
        })
        .filter(|states| states.contains(&true));
    let weighed = |j: usize| {
        let f = &figures[j];
        f.score(j) + if with_bonus { f.bonus } else { 0.0 }
    };
    let mut best: Option<(f32, f32, usize)> = None;
    for (i, f) in figures.iter().enumerate() {
        if defaults.as_ref().is_some_and(|states| !states[i]) {
            continue;
        }
        let score = f.score(i);
        let mut chosen_by = weighed(i);
        // "Default: 3s." says nothing of which setting it is the default of: the
        // sentence before it on its line (the list item or paragraph that names
        // the setting) does.
        if let Some(states) = &defaults
            && i > 0
            && !states[i - 1]
            && !passage[figures[i - 1].range.end..f.range.start].contains('\n')
        {
            chosen_by = chosen_by.max(weighed(i - 1));
        }
        if best.as_ref().is_none_or(|(c, _, _)| chosen_by > *c) {
            best = Some((chosen_by, score, i));
        }
    }
    let (_, score, i) = best?;
    if defaults.is_none() {
        return Some((i, score));
    }
    let top = figures.iter().enumerate().map(|(j, f)| f.score(j));
    Some((i, top.fold(score, f32::max)))
}

/// The answer sentence among `figures` (of `passage`'s sentences), weighing
/// their bonus or not, joined to a neighbour that holds what was asked when it
/// does not; with its score, bonus left out.
fn choose(
    q: &Sought<'_>,
    passage: &str,
    figures: &[Figures],
    with_bonus: bool,
) -> Option<(Range<usize>, f32)> {
    let (i, score) = pick(q, passage, figures, with_bonus)?;
    // The sentence that matches the question best may leave out what was asked
    // for (a date, a number, a name) while the next one, or the one before,
    // holds it ("…is home to Fort Hamilton. Established in 1825…"): the answer
    // is then both, in order. The score stays the best sentence's own.
    let sentences: Vec<Range<usize>> = figures.iter().map(|f| f.range.clone()).collect();
    let mut range = sentences[i].clone();
    let typed = matches!(
        q.kind,
        Kind::When | Kind::HowMany | Kind::Who | Kind::Where | Kind::Which | Kind::How
    );
    if typed && !holds_kind(q.kind, &passage[range.clone()], q.text) {
        // Only within one paragraph: not into the list or code after it; but
        // for "how do I…" that code or list may be what names the setting.
        let joinable = |a: &Range<usize>, b: &Range<usize>| {
            q.kind == Kind::How || one_paragraph(passage, a, b)
        };
        let next = sentences.get(i + 1).filter(|n| joinable(&range, n));
        let before = i
            .checked_sub(1)
            .and_then(|j| sentences.get(j))
            .filter(|b| joinable(b, &range));
        // A sentence that leads in ("…by using : as the delimiter:") is
        // answered by what follows it ([`extent`]), never by what came before.
        let leads_in = introduces(&passage[range.clone()]);
        if let Some(n) = next.filter(|n| holds_kind(q.kind, &passage[(*n).clone()], q.text)) {
            range.end = n.end;
        } else if let Some(b) =
            before.filter(|b| !leads_in && holds_kind(q.kind, &passage[(*b).clone()], q.text))
        {
            range.start = b.start;
        }
    }
    if range == sentences[i] {
        // The question's words may sit across two sentences of a paragraph
        // ("The SSL mode corresponds to the driver's options. If unspecified,
        // dex defaults to…" for "the default SSL mode?"): the answer is both when
        // together they cover clearly more of it than the best alone.
        let alone = figures[i].coverage;
        let next = figures[i].with_next - alone;
        let before = i
            .checked_sub(1)
            .map_or(0.0, |j| figures[j].with_next - alone);
        if next.max(before) >= PAIR_GAIN {
            if next >= before {
                range.end = sentences[i + 1].end;
            } else {
                range.start = sentences[i - 1].start;
            }
        }
    }
    if range == sentences[i] && matches!(q.kind, Kind::How | Kind::YesNo) {
        // "How do I keep the data?" / "Can I run it on SQLite?" is worded like
        // the sentence that states the situation ("…the data is cleared every
        // time the container restarts."), and answered by the one after it in
        // its paragraph ("To save your data, set up persistent storage."). On
        // the docs sets that took the answer from the right passage 10 times
        // in 480 questions; the sentence before, joined instead, never.
        if let Some(n) = sentences
            .get(i + 1)
            .filter(|n| one_paragraph(passage, &range, n))
        {
            range.end = n.end;
        }
    }
    Some((range, score))
}

/// Whether the sentences at `a` and, after it, `b` are of one paragraph of
/// `passage` (no blank line between).
fn one_paragraph(passage: &str, a: &Range<usize>, b: &Range<usize>) -> bool {
    !passage[a.end..b.start].contains("\n\n")
}

/// How much more of the question's weight a sentence and its neighbour must
/// cover together than the sentence alone for the answer to be both. On the
/// tuning sets (SQuAD train articles, Dex docs, seed questions), 0.15 took the
/// answer from the right passage 2.8, 3 and 2.5 points further (a random
/// neighbour as often: 0.5, 0 and 0), for 10% longer answers; 0.1 was a little
/// better on SQuAD at greater length, 0.2–0.4 worth less.
const PAIR_GAIN: f32 = 0.15;

/// Whether `text` (a sentence or paragraph) ends by leading in to what follows
/// it: a colon, or "as follows" / "the following" without one ("The refresh
/// timeline for each department is as follows" before its list).
fn introduces(text: &str) -> bool {
    let t = text.trim_end();
    if t.ends_with(':') {
        return true;
    }
    // Compared in place: this runs for each candidate passage's answer.
    let t = t.trim_end_matches('.').as_bytes();
    ["as follows", "the following"]
        .iter()
        .any(|p| t.len() >= p.len() && t[t.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes()))
}

/// Most bytes an answer line takes from the code or list after its sentence.
const MAX_BLOCK: usize = 700;

/// The answer's extent in `passage`: the sentence at `range`, and — when that
/// sentence ends its paragraph (or list item), or only one sentence stands
/// between — the code block or list the paragraph introduces: a code block
/// (`code`: byte ranges of code in `passage`) right after it, or what follows a
/// paragraph that ends in a colon. Up to [`MAX_BLOCK`] bytes, whole blocks or
/// lines. In docs the answer to "how do I…" is that block: "…add the following
/// entry to the config file:" is no answer without the entry. A typed question (when, how many…) whose sentence
/// already holds what was asked needs nothing more; a how-question's sentence
/// that names the setting still needs the block that sets it.
pub fn extent(
    q: &Sought<'_>,
    passage: &str,
    code: &[(usize, usize)],
    range: Range<usize>,
) -> Range<usize> {
    // The paragraph (or list item) the sentence ends in, and the block after it.
    let Some(paragraph_end) = passage[range.end..].find("\n\n").map(|i| range.end + i) else {
        return range;
    };
    let paragraph_start = passage[..range.start].rfind("\n\n").map_or(0, |i| i + 2);
    let block_start = paragraph_end + 2;
    let opened_by_code = code
        .iter()
        .any(|&(a, b)| a < paragraph_end && b > paragraph_start);
    let code_at = |at: usize| code.iter().any(|&(a, _)| a == at);
    // "Example configuration:" between the paragraph and its code leads in to
    // the code the paragraph is about.
    let lead_in = passage[block_start..].find("\n\n").is_some_and(|len| {
        text::is_lead_in(&passage[block_start..block_start + len])
            && !code_at(block_start)
            && code_at(block_start + len + 2)
    });
    let leads_on =
        code_at(block_start) || lead_in || introduces(&passage[paragraph_start..paragraph_end]);
    // A sentence that itself ends in a colon ("…with three exceptions:") says
    // what it holds only in what follows, whatever it names on the way.
    let complete = !(introduces(&passage[range.clone()])
        && passage[range.end..paragraph_end].trim().is_empty());
    if range.end > paragraph_end
        || opened_by_code
        || !leads_on
        || (q.kind != Kind::How && complete && holds_kind(q.kind, &passage[range.clone()], q.text))
        || text::sentences(&passage[range.end..paragraph_end]).len() > 1
    {
        return range;
    }
    let limit = passage.floor_char_boundary(block_start + MAX_BLOCK);
    if passage.len() <= limit {
        return range.start..passage.len();
    }
    // Whole blocks while they fit, else whole lines of the first.
    let cut = passage[..limit]
        .rfind("\n\n")
        .filter(|&i| i > block_start)
        .or_else(|| passage[..limit].rfind('\n').filter(|&i| i > block_start));
    match cut {
        Some(end) => range.start..end,
        None => range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a question of `kind` worded `text` seeks, in no tense.
    fn sought(text: &str, kind: Kind) -> Sought<'_> {
        Sought {
            text,
            kind,
            tense: Tense::Neutral,
        }
    }

    #[test]
    fn tense_of_sentences() {
        let table: &[(&str, Tense)] = &[
            (
                "The emperor is expected to visit in July 2025.",
                Tense::Future,
            ),
            ("He WILL arrive on Monday.", Tense::Future),
            ("He previously visited Mongolia in 2007.", Tense::Past),
            ("It was built two years ago.", Tense::Past),
            ("He had planned a visit.", Tense::Neutral),
            ("Mongolia borders Russia and China.", Tense::Neutral),
            ("The settlement's wasteland stayed bare.", Tense::Neutral),
            ("Die Reise war lang; ça a été — once.", Tense::Past),
            ("", Tense::Neutral),
        ];
        for &(sentence, want) in table {
            assert_eq!(sentence_tense(sentence), want, "{sentence}");
        }
    }

    #[test]
    fn kinds_held_by_text() {
        let table: &[(Kind, &str, bool)] = &[
            (Kind::When, "They will visit in July 2025.", true),
            (Kind::When, "Since the 1990s it has grown.", true),
            (Kind::When, "They will visit soon.", false),
            (Kind::HowMany, "About 14,000 people died.", true),
            (Kind::HowMany, "Seventy-five soldiers marched.", true),
            (Kind::HowMany, "Soldiers marched.", false),
            (Kind::HowMany, "Two countries agreed.", true),
            (Kind::Who, "She met Prime Minister Ishiba.", true),
            (Kind::Who, "She met the prime minister.", false),
            (Kind::Where, "The monument stands in Ulaanbaatar.", true),
            (Kind::Where, "the monument.", false),
            (Kind::HowMany, "In 2015 it rained.", false),
            (Kind::Why, "It aims to reduce dependence.", true),
            (Kind::How, "Set promptType in the config file.", true),
            (Kind::How, "Pass the offline_access scope.", true),
            (Kind::How, "Start it with --config and a file.", true),
            (Kind::How, "The keys live in /var/lib/dex.", true),
            (Kind::How, "Add sslmode=disable to the address.", true),
            (Kind::How, "Users see the consent screen each time.", false),
            (Kind::How, "Use one and/or the other, e.g. a file.", false),
            // A numbered step's number is neither a number it states nor
            // its first word a name.
            (Kind::HowMany, "3. Open the config.", false),
            (Kind::HowMany, "3. Open 4 ports.", true),
            (Kind::Which, "1. Open the config.", false),
            (Kind::Which, "1. Open the Caddyfile.", true),
            (Kind::Which, "Pass --overwrite to write it.", true),
            (Kind::Which, "It writes the input file.", false),
            // Scripts written without spaces: the number is its own word.
            (Kind::When, "1786年2月2日，亚洲协会在加尔各答举行。", true),
            (Kind::When, "亚洲协会在加尔各答举行。", false),
            (Kind::HowMany, "人口约1600万。", true),
            (Kind::HowMany, "人口很多。", false),
            (Kind::HowMany, "人口约一百六十万。", true),
            (Kind::HowMany, "一般来说，人口很多。", false),
            (Kind::When, "天皇陛下は二〇二五年七月に訪問される。", true),
            (Kind::When, "２０２５年に訪問される。", true),
            (Kind::When, "一般に訪問される。", false),
        ];
        for (kind, text, expect) in table {
            assert_eq!(
                holds_kind(*kind, text, "question about 2015"),
                *expect,
                "{kind:?} {text}"
            );
        }
        // Numbers in words, and for "how long" a unit of time.
        let table: &[(&str, &str, bool)] = &[
            (
                "how many times was he shot?",
                "He was shot seventeen times.",
                true,
            ),
            ("how many times was he shot?", "He was shot twice.", true),
            (
                "how many times was he shot?",
                "He was shot on his way out.",
                false,
            ),
            (
                "how long does cover last?",
                "It ends at the end of the month.",
                true,
            ),
            (
                "how long does cover last?",
                "It ends when you leave.",
                false,
            ),
            (
                "how many months does cover last?",
                "It ends at the end of the month.",
                false,
            ),
        ];
        for (question, text, expect) in table {
            assert_eq!(
                holds_kind(Kind::HowMany, text, question),
                *expect,
                "{question} {text}"
            );
        }
    }

    #[test]
    fn freshness_flags_plans_whose_date_has_passed() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let table: &[(&str, chrono::NaiveDate, Option<&str>)] = &[
            (
                "Naruhito and Masako are expected to visit Mongolia in July 2025.",
                d(2026, 11, 28),
                Some("July 2025"),
            ),
            (
                "Naruhito and Masako are expected to visit Mongolia in July 2025.",
                d(2025, 7, 15),
                None,
            ),
            (
                "Naruhito and Masako are expected to visit Mongolia in July 2025.",
                d(2025, 8, 1),
                Some("July 2025"),
            ),
            (
                "Xi Jinping will visit Russia on May 9, 2025.",
                d(2025, 5, 10),
                Some("May 9, 2025"),
            ),
            (
                "The summit will be held in 2024.",
                d(2025, 1, 1),
                Some("2024"),
            ),
            (
                "Naruhito previously visited Mongolia in 2007.",
                d(2026, 1, 1),
                None,
            ),
            ("They will meet again soon.", d(2026, 1, 1), None),
        ];
        for (sentence, today, expect) in table {
            assert_eq!(
                overdue(sentence, *today).as_deref(),
                *expect,
                "{sentence} on {today}"
            );
        }
    }

    #[test]
    fn best_sentence_prefers_the_asked_kind_and_tense() {
        let passage = "The visit was the start of a banner year. Naruhito and Masako are expected to visit Mongolia in July 2025. Naruhito previously visited Mongolia in 2007, when he was the crown prince.";
        // Equal word coverage for every sentence: kind and tense decide.
        let flat = |_: Range<usize>| (0.5, Vec::new());
        let q = |text, kind, tense| Sought { text, kind, tense };
        let future = best_sentence(
            &q(
                "when is the emperor visiting mongolia",
                Kind::When,
                Tense::Future,
            ),
            passage,
            flat,
        )
        .unwrap()
        .0;
        let future = &passage[future];
        assert!(future.contains("July 2025"), "{future}");
        let past = best_sentence(
            &q(
                "when was naruhito last in mongolia",
                Kind::When,
                Tense::Past,
            ),
            passage,
            flat,
        )
        .unwrap()
        .0;
        let past = &passage[past];
        assert!(past.contains("2007"), "{past}");
    }

    #[test]
    fn a_question_after_a_default_is_answered_by_the_line_that_states_it() {
        // Word coverage favours the sentence that shares the question's words;
        // the line that gives the default shares none but "default".
        let passage = "Specify the server port. Note if the port is already being used, Vite will try the next available port.\n\nDefault: 5173\n\nexport default defineConfig({ server: { port: 3030 } })";
        let by_words = |question: &'static str| {
            move |r: Range<usize>| {
                let s = passage[r].to_lowercase();
                let words = question.split(' ').filter(|w| w.len() > 3);
                let hits = words.filter(|w| s.contains(*w)).count();
                (0.2 * hits as f32, Vec::new())
            }
        };
        let cases: &[(&str, Kind, &str)] = &[
            // (question, its kind, what the answer holds)
            (
                "what is the default server port",
                Kind::What,
                "Default: 5173",
            ),
            (
                "is the server port 5173 by default?",
                Kind::YesNo,
                "Default: 5173",
            ),
            // No default asked: the words decide.
            (
                "what happens when the port is already being used",
                Kind::What,
                "next available port",
            ),
            // How-to questions are answered by what to do, not by the default.
            ("how do I change the default server port", Kind::How, "port"),
        ];
        for &(text, kind, holds) in cases {
            let q = sought(text, kind);
            let figures = figures(&q, passage, &[], by_words(text), |_| 0.0);
            let (range, _) = choice(&q, passage, &figures, true).unwrap();
            let answer = &passage[range];
            assert!(answer.contains(holds), "{text}: {answer}");
            if kind == Kind::How {
                assert!(!answer.starts_with("Default"), "{text}: {answer}");
            }
        }
        // Several settings on their own lines, each with its default: the
        // default on the line of the setting asked, though another default's
        // line shares more words with the question.
        let passage = "dial_timeout is how long to wait when connecting to the upstream. Default: 3s.\n\nresponse_timeout is how long to wait for the upstream to answer. Default: no timeout.";
        let q = sought("what is the default dial timeout", Kind::What);
        let words = |r: Range<usize>| {
            let s = passage[r].to_lowercase();
            let hits = ["dial", "timeout", "default"]
                .iter()
                .filter(|w| s.contains(*w));
            (0.3 * hits.count() as f32, Vec::new())
        };
        let figures = figures(&q, passage, &[], words, |_| 0.0);
        let (range, _) = choice(&q, passage, &figures, true).unwrap();
        let answer = &passage[range];
        assert!(
            answer.contains("Default: 3s.") && !answer.contains("no timeout"),
            "{answer}"
        );
        // "export default" is JavaScript's, no setting's default.
        assert!(!states_default("export default defineConfig({})"));
        assert!(states_default(
            "If unspecified, dex defaults to the strictest mode."
        ));
    }

    #[test]
    fn the_code_or_list_a_sentence_introduces_joins_the_answer() {
        let q = sought;
        let how = q("how do i expose the grpc api", Kind::How);
        let intro = "Admins must add the following entry to the config file. It is off by default.";
        let code = "grpc:\n  addr: 127.0.0.1:5557";
        let passage = format!("{intro}\n\n{code}");
        let code_at = [(intro.len() + 2, passage.len())];
        let first = text::sentences(&passage)[0].clone();
        let last = text::sentences(&passage)[1].clone();
        // The paragraph's last sentence, or the one before it: through the code.
        assert_eq!(
            &passage[extent(&how, &passage, &code_at, last.clone())],
            &passage[last.start..]
        );
        assert_eq!(
            &passage[extent(&how, &passage, &code_at, first.clone())],
            passage
        );
        // Two sentences between: the sentence alone.
        let long = format!("Add this. Then that. And more.\n\n{code}");
        let s0 = text::sentences(&long)[0].clone();
        let at = long.find("\n\n").unwrap() + 2;
        assert_eq!(extent(&how, &long, &[(at, long.len())], s0.clone()), s0);
        // A passage without blocks, or a sentence inside the block: unchanged.
        assert_eq!(extent(&how, intro, &[], first.clone()), first);
        let inside = passage.len() - 4..passage.len();
        assert_eq!(extent(&how, &passage, &code_at, inside.clone()), inside);
        // What follows a paragraph is no block it introduces unless it is code
        // or the paragraph ends in a colon: list items, a passage opened by code.
        let items = "Fixed crash on login.\n\nAdded dark mode.";
        let s = text::sentences(items)[0].clone();
        assert_eq!(extent(&how, items, &[], s.clone()), s);
        let listed = "Each user has these fields:\n\nemail: the address.";
        let s = text::sentences(listed)[0].clone();
        assert_eq!(&listed[extent(&how, listed, &[], s)], listed);
        // "As follows" or "the following" leads in as a colon does.
        for lead in [
            "The refresh timeline is as follows",
            "The limits are the following.",
        ] {
            let listed = format!("{lead}\n\nEngineering: 2.5 years\n\nSales: 4 years");
            let s = text::sentences(&listed)[0].clone();
            assert_eq!(&listed[extent(&how, &listed, &[], s)], listed, "{lead}");
        }
        let ends = "Most of it follows.\n\nAdded dark mode.";
        let s = text::sentences(ends)[0].clone();
        assert_eq!(extent(&how, ends, &[], s.clone()), s);
        // A later paragraph or list item introduces its block as the first does.
        let later = format!("Install it first.\n\nThen expose the api:\n\n{code}");
        let s = text::sentences(&later)[1].clone();
        let at = later.len() - code.len();
        assert_eq!(
            &later[extent(&how, &later, &[(at, later.len())], s)],
            format!("Then expose the api:\n\n{code}")
        );
        // A short lead-in ("Example configuration:") between the paragraph and
        // its code: through both. A longer paragraph ending in a colon is
        // another paragraph, with its own block.
        let led = format!("The largest upload allowed.\n\nExample configuration:\n\n{code}");
        let s = text::sentences(&led)[0].clone();
        let at = led.len() - code.len();
        assert_eq!(
            &led[extent(&how, &led, &[(at, led.len())], s)],
            led.as_str()
        );
        let other = format!(
            "The largest upload allowed.\n\nProxies have limits of their own, set them too:\n\n{code}"
        );
        let s = text::sentences(&other)[0].clone();
        let at = other.len() - code.len();
        assert_eq!(extent(&how, &other, &[(at, other.len())], s.clone()), s);
        let opened = "x = 1\n\ny = 2";
        assert_eq!(extent(&how, opened, &[(0, 5), (7, 12)], 0..5), 0..5);
        // A typed question whose sentence holds what was asked needs no block.
        let named = format!("Set grpc_addr in the config file:\n\n{code}");
        let s = text::sentences(&named)[0].clone();
        let at = named.find("\n\n").unwrap() + 2;
        assert_eq!(
            &named[extent(&how, &named, &[(at, named.len())], s)],
            named,
            "a sentence naming the setting still brings the code that sets it"
        );
        let when = q("when was it added", Kind::When);
        let dated = format!("It was added in 2021.\n\n{code}");
        let s = text::sentences(&dated)[0].clone();
        assert_eq!(extent(&when, &dated, &[(23, dated.len())], s.clone()), s);
        // …unless the sentence ends in a colon: what it names is in its list.
        let which = q("which headers does caddy set by default", Kind::Which);
        let listed = "By default, Caddy passes Host through, with three exceptions:\n\n\
                      It sets X-Forwarded-For.\n\nIt sets X-Forwarded-Proto.";
        let s = text::sentences(listed)[0].clone();
        assert!(holds_kind(Kind::Which, &listed[s.clone()], which.text));
        assert_eq!(&listed[extent(&which, listed, &[], s)], listed);
        // A block longer than the limit is cut at a line, never mid-line.
        let big: String = (0..200).map(|i| format!("key_{i}: value\n")).collect();
        let huge = format!("Set these:\n\n{big}");
        let s = text::sentences(&huge)[0].clone();
        let got = &huge[extent(&how, &huge, &[(12, huge.len())], s)];
        assert!(
            got.len() <= 12 + MAX_BLOCK && got.ends_with("value"),
            "{got:?}"
        );
        // Cut within the limit at a character boundary, whatever the script.
        for filler in ["设", "é", "’"] {
            let block = filler.repeat(400);
            let text = format!("在配置文件中添加以下内容：\n\n{block}");
            let s = text::sentences(&text)[0].clone();
            let r = extent(
                &how,
                &text,
                &[(text.len() - block.len(), text.len())],
                s.clone(),
            );
            assert_eq!(r, s, "one line longer than the limit: the sentence alone");
        }
    }

    #[test]
    fn a_neighbour_holding_what_was_asked_joins_the_answer() {
        let passage = "The city is home to Fort Hamilton, the only active duty base. It was established in 1825 in Brooklyn. Tourists visit it.";
        let first = text::sentences(passage)[0].clone();
        // The first sentence matches the question's words; only the second has a date.
        let cover = |r: Range<usize>| (if r == first { 0.9 } else { 0.1 }, Vec::new());
        let q = sought;
        let (when, score) = best_sentence(
            &q("when was fort hamilton built", Kind::When),
            passage,
            cover,
        )
        .unwrap();
        assert_eq!(
            &passage[when],
            "The city is home to Fort Hamilton, the only active duty base. It was established in 1825 in Brooklyn."
        );
        assert!(score < 1.0, "the score is the best sentence's own: {score}");
        // What-questions ask for no kind of thing: the best sentence alone.
        let (what, _) =
            best_sentence(&q("what is fort hamilton", Kind::What), passage, cover).unwrap();
        let what = &passage[what];
        assert!(what.ends_with("active duty base."), "{what}");
        // A sentence that leads in to what follows is never joined to the one
        // before it: what it leads in to is its answer.
        let docs = "Set grpc_addr in the config file.\n\nA fallback can be given after a colon:\n\nThen restart.";
        let lead = text::sentences(docs)[1].clone();
        let cover = |r: Range<usize>| (if r == lead { 0.9 } else { 0.1 }, Vec::new());
        let how = q("how do i give a fallback", Kind::How);
        let (got, _) = best_sentence(&how, docs, cover).unwrap();
        assert_eq!(&docs[got], "A fallback can be given after a colon:");
        let plain = docs.replace("colon:", "colon.");
        let (got, _) = best_sentence(&how, &plain, cover).unwrap();
        assert!(
            plain[got].starts_with("Set grpc_addr"),
            "without the colon it is"
        );
    }

    #[test]
    fn a_how_or_yes_no_question_is_answered_by_what_follows_its_restatement() {
        // Only the first sentence shares the question's words.
        let only_first = |passage: &str| {
            let first = text::sentences(passage)[0].clone();
            move |r: Range<usize>| (if r == first { 0.9 } else { 0.0 }, Vec::new())
        };
        let passage = "Data is kept in /prometheus, so it is cleared when the container restarts. To save it, mount a volume. Backups are separate.\n\nOther text.";
        let q = sought;
        let restated = "Data is kept in /prometheus, so it is cleared when the container restarts.";
        let table = [
            (
                Kind::How,
                "how do i keep data when the container restarts",
                true,
            ),
            (
                Kind::YesNo,
                "is data kept when the container restarts",
                true,
            ),
            (
                Kind::What,
                "what is cleared when the container restarts",
                false,
            ),
            (
                Kind::Why,
                "why is data cleared when the container restarts",
                false,
            ),
        ];
        for (kind, text, joined) in table {
            let (range, _) = best_sentence(&q(text, kind), passage, only_first(passage)).unwrap();
            let want = if joined {
                format!("{restated} To save it, mount a volume.")
            } else {
                restated.to_string()
            };
            assert_eq!(passage[range].to_string(), want, "{kind:?}");
        }
        // Not across a paragraph: the sentence ends its own.
        let alone = "Data is cleared when the container restarts.\n\nMount a volume.";
        let how = q("how do i keep data when the container restarts", Kind::How);
        let (range, _) = best_sentence(&how, alone, only_first(alone)).unwrap();
        assert_eq!(
            &alone[range],
            "Data is cleared when the container restarts."
        );
    }

    #[test]
    fn an_answer_spans_two_sentences_that_together_cover_the_question() {
        // Coverage: the share of the question's words the range holds.
        let cover_of = |asked: &'static [&'static str], passage: &'static str| {
            move |r: Range<usize>| {
                let lower = passage[r].to_lowercase();
                let found = asked.iter().filter(|w| lower.contains(*w)).count();
                (found as f32 / asked.len() as f32, Vec::new())
            }
        };
        let what = |text| sought(text, Kind::What);
        let table: &[(&str, &[&str], &str, &str)] = &[
            (
                "the words split across two sentences: both",
                &["ssl", "mode", "mysql", "default"],
                "Use TLS. The SSL mode follows the mysql driver. If unspecified, it defaults to true.\n\nOther text.",
                "The SSL mode follows the mysql driver. If unspecified, it defaults to true.",
            ),
            (
                "the neighbour adds nothing asked: the sentence alone",
                &["ssl", "mode", "mysql"],
                "Use TLS. The SSL mode follows the mysql driver. If unspecified, it defaults to true.",
                "The SSL mode follows the mysql driver.",
            ),
            (
                "not across a paragraph",
                &["ssl", "mode", "mysql", "default"],
                "The SSL mode follows the mysql driver.\n\nIf unspecified, it defaults to true.",
                "The SSL mode follows the mysql driver.",
            ),
        ];
        for (case, asked, passage, want) in table {
            let passage: &'static str = passage;
            let (range, _) = best_sentence(&what("q"), passage, cover_of(asked, passage)).unwrap();
            assert_eq!(&passage[range], *want, "{case}");
        }
    }

    #[test]
    fn a_bonus_sways_the_choice_but_not_the_score() {
        let passage =
            "The shelter opened in 1990. Volunteers walk the dogs at dawn. The cats sleep.";
        let ranges = text::sentences(passage);
        // Words alone favour the first sentence a little.
        let cover = |r: Range<usize>| (if r == ranges[0] { 0.5 } else { 0.4 }, Vec::new());
        let sought = sought("who takes the dogs out", Kind::What);
        let cases: [(&str, [f32; 3], &str); 3] = [
            ("no bonus", [0.0; 3], "The shelter opened in 1990."),
            (
                "a small one",
                [0.0, 0.05, 0.0],
                "The shelter opened in 1990.",
            ),
            (
                "one past the gap",
                [0.0, 0.5, 0.0],
                "Volunteers walk the dogs at dawn.",
            ),
        ];
        for (what, bonus, want) in cases {
            let (range, score) = best_sentence_with(&sought, passage, cover, |i| bonus[i]).unwrap();
            assert_eq!(&passage[range.clone()], want, "{what}");
            let own = cover(range).0
                - 0.01
                    * ranges
                        .iter()
                        .position(|r| passage[r.clone()] == *want)
                        .unwrap() as f32;
            assert!(
                (score - own).abs() < 1e-6,
                "{what}: the score is the sentence's own"
            );
        }
    }
}
