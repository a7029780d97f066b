//! The text of a knowledge file whose bytes may not be UTF-8. Teams' folders
//! hold files older editors wrote: Notepad's "Unicode" (UTF-16 with a
//! byte-order mark), Windows-1252 exports with curly quotes, a wiki's HTML
//! page that declares `charset=iso-8859-1`, Shift_JIS or GBK notes. Read as
//! UTF-8 they turn every such character into U+FFFD, which breaks the words
//! search matches and the passages replies quote.
//!
//! The order is the one browsers use: a byte-order mark, else valid UTF-8,
//! else an HTML page's declared charset, else the legacy encoding the bytes
//! read best in, guessed by chardetng (Firefox's detector).

use std::borrow::Cow;

use chardetng::{Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};

/// How far into a file a NUL byte makes it binary (git looks as far).
const BINARY_SNIFF: usize = 8000;

/// How far into an HTML page its charset is looked for (the HTML standard's
/// prescan reads 1024 bytes).
const CHARSET_SNIFF: usize = 1024;

/// How much of a file the detector reads: enough for a guess to settle.
const DETECT_BYTES: usize = 1 << 20;

/// `bytes` as text, or `None` when they are not text (a NUL byte near the
/// start, outside UTF-16 with its byte-order mark). `html`: the file is an
/// HTML page, whose own charset declaration is honoured. A byte-order mark is
/// not part of the text.
pub fn decode(bytes: &[u8], html: bool) -> Option<Cow<'_, str>> {
    // UTF-32's marks start as UTF-16's do: such a file is no text we read.
    if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        return None;
    }
    if let Some((encoding, mark)) = Encoding::for_bom(bytes) {
        return Some(encoding.decode_without_bom_handling(&bytes[mark..]).0);
    }
    if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
        return None;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text));
    }
    if mostly_utf8(bytes) {
        return Some(String::from_utf8_lossy(bytes));
    }
    let encoding = html
        .then(|| declared(&bytes[..bytes.len().min(CHARSET_SNIFF)]))
        .flatten()
        .unwrap_or_else(|| guessed(bytes));
    tracing::debug!(
        encoding = encoding.name(),
        "not UTF-8: read as a legacy encoding"
    );
    Some(encoding.decode_without_bom_handling(bytes).0)
}

/// Whether bytes that are not all UTF-8 are UTF-8 all the same, with a
/// stray byte pasted in or a character cut off at the end (a file read while
/// it is being saved): more of their non-ASCII characters are well-formed
/// UTF-8 than are not. A legacy encoding's text almost never forms a UTF-8
/// sequence; guessing one for a UTF-8 file would garble every accented
/// character in it, where reading it as UTF-8 costs one `�`.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    good > bad
}

/// The encoding an HTML page's start declares (`<meta charset="…">` or
/// `content="text/html; charset=…"`), when it is one other than UTF-8: a page
/// that says UTF-8 and is not is better guessed.
fn declared(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let rest = &head[at..];
    let rest = rest
        .strip_prefix(b"\"")
        .or(rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"-_.:".contains(b)))
        .unwrap_or(rest.len());
    let encoding = Encoding::for_label(&rest[..end])?;
    // A page declaring UTF-16 without a byte-order mark is read as the
    // standard says: as UTF-8, whose bytes these are not.
    (encoding != UTF_8 && encoding.is_ascii_compatible()).then_some(encoding)
}

/// The legacy encoding `bytes` read best in.
fn guessed(bytes: &[u8]) -> &'static Encoding {
    // ISO-2022-JP is seven-bit: its files are valid UTF-8 and never get here.
    let mut detector = chardetng::EncodingDetector::new(Iso2022JpDetection::Deny);
    let sample = &bytes[..bytes.len().min(DETECT_BYTES)];
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(None, Utf8Detection::Deny)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend(pair);
        }
        bytes
    }

    fn encoded(text: &str, label: &str) -> Vec<u8> {
        let encoding = Encoding::for_label(label.as_bytes()).unwrap();
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{label} cannot hold {text:?}");
        bytes.into_owned()
    }

    #[test]
    fn files_read_in_the_encoding_they_were_written_in() {
        let western = "# Café menu\n\nThe crème brûlée costs 7 €. It’s “fresh”, says Zoë.\n";
        let japanese = "# 日本とモンゴルの関係\n\n天皇陛下は二〇二五年七月にモンゴルを訪問される予定です。\
                        両国の外務大臣はウランバートルで会談し、経済連携協定の実施について話し合いました。\n";
        let russian = "# Отношения\n\nМинистр иностранных дел посетил Улан-Батор и встретился \
                       с президентом страны, чтобы обсудить торговлю и образование.\n";
        let html_latin1 = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">\
             </head><body><h1>Préférences</h1><p>Réglages de l'équipe.</p></body></html>";
        let html_page = "<html><head><meta charset='windows-1251'></head><body><p>Привет, мир</p></body></html>";
        let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
        utf8_bom.extend(western.as_bytes());
        // (bytes, read as HTML, the text expected)
        let cases: Vec<(Vec<u8>, bool, &str)> = vec![
            (western.as_bytes().to_vec(), false, western),
            (utf8_bom, false, western),
            (utf16(western, false), false, western),
            (utf16(western, true), false, western),
            (utf16(japanese, false), false, japanese),
            (encoded(western, "windows-1252"), false, western),
            (encoded(japanese, "shift_jis"), false, japanese),
            (encoded(japanese, "euc-jp"), false, japanese),
            (encoded(russian, "windows-1251"), false, russian),
            (encoded(html_latin1, "iso-8859-1"), true, html_latin1),
            (encoded(html_page, "windows-1251"), true, html_page),
        ];
        for (bytes, html, want) in cases {
            assert_eq!(decode(&bytes, html).as_deref(), Some(want), "{want:?}");
        }
    }

    #[test]
    fn a_utf8_file_with_a_stray_byte_or_cut_short_stays_utf8() {
        let text = "Crème brûlée at the café, déjà vu.";
        let mut stray = text.as_bytes().to_vec();
        stray.insert(6, 0x92);
        let mut cut = format!("{text} Né").into_bytes();
        cut.pop();
        let cases: [(&[u8], &str); 2] = [
            (&stray, "Crème\u{fffd} brûlée at the café, déjà vu."),
            (&cut, "Crème brûlée at the café, déjà vu. N\u{fffd}"),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes, false).as_deref(), Some(want));
        }
    }

    #[test]
    fn binary_files_are_not_text_and_utf8_is_not_copied() {
        assert_eq!(decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", false), None);
        assert_eq!(decode(b"\xFF\xFE\0\0a\0\0\0", false), None, "UTF-32");
        assert!(matches!(
            decode(b"plain words", false),
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(decode(b"", false).as_deref(), Some(""));
    }

    #[test]
    fn an_html_page_names_its_charset_in_its_head() {
        let cases: [(&[u8], Option<&str>); 7] = [
            (b"<meta charset=\"ISO-8859-2\">", Some("ISO-8859-2")),
            (b"<META CHARSET=koi8-r>", Some("KOI8-R")),
            (
                b"<meta http-equiv=Content-Type content='text/html; charset=Shift_JIS'>",
                Some("Shift_JIS"),
            ),
            (b"<meta charset=\"utf-8\">", None),
            (b"<meta charset=\"utf-16\">", None),
            (b"<meta charset=\"no-such-thing\">", None),
            (b"<p>no declaration</p>", None),
        ];
        for (head, want) in cases {
            assert_eq!(declared(head).map(Encoding::name), want, "{head:?}");
        }
    }

    #[test]
    fn a_page_that_says_utf8_and_is_not_is_guessed() {
        let page =
            "<meta charset=\"utf-8\"><p>Naïve café, déjà vu: the résumé’s “smart” quotes.</p>";
        let bytes = encoded(page, "windows-1252");
        assert_eq!(decode(&bytes, true).as_deref(), Some(page));
        // What a page declares is read only in an HTML page.
        let declared_elsewhere = encoded(
            "charset=koi8-r: Привет, мир, как дела сегодня?",
            "windows-1251",
        );
        assert_eq!(
            decode(&declared_elsewhere, false).as_deref(),
            Some("charset=koi8-r: Привет, мир, как дела сегодня?")
        );
    }
}
