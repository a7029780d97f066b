//! Small text utilities shared by the knowledge parser and the answer extractor:
//! sentence boundaries, whitespace folding, edit distance, lead-in paragraphs,
//! cuts on character boundaries and Unicode's composed form.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// `text` in Unicode's composed form (NFC). The same word can be written as
/// one character per letter ("é", a Hangul syllable) or as a letter and the
/// marks or jamo that make it up ("e" + U+0301): text saved on macOS, copied
/// out of some PDFs or typed with some keyboards comes decomposed. Composed,
/// both are the same characters, so a question finds the page however either
/// was written. Most text already is: it is checked without copying.
pub fn composed(text: Cow<'_, str>) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text,
        _ => Cow::Owned(text.nfc().collect()),
    }
}

/// How much text `text` holds, in columns: a character Unicode's East Asian
/// Width makes wide (Chinese, Japanese, Korean, a full-width form) is two, as
/// in a terminal, any other one (a combining mark too: Hindi's and Thai's
/// vowel signs count as letters do). Passages are measured so: the
/// same article holds about three times as many characters in English as in
/// Chinese (XQuAD's), and counted one each, a passage in Chinese held several
/// paragraphs where one in English held one.
pub fn width(text: &str) -> usize {
    // Most knowledge is ASCII: measured byte by byte, as fast as its length.
    if text.is_ascii() {
        return text.len();
    }
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    // No character before U+1100 (Hangul's jamo) is wide: the table is not
    // looked up for Latin, Cyrillic, Greek, Arabic or Devanagari.
    if c >= '\u{1100}' && unicode_width::UnicodeWidthChar::width(c) == Some(2) {
        2
    } else {
        1
    }
}

/// The byte where the first `max` columns of `s` ([`width`]) end: `s.len()`
/// when all of it fits, and never before its first character, so a cut
/// always moves on. Counts no further than the cut, so cutting a
/// megabyte-long word again and again stays linear.
pub fn width_cut(s: &str, max: usize) -> usize {
    let mut w = 0;
    for (i, c) in s.char_indices() {
        w += char_width(c);
        if w > max && i > 0 {
            return i;
        }
    }
    s.len()
}

/// The largest character boundary of `s` at or before byte `i` (its length
/// past the end): where to cut so that a slice never splits a character.
pub fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "gen", "col", "lt", "sgt", "gov", "sen",
    "rep", "pres", "vs", "etc", "e.g", "i.e", "cf", "no", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "approx", "inc", "ltd", "co", "corp", "u.s", "u.k",
    "u.n", "fig", "vol", "p", "pp",
];

/// Byte ranges of the sentences of `text`, trimmed, in order. Every non-blank part of
/// `text` belongs to exactly one range. A blank line (between a passage's paragraph
/// and the code or list after it) always ends a sentence.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    if !text.contains("\n\n") {
        return sentences_in(text);
    }
    let mut out = Vec::new();
    let mut at = 0;
    for chunk in text.split("\n\n") {
        out.extend(
            sentences_in(chunk)
                .into_iter()
                .map(|r| r.start + at..r.end + at),
        );
        at += chunk.len() + 2;
    }
    out
}

/// Byte ranges of the sentences of a passage whose `code` (byte ranges, in
/// order) holds code: its prose cut as [`sentences`] cuts it, its code into
/// statements — a run of comment lines with the lines after it that they
/// document ("# Required for GitHub Enterprise.\nhostName: git.example.com"),
/// up to the next comment run or blank line. Full stops do not cut code.
pub fn passage_sentences(text: &str, code: &[(usize, usize)]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    let shifted = |ranges: Vec<Range<usize>>, by: usize| {
        ranges.into_iter().map(move |r| r.start + by..r.end + by)
    };
    for &(a, b) in code {
        let (a, b) = (a.max(at).min(text.len()), b.min(text.len()));
        if a >= b || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        out.extend(shifted(sentences(&text[at..a]), at));
        out.extend(shifted(statements(&text[a..b]), a));
        at = b;
    }
    out.extend(shifted(sentences(&text[at..]), at));
    out
}

/// The statements of a code block ([`passage_sentences`]).
fn statements(code: &str) -> Vec<Range<usize>> {
    let is_comment = |line: &str| {
        let t = line.trim_start();
        t.starts_with('#') || t.starts_with("//") || t.starts_with("/*") || t.starts_with("* ")
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut previous_code = false;
    let mut at = 0;
    for line in code.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        let comment = is_comment(line);
        if (blank || (comment && previous_code)) && at > start {
            push_trimmed(code, start..at, &mut out);
            start = at;
        }
        previous_code = !blank && !comment;
        at += line.len();
    }
    push_trimmed(code, start..code.len(), &mut out);
    out
}

fn sentences_in(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(len) = ideographic_stop_at(text, i) {
            // "。", "！", "？" end a sentence with no space after them (Chinese,
            // Japanese), with the closing quotes and brackets that follow.
            let mut end = i + len;
            while let Some(ch) = text[end..]
                .chars()
                .next()
                .filter(|ch| matches!(ch, '」' | '』' | '）' | '】' | '”' | '’' | ')' | '"'))
            {
                end += ch.len_utf8();
            }
            // A quotation's own mark ("「本当？」と聞いた。") ends no sentence
            // when the sentence goes on after the quotation.
            let quoted = end > i + len
                && text[end..]
                    .chars()
                    .next()
                    .is_some_and(|ch| !ch.is_whitespace());
            if quoted {
                i = end;
                continue;
            }
            push_trimmed(text, start..end, &mut out);
            start = end;
            i = end;
            continue;
        }
        if matches!(c, b'.' | b'!' | b'?') {
            // Swallow closing quotes/brackets that belong to this sentence.
            let mut end = i + 1;
            while end < text.len() {
                let rest = &text[end..];
                let ch = rest.chars().next().unwrap_or(' ');
                if matches!(ch, '"' | '\'' | ')' | ']' | '”' | '’' | '»') {
                    end += ch.len_utf8();
                } else {
                    break;
                }
            }
            let rest = &text[end..];
            let next_word = rest.trim_start();
            let has_space = rest.len() > next_word.len();
            // A script without capitals (Korean, Arabic, Thai…) starts its
            // sentences with a letter of no case.
            let next_ok = next_word.chars().next().is_some_and(|ch| {
                ch.is_uppercase()
                    || ch.is_ascii_digit()
                    || "\"“‘'([".contains(ch)
                    || (ch.is_alphabetic() && !ch.is_lowercase())
            });
            let not_an_end = c == b'.'
                && (is_abbreviation(&text[start..i], next_word) || is_item_number(&text[start..i]));
            if has_space && next_ok && !not_an_end {
                push_trimmed(text, start..end, &mut out);
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

/// The length of the ideographic full stop, exclamation or question mark
/// ("。", "！", "？") at byte `i` of `text`, if one is there.
fn ideographic_stop_at(text: &str, i: usize) -> Option<usize> {
    let rest = text.as_bytes().get(i..)?;
    // All three are three bytes in UTF-8, the first 0xE3 or 0xEF.
    if !matches!(rest.first(), Some(0xE3 | 0xEF)) || !text.is_char_boundary(i) {
        return None;
    }
    text[i..].starts_with(['。', '！', '？']).then_some(3)
}

/// `sentence` without the number of the list item it starts ("3. Run the
/// restore." → "Run the restore."): a step's number is not what it says.
pub fn without_item_number(sentence: &str) -> &str {
    let s = sentence.trim_start();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    match s[digits..].strip_prefix(". ") {
        Some(rest) if (1..=9).contains(&digits) => rest,
        _ => sentence,
    }
}

/// Whether a sentence so far is only a numbered list item's number ("3" of
/// "3. Run the restore."): its full stop ends no sentence.
fn is_item_number(before: &str) -> bool {
    let n = before.trim();
    !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit())
}

/// The word a full stop follows, lower-cased ("(Op" → "op").
fn word_before(before: &str) -> String {
    before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .to_lowercase()
}

/// Whether the full stop after `before` ends an abbreviation, not a sentence,
/// given the `next` word.
fn is_abbreviation(before: &str, next: &str) -> bool {
    let word = word_before(before);
    // A single capital letter is an initial ("John F. Kennedy").
    (word.len() == 1 && word.chars().all(|c| c.is_alphabetic()))
        || ABBREVIATIONS.contains(&word.as_str())
        || (next.starts_with(|ch: char| ch.is_ascii_digit()) && NUMBERING.contains(&word.as_str()))
}

/// Abbreviations that number what follows them ("Op. 28", "Sec. 4", "Art. 9"):
/// no sentence ends there when a number comes next.
const NUMBERING: &[&str] = &[
    "op", "opp", "nos", "nr", "art", "sec", "ch", "chap", "eq", "pt", "para", "ed",
];

fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        out.push(range.start + lead..range.end - trail);
    }
}

/// Whether a paragraph only leads in to what follows it ("Example
/// configuration:", "For example:"): the parser keeps it with the passage
/// before it, and an answer goes through it to the code it leads in to.
pub fn is_lead_in(paragraph: &str) -> bool {
    let p = paragraph.trim();
    p.ends_with(':') && p.split_whitespace().count() <= 4
}

/// Collapses runs of whitespace into single spaces and trims the ends.
pub fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Edit distance with adjacent transpositions counted as one edit.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_counts_chinese_japanese_and_korean_characters_two() {
        let cases = [
            ("plain text", 10, 4),
            ("北京大学", 8, 2),
            ("ひらがなカタカナ", 16, 2),
            ("한국어", 6, 2),
            // Full-width forms are wide; half-width katakana is not.
            ("ＡＰＩ", 6, 2),
            ("ｶﾀｶﾅ", 4, 4),
            // A combining mark or vowel sign is one, like the letter it marks.
            ("हिन्दी", 6, 4),
            ("ภาษาไทย", 7, 4),
            ("Naadam节", 8, 4),
            ("", 0, 0),
        ];
        for (s, width, cut4) in cases {
            assert_eq!(super::width(s), width, "{s}");
            let cut = width_cut(s, 4);
            assert_eq!(s[..cut].chars().count(), cut4, "{s}");
            assert!(super::width(&s[..cut]) <= 4, "{s}");
        }
        // A cut always takes at least one character, however narrow.
        assert_eq!(width_cut("北京", 1), "北".len());
        assert_eq!(width_cut("北京", 100), "北京".len());
    }

    #[test]
    fn text_is_composed_however_it_was_typed() {
        let cases = [
            ("cre\u{300}me bru\u{302}le\u{301}e", "crème brûlée"),
            // Korean as jamo (as macOS saves file names) and as syllables.
            ("\u{1112}\u{1161}\u{11AB}\u{1100}\u{116E}\u{11A8}", "한국"),
            ("Vie\u{323}\u{302}t Nam", "Việt Nam"),
            (
                "already composed: café, 한국",
                "already composed: café, 한국",
            ),
            // Compatibility forms are not folded here (the analyzer folds
            // them for search): what a page says is shown as written.
            ("ﬁle ＡＰＩ x²", "ﬁle ＡＰＩ x²"),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(composed(text.into()), want, "{text:?}");
        }
        assert!(matches!(composed("café".into()), Cow::Borrowed(_)));
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        for (a, b, d) in [
            ("emprer", "emperor", 2),
            ("wen", "when", 1),
            ("form", "from", 1),
            ("same", "same", 0),
            ("", "abc", 3),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
        }
    }

    #[test]
    fn code_is_cut_into_comments_and_the_lines_they_document() {
        let code_block = "config:\n  # Required ONLY for GitHub Enterprise.\n  # This is the hostname. Ensure it is routable.\n  hostName: git.example.com\n  # Where the CA is.\n  rootCA: /etc/ca.pem\n\n  orgs: [a. B]";
        let text = format!("Set it up. Then run:\n\n{code_block}\n\nIt works. Done.");
        let at = text.find("config:").unwrap();
        let code = [(at, at + code_block.len())];
        let cut: Vec<&str> = passage_sentences(&text, &code)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            cut,
            [
                "Set it up.",
                "Then run:",
                "config:",
                "# Required ONLY for GitHub Enterprise.\n  # This is the hostname. Ensure it is routable.\n  hostName: git.example.com",
                "# Where the CA is.\n  rootCA: /etc/ca.pem",
                "orgs: [a. B]",
                "It works.",
                "Done.",
            ]
        );
        // Without code, the cut is that of prose.
        assert_eq!(passage_sentences(&text, &[]), sentences(&text));
    }

    #[test]
    fn splits_sentences() {
        let table: &[(&str, &[&str])] = &[
            ("One. Two! Three?", &["One.", "Two!", "Three?"]),
            (
                "He met Mr. Smith. Then left.",
                &["He met Mr. Smith.", "Then left."],
            ),
            (
                "In 2015, it grew. 14,000 people died.",
                &["In 2015, it grew.", "14,000 people died."],
            ),
            // A numbered step's number is the step's, not a sentence.
            (
                "3. Run the restore. Then wait.\n\n4. Start it. It costs 3. Then stop.",
                &[
                    "3. Run the restore.",
                    "Then wait.",
                    "4. Start it.",
                    "It costs 3.",
                    "Then stop.",
                ],
            ),
            (
                "She said “yes.” They agreed.",
                &["She said “yes.”", "They agreed."],
            ),
            (
                "天皇は七月に訪問する。首相も会った！「本当？」と聞いた。",
                &[
                    "天皇は七月に訪問する。",
                    "首相も会った！",
                    "「本当？」と聞いた。",
                ],
            ),
            (
                "蒙古国的首都是乌兰巴托。它很大",
                &["蒙古国的首都是乌兰巴托。", "它很大"],
            ),
            (
                "서울은 수도입니다. 몽골은 크다.",
                &["서울은 수도입니다.", "몽골은 크다."],
            ),
            (
                "John F. Kennedy spoke. Done",
                &["John F. Kennedy spoke.", "Done"],
            ),
            (
                "version 1.5 is out. ok then",
                &["version 1.5 is out. ok then"],
            ),
            // A numbering abbreviation before a number ends no sentence; the
            // same word before a capital does.
            (
                "The Étude (Op. 10, No. 12) is famous. See Sec. 4 below. Op. Then more.",
                &[
                    "The Étude (Op. 10, No. 12) is famous.",
                    "See Sec. 4 below.",
                    "Op.",
                    "Then more.",
                ],
            ),
            ("  ", &[]),
            (
                "Run this:\n\ncargo build\n  --release\n\nthen go",
                &["Run this:", "cargo build\n  --release", "then go"],
            ),
        ];
        for (text, expect) in table {
            let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
            assert_eq!(got, *expect, "{text}");
        }
    }
}
