//! PDF syntax walked without recursion, as the parsers underneath (lopdf, and
//! the reader's font parsers) read it: how deep arrays, dictionaries, procedures
//! and the parentheses of strings nest in a document's objects, in content and
//! in a font's program or character map, and what content costs to decode (its
//! operators and operands). Those parsers recurse, and a stack overflow aborts
//! the process, which no catch_unwind survives: what nests too deep must be
//! found before they see it, by a reading that cannot overflow itself.

/// Most arrays, dictionaries and parentheses of a string nested in one
/// another in a document's objects and content. lopdf parses those by
/// recursion, on threads of 2 MB stacks, and an overflow aborts the
/// process, which no catch_unwind survives: measured with lopdf 0.38, a
/// release build overflows under a thousand levels, a debug one under a
/// hundred. Documents nest a few levels deep.
pub(super) const MAX_NESTING: usize = 32;
/// Most a font's program or character map may nest (procedures too), as
/// [`MAX_NESTING`] for the reader's parsers of those: their frames are
/// smaller (400 levels fit a debug build's stack), and a Type 1 program is
/// half binary, where a parenthesis opens a string that nests by chance.
pub(super) const MAX_FONT_NESTING: usize = 256;

/// Which PDF syntax a [`scan`] reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Syntax {
    /// One object, as lopdf parses one from the file or an object stream:
    /// the scan ends with it. Its words are numbers, `true`, `false`,
    /// `null` and the `R` of references; any other ends lopdf's parse.
    Object,
    /// A content stream, as lopdf decodes one for the reader: operators and
    /// operands, and inline images, whose data lopdf takes unread.
    Content,
    /// A font's program or character map, as the reader's parsers read one.
    PostScript,
}

impl Syntax {
    /// How deep what is read as this may nest.
    fn deepest(self) -> usize {
        match self {
            Syntax::PostScript => MAX_FONT_NESTING,
            Syntax::Object | Syntax::Content => MAX_NESTING,
        }
    }
}

/// What a [`scan`] read.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Scan {
    /// Where it stopped.
    pub(super) end: usize,
    /// How deep arrays, dictionaries, procedures and the parentheses of
    /// strings nest in it; past what its syntax allows
    /// ([`Syntax::deepest`]) the scan stops.
    pub(super) deepest: usize,
    /// Its operators and operands (an array is one, and so is each thing
    /// in it).
    pub(super) tokens: usize,
    /// How far it read: past where it stopped when it looked ahead for an
    /// end it did not find (an unclosed string, a word run to the end),
    /// which is what a check of many objects must charge itself.
    pub(super) read: usize,
    /// Whether it read one object whole ([`Syntax::Object`]).
    whole: bool,
}

/// Scans `bytes` from `from` as `syntax` is read, without recursion, as far
/// as its parser reads: to the end of one object ([`Syntax::Object`]), the
/// first thing no parser reads (where they stop too), or the end. What the
/// scan passes over unread (a string, a comment, an inline image's data),
/// the parsers pass over too, so no nesting hides from it; what they reject
/// it may still read on, erring on the deep side.
pub(super) fn scan(bytes: &[u8], from: usize, syntax: Syntax) -> Scan {
    let mut walk = Walk {
        bytes,
        syntax,
        scan: Scan::default(),
        depth: 0,
        at: from,
        operation: true,
    };
    while let Some(step) = walk.step() {
        // An inline image neither ends an object nor starts an operation.
        let Step::Token { operator } = step else {
            continue;
        };
        if walk.depth == 0 {
            if syntax == Syntax::Object {
                walk.scan.whole = true;
                break;
            }
            walk.operation = operator;
        }
    }
    walk.scan.end = walk.at;
    walk.scan.read = walk.scan.read.max(walk.at);
    walk.scan
}

/// A [`scan`] under way.
struct Walk<'b> {
    bytes: &'b [u8],
    syntax: Syntax,
    scan: Scan,
    /// How many arrays, dictionaries and procedures are open.
    depth: usize,
    at: usize,
    /// Whether the next token starts an operation, where lopdf takes `BI`
    /// for an inline image.
    operation: bool,
}

/// What one step of a [`scan`] read.
enum Step {
    /// A token, or a bracket opened or closed, and whether it ends in an
    /// operator.
    Token { operator: bool },
    /// An inline image, data and all.
    Image,
}

impl Walk<'_> {
    /// Reads what is next, none where the parsers stop (or the scan must).
    fn step(&mut self) -> Option<Step> {
        self.at = skip_space(self.bytes, self.at);
        let rest = &self.bytes[self.at..];
        let &c = rest.first()?;
        match c {
            b'[' | b'{' => self.open(1),
            b'<' if rest.starts_with(b"<<") => self.open(2),
            b']' | b'}' => self.close(1),
            b'>' if rest.starts_with(b">>") => self.close(2),
            b'<' => {
                // A hexadecimal string, whose parsers read digits and spaces.
                let Some(end) = rest.iter().position(|&b| b == b'>') else {
                    return self.read_to_end();
                };
                self.token(end + 1)
            }
            b'(' => {
                let most = self.syntax.deepest();
                let Some(end) = string_end(rest, self.depth, most, &mut self.scan.deepest) else {
                    return self.read_to_end();
                };
                if self.scan.deepest > most {
                    return None;
                }
                self.token(end)
            }
            b'/' => self.token(word_end(self.bytes, self.at + 1) - self.at),
            // `)` or `>` out of place.
            _ if is_delimiter(c) => None,
            _ => self.word(),
        }
    }

    /// None: it looked for an end to the end of the bytes.
    fn read_to_end(&mut self) -> Option<Step> {
        self.scan.read = self.bytes.len();
        None
    }

    /// An array, dictionary or procedure opened by `len` bytes; none past
    /// the depth the syntax allows.
    fn open(&mut self, len: usize) -> Option<Step> {
        self.at += len;
        self.depth += 1;
        self.scan.tokens += 1;
        self.scan.deepest = self.scan.deepest.max(self.depth);
        (self.scan.deepest <= self.syntax.deepest()).then_some(Step::Token { operator: false })
    }

    /// An array, dictionary or procedure closed by `len` bytes; none if
    /// none is open.
    fn close(&mut self, len: usize) -> Option<Step> {
        self.depth = self.depth.checked_sub(1)?;
        self.at += len;
        Some(Step::Token { operator: false })
    }

    /// An operand `len` bytes long.
    fn token(&mut self, len: usize) -> Option<Step> {
        self.at += len;
        self.scan.tokens += 1;
        Some(Step::Token { operator: false })
    }

    /// The word here (a number, keyword or operators), or an inline image
    /// its `BI` starts; none where the syntax has no such word.
    fn word(&mut self) -> Option<Step> {
        let bytes = self.bytes;
        let end = word_end(bytes, self.at);
        self.scan.read = self.scan.read.max(end);
        let word = &bytes[self.at..end];
        if !word.iter().all(u8::is_ascii_graphic) {
            return None;
        }
        let object_word = || word.iter().all(|b| b"0123456789+-.truefalsnR".contains(b));
        let mut operator = false;
        match self.syntax {
            Syntax::Content if self.depth == 0 => {
                if self.operation && word.starts_with(b"BI") {
                    let Some(after) = inline_image(bytes, self.at + 2, &mut self.scan) else {
                        return self.read_to_end();
                    };
                    self.at = after;
                    self.scan.tokens += 1;
                    return Some(Step::Image);
                }
                operator = ends_in_operator(word)?;
            }
            Syntax::Object | Syntax::Content if !object_word() => return None,
            _ => {}
        }
        self.at = end;
        self.scan.tokens += 1;
        Some(Step::Token { operator })
    }
}

/// Whether `c` is white space, as PDF has it.
pub(super) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | 0)
}

/// Whether `c` is a delimiter, as PDF has it.
fn is_delimiter(c: u8) -> bool {
    b"()<>[]{}/%".contains(&c)
}

/// Where the white space and comments at `at` of `bytes` end.
pub(super) fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while let Some(&c) = bytes.get(at) {
        if c == b'%' {
            let line = bytes[at..].iter().position(|&b| b == b'\r' || b == b'\n');
            at = line.map_or(bytes.len(), |end| at + end);
        } else if is_space(c) {
            at += 1;
        } else {
            break;
        }
    }
    at
}

/// Where the word (or name, past its `/`) at `at` of `bytes` ends.
fn word_end(bytes: &[u8], at: usize) -> usize {
    at + (bytes[at..].iter())
        .take_while(|&&b| !is_space(b) && !is_delimiter(b))
        .count()
}

/// How far into `rest` the literal string it opens ends, past its `)`, none
/// if it does not; how deep its parentheses nest, under `depth`, is noted
/// in `deepest`, and past `most` it ends there.
fn string_end(rest: &[u8], depth: usize, most: usize, deepest: &mut usize) -> Option<usize> {
    let mut level = 0;
    let mut at = 0;
    while let Some(&c) = rest.get(at) {
        at += 1;
        match c {
            // What a backslash escapes is never a parenthesis the string
            // nests, whatever escape it is.
            b'\\' => at += 1,
            b'(' => {
                level += 1;
                *deepest = (*deepest).max(depth + level);
                if *deepest > most {
                    return Some(at);
                }
            }
            b')' => {
                level -= 1;
                if level == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the operations of lopdf's content decoder read `word`, at the
/// top of a content stream, as ending in an operator; none if it cannot
/// read it. It reads `null`, `true` and `false` wherever they start, then
/// numbers, then runs of letters as operators: `12Tf` is `12` and `Tf`.
fn ends_in_operator(word: &[u8]) -> Option<bool> {
    let mut rest = word;
    let mut operator = false;
    while !rest.is_empty() {
        let literal = [&b"null"[..], b"true", b"false"]
            .into_iter()
            .find(|l| rest.starts_with(l));
        let taken;
        (taken, operator) = match (literal, number_len(rest)) {
            (Some(literal), _) => (literal.len(), false),
            (None, Some(len)) => (len, false),
            (None, None) => {
                let letters = (rest.iter())
                    .take_while(|b| b.is_ascii_alphabetic() || b"*'\"".contains(b))
                    .count();
                if letters == 0 {
                    return None;
                }
                (letters, true)
            }
        };
        rest = &rest[taken..];
    }
    Some(operator)
}

/// How many ASCII digits `bytes` has in a row from `at`.
fn digits_at(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// How long the number `word` starts with is, as lopdf reads numbers (a
/// real before an integer), if it starts with one.
fn number_len(word: &[u8]) -> Option<usize> {
    let sign = usize::from(matches!(word.first(), Some(b'+' | b'-')));
    let digits = |from: usize| digits_at(word, from);
    let whole = digits(sign);
    let point = sign + whole;
    if word.get(point) == Some(&b'.') {
        let fraction = digits(point + 1);
        if whole + fraction > 0 {
            return Some(point + 1 + fraction);
        }
    }
    (whole > 0).then_some(point)
}

/// A value of an inline image's dictionary, as far as its length needs.
#[derive(Debug)]
enum Value {
    Integer(i64),
    Boolean(bool),
    Name(Vec<u8>),
    Other,
}

/// Where the inline image whose `BI` ends at `at` of `bytes` ends, past its
/// `EI`, as lopdf's content decoder reads one: its data is as long as its
/// width, height, bits and colours make it (with lopdf's arithmetic, which
/// wraps in a release build), and read as data, not syntax. None where
/// lopdf stops (it reads no filtered data) or panics (no colour space).
/// What its dictionary nests is noted in `scan`.
fn inline_image(bytes: &[u8], at: usize, scan: &mut Scan) -> Option<usize> {
    // lopdf's content space has no form feed and no NUL.
    let content_space = |at: usize| {
        let rest: &[u8] = &bytes[at..];
        at + rest.iter().take_while(|b| b" \t\r\n".contains(b)).count()
    };
    let mut at = content_space(at);
    let mut entries = Vec::new();
    while bytes.get(at) == Some(&b'/') {
        let (key, end) = name(bytes, at)?;
        let (value, end) = value(bytes, skip_space(bytes, end), scan)?;
        entries.push((key, value));
        at = skip_space(bytes, end);
    }
    if !bytes[at..].starts_with(b"ID") {
        return None;
    }
    let at = content_space(at + 2);
    // The last of a key, by its short name or else its long one.
    let get = |short: &[u8], long: &[u8]| {
        let last = |key: &[u8]| entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
        last(short).or_else(|| last(long))
    };
    let integer = |short: &[u8], long: &[u8]| match get(short, long) {
        Some(Value::Integer(n)) => Some(*n as usize),
        _ => None,
    };
    let width = integer(b"W", b"Width")?;
    let height = integer(b"H", b"Height")?;
    let bits = integer(b"BPC", b"BitsPerComponent")?;
    let colours: usize = if matches!(get(b"IM", b"ImageMask"), Some(Value::Boolean(true))) {
        1
    } else {
        match get(b"CS", b"ColorSpace")? {
            Value::Name(space) => match space.as_slice() {
                b"DeviceGray" | b"Gray" => 1,
                b"DeviceRGB" | b"RGB" => 3,
                b"DeviceRGBA" | b"RGBA" | b"DeviceCMYK" | b"CMYK" => 4,
                _ => return None,
            },
            _ => return None,
        }
    };
    if get(b"F", b"Filter").is_some() {
        return None;
    }
    let stride = width.wrapping_mul(colours.wrapping_mul(bits)).div_ceil(8);
    let end = at.checked_add(height.wrapping_mul(stride))?;
    let end = content_space((end <= bytes.len()).then_some(end)?);
    bytes[end..]
        .starts_with(b"EI")
        .then(|| content_space(end + 2))
}

/// The name at `at` of `bytes` (its `/` there), as lopdf reads it (`#`
/// and two hexadecimal digits are one byte), and where it ends; none where a
/// `#` without them ends lopdf's name before the scan's.
pub(super) fn name(bytes: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let end = word_end(bytes, at + 1);
    let mut name = Vec::new();
    let mut next = at + 1;
    while next < end {
        if bytes[next] == b'#' {
            let hex = bytes.get(next + 1..next + 3)?;
            let hex = std::str::from_utf8(hex)
                .ok()
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
            name.push(u8::from_str_radix(hex, 16).ok()?);
            next += 3;
        } else {
            name.push(bytes[next]);
            next += 1;
        }
    }
    Some((name, end.max(next)))
}

/// The value at `at` of `bytes`, in an inline image's dictionary, as lopdf
/// reads one, and where it ends; none where lopdf reads none. What it
/// nests is noted in `scan`.
fn value(bytes: &[u8], at: usize, scan: &mut Scan) -> Option<(Value, usize)> {
    let rest = &bytes[at..];
    match rest.first()? {
        b'/' => return name(bytes, at).map(|(name, end)| (Value::Name(name), end)),
        b'[' | b'<' | b'(' => {
            let object = self::scan(bytes, at, Syntax::Object);
            scan.deepest = scan.deepest.max(object.deepest);
            scan.tokens += object.tokens;
            return object.whole.then_some((Value::Other, object.end));
        }
        _ => {}
    }
    // In lopdf's order: a reference before a number.
    for (literal, value) in [
        (&b"null"[..], Value::Other),
        (b"true", Value::Boolean(true)),
        (b"false", Value::Boolean(false)),
    ] {
        if rest.starts_with(literal) {
            return Some((value, at + literal.len()));
        }
    }
    if let Some(end) = reference_end(bytes, at) {
        return Some((Value::Other, end));
    }
    let len = number_len(rest)?;
    let number = std::str::from_utf8(&rest[..len]).ok()?;
    let value = match number.contains('.') {
        true => Value::Other,
        false => Value::Integer(number.parse().ok()?),
    };
    Some((value, at + len))
}

/// Where the reference (`12 0 R`) at `at` of `bytes` ends, if one is there.
fn reference_end(bytes: &[u8], at: usize) -> Option<usize> {
    let digits = |at: usize| digits_at(bytes, at);
    let number = digits(at);
    let generation = skip_space(bytes, at + number);
    let r = skip_space(bytes, generation + digits(generation));
    let found = number > 0 && digits(generation) > 0 && bytes.get(r) == Some(&b'R');
    found.then_some(r + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_nests_as_the_parsers_do() {
        // (syntax, bytes, how deep they nest): what a string, a comment or
        // an inline image's data holds does not nest, but a string's own
        // parentheses do; one object ends the scan of one.
        let table: &[(Syntax, &[u8], usize)] = &[
            (
                Syntax::Content,
                b"[(a]]]) 1] TJ [<5D5D>] TJ % [[[\n[[]] d0",
                2,
            ),
            (Syntax::Content, b"(((a))) Tj", 3),
            (
                Syntax::Content,
                b"BI /W 4 /H 1 /BPC 8 /CS /Gray ID [[[[ EI [] TJ",
                1,
            ),
            // lopdf stops at a filtered inline image, and so does the scan.
            (
                Syntax::Content,
                b"BI /W 4 /H 1 /BPC 8 /CS /Gray /F /AHx ID [[[[ EI",
                0,
            ),
            (
                Syntax::PostScript,
                b"/Encoding 256 array { { [ ] } } def",
                3,
            ),
            (Syntax::PostScript, &[b'('; 300], 257),
            (Syntax::Object, b" [1 [2]] [[[[", 2),
            (Syntax::Object, b" <</A [1 0 R]>> stream [[[[", 2),
            // No parser reads on past a word it does not know.
            (Syntax::Object, b" endobj [[[[", 0),
        ];
        for (syntax, bytes, deepest) in table {
            let got = scan(bytes, 0, *syntax).deepest;
            assert_eq!(
                got,
                *deepest,
                "{syntax:?} {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
