//! Text analysis: the one definition of how knowledge text and questions become
//! index terms. The same pipeline feeds tantivy at index time and the query builder
//! and highlighter at question time, so a word in a question always meets the same
//! term it became in a passage.
//!
//! Pipeline: words → lowercase → ASCII folding → British→American spelling →
//! stop words → Snowball stemming, as English but for words in Cyrillic, Greek
//! and Arabic letters ([`Stemmers`]). Chinese, Japanese and Korean, and Thai
//! and its neighbours, written without spaces between words, become pairs of
//! characters ([`Script`]). A stop word written in capitals
//! ("US", "IT", "WHO") is an acronym, not the word, and is kept ([`acronym`]).
//! A second pipeline keeps only the first [`PREFIX_LEN`] characters of each
//! word; it is a weak recall signal for derivations the stemmer keeps apart
//! ("expand" / "expansion").

use std::cell::RefCell;
use std::sync::Arc;

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// Name under which the stemming analyzer is registered with tantivy.
pub const STEMMED: &str = "citebot_en";
/// Name under which the prefix analyzer is registered with tantivy.
pub const PREFIX: &str = "citebot_prefix";
/// How many leading characters the prefix analyzer keeps.
pub const PREFIX_LEN: usize = 5;

/// English stop words: never indexed, never searched.
pub const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "s",
    "t",
    "d",
    "ll",
    "m",
    "re",
    "ve",
    "also",
    "whose",
    "shall",
    "may",
    "might",
    "must",
    "us",
    "let",
    "yet",
    "ever",
];

/// Words that only frame a question ("tell me", "how many", "last time") and never
/// carry its topic. Dropped from questions, kept in passages.
pub const QUESTION_FILLER: &[&str] = &[
    "many",
    "much",
    "tell",
    "know",
    "please",
    "explain",
    "describe",
    "happen",
    "happened",
    "happening",
    "happens",
    "kind",
    "sort",
    "type",
    "thing",
    "things",
    "anything",
    "something",
    "info",
    "information",
    "regarding",
    "anyone",
    "someone",
    "hey",
    "hi",
    "hello",
    "thanks",
    "thank",
    "give",
    "show",
    "find",
    "last",
    "time",
    "times",
    "exactly",
    "currently",
    "current",
    "recently",
    "recent",
    "say",
    "says",
    "said",
    "mean",
    "means",
    // "Where is X located?": the frame of a where-question, not its subject.
    "located",
    "situated",
    "like",
    "want",
    "wanted",
    "need",
    "get",
    "got",
    "ask",
    "asking",
    "question",
    "answer",
    "details",
    "detail",
    "actually",
    "really",
    "supposed",
    "happening",
    "long",
    "ago",
    "year",
    "date",
    "day",
    "place",
    "number",
    "name",
    "named",
    "called",
    "people",
    "person",
    "whats",
    "wheres",
    "whens",
    "whos",
    "hows",
    "use",
    "uses",
    "used",
    "using",
    "going",
    "gonna",
    "come",
    "comes",
    "coming",
    "came",
    "gets",
    "getting",
];

/// Builds the stemming analyzer used for the title, heading and body fields.
/// (British spellings become American inside [`to_term`], through its memo.)
pub fn stemmed() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(MapFilter(mark_acronym))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(MapFilter(to_term))
        .build()
}

/// Builds the prefix analyzer: normalised words cut to [`PREFIX_LEN`] characters;
/// shorter words are dropped (the stemmed field already matches them exactly).
pub fn prefix() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(MapFilter(american_spelling))
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(MapFilter(truncate_to_prefix))
        .build()
}

/// Words of this many bytes or more are dropped (identifiers, URLs glued together).
const MAX_WORD_BYTES: usize = 40;

/// Whether `word`, as written, is a stop word in capitals: "US" in "US
/// payday schedule", "IT" in "ask IT for a laptop", "WHO" for the
/// organisation. Written so, it names something, and a question that names
/// it must meet the passages that do; the pronoun "us" or "it" stays a stop
/// word. Two or three letters: a longer stop word in capitals ("ABOUT",
/// "WHICH") is a heading shouting, not an acronym. "AND", "OR" and "NOT" are
/// the search syntax people carry over from search engines ("naadam AND
/// festival"), not names.
pub fn acronym(word: &str) -> bool {
    let mut lower = [0u8; 3];
    (2..=3).contains(&word.len())
        && !matches!(word, "AND" | "OR" | "NOT")
        && word.bytes().all(|b| b.is_ascii_uppercase())
        && {
            lower[..word.len()].copy_from_slice(word.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(&lower[..word.len()]).is_ok_and(is_stop_word)
        }
}

/// Appended to an [`acronym`] before it is lowercased, so that the stop-word
/// test further on tells "US" from "us". Never part of a term.
const ACRONYM_MARK: char = '\u{7f}';

/// Marks an [`acronym`] with [`ACRONYM_MARK`] (a token filter, ahead of the
/// lowercasing).
fn mark_acronym(word: &mut String) -> bool {
    if acronym(word) {
        word.push(ACRONYM_MARK);
    }
    true
}

/// Both analyses of a text in one pass — the terms of [`stemmed`] and the prefixes
/// of [`prefix`], exactly what those analyzers give — for re-scoring candidates,
/// where analysing each passage was most of a question's work.
#[derive(Clone)]
pub struct Both {
    /// Lowercasing and folding as tantivy does them, for the rare word that is not
    /// plain ASCII; ASCII words are lowercased in place.
    folding: TextAnalyzer,
}

impl Default for Both {
    fn default() -> Self {
        Both {
            folding: TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        }
    }
}

/// What re-scoring one question looks for in a passage: the terms and prefixes of
/// its units. [`Both::analyze_for`] skips every other word, most of them without
/// even a memo lookup.
pub struct Wanted {
    terms: Vec<(u64, Box<str>)>,
    prefixes: Vec<(u64, Box<str>)>,
    /// ASCII first letters a word needs to yield a wanted term or prefix: lowercasing,
    /// folding, spelling and the stemmer keep a word's first letter, and the few
    /// irregular verbs that do not ("went" → "go") are added.
    first: [bool; 128],
}

fn hash_of(s: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

impl Wanted {
    /// The terms (index terms, as [`stemmed`] gives them) and prefixes to look for.
    pub fn new<'a>(
        terms: impl IntoIterator<Item = &'a str>,
        prefixes: impl IntoIterator<Item = &'a str>,
    ) -> Wanted {
        let keyed = |words: &mut dyn Iterator<Item = &'a str>| -> Vec<(u64, Box<str>)> {
            let mut v: Vec<(u64, Box<str>)> = words.map(|w| (hash_of(w), w.into())).collect();
            v.sort();
            v.dedup();
            v
        };
        let terms = keyed(&mut terms.into_iter());
        let prefixes = keyed(&mut prefixes.into_iter());
        let mut first = [false; 128];
        for (_, w) in terms.iter().chain(&prefixes) {
            if let Some(&b) = w.as_bytes().first().filter(|b| b.is_ascii()) {
                first[usize::from(b)] = true;
            }
        }
        for (form, base) in IRREGULAR {
            let (f, b) = (form.as_bytes()[0], base.as_bytes()[0]);
            if first[usize::from(b)] {
                first[usize::from(f)] = true;
            }
        }
        Wanted {
            terms,
            prefixes,
            first,
        }
    }

    fn has(list: &[(u64, Box<str>)], hash: u64, s: &str) -> bool {
        list.iter().any(|(h, w)| *h == hash && **w == *s)
    }

    /// Whether a word starting with `byte` may yield something wanted.
    fn may_start(&self, byte: u8) -> bool {
        !byte.is_ascii() || self.first[usize::from(byte.to_ascii_lowercase())]
    }
}

/// What the word before the current one yields, for [`Term::joined`]: known when
/// it was looked up, else found out only if a phrase needs it.
#[derive(Clone, Copy)]
enum Before {
    Known { term: bool, prefix: bool },
    Unknown { from: usize, to: usize },
}

impl Both {
    /// `(terms(stemmed, text), terms(prefix, text))`: the full analysis, which
    /// tests compare [`Both::analyze_for`] with.
    #[cfg(test)]
    pub fn analyze(&mut self, text: &str) -> (Vec<Term>, Vec<Term>) {
        self.run(text, None)
    }

    /// Only the terms and prefixes of `analyze(text)` that `wanted` holds: what
    /// scoring a passage against one question needs, at a fraction of the cost.
    /// [`Term::joined`] refers to the terms kept, so phrases match as they would in
    /// the full analysis.
    pub fn analyze_for(&mut self, text: &str, wanted: &Wanted) -> (Vec<Term>, Vec<Term>) {
        self.run(text, Some(wanted))
    }

    fn run(&mut self, text: &str, wanted: Option<&Wanted>) -> (Vec<Term>, Vec<Term>) {
        let (mut terms, mut prefixes) = (Vec::<Term>::new(), Vec::<Term>::new());
        let mut buf = [0u8; MAX_WORD_BYTES];
        let mut folded = None;
        let nothing = Before::Known {
            term: false,
            prefix: false,
        };
        let mut before = nothing;
        for (position, (from, to)) in words(text).enumerate() {
            let word = &text[from..to];
            if word.len() >= MAX_WORD_BYTES {
                before = nothing;
                continue;
            }
            if wanted.is_some_and(|w| !w.may_start(word.as_bytes()[0])) {
                before = Before::Unknown { from, to };
                continue;
            }
            let key = self.normal(word, &mut buf, &mut folded);
            // Terms and prefixes come from the per-thread memo as shared strings:
            // a passage's analysis allocates nothing per word.
            let (yields, term, prefix) = with_analysed(key, |a| {
                let keep =
                    |found: &Option<Arc<str>>, hash: u64, list: Option<&[(u64, Box<str>)]>| {
                        found
                            .as_ref()
                            .filter(|s| list.is_none_or(|l| Wanted::has(l, hash, s)))
                            .cloned()
                    };
                (
                    Before::Known {
                        term: a.term.is_some(),
                        prefix: a.prefix.is_some(),
                    },
                    keep(&a.term, a.term_hash, wanted.map(|w| &w.terms[..])),
                    keep(&a.prefix, a.prefix_hash, wanted.map(|w| &w.prefixes[..])),
                )
            });
            for (found, list, is_prefix) in
                [(prefix, &mut prefixes, true), (term, &mut terms, false)]
            {
                if let Some(found) = found {
                    let joined = self.joined(text, list, position, before, is_prefix);
                    list.push(Term {
                        text: found,
                        position,
                        from,
                        to,
                        joined,
                    });
                }
            }
            before = yields;
        }
        (terms, prefixes)
    }

    /// [`Term::joined`] for a term at `position` about to join `list` (of terms, or
    /// of prefixes), the word before it being `before`.
    fn joined(
        &mut self,
        text: &str,
        list: &[Term],
        position: usize,
        before: Before,
        prefix: bool,
    ) -> bool {
        let Some(last) = list.last() else {
            return false;
        };
        if last.position + 1 == position {
            return true;
        }
        if last.position + 2 != position {
            return false;
        }
        // One word between: joined when that word adds nothing to the list.
        let yields = |a: &Analysed| {
            if prefix {
                a.prefix.is_some()
            } else {
                a.term.is_some()
            }
        };
        match before {
            Before::Known { term, prefix: p } => !(if prefix { p } else { term }),
            Before::Unknown { from, to } => {
                let mut buf = [0u8; MAX_WORD_BYTES];
                let mut folded = None;
                let key = self.normal(&text[from..to], &mut buf, &mut folded);
                !with_analysed(key, yields)
            }
        }
    }

    /// A word lowercased and folded, as the memo is keyed: ASCII in `buf`, anything
    /// else through tantivy's own filters.
    fn normal<'b>(
        &mut self,
        word: &'b str,
        buf: &'b mut [u8; MAX_WORD_BYTES],
        folded: &'b mut Option<String>,
    ) -> &'b str {
        if word.is_ascii() {
            // As the analyzers key it: an acronym lowercased and marked.
            let marked = acronym(word);
            let len = word.len() + usize::from(marked);
            buf[..word.len()].copy_from_slice(word.as_bytes());
            if marked {
                buf[word.len()] = ACRONYM_MARK as u8;
            }
            let out = &mut buf[..len];
            out.make_ascii_lowercase();
            // ASCII bytes are always UTF-8.
            return std::str::from_utf8(out).unwrap_or_default();
        }
        let mut stream = self.folding.token_stream(word);
        stream.advance();
        folded.insert(std::mem::take(&mut stream.token_mut().text))
    }
}

/// The writing systems word splitting tells apart. Chinese, Japanese and
/// Korean are written without spaces between words (Korean with spaces between
/// phrases, their particles attached), so a run of their letters is no word:
/// it is cut into overlapping pairs of characters ([`words`]), as Lucene's CJK
/// analyzer cuts it, which needs no dictionary. Japanese hiragana writes
/// mostly the grammar around the words (particles, verb endings: "は", "を",
/// "します"), so a run of it is one word, and a stop word ([`is_stop_word`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Latin, Cyrillic, Greek, digits and the rest: words between spaces.
    Spaced,
    Han,
    Hiragana,
    Katakana,
    Hangul,
    /// Thai, Lao, Khmer and Burmese: no spaces between words either, and
    /// vowel and tone marks that belong to the letters around them.
    Southeast,
}

impl Script {
    /// The script of an alphanumeric character.
    pub fn of(c: char) -> Script {
        match u32::from(c) {
            0x3040..=0x309F => Script::Hiragana,
            // With the prolonged sound mark "ー" and half-width katakana.
            0x30A0..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Katakana,
            // With the iteration mark "々" and the ideographic zero "〇".
            0x3005 | 0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
            0x20000..=0x3134F => Script::Han,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xAC00..=0xD7AF => Script::Hangul,
            // Thai, Lao, Burmese (with its extensions) and Khmer (with its symbols).
            0x0E00..=0x0EFF | 0x1000..=0x109F | 0xA9E0..=0xA9FF | 0xAA60..=0xAA7F => {
                Script::Southeast
            }
            0x1780..=0x17FF | 0x19E0..=0x19FF => Script::Southeast,
            _ => Script::Spaced,
        }
    }

    /// Whether a run of this script is cut into pairs of characters.
    pub fn paired(self) -> bool {
        matches!(
            self,
            Script::Han | Script::Katakana | Script::Hangul | Script::Southeast
        )
    }
}

/// Whether most of the letters of `text` are Latin (with its accented and
/// full-width forms): the only letters the semantic model's vocabulary holds
/// word pieces of. Of its 30,522 pieces, the longer ones are all Latin but 14
/// (8 Cyrillic, 4 Greek, 2 Arabic); Devanagari, Thai, Hebrew and the rest it
/// reads one letter at a time.
pub fn mostly_latin(text: &str) -> bool {
    let latin = |c: char| {
        c.is_ascii_alphabetic()
            || matches!(u32::from(c),
                0xC0..=0x24F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF
                | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A)
    };
    // Digits and signs alone it reads.
    share_of_letters(text, latin).is_none_or(|(of, all)| of * 2 > all)
}

/// Whether most of the letters of `text` are of scripts read as pairs of
/// characters ([`Script::paired`]: Chinese, Japanese, Korean, Thai…).
pub fn mostly_paired(text: &str) -> bool {
    share_of_letters(text, |c| Script::of(c) != Script::Spaced)
        .is_some_and(|(of, all)| of * 2 > all)
}

/// How many of the letters of `text` are `such`, and how many letters it has;
/// `None` when it has none.
fn share_of_letters(text: &str, such: impl Fn(char) -> bool) -> Option<(usize, usize)> {
    let (mut letters, mut of) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        of += usize::from(such(c));
    }
    (letters > 0).then_some((of, letters))
}

/// Whether `c` is part of a word: a letter or digit, or a mark of the Thai
/// family's scripts (a Thai tone mark is no letter, yet part of the word).
pub fn in_word(c: char) -> bool {
    c.is_alphanumeric()
        || (Script::of(c) == Script::Southeast && unicode_normalization::char::is_combining_mark(c))
}

/// Byte ranges of the runs of `text` that are one script's letters and digits:
/// the words of spaced text, and the runs [`words`] pairs. A change of script
/// ends a run ("iPhoneケース" is two).
pub fn segments(text: &str) -> impl Iterator<Item = (usize, usize, Script)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let mut start: Option<(usize, Script)> = None;
        while i < bytes.len() {
            let b = bytes[i];
            let (alnum, len, script) = if b.is_ascii() {
                (b.is_ascii_alphanumeric(), 1, Script::Spaced)
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                (in_word(c), c.len_utf8(), Script::of(c))
            };
            match start {
                None if alnum => start = Some((i, script)),
                Some((s, was)) if !alnum || script != was => return Some((s, i, was)),
                _ => {}
            }
            i += len;
        }
        start.map(|(s, script)| (s, bytes.len(), script))
    })
}

/// Byte ranges of the words of `text`: runs of alphanumeric characters, as
/// tantivy's `SimpleTokenizer` splits, except that a run of Chinese, Japanese
/// or Korean letters ([`Script::paired`]) gives each pair of neighbouring
/// characters ("モンゴル": "モン", "ンゴ", "ゴル"), or its one character. A
/// question's word then meets the passage's wherever the characters do, and
/// its pairs, one position apart, match as a phrase.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut segments = segments(text);
    // The rest of a run being paired: where its next pair starts, and its end.
    let mut pairing: Option<(usize, usize)> = None;
    std::iter::from_fn(move || {
        if pairing.is_none() {
            let (from, to, script) = segments.next()?;
            if !script.paired() {
                return Some((from, to));
            }
            pairing = Some((from, to));
        }
        let (at, end) = pairing?;
        let next = |i: usize| i + text[i..].chars().next().map_or(1, char::len_utf8);
        let second = next(at);
        if second >= end {
            // A run of one character is its own word.
            pairing = None;
            return Some((at, end));
        }
        let third = next(second);
        pairing = (third < end).then_some((second, end));
        Some((at, third))
    })
}

/// Splits text into [`words`] for tantivy, so the index and [`Both`] cut text
/// in the same places, and positions count words as [`Both`] counts them.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

/// The token stream of [`WordTokenizer`].
pub struct WordStream<'a> {
    text: &'a str,
    words: Box<dyn Iterator<Item = (usize, usize)> + 'a>,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            words: Box::new(words(text)),
            token: &mut self.token,
        }
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        let Some((from, to)) = self.words.next() else {
            return false;
        };
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.text.push_str(&self.text[from..to]);
        true
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Per-thread memo of what a normalised word becomes: the Snowball stemmer was
/// the largest cost of indexing and of re-scoring candidates, and text repeats its
/// words (Zipf), so nearly every lookup hits. Per thread, so indexing threads never
/// wait on a lock.
struct TermCache {
    stemmers: Stemmers,
    /// Words of up to [`INLINE`] bytes (nearly all), keyed inline: a lookup then
    /// touches the table only, not a second heap allocation per probe — with a
    /// large vocabulary those cache misses were most of a passage's analysis.
    short: rustc_hash::FxHashMap<[u8; INLINE + 1], Analysed>,
    long: rustc_hash::FxHashMap<Box<str>, Analysed>,
}

const INLINE: usize = 23;

/// `word`'s bytes and length in a fixed-size key, when it fits.
fn inline_key(word: &str) -> Option<[u8; INLINE + 1]> {
    let bytes = word.as_bytes();
    (bytes.len() <= INLINE).then(|| {
        let mut key = [0u8; INLINE + 1];
        key[..bytes.len()].copy_from_slice(bytes);
        key[INLINE] = bytes.len() as u8;
        key
    })
}

/// A lowercased, folded word's index term ([`to_term`]) and prefix
/// ([`truncate_to_prefix`]); `None` where it has none (stop words, short words).
/// The hashes let [`Wanted`] compare without reading the strings.
struct Analysed {
    term: Option<Arc<str>>,
    prefix: Option<Arc<str>>,
    term_hash: u64,
    prefix_hash: u64,
}

/// A thread's cache is emptied when it holds this many words (a memory bound for
/// unusual text such as generated identifiers).
const TERM_CACHE_WORDS: usize = 200_000;

thread_local! {
    static TERMS: RefCell<TermCache> = RefCell::new(TermCache {
        stemmers: Stemmers::default(),
        short: rustc_hash::FxHashMap::default(),
        long: rustc_hash::FxHashMap::default(),
    });
}

impl TermCache {
    /// What the memo has of `word`.
    fn get(&self, word: &str) -> Option<&Analysed> {
        match inline_key(word) {
            Some(k) => self.short.get(&k),
            None => self.long.get(word),
        }
    }

    /// The index term of a word already in American spelling: its base verb's
    /// Snowball stem; `None` for a stop word. `word` is left as its base verb.
    fn term_of(&mut self, word: &mut String) -> Option<String> {
        // An acronym is its letters: never a stop word, nothing to stem.
        if let Some(letters) = word.strip_suffix(ACRONYM_MARK) {
            let letters = letters.to_string();
            *word = letters.clone();
            return Some(letters);
        }
        base_verb(word);
        if is_stop_word(word) {
            return None;
        }
        Some(self.stemmers.stem(word))
    }
}

/// The Snowball stemmers, one for each script a language of its own writes
/// in: a word in Cyrillic letters is stemmed as Russian, in Greek as Greek, in
/// Arabic as Arabic, any other as English. Their words change endings by case
/// and number ("Суперкубка", "Суперкубке"; "البانثرز", "للبانثرز"), which
/// the English stemmer leaves apart: a question's form then rarely stands in
/// the text as written, and the question reads as about words the knowledge
/// lacks. On XQuAD's first 22 articles (scripts/cut-rc) that refused 18% of
/// the Russian questions, 9% of the Greek and 23% of the Arabic ones.
pub struct Stemmers {
    english: TextAnalyzer,
    russian: TextAnalyzer,
    greek: TextAnalyzer,
    arabic: TextAnalyzer,
}

impl Default for Stemmers {
    fn default() -> Self {
        let of = |language| {
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(language))
                .build()
        };
        Stemmers {
            english: of(Language::English),
            russian: of(Language::Russian),
            greek: of(Language::Greek),
            arabic: of(Language::Arabic),
        }
    }
}

impl Stemmers {
    /// `word` (lowercased, folded) stemmed as its script's language.
    pub fn stem(&mut self, word: &str) -> String {
        let stemmer = match word.chars().next().map_or(0, u32::from) {
            0x0400..=0x052F => &mut self.russian,
            0x0370..=0x03FF | 0x1F00..=0x1FFF => &mut self.greek,
            0x0600..=0x06FF | 0x0750..=0x077F => &mut self.arabic,
            _ => &mut self.english,
        };
        let mut stream = stemmer.token_stream(word);
        stream.advance();
        stream.token().text.clone()
    }
}

/// Calls `f` with what `word` (lowercased and folded) becomes, from the memo.
fn with_analysed<R>(word: &str, f: impl FnOnce(&Analysed) -> R) -> R {
    TERMS.with_borrow_mut(|cache| {
        if let Some(a) = cache.get(word) {
            return f(a);
        }
        let mut normal = word.to_string();
        american_spelling(&mut normal);
        let term: Option<Arc<str>> = cache.term_of(&mut normal.clone()).map(Arc::from);
        let prefix: Option<Arc<str>> = if is_stop_word(&normal) || normal.ends_with(ACRONYM_MARK) {
            None
        } else {
            truncate_to_prefix(&mut normal).then(|| Arc::from(normal))
        };
        if cache.short.len() + cache.long.len() >= TERM_CACHE_WORDS {
            cache.short.clear();
            cache.long.clear();
        }
        let analysed = Analysed {
            term_hash: term.as_deref().map_or(0, hash_of),
            prefix_hash: prefix.as_deref().map_or(0, hash_of),
            term,
            prefix,
        };
        f(match inline_key(word) {
            Some(k) => cache.short.entry(k).or_insert(analysed),
            None => cache.long.entry(word.into()).or_insert(analysed),
        })
    })
}

/// Turns a lowercased, folded word into its index term: British spellings become
/// American, irregular past forms their verb ("met" → "meet"), then the Snowball
/// stem. False for a stop word.
pub fn to_term(word: &mut String) -> bool {
    match with_analysed(word, |a| a.term.clone()) {
        Some(term) => {
            word.clear();
            word.push_str(&term);
            true
        }
        None => false,
    }
}

/// [`to_term`] for a word the memo should not keep: a made-up spelling tried
/// once (typo correction tries hundreds a question, nearly all no word at all,
/// which would crowd the memo's real words out and empty it sooner). Read from
/// the memo when there, computed (the term only) when not.
pub fn to_term_unkept(word: &mut String) -> bool {
    let term = TERMS.with_borrow_mut(|cache| {
        if let Some(a) = cache.get(word) {
            return a.term.as_deref().map(str::to_string);
        }
        american_spelling(word);
        cache.term_of(word)
    });
    match term {
        Some(term) => {
            *word = term;
            true
        }
        None => false,
    }
}

fn is_stop_word(word: &str) -> bool {
    if !word.is_ascii() && word.chars().all(|c| Script::of(c) == Script::Hiragana) {
        return true;
    }
    static SET: std::sync::LazyLock<rustc_hash::FxHashSet<&'static str>> =
        std::sync::LazyLock::new(|| STOP_WORDS.iter().copied().collect());
    SET.contains(word)
}

/// One analysed word: its term (stem) and where it stands in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: Arc<str>,
    pub position: usize,
    pub from: usize,
    pub to: usize,
    /// The term before this one in its list is at most two words back, with
    /// nothing of the list between (only a stop word, say): the two can be a phrase.
    pub joined: bool,
}

/// Runs `analyzer` over `text`, collecting terms with byte offsets.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        let joined = out
            .last()
            .is_some_and(|l: &Term| l.position + 2 >= t.position);
        out.push(Term {
            text: Arc::from(t.text.as_str()),
            position: t.position,
            from: t.offset_from,
            to: t.offset_to,
            joined,
        });
    }
    out
}

/// The stem of a single word, or `None` for a stop word.
pub fn stem_word(analyzer: &mut TextAnalyzer, word: &str) -> Option<String> {
    terms(analyzer, word)
        .into_iter()
        .next()
        .map(|t| t.text.to_string())
}

/// Rewrites common British spellings to American ones, in place. Both sides of a
/// match go through this, so the rules only need to be consistent, not exact:
/// "advise" becoming "advize" is harmless, since every "advise" does.
pub fn american_spelling(word: &mut String) -> bool {
    if word.len() < 5 || !word.is_ascii() {
        return true;
    }
    let _respelled = our_to_or(word)
        || ise_to_ize(word)
        // -tre → -ter: centre, metre, theatre, fibre.
        || respell(word, &[("tre", "ter"), ("tres", "ters"), ("tred", "tered")], 2, |_| true)
        // defence, offence, licence, pretence → -ense.
        || respell(word, &[("ence", "ense"), ("ences", "enses")], 2, |stem| {
            matches!(stem.as_bytes()[stem.len() - 1], b'f' | b'c' | b't')
        })
        // Demonyms in -ian meet their country: Mongolian → Mongolia, Indonesian → Indonesia.
        || respell(word, &[("ian", "ia"), ("ians", "ia")], 3, |_| true)
        // programme, catalogue, dialogue.
        || respell(
            word,
            &[("amme", "am"), ("ammes", "ams"), ("ogue", "og"), ("ogues", "ogs")],
            3,
            |_| true,
        );
    true
}

/// -our → -or: colour, neighbour(s/ing/hood), favourite, honoured.
fn our_to_or(word: &mut String) -> bool {
    let w = word.as_str();
    const OUR_SUFFIXES: &[&str] = &[
        "", "s", "ed", "ing", "able", "ably", "ite", "ites", "ful", "less", "hood", "hoods", "er",
        "ers", "ism", "ist", "ists", "ly",
    ];
    const OUR_KEEP: &[&str] = &[
        "devour",
        "contour",
        "detour",
        "velour",
        "amour",
        "troubadour",
    ];
    if let Some(i) = w.as_bytes().windows(3).rposition(|b| b == b"our")
        && i >= 2
        && OUR_SUFFIXES.contains(&&w[i + 3..])
        && !OUR_KEEP.iter().any(|k| w.starts_with(k) || w.ends_with(k))
    {
        word.replace_range(i..i + 3, "or");
        return true;
    }
    false
}

/// -ise/-isation → -ize/-ization; -yse → -yze.
fn ise_to_ize(word: &mut String) -> bool {
    let w = word.as_str();
    let n = w.len();
    const ISE: &[&str] = &[
        "isation", "isations", "ise", "ised", "ises", "ising", "iser", "isers", "yse", "ysed",
        "yses", "ysing",
    ];
    if n >= 6 {
        for suffix in ISE {
            if let Some(stem_len) = w.strip_suffix(suffix).map(str::len)
                && stem_len >= 2
            {
                word.replace_range(stem_len + 1..stem_len + 2, "z");
                return true;
            }
        }
    }
    false
}

/// Replaces the first of `pairs`' suffixes that `word` ends with, after a stem of
/// at least `min_stem` bytes that `fits`, by its American form.
fn respell(
    word: &mut String,
    pairs: &[(&str, &str)],
    min_stem: usize,
    fits: impl Fn(&str) -> bool,
) -> bool {
    for (suffix, american) in pairs {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.len() >= min_stem
            && fits(stem)
        {
            *word = format!("{stem}{american}");
            return true;
        }
    }
    false
}

/// Irregular past forms the stemmer cannot join to their verb ("met" → "meet").
/// Only forms that are rarely anything but the verb are listed ("left", "found" are not).
const IRREGULAR: &[(&str, &str)] = &[
    ("met", "meet"),
    ("went", "go"),
    ("gone", "go"),
    ("paid", "pay"),
    ("took", "take"),
    ("taken", "take"),
    ("came", "come"),
    ("began", "begin"),
    ("begun", "begin"),
    ("held", "hold"),
    ("led", "lead"),
    ("made", "make"),
    ("thought", "think"),
    ("brought", "bring"),
    ("bought", "buy"),
    ("won", "win"),
    ("told", "tell"),
    ("gave", "give"),
    ("given", "give"),
    ("fought", "fight"),
    ("sought", "seek"),
    ("built", "build"),
    ("sent", "send"),
    ("spent", "spend"),
    ("kept", "keep"),
    ("grew", "grow"),
    ("grown", "grow"),
    ("knew", "know"),
    ("known", "know"),
    ("chose", "choose"),
    ("chosen", "choose"),
    ("flew", "fly"),
    ("flown", "fly"),
    ("drew", "draw"),
    ("drawn", "draw"),
    ("wrote", "write"),
    ("written", "write"),
    ("spoke", "speak"),
    ("spoken", "speak"),
    ("ran", "run"),
    ("struck", "strike"),
    ("stood", "stand"),
    ("sold", "sell"),
    ("taught", "teach"),
    ("caught", "catch"),
    ("threw", "throw"),
    ("thrown", "throw"),
    ("understood", "understand"),
    ("withdrew", "withdraw"),
    ("withdrawn", "withdraw"),
    ("arose", "arise"),
    ("arisen", "arise"),
    ("saw", "see"),
    ("seen", "see"),
    ("became", "become"),
    ("dealt", "deal"),
    ("meant", "mean"),
    ("felt", "feel"),
    ("heard", "hear"),
    ("lost", "lose"),
    ("broke", "break"),
    ("broken", "break"),
    ("fell", "fall"),
    ("fallen", "fall"),
    ("laid", "lay"),
    ("shot", "shoot"),
    ("forgot", "forget"),
    ("forgotten", "forget"),
    ("ate", "eat"),
    ("eaten", "eat"),
    ("drank", "drink"),
    ("sat", "sit"),
    ("hid", "hide"),
    ("hidden", "hide"),
    ("learnt", "learn"),
    ("spelt", "spell"),
    ("dreamt", "dream"),
    ("burnt", "burn"),
    ("sang", "sing"),
    ("swore", "swear"),
    ("sworn", "swear"),
    ("wore", "wear"),
    ("worn", "wear"),
    ("overtook", "overtake"),
    ("undertook", "undertake"),
    ("undertaken", "undertake"),
    ("foresaw", "foresee"),
    ("forgave", "forgive"),
    ("stole", "steal"),
    ("stolen", "steal"),
];

/// [`IRREGULAR`] as a map: every indexed word is looked up.
fn irregular() -> &'static rustc_hash::FxHashMap<&'static str, &'static str> {
    static MAP: std::sync::LazyLock<rustc_hash::FxHashMap<&'static str, &'static str>> =
        std::sync::LazyLock::new(|| IRREGULAR.iter().copied().collect());
    &MAP
}

/// Rewrites an irregular past form to its verb, in place.
pub fn base_verb(word: &mut String) -> bool {
    if word.len() <= 10
        && let Some(base) = irregular().get(word.as_str())
    {
        *word = (*base).to_string();
    }
    true
}

fn truncate_to_prefix(word: &mut String) -> bool {
    // A prefix is a weak match for English derivations; the scripts written
    // without spaces have none (their words are pairs of characters).
    if word.chars().count() < PREFIX_LEN || word.chars().any(|c| Script::of(c) != Script::Spaced) {
        return false;
    }
    if let Some((i, _)) = word.char_indices().nth(PREFIX_LEN) {
        word.truncate(i);
    }
    true
}

/// A token filter from a function that may rewrite a token and says whether to keep it.
#[derive(Clone, Copy)]
pub struct MapFilter(pub fn(&mut String) -> bool);

impl TokenFilter for MapFilter {
    type Tokenizer<T: Tokenizer> = MapTokenizer<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> MapTokenizer<T> {
        MapTokenizer {
            inner: tokenizer,
            f: self.0,
        }
    }
}

/// The tokenizer [`MapFilter`] wraps around its input.
#[derive(Clone)]
pub struct MapTokenizer<T> {
    inner: T,
    f: fn(&mut String) -> bool,
}

impl<T: Tokenizer> Tokenizer for MapTokenizer<T> {
    type TokenStream<'a> = MapStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MapStream {
            tail: self.inner.token_stream(text),
            f: self.f,
        }
    }
}

/// The token stream of [`MapTokenizer`].
pub struct MapStream<S> {
    tail: S,
    f: fn(&mut String) -> bool,
}

impl<S: TokenStream> TokenStream for MapStream<S> {
    fn advance(&mut self) -> bool {
        while self.tail.advance() {
            if (self.f)(&mut self.tail.token_mut().text) {
                return true;
            }
        }
        false
    }
    fn token(&self) -> &Token {
        self.tail.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unkept_terms_are_the_terms_and_leave_the_memo_alone() {
        let memo = || TERMS.with_borrow(|c| c.short.len() + c.long.len());
        let table: &[(&str, Option<&str>)] = &[
            ("organised", Some("organiz")),
            ("met", Some("meet")),
            ("neighbours", Some("neighbor")),
            ("developmnet", Some("developmnet")),
            ("the", None),
        ];
        let before = memo();
        for &(word, want) in table {
            let mut unkept = word.to_string();
            let found = to_term_unkept(&mut unkept);
            assert_eq!(found.then_some(unkept.as_str()), want, "{word}");
        }
        assert_eq!(memo(), before, "nothing kept");
        // The same as `to_term`, which keeps, whether the memo has the word or not.
        for &(word, _) in table {
            let mut kept = word.to_string();
            let kept_found = to_term(&mut kept);
            let mut unkept = word.to_string();
            assert_eq!(to_term_unkept(&mut unkept), kept_found, "{word}");
            if kept_found {
                assert_eq!(unkept, kept, "{word}");
            }
        }
        assert_eq!(memo(), before + table.len());
    }

    thread_local! {
        static STEMMERS: RefCell<Stemmers> = RefCell::new(Stemmers::default());
    }

    #[test]
    fn one_pass_analysis_matches_both_analyzers() {
        let texts = [
            "Emperor Naruhito met the Mongolian neighbours; they'd organised programmes.",
            "In 2015 and 2020 the armed forces paid visits to the centre of Ulaanbaatar's theatre.",
            "He went, took and gave — had been, was, did: stop words and irregular verbs.",
            "Café déjà-vu ÉLAN, supercalifragilisticexpialidociousandthensomemorewordsjoined ok",
            "Ask IT or the WHO about us: US staff, ABOUT US, It Is.",
            "天皇陛下は七月にモンゴルを訪問される予定です。iPhoneケース 7月 々 한국어 텍스트입니다",
            "हिन्दी भाषा, ภาษาไทย, cre\u{300}me, \u{301}alone, می\u{200C}خواهم",
            "Суперкубка Суперкубке, άμυνα των Πάνθερς, دفاع البانثرز للبانثرز",
            "",
        ];
        // The plain tantivy pipeline the cached one replaces (an acronym's mark
        // keeps it from the stop words and the stemmer, then goes).
        let mut reference = TextAnalyzer::builder(WordTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(MapFilter(mark_acronym))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(MapFilter(american_spelling))
            .filter(MapFilter(base_verb))
            .filter(StopWordFilter::remove(
                STOP_WORDS.iter().map(|w| w.to_string()),
            ))
            .filter(MapFilter(|w| {
                !w.chars().all(|c| Script::of(c) == Script::Hiragana)
            }))
            .filter(MapFilter(|w| {
                if !w.ends_with(ACRONYM_MARK) {
                    *w = STEMMERS.with_borrow_mut(|s| s.stem(w));
                }
                true
            }))
            .filter(MapFilter(|w| {
                if w.ends_with(ACRONYM_MARK) {
                    w.pop();
                }
                true
            }))
            .build();
        let mut both = Both::default();
        // Twice: the second round comes from the term cache.
        for text in texts.iter().chain(texts.iter()) {
            let (terms_, prefixes) = both.analyze(text);
            assert_eq!(terms_, terms(&mut reference, text), "{text}");
            assert_eq!(terms_, terms(&mut stemmed(), text), "{text}");
            assert_eq!(prefixes, terms(&mut prefix(), text), "{text}");
            assert!(!text.is_empty() || terms_.is_empty());
        }
    }

    #[test]
    fn words_are_stemmed_as_their_scripts_language() {
        // Forms of one word, each list one term.
        let table: &[&[&str]] = &[
            &["Суперкубка", "Суперкубке", "Суперкубку"],
            &["πόντους", "πόντοι"],
            &["البانثرز", "للبانثرز"],
            &["visits", "visited", "visiting"],
        ];
        for forms in table {
            let terms: Vec<String> = forms
                .iter()
                .map(|f| terms(&mut stemmed(), f)[0].text.to_string())
                .collect();
            assert!(terms.iter().all(|t| *t == terms[0]), "{forms:?}: {terms:?}");
        }
    }

    #[test]
    fn the_semantic_model_reads_latin_letters() {
        let table = [
            ("When did the Normans conquer England?", true),
            ("¿Cuándo conquistaron los normandos Inglaterra?", true),
            ("Người Norman chinh phục nước Anh khi nào?", true),
            ("ＡＰＩ key", true),
            ("2025?", true),
            ("Когда норманны завоевали Англию?", false),
            ("Πότε κατέκτησαν οι Νορμανδοί την Αγγλία;", false),
            ("नॉर्मन ने इंग्लैंड पर कब विजय प्राप्त की?", false),
            ("天皇はいつモンゴルを訪問しますか", false),
            ("When does the Naadam start 什么时候", true),
        ];
        for (text, want) in table {
            assert_eq!(mostly_latin(text), want, "{text}");
        }
    }

    #[test]
    fn runs_of_chinese_japanese_and_korean_are_cut_into_pairs() {
        let cases: &[(&str, &[&str])] = &[
            ("モンゴル", &["モン", "ンゴ", "ゴル"]),
            ("天皇は七月に", &["天皇", "は", "七月", "に"]),
            ("iPhoneケース 7月", &["iPhone", "ケー", "ース", "7", "月"]),
            ("서울에서 몽골", &["서울", "울에", "에서", "몽골"]),
            ("二〇二五年", &["二〇", "〇二", "二五", "五年"]),
            ("蒙古国的首都", &["蒙古", "古国", "国的", "的首", "首都"]),
            ("Café déjà-vu, ÉLAN", &["Café", "déjà", "vu", "ÉLAN"]),
            // Thai: its tone mark ("่") is no letter, yet part of the run.
            ("ไม่ดี ไทย", &["ไม", "ม่", "่ด", "ดี", "ไท", "ทย"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = words(text).map(|(a, b)| &text[a..b]).collect();
            assert_eq!(got, *want, "{text}");
        }
        // Hiragana is grammar, a stop word; the pairs stand one position apart,
        // so a word of several pairs is a phrase.
        let got: Vec<(String, usize)> = terms(&mut stemmed(), "天皇は七月にモンゴルを訪問")
            .into_iter()
            .map(|t| (t.text.to_string(), t.position))
            .collect();
        let want = [
            ("天皇", 0),
            ("七月", 2),
            ("モン", 4),
            ("ンゴ", 5),
            ("ゴル", 6),
            ("訪問", 8),
        ];
        let want: Vec<(String, usize)> = want.iter().map(|&(t, p)| (t.to_string(), p)).collect();
        assert_eq!(got, want);
        assert!(terms(&mut prefix(), "モンゴル ありがとうございます").is_empty());
    }

    #[test]
    fn filtered_analysis_keeps_exactly_the_wanted_words() {
        let texts = [
            "Emperor Naruhito met the Mongolian neighbours; they went and organised programmes.",
            "He went to the centre, took part and gave — had been, was, did: irregular verbs.",
            "Café déjà-vu ÉLAN Ölgii, supercalifragilisticexpialidociousandthensomemorewordsjoined ok",
            "Chinggis the Khaan and Chinggis Khaan; Chinggis of Khaan. Khaan Chinggis!",
            "",
        ];
        let mut both = Both::default();
        for text in texts {
            let (all_terms, all_prefixes) = both.analyze(text);
            // Every subset pattern of the text's own terms: each, pairs, and all.
            let words: Vec<&str> = all_terms.iter().map(|t| &*t.text).collect();
            let prefixes: Vec<&str> = all_prefixes.iter().map(|t| &*t.text).collect();
            let mut sets: Vec<(Vec<&str>, Vec<&str>)> = vec![(words.clone(), prefixes.clone())];
            for (i, w) in words.iter().enumerate() {
                sets.push((vec![w], vec![]));
                if let Some(next) = words.get(i + 2) {
                    sets.push((
                        vec![w, next],
                        prefixes.get(i).into_iter().copied().collect(),
                    ));
                }
            }
            sets.push((vec!["go", "cafe", "elan"], vec!["olgii", "super"]));
            for (want_terms, want_prefixes) in sets {
                let wanted = Wanted::new(want_terms.iter().copied(), want_prefixes.iter().copied());
                let (terms_, prefixes_) = both.analyze_for(text, &wanted);
                let strip = |v: &[Term]| -> Vec<(String, usize, usize, usize)> {
                    v.iter()
                        .map(|t| (t.text.to_string(), t.position, t.from, t.to))
                        .collect()
                };
                let keep = |v: &[Term], w: &[&str]| -> Vec<Term> {
                    v.iter()
                        .filter(|t| w.contains(&&*t.text))
                        .cloned()
                        .collect()
                };
                let expect = keep(&all_terms, &want_terms);
                assert_eq!(strip(&terms_), strip(&expect), "{text} {want_terms:?}");
                assert_eq!(
                    strip(&prefixes_),
                    strip(&keep(&all_prefixes, &want_prefixes)),
                    "{text} {want_prefixes:?}"
                );
                // Joined: the kept term before stands right before it in the full list.
                for (i, t) in terms_.iter().enumerate() {
                    let full = all_terms.iter().position(|a| a.from == t.from).unwrap();
                    let expect_joined = i > 0
                        && full > 0
                        && all_terms[full - 1].from == terms_[i - 1].from
                        && all_terms[full].joined;
                    assert_eq!(t.joined, expect_joined, "{text} {want_terms:?} {}", t.text);
                }
            }
        }
    }

    #[test]
    fn first_letters_survive_analysis_except_listed_irregular_verbs() {
        // `Wanted` skips words by their first letter; that is only sound if analysis
        // keeps it. Checked over the seed knowledge's words and every irregular form.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let mut text = String::new();
        for entry in walkdir(&root) {
            text.push_str(&std::fs::read_to_string(entry).unwrap());
        }
        for (form, base) in IRREGULAR {
            text.push_str(&format!(" {form} {base}"));
        }
        let mut both = Both::default();
        let (terms_, prefixes) = both.analyze(&text);
        assert!(terms_.len() > 1000);
        for t in terms_.iter().chain(&prefixes) {
            let word = text[t.from..t.to].to_ascii_lowercase();
            let (w, s) = (word.as_bytes()[0], t.text.as_bytes()[0]);
            if w.is_ascii() && w != s {
                assert!(
                    IRREGULAR
                        .iter()
                        .any(|(f, b)| *f == word && b.as_bytes()[0] == s),
                    "{word} → {}",
                    t.text
                );
            }
        }
    }

    fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
        out
    }

    fn stems(text: &str) -> Vec<String> {
        terms(&mut stemmed(), text)
            .into_iter()
            .map(|t| t.text.to_string())
            .collect()
    }

    #[test]
    fn british_and_american_spellings_meet() {
        let pairs = [
            ("neighbour", "neighbor"),
            ("neighbours", "neighbors"),
            ("defence", "defense"),
            ("favourable", "favorable"),
            ("organisation", "organization"),
            ("recognised", "recognized"),
            ("analyse", "analyze"),
            ("centre", "center"),
            ("programme", "program"),
            ("catalogue", "catalog"),
            ("honoured", "honored"),
            ("travelling", "traveling"),
            ("licence", "license"),
            ("met", "meeting"),
            ("mongolian", "mongolia"),
            ("indonesians", "indonesia"),
            ("paid", "pays"),
        ];
        for (british, american) in pairs {
            assert_eq!(stems(british), stems(american), "{british} vs {american}");
            assert_eq!(stems(british).len(), 1, "{british}");
        }
    }

    #[test]
    fn words_that_only_look_british_are_left_alone() {
        for (word, expect) in [
            ("tour", "tour"),
            ("hour", "hour"),
            ("four", "four"),
            ("contour", "contour"),
            ("your", ""),
        ] {
            let got = stems(word);
            assert_eq!(
                got.first().map(String::as_str).unwrap_or(""),
                expect,
                "{word}"
            );
        }
    }

    #[test]
    fn analyzer_lowercases_folds_stops_and_stems() {
        let table: &[(&str, &[&str])] = &[
            (
                "The Emperor is visiting Mongolia",
                &["emperor", "visit", "mongolia"],
            ),
            (
                "Chinggis Khaan International Airport",
                &["chinggi", "khaan", "internat", "airport"],
            ),
            (
                "Mongolia’s “third neighbor” policy",
                &["mongolia", "third", "neighbor", "polici"],
            ),
            ("Café ÉLYSÉE", &["cafe", "elyse"]),
            ("of the and to", &[]),
            // A stop word in capitals is an acronym; longer, a heading shouting.
            ("Ask IT about the US office", &["ask", "it", "us", "offic"]),
            ("tell us about it", &["tell"]),
            ("WHO guidance ABOUT US", &["who", "guidanc", "us"]),
        ];
        for (text, expect) in table {
            assert_eq!(stems(text), *expect, "{text}");
        }
    }

    #[test]
    fn prefix_analyzer_keeps_five_characters_of_long_words() {
        let got: Vec<String> = terms(&mut prefix(), "expand the expansion of Japan by ODA")
            .into_iter()
            .map(|t| t.text.to_string())
            .collect();
        assert_eq!(got, ["expan", "expan", "japan"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Naruhito previously visited Mongolia";
        let t = terms(&mut stemmed(), text);
        assert_eq!(&text[t[2].from..t[2].to], "visited");
        assert_eq!(t[2].position, 2);
    }
}
