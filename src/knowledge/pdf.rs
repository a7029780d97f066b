//! PDF documents → Markdown, which the Markdown reader then reads as any page.
//! A PDF holds positioned text, not paragraphs: the text of each page is read
//! in reading order (pdf-extract), and what a reader sees is rebuilt from it.
//! A gap between lines ends a paragraph; the lines of one paragraph are joined
//! (a line ending in a hyphen joined to the next without a space: office suites
//! do not hyphenate, so "well-" "known" is "well-known"); a numbered line of its own
//! ("2.3 Travel expenses") followed by text is a heading, at the depth of its
//! number, when the document numbers at least two sections as an outline does
//! (see [`Headings`]); a document that does not is cited by page ("Page 4").
//! What repeats at the top or bottom of most pages (a running title, "Page 3
//! of 9") and a page's own number are page furniture, not text. The title is
//! the file's name (a PDF's own title field is often its authoring tool's, such
//! as "Microsoft Word - draft3.docx"). A PDF encrypted with an empty
//! password (restrictions on printing or copying only) is read. A PDF that
//! cannot be read (encrypted with a password, damaged, cross-reference
//! streams that list or unpack to too much, a page tree that loops, objects
//! nested deeper than the parsers underneath recurse safely, too large, no
//! text at all as in a scan, or one that makes the reader fail) is a
//! problem, never a crash. A page the
//! reader panics on is left out, its panic caught and kept off stderr (a
//! debug log line says what it was, see [`quiet_page_panics`]); so is a page
//! that would crash it or cost too much to draw (forms that draw themselves,
//! content or fonts nested too deep, more content to unpack and decode than a
//! page or what is left of the document's budget allows: see [`Drawing`]).
//! Pictures are emptied before any page is read: they hold no text the
//! reader reads, yet it unpacks and decodes each one a page draws.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::escape;
use super::pdf_scan::{MAX_FONT_NESTING, MAX_NESTING, Syntax, is_space, name, scan, skip_space};

/// Most pages of one document read.
const MAX_PAGES: usize = 5_000;
/// Largest document read, in bytes.
pub(crate) const MAX_BYTES: usize = 64 << 20;
/// Most `Parent` links followed up a page tree: deeper is a loop.
const MAX_TREE_DEPTH: usize = 64;
/// Longest line, in characters, that may be a numbered heading.
const MAX_HEADING_CHARS: usize = 80;
/// Most words of a numbered heading.
const MAX_HEADING_WORDS: usize = 10;
/// Most bytes the drawing of one page unpacks and decodes: its content and
/// each form it draws, as often as it draws it. Also the most an object
/// stream may unpack to.
const MAX_PAGE_BYTES: usize = 8 << 20;
/// Most operators and operands the drawing of one page decodes, counted as
/// its bytes are. Each costs the decoder hundreds of bytes: a page of 8 MB of
/// `q Q` took 2.3 GB and 8 seconds, a 40 MB one more memory than there was.
const MAX_PAGE_TOKENS: usize = 250_000;
/// Most bytes, and operators and operands, all pages of one document may
/// draw: past it, further pages are left out.
const MAX_DOCUMENT: Cost = Cost {
    bytes: 256 << 20,
    tokens: 25_000_000,
};
/// Most a font's program or character map may unpack to: the reader
/// unpacks each again for every page and form that sets the font.
const MAX_FONT_BYTES: usize = 32 << 20;
/// Key under which an object stream refused as it was loaded says why
/// ([`object_streams_checked`]).
const REFUSED: &[u8] = b"CitebotRefused";

pub(crate) use super::Converted;

/// The PDF document `bytes` as Markdown, or why it cannot be read.
pub(crate) fn markdown(bytes: &[u8]) -> Result<Converted, String> {
    let unreadable = |why: String| format!("not a readable PDF document: {why}");
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "a PDF of more than {} MB: not read",
            MAX_BYTES >> 20
        ));
    }
    // lopdf parses nested objects by recursion, and cross-reference streams
    // without a bound: each place it may start to parse one is checked first.
    objects_checked(bytes).map_err(unreadable)?;
    // Parsed once, and checked before the text is read: the reader follows a
    // page's `Parent` links without a bound (a loop overflows the stack, which
    // no catch_unwind survives).
    let mut doc = load(bytes).map_err(|e| unreadable(e.to_string()))?;
    if let Some(why) = doc.objects.values().find_map(refused) {
        return Err(unreadable(why));
    }
    // Documents encrypted with an empty password (permissions only) are
    // read; others are a problem.
    if doc.is_encrypted() {
        decrypted(&mut doc, bytes).map_err(unreadable)?;
    }
    let count = doc.get_pages().len();
    if count > MAX_PAGES {
        return Err(format!("a PDF of more than {MAX_PAGES} pages: not read"));
    }
    looped_page_tree(&doc).map_err(unreadable)?;
    pictures_emptied(&mut doc);
    // The reader panics on some malformed pages (a font the page names but
    // does not have) and fails on others: such a page costs its own text, not
    // the document's, nor the reload. Its place is kept empty, so later pages
    // keep their numbers, which citations name.
    let mut pages = Vec::with_capacity(count);
    let (mut unread, mut first_why) = (Vec::new(), None);
    let ids = doc.get_pages();
    let mut drawing = Drawing::new(&doc);
    for n in 1..=count as u32 {
        // A page that would overflow the reader's stack (no catch_unwind
        // survives that) or cost too much is not read at all.
        let read = match ids.get(&n) {
            Some(&id) => drawing.page(id).and_then(|()| read_page(&doc, n)),
            None => Err("not in the page tree".into()),
        };
        match read {
            Ok(text) => pages.push(text),
            Err(why) => {
                tracing::debug!("PDF page {n} not read: {why}");
                unread.push(n as usize);
                pages.push(String::new());
                first_why.get_or_insert(why);
            }
        }
    }
    if count > 0 && unread.len() == count {
        let why = first_why.unwrap_or_default();
        return Err(unreadable(format!("no page could be read (page 1: {why})")));
    }
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err("a PDF with no text (a scan holds only pictures of it): not read".into());
    }
    Ok(Converted {
        unread,
        ..from_pages(&pages)
    })
}

/// `bytes` parsed as lopdf parses a document, with each object stream
/// checked before lopdf parses the objects in it ([`object_streams_checked`]).
///
/// lopdf reads an encrypted document another way: it parses the objects of
/// its object streams unchecked, and decrypts what it reads, so that
/// [`lopdf::Document::decrypt`] decrypts it a second time (no such document
/// was readable). So the trailer's `/Encrypt` is hidden from lopdf's reader
/// (renamed, same length: no offset moves), the document is read as if it
/// were not encrypted with its object streams set aside
/// ([`object_streams_deferred`]), and the key is put back: [`decrypted`]
/// then decrypts it once and checks the object streams as they are parsed.
fn load(bytes: &[u8]) -> lopdf::Result<lopdf::Document> {
    let read = |buffer: &[u8], filter: Filter| {
        let reader = lopdf::Reader {
            buffer,
            document: lopdf::Document::new(),
            encryption_state: None,
            raw_objects: BTreeMap::new(),
        };
        reader.read(Some(filter))
    };
    let Some(hidden) = encrypt_hidden(bytes) else {
        return read(bytes, object_streams_checked);
    };
    let mut doc = read(&hidden, object_streams_deferred)?;
    let key = (doc.trailer.iter())
        .map(|(key, _)| key.clone())
        .find(|key| key.starts_with(&HIDDEN_ENCRYPT[1..]));
    match key.and_then(|key| doc.trailer.remove(&key)) {
        Some(encrypt) => {
            doc.trailer.set("Encrypt", encrypt);
            Ok(doc)
        }
        // What was hidden was not the trailer's: the document is not
        // encrypted, and is read as written.
        None => read(bytes, object_streams_checked),
    }
}

/// What lopdf's reader calls on each object it loads.
type Filter = fn(lopdf::ObjectId, &mut lopdf::Object) -> Option<(lopdf::ObjectId, lopdf::Object)>;

/// The name `/Encrypt` is given in [`load`]: of the same length.
const HIDDEN_ENCRYPT: &[u8] = b"/CbCrypt";
/// The type an object stream of an encrypted document is given while it is
/// read, so that lopdf leaves it unparsed ([`object_streams_deferred`]).
const DEFERRED_OBJECT_STREAM: &[u8] = b"CitebotObjStm";

/// `bytes` with each name lopdf reads as `Encrypt` renamed, to
/// [`HIDDEN_ENCRYPT`] and as many `_` as the name is longer (written with
/// `#` escapes, `/Encr#79pt`), whatever follows it; none when there is
/// none. What is renamed where it is not the trailer's key is put back by
/// reading the document as written ([`load`]).
fn encrypt_hidden(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut hidden: Option<Vec<u8>> = None;
    let mut at = 0;
    while let Some(found) = bytes[at..].iter().position(|&c| c == b'/') {
        let start = at + found;
        // A `#` that ends lopdf's name early leaves a trailer it cannot read.
        let (name, end) = name(bytes, start).unwrap_or_default();
        if name == b"Encrypt" {
            let out = hidden.get_or_insert_with(|| bytes.to_vec());
            out[start..start + HIDDEN_ENCRYPT.len()].copy_from_slice(HIDDEN_ENCRYPT);
            out[start + HIDDEN_ENCRYPT.len()..end].fill(b'_');
        }
        at = end.max(start + 1);
    }
    hidden
}

/// lopdf's filter on each object of an encrypted document as it loads
/// ([`load`]): an object stream's data is still encrypted, so it can be
/// neither checked nor parsed yet. It is given another type, which lopdf
/// does not parse, until [`decrypted`] has decrypted it.
fn object_streams_deferred(
    id: lopdf::ObjectId,
    object: &mut lopdf::Object,
) -> Option<(lopdf::ObjectId, lopdf::Object)> {
    if let lopdf::Object::Stream(stream) = object
        && stream.dict.has_type(b"ObjStm")
    {
        let deferred = lopdf::Object::Name(DEFERRED_OBJECT_STREAM.to_vec());
        stream.dict.set("Type", deferred);
    }
    Some((id, lopdf::Object::Null))
}

/// Decrypts `doc`, read by [`load`], with the empty password, then parses
/// the objects of its object streams as lopdf does, each stream checked
/// first ([`object_stream_checked`]): an object already read is kept.
/// An object that fails to decrypt is kept as it is, as lopdf's own reader
/// keeps it: a signature's contents are not encrypted, and
/// [`lopdf::Document::decrypt`] failed the whole document on those.
fn decrypted(doc: &mut lopdf::Document, bytes: &[u8]) -> Result<(), String> {
    // lopdf reads from the header on, and places streams from there.
    let bytes = &bytes[bytes.windows(5).position(|w| w == b"%PDF-").unwrap_or(0)..];
    doc.authenticate_password("").map_err(|e| e.to_string())?;
    let state = lopdf::EncryptionState::decode(doc, "").map_err(|e| e.to_string())?;
    let encryption =
        (doc.trailer.remove(b"Encrypt")).and_then(|encrypt| encrypt.as_reference().ok());
    if let Some(id) = encryption {
        doc.objects.remove(&id);
    }
    // A stream whose length is an object in an object stream was read
    // empty (decrypting it sets its length to 0): read once those are
    // parsed, below.
    let unread: Vec<(lopdf::ObjectId, lopdf::Object)> = (doc.objects.iter())
        .filter_map(|(&id, object)| {
            let stream = object.as_stream().ok()?;
            let unread = stream.content.is_empty() && stream.start_position.is_some();
            Some((id, stream.dict.get(b"Length").ok()?.clone())).filter(|_| unread)
        })
        .collect();
    for (&id, object) in doc.objects.iter_mut() {
        let _ = lopdf::encryption::decrypt_object(&state, id, object);
    }
    let mut found = BTreeMap::new();
    for object in doc.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.dict.has_type(DEFERRED_OBJECT_STREAM) {
            continue;
        }
        stream
            .dict
            .set("Type", lopdf::Object::Name(b"ObjStm".to_vec()));
        object_stream_checked(stream)?;
        if let Ok(objects) = lopdf::ObjectStream::new(stream) {
            found.extend(objects.objects);
        }
    }
    for (id, object) in found {
        doc.objects.entry(id).or_insert(object);
    }
    // Each stream read empty is read now, as lopdf reads one once it has
    // parsed the object streams, and decrypted.
    for (id, length) in unread {
        let length = (doc.dereference(&length)).and_then(|(_, length)| length.as_i64());
        let Some(object) = doc.objects.get_mut(&id) else {
            continue;
        };
        let Ok(stream) = object.as_stream_mut() else {
            continue;
        };
        let start = stream.start_position.unwrap_or(usize::MAX);
        let data = (length.ok().and_then(|n| usize::try_from(n).ok()))
            .and_then(|n| bytes.get(start..start.checked_add(n)?));
        if let Some(data) = data {
            stream.set_content(data.to_vec());
            let _ = lopdf::encryption::decrypt_object(&state, id, object);
        }
    }
    doc.encryption_state = Some(state);
    Ok(())
}

/// lopdf's filter on each object it loads, which it calls on an object
/// stream before parsing the objects in it: those were compressed, out of
/// [`objects_checked`]'s sight. An object stream they would overflow
/// the stack in, or that unpacks to more than [`MAX_PAGE_BYTES`], is left
/// unparsed, emptied, and marked ([`REFUSED`]): the document is a problem.
/// Encrypted documents are read with [`object_streams_deferred`] instead.
fn object_streams_checked(
    id: lopdf::ObjectId,
    object: &mut lopdf::Object,
) -> Option<(lopdf::ObjectId, lopdf::Object)> {
    let lopdf::Object::Stream(stream) = object else {
        // Objects from an object stream: lopdf keeps the one returned.
        return Some((id, object.clone()));
    };
    if stream.dict.has_type(b"ObjStm")
        && let Err(why) = object_stream_checked(stream)
    {
        stream.dict.remove(b"Type");
        stream.dict.set(REFUSED, lopdf::Object::string_literal(why));
        stream.set_content(Vec::new());
    }
    // Objects from the file keep their place, changed in it; what is
    // returned is dropped.
    Some((id, lopdf::Object::Null))
}

/// Why the objects of object stream `stream` cannot be parsed safely, if
/// they cannot: read where lopdf reads them, as it finds them (its index of
/// where each starts). Unpacked once: lopdf then parses it as it is.
fn object_stream_checked(stream: &mut lopdf::Stream) -> Result<(), String> {
    let Some(content) = stream_bytes(stream, MAX_PAGE_BYTES) else {
        return Err(format!(
            "an object stream unpacks to more than {} MB",
            MAX_PAGE_BYTES >> 20
        ));
    };
    let first = stream.dict.get(b"First").and_then(lopdf::Object::as_i64);
    let index = (first.ok().and_then(|first| usize::try_from(first).ok()))
        .and_then(|first| Some((first, content.get(..first)?)))
        .and_then(|(first, index)| Some((first, std::str::from_utf8(index).ok()?)));
    // lopdf parses nothing of an object stream without an index.
    if let Some((first, index)) = index {
        let numbers: Vec<Option<u32>> = index.split_whitespace().map(|n| n.parse().ok()).collect();
        let mut work = 0;
        for pair in numbers.chunks_exact(2) {
            let (Some(_), Some(offset)) = (pair[0], pair[1]) else {
                continue;
            };
            let at = first + offset as usize;
            if at >= content.len() {
                continue;
            }
            let object = scan(&content, at, Syntax::Object);
            if object.deepest > MAX_NESTING {
                return Err(format!("an object stream nests deeper than {MAX_NESTING}"));
            }
            work += object.read - at;
            if work > within_work(content.len()) {
                return Err("an object stream's objects overlap too much to check".into());
            }
        }
    }
    stream.set_plain_content(content);
    Ok(())
}

/// Why object `object` was refused as it was loaded, if it was.
fn refused(object: &lopdf::Object) -> Option<String> {
    let why = object
        .as_stream()
        .ok()?
        .dict
        .get(REFUSED)
        .ok()?
        .as_str()
        .ok()?;
    Some(String::from_utf8_lossy(why).into_owned())
}

/// The most bytes scanned to check objects that start within `len` bytes:
/// each is scanned where it lies, once in a document as written, so more is
/// objects laid over one another to make the check slow.
fn within_work(len: usize) -> usize {
    len.saturating_mul(4).saturating_add(4096)
}

/// An error when an object lopdf may parse from `bytes` nests deeper than
/// [`MAX_NESTING`], or is a cross-reference stream it would unpack or read
/// too much of ([`xref_stream_checked`]). lopdf parses each object from
/// where its cross-reference table says it starts, which may be anywhere,
/// even inside what a reading from the top sees as a comment, a string or a
/// stream's data. Every object it parses starts after "obj" (after the
/// object's number; an object stream's are checked as it loads) or
/// "trailer", so every object after either is scanned, wherever it lies.
fn objects_checked(bytes: &[u8]) -> Result<(), String> {
    let (mut work, mut entries) = (0, 0);
    for (at, &c) in bytes.iter().enumerate() {
        let after_number = || at == 0 || bytes[at - 1].is_ascii_digit() || is_space(bytes[at - 1]);
        let from = match c {
            b'o' if bytes[at..].starts_with(b"obj") && after_number() => at + 3,
            b't' if bytes[at..].starts_with(b"trailer") => at + 7,
            _ => continue,
        };
        let object = scan(bytes, from, Syntax::Object);
        if object.deepest > MAX_NESTING {
            return Err(format!("its objects nest deeper than {MAX_NESTING}"));
        }
        work += object.read - from;
        work += xref_stream_checked(bytes, from..object.end, &mut entries)?;
        if work > within_work(bytes.len()) {
            return Err("its objects overlap too much to check".into());
        }
    }
    Ok(())
}

/// Most entries all cross-reference streams of a document may list. lopdf
/// keeps each (tens of bytes), and an entry may take no byte of the
/// stream: a megabyte of FlateDecode listed a billion, which took more
/// memory than there was.
const MAX_XREF_ENTRIES: usize = 4 << 20;
/// Widest field of a cross-reference stream's entries, in bytes: lopdf
/// makes room for each as it is written (a width of 2^40 is a terabyte).
const MAX_XREF_FIELD: i64 = 8;

/// How many bytes were read to check `dictionary` of `bytes`, which lopdf
/// may decode as a cross-reference stream, as it decodes any stream at
/// an offset the file gives it one at (with `/W` and `/Size`; the type
/// is not asked for), or an error when lopdf would make too much of it:
/// its entries, counted into `entries`, past [`MAX_XREF_ENTRIES`] in all,
/// a field wider than [`MAX_XREF_FIELD`], or data that unpacks to more
/// than its entries take.
fn xref_stream_checked(
    bytes: &[u8],
    dictionary: std::ops::Range<usize>,
    entries: &mut usize,
) -> Result<usize, String> {
    let text = &bytes[dictionary.clone()];
    let text = &text[text.iter().take_while(|&&c| is_space(c)).count()..];
    // Only a dictionary with a `/W` (or a name written with `#` escapes,
    // which may be one: `/#57`) is parsed.
    let may_have_widths = text.windows(2).any(|w| w == b"/W") || text.contains(&b'#');
    if !text.starts_with(b"<<") || !may_have_widths {
        return Ok(0);
    }
    let (at, read) = match stream_data(bytes, dictionary.end) {
        Ok(at) => (at, at - dictionary.end),
        Err(read) => return Ok(read),
    };
    // Parsed as lopdf parses it (its content decoder reads dictionaries as
    // its object parser does); scanned first, so it nests shallowly.
    let parsed = lopdf::content::Content::decode(&[text, b" x"].concat()).ok();
    let Some(dict) = (parsed.as_ref())
        .and_then(|content| content.operations.first()?.operands.first()?.as_dict().ok())
    else {
        return Ok(read);
    };
    let integers = |key: &[u8]| -> Option<Vec<i64>> {
        let array = dict.get(key).ok()?.as_array().ok()?;
        array.iter().map(|n| n.as_i64().ok()).collect()
    };
    let (Some(widths), Ok(size)) = (
        integers(b"W"),
        dict.get(b"Size").and_then(lopdf::Object::as_i64),
    ) else {
        return Ok(read);
    };
    if widths.len() < 3 || widths[..3].iter().any(|w| w.is_negative()) {
        return Ok(read);
    }
    if widths[..3].iter().any(|&w| w > MAX_XREF_FIELD) {
        return Err(format!(
            "a cross-reference stream's entries have a field wider than {MAX_XREF_FIELD} bytes"
        ));
    }
    let listed = xref_entries(integers(b"Index").unwrap_or_else(|| vec![0, size]))?;
    *entries = entries.saturating_add(listed);
    if *entries > MAX_XREF_ENTRIES {
        return Err(format!(
            "its cross-reference streams list more than {MAX_XREF_ENTRIES} objects"
        ));
    }
    // lopdf takes `Length` bytes when the length is given, else what follows
    // (a reference is looked up, so the rest of the file bounds it: a part of
    // what is packed unpacks to a part of it).
    let length = dict.get(b"Length").and_then(lopdf::Object::as_i64).ok();
    let data = match length.and_then(|n| usize::try_from(n).ok()) {
        Some(n) => bytes.get(at..at.saturating_add(n)).unwrap_or(&[]),
        None => &bytes[at..],
    };
    // Each row, and the byte a PNG predictor adds to it, then room for a
    // damaged tail.
    let row = widths[..3].iter().sum::<i64>() as usize + 1;
    let limit = listed.saturating_mul(row).saturating_add(4096);
    let stream = lopdf::Stream::new(dict.clone(), data.to_vec());
    if stream.is_compressed() && stream_bytes(&stream, limit).is_none() {
        return Err(format!(
            "a cross-reference stream unpacks to more than its {listed} entries take"
        ));
    }
    Ok(read + data.len())
}

/// How many entries a cross-reference stream's sections (`/Index`, pairs
/// of a first object number and a count) list, or an error when lopdf
/// would number them past the last object number there can be: it adds
/// without a check, so a debug build panics (a release build wraps).
fn xref_entries(sections: Vec<i64>) -> Result<usize, String> {
    let numbered = |section: &[i64]| {
        section[0] >= 0 && (section[0].checked_add(section[1])).is_some_and(|end| end <= 1 << 32)
    };
    if !sections.chunks_exact(2).all(numbered) {
        return Err("a cross-reference stream numbers objects past the last there can be".into());
    }
    Ok((sections.chunks_exact(2))
        .map(|section| usize::try_from(section[1]).unwrap_or(0))
        .fold(0usize, usize::saturating_add))
}

/// Where the data of the stream whose dictionary ends at `end` of `bytes`
/// starts, as lopdf reads a stream: the dictionary, white space and
/// comments, `stream`, spaces and an end of line; or, when no stream
/// follows, how many bytes were read to find that out.
fn stream_data(bytes: &[u8], end: usize) -> Result<usize, usize> {
    let mut at = skip_space(bytes, end);
    let read = at - end;
    if !bytes[at..].starts_with(b"stream") {
        return Err(read);
    }
    at += b"stream".len();
    at += bytes[at..]
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    match &bytes[at..] {
        [b'\r', b'\n', ..] => Ok(at + 2),
        [b'\r' | b'\n', ..] => Ok(at + 1),
        _ => Err(read),
    }
}

/// Empties the data of every picture (image XObject) of `doc`: the reader
/// reads no text from one, yet unpacks and decodes each a page draws as if
/// it were a form, which would count against the page (a screenshot
/// unpacks to megabytes).
fn pictures_emptied(doc: &mut lopdf::Document) {
    for object in doc.objects.values_mut() {
        if let lopdf::Object::Stream(stream) = object
            && (stream.dict.get(b"Subtype").and_then(lopdf::Object::as_name))
                .is_ok_and(|subtype| subtype == b"Image")
        {
            stream.set_plain_content(Vec::new());
        }
    }
}

/// The text of page `n` of `doc` as the reader reads it, or why it cannot be
/// read (what the reader's panic said, and where, when it panicked).
fn read_page(doc: &lopdf::Document, n: u32) -> Result<String, String> {
    quiet_page_panics();
    // Only this page's panic is this page's reason.
    PAGE_PANIC.take();
    let reading = ReadingPage::start();
    // Unwind-safe in fact: the reader only borrows the document.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut text = String::new();
        let mut out = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc_page(doc, &mut out, n).map(|()| text)
    }));
    drop(reading);
    match read {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            let said = PAGE_PANIC.take().unwrap_or_else(|| "(not kept)".into());
            Err(format!("the reader panicked: {said}"))
        }
    }
}

thread_local! {
    /// Whether this thread is reading a PDF page, whose panics are caught
    /// ([`quiet_page_panics`]).
    static READING_PAGE: Cell<bool> = const { Cell::new(false) };
    /// What the page reader's last panic on this thread said, and where.
    static PAGE_PANIC: Cell<Option<String>> = const { Cell::new(None) };
}

/// A panic hook, as `std::panic::set_hook` takes one.
type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Keeps the page reader's panics out of stderr: they are caught and the
/// page left out is a problem `citebot check` names, so the default hook's
/// "thread '…' panicked at …" for each bad page was noise in check's output
/// and the bot's log. Every other panic goes to the hook set before, as it
/// did. Installed once, before the first page is read.
fn quiet_page_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(quiet(previous));
    });
}

/// The hook that keeps what a panic of the page reader said for its page's
/// log line ([`PAGE_PANIC`]), and hands any other panic to `previous`.
fn quiet(previous: Hook) -> Hook {
    Box::new(move |info| {
        if !READING_PAGE.get() {
            return previous(info);
        }
        let said = info.payload_as_str().unwrap_or("(no message)");
        let at = info.location().map(|l| format!(" at {l}"));
        PAGE_PANIC.set(Some(format!("{said}{}", at.unwrap_or_default())));
    })
}

/// Marks this thread as reading a page while it lives; dropping it, when
/// unwinding too, restores the mark as it was.
struct ReadingPage {
    was: bool,
}

impl ReadingPage {
    fn start() -> ReadingPage {
        ReadingPage {
            was: READING_PAGE.replace(true),
        }
    }
}

impl Drop for ReadingPage {
    fn drop(&mut self) {
        READING_PAGE.set(self.was);
    }
}

/// Most forms (XObjects) drawn inside one another that a page may have.
const MAX_FORM_DEPTH: usize = 32;
/// Most steps spent checking one page's forms.
const MAX_FORM_STEPS: usize = 100_000;

/// What drawing costs the reader: the bytes it unpacks and decodes, and the
/// operators and operands it decodes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Cost {
    bytes: usize,
    tokens: usize,
}

/// The most drawing one page may cost.
const PAGE: Cost = Cost {
    bytes: MAX_PAGE_BYTES,
    tokens: MAX_PAGE_TOKENS,
};

impl Cost {
    /// This and `times` times `more`, or none if that is more than `cap`.
    fn and(self, more: Cost, times: usize, cap: Cost) -> Option<Cost> {
        let sum = Cost {
            bytes: more.bytes.checked_mul(times)?.checked_add(self.bytes)?,
            tokens: more.tokens.checked_mul(times)?.checked_add(self.tokens)?,
        };
        (sum.bytes <= cap.bytes && sum.tokens <= cap.tokens).then_some(sum)
    }

    /// The lesser of each.
    fn min(self, other: Cost) -> Cost {
        Cost {
            bytes: self.bytes.min(other.bytes),
            tokens: self.tokens.min(other.tokens),
        }
    }
}

/// Checks, before the reader draws a page, that it can: the reader follows
/// `Do` without a bound, so a form that draws itself overflows its stack;
/// it decodes content, fonts and character maps by recursion, so nesting
/// too deep does too; and it unpacks and decodes what a page draws, each
/// form as often as the page draws it, makes each font a content stream
/// sets again for each (parsing its character maps and program), and each
/// colour space each time it is set (unpacking its ICC profile), all
/// without a bound, so one page could take more memory or time than there
/// is: a 230 kB page drawing a form that sets a font with a 1.2 MB
/// character map a thousand times took over five minutes. A page's cost is charged to what is left
/// of the document's ([`MAX_DOCUMENT`]).
struct Drawing<'d> {
    doc: &'d lopdf::Document,
    /// Each form's content as read, by the form: read once per document
    /// (pages share their resources).
    forms: HashMap<lopdf::ObjectId, Rc<Result<Content, String>>>,
    /// Whether each font's program or map reads safely, and how long it
    /// unpacks, by the stream and whether the reader parses it.
    fonts: HashMap<(lopdf::ObjectId, bool), Result<usize, String>>,
    /// How long each stream a colour space unpacks (an ICC profile, a tint
    /// function), by the stream; none past [`MAX_PAGE_BYTES`].
    colour_streams: HashMap<lopdf::ObjectId, Option<usize>>,
    /// How long each content stream unpacks (at least, where unpacking it
    /// stopped), by the stream: one that pages share is unpacked again only
    /// if it can fit.
    unpacked: HashMap<lopdf::ObjectId, usize>,
    /// What the document's pages may still cost.
    left: Cost,
}

/// A content stream (a page's or a form's) as checked.
struct Content {
    /// What decoding it once costs.
    cost: Cost,
    /// What it draws with, by name in its resources.
    uses: Uses,
}

/// What a content stream draws with, by name in its resources, as the
/// reader decodes it.
#[derive(Default)]
struct Uses {
    /// The forms it draws (`Do`), each with how often.
    forms: Vec<(Vec<u8>, usize)>,
    /// The fonts it sets (`Tf`): the reader makes each once per content
    /// stream it draws, parsing its character maps and program.
    fonts: Vec<Vec<u8>>,
    /// The colour spaces it sets (`cs`, `CS`), each with how often: the
    /// reader makes one each time, unpacking its ICC profile and tint
    /// function again.
    colour_spaces: Vec<(Vec<u8>, usize)>,
}

impl<'d> Drawing<'d> {
    fn new(doc: &'d lopdf::Document) -> Self {
        Drawing {
            doc,
            forms: HashMap::new(),
            fonts: HashMap::new(),
            colour_streams: HashMap::new(),
            unpacked: HashMap::new(),
            left: MAX_DOCUMENT,
        }
    }

    /// Whether page `page` can be drawn, with its resources (its own or the
    /// nearest ancestor's, as the reader finds them), and within what is
    /// left of the document's budget, which it then takes; why not if not.
    fn page(&mut self, page: lopdf::ObjectId) -> Result<(), String> {
        let limit = PAGE.min(self.left);
        let resources = inherited_resources(self.doc, page);
        // What the content uses is looked for only where there can be any:
        // decoding once more is what the look costs.
        let uses = resources.is_some_and(|r| {
            [&b"XObject"[..], b"Font", b"ColorSpace"]
                .iter()
                .any(|key| r.get(key).is_ok())
        });
        let content = content_read(&self.page_content(page, limit)?, uses)?;
        let start = Cost::default().and(content.cost, 1, limit);
        let start = Content {
            cost: start.ok_or_else(|| over(limit))?,
            ..content
        };
        let cost = self.draw(resources, &start, limit, &mut Vec::new(), 0, &mut 0)?;
        self.left = Cost {
            bytes: self.left.bytes - cost.bytes,
            tokens: self.left.tokens - cost.tokens,
        };
        Ok(())
    }

    /// The content of page `page` as the reader decodes it: its streams
    /// unpacked and joined, within `limit`.
    fn page_content(&mut self, page: lopdf::ObjectId, limit: Cost) -> Result<Vec<u8>, String> {
        let mut content = Vec::new();
        for id in self.doc.get_page_contents(page) {
            let Ok(stream) = self.doc.get_object(id).and_then(lopdf::Object::as_stream) else {
                continue;
            };
            let fits = |len: usize| content.len() + len <= limit.bytes;
            if self.unpacked.get(&id).is_some_and(|&len| !fits(len)) {
                return Err(over(limit));
            }
            let left = limit.bytes - content.len();
            let Some(bytes) = stream_bytes(stream, left) else {
                self.unpacked.insert(id, left + 1);
                return Err(over(limit));
            };
            self.unpacked.insert(id, bytes.len());
            content.extend_from_slice(&bytes);
        }
        Ok(content)
    }

    /// What drawing `content` once with `resources` costs, the forms it
    /// draws as often as it draws them, or why it cannot be drawn: a form
    /// that draws one of `path` (the forms drawing it, `depth` of them with
    /// those written in place), forms deeper than [`MAX_FORM_DEPTH`] or
    /// more than [`MAX_FORM_STEPS`] of them, a font or form that does not
    /// read safely, or more than `limit`.
    fn draw(
        &mut self,
        resources: Option<&'d lopdf::Dictionary>,
        content: &Content,
        limit: Cost,
        path: &mut Vec<lopdf::ObjectId>,
        depth: usize,
        steps: &mut usize,
    ) -> Result<Cost, String> {
        let mut cost = content.cost;
        let Some(resources) = resources else {
            return Ok(cost);
        };
        self.fonts_read(resources)?;
        let made = Cost {
            bytes: self.fonts_made(resources, &content.uses.fonts)
                + self.colour_spaces_made(resources, &content.uses.colour_spaces, limit)?,
            tokens: 0,
        };
        cost = cost.and(made, 1, limit).ok_or_else(|| over(limit))?;
        let doc = self.doc;
        let Some(forms) = resources.get(b"XObject").ok().and_then(|x| dict_of(doc, x)) else {
            return Ok(cost);
        };
        for (name, times) in &content.uses.forms {
            let Ok(form) = forms.get(name) else {
                continue;
            };
            *steps += 1;
            if *steps > MAX_FORM_STEPS || depth >= MAX_FORM_DEPTH {
                return Err("its forms nest too deep or are too many".into());
            }
            let (id, stream) = match form {
                lopdf::Object::Reference(id) => {
                    match doc.get_object(*id).and_then(lopdf::Object::as_stream) {
                        Ok(s) => (Some(*id), s),
                        Err(_) => continue,
                    }
                }
                lopdf::Object::Stream(s) => (None, s),
                _ => continue,
            };
            if id.is_some_and(|id| path.contains(&id)) {
                return Err("a form draws itself".into());
            }
            let read = match id {
                Some(id) => (self.forms.entry(id))
                    .or_insert_with(|| Rc::new(form_read(stream)))
                    .clone(),
                None => Rc::new(form_read(stream)),
            };
            let drawn = read.as_ref().as_ref().map_err(Clone::clone)?;
            // A form without resources of its own draws with its drawer's.
            let own = stream.dict.get(b"Resources").ok();
            let within = own.and_then(|r| dict_of(doc, r)).unwrap_or(resources);
            path.extend(id);
            let once = self.draw(Some(within), drawn, limit, path, depth + 1, steps);
            if id.is_some() {
                path.pop();
            }
            cost = cost.and(once?, *times, limit).ok_or_else(|| over(limit))?;
        }
        Ok(cost)
    }

    /// Whether the fonts of `resources` read safely: the reader parses the
    /// character maps (`ToUnicode`, an `Encoding` stream) and Type 1
    /// programs (`FontFile`) of a font it sets by recursion, and unpacks
    /// its other programs, each without a bound, and again for each page
    /// and form.
    fn fonts_read(&mut self, resources: &'d lopdf::Dictionary) -> Result<(), String> {
        let doc = self.doc;
        let Some(fonts) = resources.get(b"Font").ok().and_then(|f| dict_of(doc, f)) else {
            return Ok(());
        };
        for font in fonts.iter().filter_map(|(_, font)| dict_of(doc, font)) {
            for read in font_streams(doc, font) {
                // A stream is always an object of its own.
                let Some(id) = read.stream.and_then(|s| s.as_reference().ok()) else {
                    continue;
                };
                let parsed = read.postscript;
                (self.fonts.entry((id, parsed)))
                    .or_insert_with(|| font_stream_read(doc, id, parsed))
                    .clone()?;
            }
        }
        Ok(())
    }

    /// What making fonts `names` of `resources` costs the reader, in bytes:
    /// the character maps and programs it parses, all they unpack to, and
    /// an eighth of the programs it only unpacks (TrueType: unpacking is
    /// many times faster than parsing). [`Drawing::fonts_read`] has read
    /// them.
    fn fonts_made(&self, resources: &lopdf::Dictionary, names: &[Vec<u8>]) -> usize {
        let doc = self.doc;
        let Some(fonts) = resources.get(b"Font").ok().and_then(|f| dict_of(doc, f)) else {
            return 0;
        };
        let mut bytes = 0usize;
        for name in names {
            let Some(font) = fonts.get(name).ok().and_then(|f| dict_of(doc, f)) else {
                continue;
            };
            for read in font_streams(doc, font) {
                let Some(id) = read.stream.and_then(|s| s.as_reference().ok()) else {
                    continue;
                };
                let len = self.fonts.get(&(id, read.postscript)).cloned();
                let len = len.and_then(Result::ok).unwrap_or(0);
                bytes = bytes.saturating_add(if read.unpacked_only { len / 8 } else { len });
            }
        }
        bytes
    }

    /// What making colour spaces `set` of `resources` as often as each is
    /// set costs the reader, in bytes unpacked: an ICC profile, and a tint
    /// function's samples, are unpacked again each time; or why not, when
    /// one unpacks to more than `limit` (or a page's).
    fn colour_spaces_made(
        &mut self,
        resources: &lopdf::Dictionary,
        set: &[(Vec<u8>, usize)],
        limit: Cost,
    ) -> Result<usize, String> {
        let doc = self.doc;
        let Some(spaces) = resources
            .get(b"ColorSpace")
            .ok()
            .and_then(|c| dict_of(doc, c))
        else {
            return Ok(0);
        };
        let mut bytes = 0usize;
        for (name, times) in set {
            let Ok(space) = spaces.get(name) else {
                continue;
            };
            let mut once = 0usize;
            for id in colour_space_streams(doc, space) {
                let len = *(self.colour_streams.entry(id)).or_insert_with(|| {
                    let stream = doc.get_object(id).and_then(lopdf::Object::as_stream).ok()?;
                    stream_bytes(stream, MAX_PAGE_BYTES).map(|b| b.len())
                });
                once = once.saturating_add(len.ok_or_else(|| over(PAGE))?);
            }
            bytes = bytes.saturating_add(once.saturating_mul(*times));
            if bytes > limit.bytes {
                return Err(over(limit));
            }
        }
        Ok(bytes)
    }
}

/// One stream the reader reads of a font as it makes it.
struct FontStream<'d> {
    stream: Option<&'d lopdf::Object>,
    /// Whether the reader parses it as PostScript (by recursion).
    postscript: bool,
    /// Whether the reader only unpacks it, which costs least.
    unpacked_only: bool,
}

/// The streams the reader reads of `font` as it makes it: its character
/// maps (`ToUnicode`, an `Encoding` stream) and Type 1 program
/// (`FontFile`), parsed as PostScript; a CFF program (`FontFile3`), parsed
/// otherwise; a TrueType program (`FontFile2`), only unpacked.
fn font_streams<'d>(doc: &'d lopdf::Document, font: &'d lopdf::Dictionary) -> [FontStream<'d>; 5] {
    let descriptor = font.get(b"FontDescriptor").ok();
    let descriptor = descriptor.and_then(|d| dict_of(doc, d));
    let program = |key: &[u8]| descriptor.and_then(|d| d.get(key).ok());
    let read = |stream, postscript, unpacked_only| FontStream {
        stream,
        postscript,
        unpacked_only,
    };
    [
        read(font.get(b"ToUnicode").ok(), true, false),
        read(font.get(b"Encoding").ok(), true, false),
        read(program(b"FontFile"), true, false),
        read(program(b"FontFile3"), false, false),
        read(program(b"FontFile2"), false, true),
    ]
}

/// The streams the reader unpacks as it makes colour space `space`: an
/// ICC profile (`[/ICCBased 5 0 R]`), and a separation's alternate space's
/// profile and tint function (`[/Separation /Spot /DeviceCMYK 6 0 R]`).
fn colour_space_streams(doc: &lopdf::Document, space: &lopdf::Object) -> Vec<lopdf::ObjectId> {
    let deref = |object| doc.dereference(object).ok().map(|(_, object)| object);
    let Some(array) = deref(space).and_then(|s| s.as_array().ok()) else {
        return Vec::new();
    };
    let icc = |array: &[lopdf::Object]| match array {
        [kind, profile, ..] if kind.as_name().ok() == Some(b"ICCBased".as_slice()) => {
            profile.as_reference().ok()
        }
        _ => None,
    };
    let mut streams: Vec<lopdf::ObjectId> = icc(array).into_iter().collect();
    if let [kind, _, alternate, tint, ..] = array.as_slice()
        && kind.as_name().ok() == Some(b"Separation".as_slice())
    {
        let alternate = deref(alternate).and_then(|a| a.as_array().ok());
        streams.extend(alternate.and_then(|a| icc(a)));
        streams.extend(tint.as_reference().ok());
    }
    streams
}

/// Why a page is not read when drawing it would cost more than `limit`: a
/// page's, or less if that is what is left of the document's.
fn over(limit: Cost) -> String {
    if limit == PAGE {
        format!(
            "it draws more than {} MB or {MAX_PAGE_TOKENS} operators and operands",
            MAX_PAGE_BYTES >> 20
        )
    } else {
        "it draws more than is left of the document's budget".into()
    }
}

/// Content stream `content` as checked, with what it draws with if `uses`,
/// or why the reader cannot decode it safely: nested too deep, or more than
/// a page may cost.
fn content_read(content: &[u8], uses: bool) -> Result<Content, String> {
    if content.len() > MAX_PAGE_BYTES {
        return Err(over(PAGE));
    }
    let read = scan(content, 0, Syntax::Content);
    if read.deepest > MAX_NESTING {
        return Err(format!("its content nests deeper than {MAX_NESTING}"));
    }
    if read.tokens > MAX_PAGE_TOKENS {
        return Err(over(PAGE));
    }
    Ok(Content {
        // Drawing even nothing costs the reader a little.
        cost: Cost {
            bytes: content.len(),
            tokens: read.tokens + 1,
        },
        uses: if uses {
            used_by(content)?
        } else {
            Uses::default()
        },
    })
}

/// Form `form`'s content as checked ([`content_read`]): one that unpacks to
/// more than a page may is not unpacked further.
fn form_read(form: &lopdf::Stream) -> Result<Content, String> {
    let content = stream_bytes(form, MAX_PAGE_BYTES).ok_or_else(|| over(PAGE))?;
    content_read(&content, true)
}

/// How long stream `id` of `doc`, a font's program or map, unpacks, when it
/// reads safely: it unpacks to at most [`MAX_FONT_BYTES`] and, if the
/// reader parses it, nests at most [`MAX_FONT_NESTING`] deep.
fn font_stream_read(
    doc: &lopdf::Document,
    id: lopdf::ObjectId,
    parsed: bool,
) -> Result<usize, String> {
    let Ok(stream) = doc.get_object(id).and_then(lopdf::Object::as_stream) else {
        return Ok(0);
    };
    let Some(bytes) = stream_bytes(stream, MAX_FONT_BYTES) else {
        return Err(format!(
            "a font's program or map unpacks to more than {} MB",
            MAX_FONT_BYTES >> 20
        ));
    };
    if parsed && scan(&bytes, 0, Syntax::PostScript).deepest > MAX_FONT_NESTING {
        return Err(format!(
            "a font's program or map nests deeper than {MAX_FONT_NESTING}"
        ));
    }
    // The reader's character map parser makes an entry for each code a
    // range maps: 400 bytes mapping <00000000> to <FFFFFFFF> took more
    // memory than there was.
    let codes = if parsed { codes_ranged(&bytes) } else { 0 };
    if codes > MAX_RANGED_CODES {
        return Err(format!(
            "a font's character map maps more than {MAX_RANGED_CODES} codes by ranges"
        ));
    }
    // Making an entry costs about what reading a byte of the map does.
    Ok(bytes.len() + codes)
}

/// Most codes a font's character map may map by ranges (`beginbfrange`):
/// two bytes' worth, twice over.
const MAX_RANGED_CODES: usize = 1 << 17;

/// How many codes the ranges (`beginbfrange` … `endbfrange`) of character
/// map `map` cover, each `<first> <last>` counting `last - first + 1`; past
/// what a count holds, the most.
fn codes_ranged(map: &[u8]) -> usize {
    let mut codes = 0usize;
    let mut rest = map;
    while let Some(at) = find(rest, b"beginbfrange") {
        rest = &rest[at + b"beginbfrange".len()..];
        let end = find(rest, b"endbfrange").unwrap_or(rest.len());
        let (block, after) = rest.split_at(end);
        rest = after;
        // A range is two codes, then what they map to: a code, or an
        // array of them (one item, whose codes are no range's).
        let mut items: Vec<Option<u64>> = Vec::new();
        let mut depth = 0usize;
        let mut at = 0;
        while at < block.len() {
            match block[at] {
                b'[' => {
                    if depth == 0 {
                        items.push(None);
                    }
                    depth += 1;
                }
                b']' => depth = depth.saturating_sub(1),
                b'<' => {
                    let close = (block[at..].iter().position(|&c| c == b'>'))
                        .map_or(block.len(), |n| at + n);
                    if depth == 0 {
                        items.push(Some(hex_value(&block[at + 1..close])));
                    }
                    at = close;
                }
                _ => {}
            }
            at += 1;
        }
        for range in items.chunks(3) {
            if let [Some(first), Some(last), ..] = range {
                let covered = last.saturating_sub(*first).saturating_add(1);
                codes = codes.saturating_add(usize::try_from(covered).unwrap_or(usize::MAX));
            }
        }
    }
    codes
}

/// Where `needle` first is in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The number hexadecimal digits `digits` write (white space skipped), the
/// most a `u64` holds past that.
fn hex_value(digits: &[u8]) -> u64 {
    let mut value = 0u64;
    for &c in digits.iter().filter(|c| !is_space(**c)) {
        let digit = (c as char).to_digit(16).unwrap_or(0);
        value = value
            .checked_mul(16)
            .and_then(|v| v.checked_add(u64::from(digit)))
            .unwrap_or(u64::MAX);
    }
    value
}

/// A page's resources, its own or the nearest of its ancestors', as the
/// reader finds them.
fn inherited_resources(doc: &lopdf::Document, page: lopdf::ObjectId) -> Option<&lopdf::Dictionary> {
    let mut at = doc.get_dictionary(page).ok();
    // The page tree is known not to loop ([`looped_page_tree`]).
    for _ in 0..=MAX_TREE_DEPTH {
        let dict = at?;
        if let Ok(r) = dict.get(b"Resources") {
            return dict_of(doc, r);
        }
        at = dict
            .get(b"Parent")
            .and_then(lopdf::Object::as_reference)
            .and_then(|id| doc.get_dictionary(id))
            .ok();
    }
    None
}

/// `object` as a dictionary, through a reference if it is one.
fn dict_of<'d>(
    doc: &'d lopdf::Document,
    object: &'d lopdf::Object,
) -> Option<&'d lopdf::Dictionary> {
    match object {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
        o => o.as_dict().ok(),
    }
}

/// A stream's content as the reader reads it, unpacked as lopdf unpacks it
/// (as it is where lopdf cannot), or none if that is more than `limit`
/// bytes. lopdf unpacks without a bound, a megabyte of FlateDecode to a
/// gigabyte, before any length can be checked: FlateDecode is unpacked here,
/// stopping past `limit`, and the rest left to lopdf only where they cannot
/// unpack to more.
fn stream_bytes(stream: &lopdf::Stream, limit: usize) -> Option<Vec<u8>> {
    // What lopdf fails to unpack, the reader reads as it is.
    if stream.content.len() > limit {
        return None;
    }
    let Ok(filters) = stream.filters() else {
        return Some(stream.content.clone());
    };
    let params = (stream.dict.get(b"DecodeParms"))
        .and_then(lopdf::Object::as_dict)
        .ok();
    // None while nothing is undone; lopdf unpacks an empty list to nothing.
    let mut unpacked: Option<Vec<u8>> = None;
    for filter in filters {
        let packed = unpacked.as_deref().unwrap_or(&stream.content);
        let undone = match filter {
            b"FlateDecode" => inflated(packed, params, limit),
            b"ASCII85Decode" | b"LZWDecode" => by_lopdf(packed, filter, params, limit),
            _ => Err(Undone::Failed),
        };
        unpacked = match undone {
            Ok(bytes) => Some(bytes),
            Err(Undone::TooLong) => return None,
            Err(Undone::Failed) => return Some(stream.content.clone()),
        };
    }
    Some(unpacked.unwrap_or_default())
}

/// Why a stream's filter was not undone.
enum Undone {
    /// It unpacks, or may, to more than the limit.
    TooLong,
    /// lopdf fails to undo it.
    Failed,
}

/// `packed` unpacked as lopdf unpacks FlateDecode, stopping past `limit`
/// bytes (counted before a predictor is undone, which only shortens them).
/// lopdf keeps what a damaged stream holds before its damage (and
/// nothing of one without its zlib header), then undoes a PNG predictor.
fn inflated(
    packed: &[u8],
    params: Option<&lopdf::Dictionary>,
    limit: usize,
) -> Result<Vec<u8>, Undone> {
    use std::io::Read;
    let mut out = Vec::new();
    if !packed.is_empty() {
        let decoder = flate2::read::ZlibDecoder::new(packed);
        let most = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        // An error leaves what was read before it, as lopdf keeps it.
        let _ = decoder.take(most).read_to_end(&mut out);
    }
    if out.len() > limit {
        return Err(Undone::TooLong);
    }
    unpredicted(out, params).ok_or(Undone::Failed)
}

/// `packed` unpacked by lopdf through `filter` (ASCII85 or LZW), if what
/// it unpacks to cannot be more than `limit` bytes: lopdf undoes those
/// whole, ASCII85's `z` stands for four bytes, and a 12-bit LZW code for
/// up to 3,839.
fn by_lopdf(
    packed: &[u8],
    filter: &[u8],
    params: Option<&lopdf::Dictionary>,
    limit: usize,
) -> Result<Vec<u8>, Undone> {
    let growth = if filter == b"LZWDecode" { 2_560 } else { 4 };
    if packed.len().saturating_mul(growth) > limit {
        return Err(Undone::TooLong);
    }
    let mut dict = lopdf::dictionary! { "Filter" => lopdf::Object::Name(filter.to_vec()) };
    if let Some(params) = params {
        dict.set("DecodeParms", params.clone());
    }
    (lopdf::Stream::new(dict, packed.to_vec()).decompressed_content()).map_err(|_| Undone::Failed)
}

/// `data` with the PNG predictor of `params` undone as lopdf undoes it,
/// none where lopdf fails to. A row longer than the data fails in lopdf
/// only once it has made room for two such rows, and a row's length can
/// overflow (lopdf panics): both are failures here.
fn unpredicted(data: Vec<u8>, params: Option<&lopdf::Dictionary>) -> Option<Vec<u8>> {
    let get = |key: &[u8], default: i64| {
        params
            .and_then(|p| p.get(key).and_then(lopdf::Object::as_i64).ok())
            .unwrap_or(default)
    };
    if !(10..=15).contains(&get(b"Predictor", 1)) || data.is_empty() {
        return Some(data);
    }
    let positive = |key: &[u8], least: i64| usize::try_from(get(key, least).max(least)).ok();
    let pixel = positive(b"Colors", 1)?.checked_mul(positive(b"BitsPerComponent", 8)?)? / 8;
    let columns = positive(b"Columns", 1)?;
    if pixel.checked_mul(columns)? >= data.len() {
        return None;
    }
    lopdf::filters::png::decode_frame(&data, pixel, columns).ok()
}

/// What `content` draws with ([`Uses`]), as the reader decodes it, so
/// nothing it draws with is missed. Where the decoder panics (an inline
/// image without a colour space), the reader's does too: the page is not
/// read.
fn used_by(content: &[u8]) -> Result<Uses, String> {
    quiet_page_panics();
    let reading = ReadingPage::start();
    let decoded = std::panic::catch_unwind(|| lopdf::content::Content::decode(content));
    drop(reading);
    let Ok(decoded) = decoded else {
        let said = PAGE_PANIC.take().unwrap_or_else(|| "(not kept)".into());
        return Err(format!("the content decoder panicked: {said}"));
    };
    let Ok(content) = decoded else {
        return Ok(Uses::default());
    };
    let (mut forms, mut fonts, mut spaces) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for op in &content.operations {
        let counts = match op.operator.as_str() {
            "Do" => &mut forms,
            "Tf" => &mut fonts,
            "cs" | "CS" => &mut spaces,
            _ => continue,
        };
        if let Some(Ok(name)) = op.operands.first().map(lopdf::Object::as_name) {
            *counts.entry(name.to_vec()).or_insert(0) += 1;
        }
    }
    Ok(Uses {
        forms: forms.into_iter().collect(),
        fonts: fonts.into_keys().collect(),
        colour_spaces: spaces.into_iter().collect(),
    })
}

/// An error when some object's chain of `Parent` links loops or runs deeper
/// than [`MAX_TREE_DEPTH`].
fn looped_page_tree(doc: &lopdf::Document) -> Result<(), String> {
    for object in doc.objects.values() {
        let mut at = object.as_dict().ok();
        let mut depth = 0;
        while let Some(parent) = at.and_then(|d| d.get(b"Parent").ok()) {
            depth += 1;
            if depth > MAX_TREE_DEPTH {
                return Err("its page tree loops".into());
            }
            at = parent
                .as_reference()
                .ok()
                .and_then(|id| doc.get_object(id).ok())
                .and_then(|o| o.as_dict().ok());
        }
    }
    Ok(())
}

/// Markdown of a document whose pages hold `pages`' text, as extracted: lines,
/// with a blank line between paragraphs.
pub(crate) fn from_pages(pages: &[String]) -> Converted {
    let pages: Vec<Vec<Vec<&str>>> = pages.iter().map(|p| paragraphs(p)).collect();
    let furniture = Furniture::of(&pages);
    let headings = Headings::of(&pages, &furniture);
    let mut out = String::new();
    let mut on_page = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        // Each page's text ends in a blank line: its lines are counted whole.
        let before = out.len();
        if headings.none() {
            out.push_str(&format!("## Page {}\n\n", n + 1));
        }
        for (i, paragraph) in page.iter().enumerate() {
            if furniture.is(page, n, i) {
                continue;
            }
            match headings.level(n, i) {
                Some(level) => {
                    let hashes = "#".repeat(level + 1);
                    out.push_str(&format!("{hashes} {}\n\n", escape(paragraph[0])));
                }
                None => {
                    out.push_str(&block(paragraph));
                    out.push_str("\n\n");
                }
            }
        }
        let lines = out[before..].matches('\n').count();
        on_page.extend(std::iter::repeat_n(n + 1, lines));
    }
    Converted {
        text: out,
        pages: on_page,
        unread: Vec::new(),
    }
}

/// The paragraphs that are numbered headings, by page and place. A document
/// has them when it numbers at least two sections as an outline does: a
/// numbered line followed by text or by a deeper one ("2 Setup" before "2.1
/// Install"), not after one of its own depth (numbered lines of one depth in a
/// row are a list: "1. Open the app", "2. Tap Settings"), its first number
/// never going back ("3 Leave" may follow "2.4 Travel"; a "1" after "3" is a
/// list's).
struct Headings {
    levels: HashMap<(usize, usize), usize>,
}

impl Headings {
    fn of(pages: &[Vec<Vec<&str>>], furniture: &Furniture) -> Headings {
        // The text's paragraphs in order, with where they are.
        let text: Vec<(usize, usize, &Vec<&str>)> = (pages.iter().enumerate())
            .flat_map(|(n, page)| page.iter().enumerate().map(move |(i, p)| (n, i, p)))
            .filter(|(n, i, _)| !furniture.is(&pages[*n], *n, *i))
            .collect();
        let numbered: Vec<Option<(usize, u32)>> =
            text.iter().map(|(_, _, p)| numbered_heading(p)).collect();
        let mut levels = HashMap::new();
        let mut last_top = 0;
        for (k, &(n, i, _)) in text.iter().enumerate() {
            let Some((level, top)) = numbered[k] else {
                continue;
            };
            let after_its_like = k > 0 && numbered[k - 1].is_some_and(|(l, _)| l == level);
            let followed = match numbered.get(k + 1) {
                Some(None) => true,
                Some(Some((next, _))) => *next > level,
                None => false,
            };
            if after_its_like || !followed || top < last_top {
                continue;
            }
            last_top = top;
            levels.insert((n, i), level);
        }
        if levels.len() < 2 {
            levels.clear();
        }
        Headings { levels }
    }

    /// Whether the document numbers no sections (it is cited by page).
    fn none(&self) -> bool {
        self.levels.is_empty()
    }

    /// The depth of the heading that is paragraph `i` of page `n`, if it is one.
    fn level(&self, n: usize, i: usize) -> Option<usize> {
        self.levels.get(&(n, i)).copied()
    }
}

/// A page's paragraphs, each its lines (trimmed, none empty): a blank line
/// ends one. Control characters a font's encoding left are dropped.
fn paragraphs(page: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in page.lines() {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c.is_control());
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The depth and first number of a line that may be a numbered heading ("3
/// Leave": 1 and 3, "3.2. Sick leave": 2 and 3): one short line that does not
/// end as a sentence does nor in a number (a table of contents' page), a section number (parts of one or two digits, none
/// starting with 0: "2019", "12.03." and "9.05" are no sections) then a
/// capitalised word.
fn numbered_heading(paragraph: &[&str]) -> Option<(usize, u32)> {
    let [line] = paragraph else {
        return None;
    };
    if line.chars().count() > MAX_HEADING_CHARS
        || line.split_whitespace().count() > MAX_HEADING_WORDS
        || line.ends_with(['.', ',', ';', ':'])
        || line.ends_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let (number, title) = line.split_once(char::is_whitespace)?;
    let parts: Vec<&str> = number.trim_end_matches('.').split('.').collect();
    let numeric = parts.iter().all(|p| {
        (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0')
    });
    let capitalised = title
        .trim_start()
        .chars()
        .next()
        .is_some_and(char::is_uppercase);
    if !(numeric && capitalised && parts.len() <= 5) {
        return None;
    }
    Some((parts.len(), parts[0].parse().ok()?))
}

/// A paragraph's lines as one Markdown block: joined with spaces (after a
/// hyphen, with none), a bulleted line a list item.
fn block(lines: &[&str]) -> String {
    let mut text = String::new();
    for line in lines {
        if !text.is_empty() && !text.ends_with('-') {
            text.push(' ');
        }
        text.push_str(line);
    }
    match text.strip_prefix(['•', '◦', '▪', '‣', '–']) {
        Some(item) => format!("- {}", escape(item.trim_start())),
        None => escape(&text),
    }
}

/// The first and last paragraphs that repeat on most pages: a running title
/// or footer, and page numbers.
struct Furniture {
    top: HashMap<String, usize>,
    bottom: HashMap<String, usize>,
    pages: usize,
}

impl Furniture {
    fn of(pages: &[Vec<Vec<&str>>]) -> Furniture {
        let mut top: HashMap<String, usize> = HashMap::new();
        let mut bottom: HashMap<String, usize> = HashMap::new();
        for (n, page) in pages.iter().enumerate() {
            if let Some(first) = page.first() {
                *top.entry(shape(first, n)).or_default() += 1;
            }
            if let Some(last) = page.last() {
                *bottom.entry(shape(last, n)).or_default() += 1;
            }
        }
        Furniture {
            top,
            bottom,
            pages: pages.len(),
        }
    }

    /// Whether paragraph `i` of `page`, the `n`th, is furniture: its first or
    /// last paragraph repeating on most pages, or its last being its number.
    fn is(&self, page: &[Vec<&str>], n: usize, i: usize) -> bool {
        let paragraph = &page[i];
        let first = i == 0 && self.repeats(&self.top, paragraph, n);
        let last = i + 1 == page.len()
            && (self.repeats(&self.bottom, paragraph, n) || self.page_number(paragraph, n));
        first || last
    }

    /// A number alone near the page's own (a cover page may go unnumbered).
    fn page_number(&self, paragraph: &[&str], n: usize) -> bool {
        let [line] = paragraph else {
            return false;
        };
        let number = line.parse::<usize>().ok();
        self.pages > 1 && number.is_some_and(|k| k.abs_diff(n + 1) <= 2)
    }

    fn repeats(&self, seen: &HashMap<String, usize>, paragraph: &[&str], n: usize) -> bool {
        let times = seen.get(&shape(paragraph, n)).copied().unwrap_or(0);
        self.pages >= 3 && times * 2 >= self.pages && times >= 3
    }
}

/// A paragraph of page `n` with that page's number (its first) as `#`: "Page 3 of 9" and
/// "Page 4 of 9" are one running footer; "Release 1.2" and "Release 1.3" two.
fn shape(paragraph: &[&str], n: usize) -> String {
    let page = (n + 1).to_string();
    let text = paragraph.join("\n");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..at]);
        let digits = rest[at..].len()
            - rest[at..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        let number = &rest[at..at + digits];
        // Only the first: "Page 3 of 3" is "Page # of 3" as "Page 2 of 3" is.
        let first = number == page && !out.contains('#');
        out.push_str(if first { "#" } else { number });
        rest = &rest[at + digits..];
    }
    out.push_str(rest);
    out
}

/// A PDF document of `pages`, each its paragraphs, each its lines, set in
/// Helvetica with a gap between paragraphs: what tests read (a real document,
/// as an office suite's export is, for the reader that reads those).
pub fn written(pages: &[&[&[&str]]]) -> Vec<u8> {
    let mut out = Vec::new();
    (written_document(pages).save_to(&mut out)).expect("a document saves to memory");
    out
}

/// The document [`written`] saves.
fn written_document(pages: &[&[&[&str]]]) -> lopdf::Document {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};

    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids: Vec<Object> = Vec::new();
    for paragraphs in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("Td", vec![72.into(), 780.into()]),
        ];
        for lines in *paragraphs {
            ops.push(Operation::new("Td", vec![0.into(), (-12).into()]));
            for line in *lines {
                ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
                ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
            }
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }
            .encode()
            .expect("text operations encode");
        let content = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            })
            .into(),
        );
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use super::written as pdf;
    use lopdf::dictionary;

    #[test]
    fn a_pdf_documents_pages_are_read_in_order() {
        let bytes = pdf(&[
            &[
                &["1. Leave"],
                &["Everyone gets thirty days of", "paid leave a year."],
            ],
            &[&["2. Expenses"], &["Receipts go to finance."]],
        ]);
        let got = markdown(&bytes).unwrap();
        assert_eq!(
            got.text,
            "## 1\\. Leave\n\nEveryone gets thirty days of paid leave a year.\n\n\
             ## 2\\. Expenses\n\nReceipts go to finance.\n\n"
        );
        // The page of each line: the second section starts on page 2.
        assert_eq!(got.pages, [1, 1, 1, 1, 2, 2, 2, 2]);
    }

    #[test]
    fn pages_become_paragraphs_headings_and_items() {
        let page = |n: usize, body: &str| format!("\n\nStaff handbook\n\n{body}\n\n{n}\n");
        // (pages, Markdown)
        let table: &[(&[&str], &str)] = &[
            (
                // Numbered sections are headings; running title and page numbers go.
                &[
                    "1. Leave\n\nEveryone gets thirty days of paid leave a\nyear, booked in the HR tool.",
                    "1.1 Carry-over\n\nUp to five days carry over to the next year\nif they are booked be-\nfore March.\n\n• Ask your manager first.",
                    "2 Expenses\n\nReceipts go to *finance* within 30 days.",
                ],
                "## 1\\. Leave\n\nEveryone gets thirty days of paid leave a year, booked in the HR tool.\n\n\
                 ### 1\\.1 Carry\\-over\n\nUp to five days carry over to the next year if they are booked be\\-fore March.\n\n\
                 - Ask your manager first.\n\n\
                 ## 2 Expenses\n\nReceipts go to \\*finance\\* within 30 days.\n\n",
            ),
            (
                // No numbered sections: each page is cited by its number; a
                // year (four digits) or a sentence opening with a figure is no
                // section heading.
                &[
                    "2019 Results\n\nSales grew.",
                    "3 Mbps is the minimum.\n\nAsk IT.",
                    "Well-\nknown tools only.",
                ],
                "## Page 1\n\n2019 Results\n\nSales grew.\n\n\
                 ## Page 2\n\n3 Mbps is the minimum.\n\nAsk IT.\n\n\
                 ## Page 3\n\nWell\\-known tools only.\n\n",
            ),
        ];
        for (bodies, want) in table {
            let pages: Vec<String> = (bodies.iter().enumerate())
                .map(|(i, b)| page(i + 1, b))
                .collect();
            assert_eq!(from_pages(&pages).text, *want, "{bodies:?}");
        }
    }

    #[test]
    fn a_page_of_its_own_keeps_its_first_and_last_lines() {
        // One page: nothing repeats, so nothing is furniture.
        let got = from_pages(&["Staff handbook\n\nThe office opens at nine.\n\n1".to_string()]);
        assert_eq!(
            got.text,
            "## Page 1\n\nStaff handbook\n\nThe office opens at nine.\n\n1\n\n"
        );
    }

    /// `bytes` with the content of page `n` replaced by `content`.
    pub(crate) fn with_page(bytes: &[u8], n: u32, content: &[u8]) -> Vec<u8> {
        let stream = lopdf::Stream::new(lopdf::dictionary! {}, content.to_vec());
        with_page_stream(bytes, n, stream)
    }

    #[test]
    fn a_page_the_reader_cannot_read_costs_only_its_own_text() {
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        // (page 2's content, what the reader does with it)
        let table: &[(&[u8], &str)] = &[
            (b"BT /F9 11 Tf 72 700 Td (Two.) Tj ET", "panics: no font F9"),
            (b"BT /F1 Tf Tj Td ET", "panics: operators without operands"),
        ];
        for (content, why) in table {
            let got = markdown(&with_page(&good, 2, content)).unwrap();
            assert_eq!(
                got.text, "## Page 1\n\nOne.\n\n## Page 2\n\n## Page 3\n\nThree.\n\n",
                "{why}"
            );
            assert_eq!(got.unread, [2], "{why}");
            // Page 3 is still cited as page 3.
            assert_eq!(got.pages.last(), Some(&3), "{why}");
        }
        // Every page unread: the document is.
        let mut bad = good;
        for n in 1..=3 {
            bad = with_page(&bad, n, table[0].0);
        }
        let err = markdown(&bad).unwrap_err();
        assert!(
            err.starts_with("not a readable PDF document: no page could be read (page 1: ")
                && err.contains("F9"),
            "{err}"
        );
    }

    #[test]
    fn the_readers_panics_are_quiet_and_others_reach_the_hook_set_before() {
        thread_local! {
            // Tests run side by side: each thread counts its own panics.
            static SEEN: Cell<usize> = const { Cell::new(0) };
        }
        // A counting hook under a quiet one, as `quiet_page_panics` sets its
        // own over the hook before it. That one lies above or below these
        // (whichever test reads a page first installs it): either way this
        // thread's panics meet a quiet hook before the counting one. Left in
        // place: other threads' panics pass both as before.
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            SEEN.set(SEEN.get() + 1);
            before(info);
        }));
        std::panic::set_hook(quiet(std::panic::take_hook()));

        let good = written(&[&[&["One."]], &[&["Two."]]]);
        let bad = with_page(&good, 2, b"BT /F9 11 Tf 72 700 Td (Two.) Tj ET");
        let got = markdown(&bad).unwrap();
        assert_eq!(
            (got.unread, SEEN.get()),
            (vec![2], 0),
            "the reader's panic is quiet"
        );
        assert!(!READING_PAGE.get(), "not reading once read");
        // Its message is kept for the log, with where it was.
        let doc = lopdf::Document::load_mem(&bad).unwrap();
        let why = read_page(&doc, 2).unwrap_err();
        assert!(
            why.starts_with("the reader panicked: ") && why.contains(".rs:"),
            "{why}"
        );
        assert_eq!(read_page(&doc, 1).unwrap().trim(), "One.");

        // Any other panic reaches the hook set before.
        assert!(std::panic::catch_unwind(|| panic!("not reading")).is_err());
        assert_eq!(SEEN.get(), 1);
        // A panic that unwinds past the mark unmarks the thread.
        let reading = std::panic::catch_unwind(|| {
            let _reading = ReadingPage::start();
            panic!("reading");
        });
        assert!(reading.is_err());
        assert!(!READING_PAGE.get());
        assert_eq!(SEEN.get(), 1, "quiet while reading");
        assert!(std::panic::catch_unwind(|| panic!("not reading")).is_err());
        assert_eq!(SEEN.get(), 2);
    }

    #[test]
    fn a_page_whose_forms_draw_themselves_is_left_out_not_a_crash() {
        use lopdf::{Object, Stream, dictionary};
        let mut doc =
            lopdf::Document::load_mem(&written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]))
                .unwrap();
        let pages = doc.get_pages();
        let font = doc
            .get_object(pages[&1])
            .unwrap()
            .as_dict()
            .unwrap()
            .get(b"Parent")
            .cloned();
        let tree = font.unwrap().as_reference().unwrap();
        let fonts = doc
            .get_dictionary(tree)
            .unwrap()
            .get(b"Resources")
            .unwrap()
            .clone();
        let fonts = doc
            .get_dictionary(fonts.as_reference().unwrap())
            .unwrap()
            .get(b"Font")
            .unwrap()
            .clone();
        // Page 2 draws X1, which draws X1 (with its drawer's resources).
        let form = |content: &[u8], doc: &mut lopdf::Document| {
            let dict = dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] };
            doc.add_object(Stream::new(dict, content.to_vec()))
        };
        let looping = form(b"/X1 Do", &mut doc);
        // Page 3 draws X2, a form holding its text: read as ever.
        let text = form(b"BT /F1 11 Tf 72 700 Td (Three.) Tj ET", &mut doc);
        for (n, name, id, content) in [
            (2, "X1", looping, &b"/X1 Do"[..]),
            (3, "X2", text, &b"/X2 Do"[..]),
        ] {
            let c = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
            let resources =
                dictionary! { "Font" => fonts.clone(), "XObject" => dictionary! { name => id } };
            if let Ok(Object::Dictionary(d)) = doc.get_object_mut(pages[&n]) {
                d.set("Contents", c);
                d.set("Resources", resources);
            }
        }
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let got = markdown(&bytes).unwrap();
        only_page_2_left_out(&got, "");
    }

    /// The three-page test document as read with page 2 alone left out.
    fn only_page_2_left_out(got: &Converted, what: &str) {
        assert_eq!(got.unread, [2], "{what}");
        assert_eq!(
            got.text, "## Page 1\n\nOne.\n\n## Page 2\n\n## Page 3\n\nThree.\n\n",
            "{what}"
        );
    }

    #[test]
    fn what_is_not_a_pdf_is_a_problem() {
        for bytes in [&b""[..], b"%PDF-1.5\n garbage", b"PK\x03\x04 a zip"] {
            let err = markdown(bytes).unwrap_err();
            assert!(err.starts_with("not a readable PDF document"), "{err}");
        }
        // Pages with no text, as a scan's are.
        let err = markdown(&pdf(&[&[], &[]])).unwrap_err();
        assert!(err.starts_with("a PDF with no text"), "{err}");
        // A page tree whose `Parent` links loop.
        let mut doc = lopdf::Document::load_mem(&pdf(&[&[&["Text."]]])).unwrap();
        let page = *doc.get_pages().values().next().unwrap();
        let Ok(lopdf::Object::Reference(tree)) = doc
            .get_object(page)
            .unwrap()
            .as_dict()
            .unwrap()
            .get(b"Parent")
            .cloned()
        else {
            panic!("no parent");
        };
        if let Ok(lopdf::Object::Dictionary(d)) = doc.get_object_mut(tree) {
            d.set("Parent", page);
        }
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        assert_eq!(
            markdown(&bytes).unwrap_err(),
            "not a readable PDF document: its page tree loops"
        );
    }

    #[test]
    fn lists_numbers_and_repeats_that_are_text_stay_text() {
        // (pages, Markdown)
        let table: &[(&[&str], &str)] = &[
            (
                // Numbered steps in a row are a list, not sections.
                &["Steps\n\n1. Open the app\n\n2. Tap Settings\n\n3 Save the form\n\nDone."],
                "## Page 1\n\nSteps\n\n1\\. Open the app\n\n2\\. Tap Settings\n\n3 Save the form\n\nDone.\n\n",
            ),
            (
                // A section followed by its subsection is a heading; numbering
                // that goes back is a list's; a table of contents' line (its
                // page at its end) is no heading.
                &[
                    "1 Intro 1\n\n1 Intro\n\n1.1 Scope\n\nHello.\n\n2 Setup\n\nInstall.\n\n1 Open\n\nClick.",
                ],
                "1 Intro 1\n\n## 1 Intro\n\n### 1\\.1 Scope\n\nHello.\n\n## 2 Setup\n\nInstall.\n\n1 Open\n\nClick.\n\n",
            ),
            (
                // A heading that changes with the page is text; "Page N of 3" is not.
                &[
                    "Release 1.2\n\nA.\n\nPage 1 of 3",
                    "Release 1.3\n\nB.\n\nPage 2 of 3",
                    "Release 1.4\n\nC.\n\nPage 3 of 3",
                ],
                "## Page 1\n\nRelease 1\\.2\n\nA.\n\n## Page 2\n\nRelease 1\\.3\n\nB.\n\n\
                 ## Page 3\n\nRelease 1\\.4\n\nC.\n\n",
            ),
        ];
        for (pages, want) in table {
            let pages: Vec<String> = pages.iter().map(|p| p.to_string()).collect();
            assert_eq!(from_pages(&pages).text, *want, "{pages:?}");
        }
    }

    /// A PDF document of `objects`, numbered from 1 (the catalog first),
    /// each after its own `lead`, which its cross-reference entry skips: a
    /// document written by hand, as a hostile one is.
    fn assembled(objects: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (n, (lead, body)) in objects.iter().enumerate() {
            out.extend_from_slice(lead);
            offsets.push(out.len());
            out.extend(format!("{} 0 obj ", n + 1).bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b" endobj\n");
        }
        let size = objects.len() + 1;
        let xref = out.len();
        out.extend(format!("xref\n0 {size}\n0000000000 65535 f \n").bytes());
        for offset in offsets {
            out.extend(format!("{offset:010} 00000 n \n").bytes());
        }
        out.extend(
            format!("trailer\n<</Size {size}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").bytes(),
        );
        out
    }

    /// `open` `n` times, then `close` as often.
    fn nested(open: &str, close: &str, n: usize) -> String {
        open.repeat(n) + close.repeat(n).as_str()
    }

    /// A one-page document whose cross-reference stream has `dictionary`
    /// (with its `/Length`) and `data`, FlateDecode-packed when `packed`.
    fn xref_streamed(dictionary: &str, data: &[u8], packed: bool) -> Vec<u8> {
        use std::io::Write;
        let mut out = b"%PDF-1.5\n".to_vec();
        let objects = [
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Kids[3 0 R]/Count 1>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>>",
        ];
        for (n, object) in objects.iter().enumerate() {
            out.extend(format!("{} 0 obj {object} endobj\n", n + 1).bytes());
        }
        let data = if packed {
            let mut packer = flate2::write::ZlibEncoder::new(Vec::new(), Default::default());
            packer.write_all(data).expect("packed");
            packer.finish().expect("packed")
        } else {
            data.to_vec()
        };
        let filter = if packed { "/Filter/FlateDecode" } else { "" };
        let xref = out.len();
        out.extend(
            format!(
                "4 0 obj <<{dictionary}{filter}/Length {}>> stream\n",
                data.len()
            )
            .bytes(),
        );
        out.extend(data);
        out.extend(format!("\nendstream endobj\nstartxref\n{xref}\n%%EOF\n").bytes());
        out
    }

    #[test]
    fn cross_reference_streams_are_checked_before_lopdf_unpacks_them() {
        let fields = "/Type/XRef/Size 5/Root 1 0 R/W[1 4 2]";
        let rows = vec![1; 5 * 7];
        // (what, dictionary, data, packed, the error; none when read)
        type Row<'a> = (&'a str, &'a str, Vec<u8>, bool, Option<&'a str>);
        let table: &[Row] = &[
            ("as written", fields, rows.clone(), true, None),
            ("not packed", fields, rows.clone(), false, None),
            (
                // 10 KB of FlateDecode: lopdf unpacked a megabyte's to a gigabyte.
                "unpacking to 10 MB",
                fields,
                [rows.clone(), vec![0; 10 << 20]].concat(),
                true,
                Some("a cross-reference stream unpacks to more than its 5 entries take"),
            ),
            (
                // lopdf decodes any stream the file points at as one.
                "without its type",
                "/Size 5/Root 1 0 R/W[1 4 2]",
                [rows.clone(), vec![0; 10 << 20]].concat(),
                true,
                Some("unpacks to more than"),
            ),
            (
                // Entries of no bytes: lopdf listed as many as it was told,
                // a billion from a few bytes.
                "listing 5 million entries",
                "/Type/XRef/Size 5/Root 1 0 R/W[0 0 0]/Index[0 5 5 5000000]",
                Vec::new(),
                false,
                Some("list more than 4194304 objects"),
            ),
            (
                "a field a terabyte wide",
                "/Type/XRef/Size 5/Root 1 0 R/W[1 1099511627776 0]",
                rows.clone(),
                false,
                Some("a field wider than 8 bytes"),
            ),
        ];
        for (what, dictionary, data, packed, want) in table {
            let bytes = xref_streamed(dictionary, data, *packed);
            match (objects_checked(&bytes), want) {
                (Ok(()), None) => {}
                (Err(err), Some(want)) if err.contains(want) => {
                    let err = markdown(&bytes).unwrap_err();
                    assert!(err.contains(want), "{what}: {err}");
                }
                (got, _) => panic!("{what}: {got:?}, not {want:?}"),
            }
        }
    }

    /// Two pages [`written`], their font held only in an object stream
    /// (`held` in its place, if given), encrypted with `cipher` and user
    /// password `user`, then signed (as a signature is added, unencrypted).
    fn encrypted(cipher: &str, user: &str, held: Option<&str>) -> Vec<u8> {
        use lopdf::encryption::crypt_filters::{Aes128CryptFilter, Aes256CryptFilter};
        use lopdf::{EncryptionState, EncryptionVersion, Permissions, Stream};
        use std::sync::Arc;

        let mut doc = written_document(&[
            &[&["Ferries leave twice a day."]],
            &[&["The lamp is lit at dusk."]],
        ]);
        let font = (doc.objects.iter())
            .find(|(_, object)| object.type_name().ok() == Some(b"Font".as_slice()))
            .map(|(&id, _)| id)
            .expect("the document sets a font");
        doc.objects.remove(&font);
        // Page 1's content is 100,000 bytes, which it stays in RC4 and
        // AES pads to 100,032: its length is object 99, also held in the
        // object stream (written in its place below: no offset moves).
        let length = if cipher == "RC4" { 100_000 } else { 100_032 };
        let page = doc.get_pages()[&1];
        let content = (doc.get_dictionary(page).and_then(|p| p.get(b"Contents")))
            .and_then(lopdf::Object::as_reference)
            .expect("page 1's content");
        if let Ok(stream) = doc
            .get_object_mut(content)
            .and_then(lopdf::Object::as_stream_mut)
        {
            let mut padded = stream.content.clone();
            padded.extend(b"\n%");
            padded.resize(100_000, b'x');
            stream.set_content(padded);
        }
        let object = held.unwrap_or("<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>");
        let index = format!("{} 0 99 {} ", font.0, object.len() + 1);
        // lopdf writes no object stream of its own: the type is set after.
        let dict = dictionary! { "Type" => "ObjStX", "N" => 2, "First" => index.len() as i64 };
        doc.add_object(Stream::new(
            dict,
            format!("{index}{object} {length}").into_bytes(),
        ));
        let filters = |filter: Arc<dyn lopdf::encryption::crypt_filters::CryptFilter>| {
            BTreeMap::from([(b"StdCF".to_vec(), filter)])
        };
        let id = lopdf::Object::String(
            b"citebot-test-id!".to_vec(),
            lopdf::StringFormat::Hexadecimal,
        );
        doc.trailer.set("ID", vec![id.clone(), id]);
        let (owner, permissions, key) = ("owner", Permissions::all(), [7; 32]);
        let version = match cipher {
            "RC4" => EncryptionVersion::V2 {
                document: &doc,
                owner_password: owner,
                user_password: user,
                key_length: 128,
                permissions,
            },
            "AES-128" => EncryptionVersion::V4 {
                document: &doc,
                encrypt_metadata: true,
                crypt_filters: filters(Arc::new(Aes128CryptFilter)),
                stream_filter: b"StdCF".to_vec(),
                string_filter: b"StdCF".to_vec(),
                owner_password: owner,
                user_password: user,
                permissions,
            },
            _ => EncryptionVersion::V5 {
                encrypt_metadata: true,
                crypt_filters: filters(Arc::new(Aes256CryptFilter)),
                file_encryption_key: &key,
                stream_filter: b"StdCF".to_vec(),
                string_filter: b"StdCF".to_vec(),
                owner_password: owner,
                user_password: user,
                permissions,
            },
        };
        let state = EncryptionState::try_from(version).expect("an encryption");
        doc.encrypt(&state).expect("the document encrypts");
        // A signature's contents are not encrypted: AES fails to decrypt them.
        let contents = lopdf::Object::String(vec![0x30; 5], lopdf::StringFormat::Hexadecimal);
        doc.add_object(dictionary! { "Type" => "Sig", "Contents" => contents });
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("a document saves to memory");
        let at = (out.windows(7).position(|w| w == b"/ObjStX")).expect("the object stream");
        out[at..at + 7].copy_from_slice(b"/ObjStm");
        let written = format!("/Length {length}");
        let at = (out.windows(14).position(|w| w == written.as_bytes())).expect("page 1's length");
        out[at..at + 14].copy_from_slice(b"/Length 99 0 R");
        out
    }

    /// The trailer's `/Encrypt N 0 R` of `bytes` written as `key N 0R`: in
    /// the last object of a document, so no offset moves.
    fn encrypt_written(bytes: &[u8], key: &str) -> Vec<u8> {
        let at = (bytes.windows(8).rposition(|w| w == b"/Encrypt")).expect("an encrypted document");
        let end = at
            + bytes[at..]
                .iter()
                .position(|&c| c == b'R')
                .expect("a reference")
            + 1;
        let reference = std::str::from_utf8(&bytes[at + 8..end]).expect("numbers");
        let mut out = bytes[..at].to_vec();
        out.extend(format!("{key}{}", reference.replace(" 0 R", " 0R")).bytes());
        out.extend(&bytes[end..]);
        out
    }

    #[test]
    fn documents_encrypted_without_a_password_are_read_and_checked_as_others_are() {
        for cipher in ["RC4", "AES-128", "AES-256"] {
            // Its font is only in the object stream: read, that was decrypted
            // and parsed once (lopdf alone decrypted twice: nothing was read).
            let read = markdown(&encrypted(cipher, "", None)).expect(cipher);
            assert!(
                read.text.contains("Ferries leave twice a day.")
                    && read.text.contains("The lamp is lit at dusk.")
                    && read.unread.is_empty(),
                "{cipher}: {}",
                read.text
            );
            // lopdf parsed these object streams unchecked: a stack overflow.
            let deep = nested("[", "]", 10_000);
            let err = markdown(&encrypted(cipher, "", Some(&deep))).unwrap_err();
            assert!(err.contains("nests deeper than 32"), "{cipher}: {err}");
            let err = markdown(&encrypted(cipher, "secret", None)).unwrap_err();
            assert!(
                err.starts_with("not a readable PDF document: "),
                "{cipher}: {err}"
            );
            // The trailer's key as lopdf also reads it: escaped, before a
            // comment, no space before `R`. Missed, lopdf's own reading
            // overflowed the stack.
            for key in ["/Encrypt", "/Encr#79pt", "/#45ncrypt%c\n"] {
                let hostile = encrypt_written(&encrypted(cipher, "", Some(&deep)), key);
                let err = markdown(&hostile).unwrap_err();
                assert!(
                    err.contains("nests deeper than 32"),
                    "{cipher} {key}: {err}"
                );
                let read = markdown(&encrypt_written(&encrypted(cipher, "", None), key));
                assert!(
                    read.is_ok_and(|r| r.text.contains("Ferries")),
                    "{cipher} {key}"
                );
            }
        }
        // Text that reads as an encrypted document's key is text.
        let said = written(&[&[&["The trailer says /Encrypt 5 0 R then."]]]);
        let read = markdown(&said).expect("read");
        assert!(read.text.contains("/Encrypt 5 0 R"), "{}", read.text);
    }

    #[test]
    fn objects_that_run_to_the_end_are_charged_what_they_read() {
        // Each "obj" starts a scan that looks for its string's `>`, or its
        // word's end, to the end of the file: charged only for where it
        // stopped, the check read the file once for every object (hours for
        // a megabyte).
        for (opened, sep) in [("1 0 obj <", " "), ("0obj", "")] {
            let bytes = format!("%PDF-1.4\n{}", format!("{opened}{sep}").repeat(20_000));
            let err = objects_checked(bytes.as_bytes()).unwrap_err();
            assert!(err.contains("overlap too much"), "{opened}: {err}");
        }
        // A document as written is charged about once its length.
        let good = written(&[&[&["One."]], &[&["Two."]]]);
        assert_eq!(objects_checked(&good), Ok(()));
    }

    #[test]
    fn objects_nested_too_deep_are_a_problem_not_a_crash() {
        let catalog = &b"<</Type/Catalog/Pages 2 0 R>>"[..];
        let tree = &b"<</Type/Pages/Kids[3 0 R]/Count 1>>"[..];
        let page = |x: &str| format!("<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]/X {x}>>");
        let arrays = page(&nested("[", "]", 10_000));
        let dictionaries = page(&nested("<</A ", ">>", 10_000));
        // Object 5, as deep, in an object stream: lopdf unpacks and parses
        // it as it loads the document.
        let held = format!("5 0 {}", nested("[", "]", 10_000));
        let stream = format!(
            "<</Type/ObjStm/N 1/First 4/Length {}>> stream\n{held}\nendstream",
            held.len()
        );
        // (what nests, the document)
        let table: &[(&str, Vec<u8>)] = &[
            (
                "arrays",
                assembled(&[(b"", catalog), (b"", tree), (b"", arrays.as_bytes())]),
            ),
            (
                "dictionaries",
                assembled(&[(b"", catalog), (b"", tree), (b"", dictionaries.as_bytes())]),
            ),
            (
                // Read from the top, the page is a comment; its
                // cross-reference entry points past the `%`.
                "an object where a comment seems to be",
                assembled(&[(b"", catalog), (b"", tree), (b"%", arrays.as_bytes())]),
            ),
            (
                "an object in an object stream",
                assembled(&[
                    (b"", catalog),
                    (b"", tree),
                    (b"", page("0").as_bytes()),
                    (b"", stream.as_bytes()),
                ]),
            ),
        ];
        for (what, bytes) in table {
            let err = markdown(bytes).unwrap_err();
            assert!(
                err.starts_with("not a readable PDF document: ") && err.contains("deeper than 32"),
                "{what}: {err}"
            );
        }
    }

    /// `bytes` with page `n` drawing `content` with resources of its own,
    /// which `resources` adds to the document.
    fn with_own_resources(
        bytes: &[u8],
        n: u32,
        content: lopdf::Stream,
        resources: impl FnOnce(&mut lopdf::Document) -> lopdf::Dictionary,
    ) -> Vec<u8> {
        let mut doc = lopdf::Document::load_mem(bytes).unwrap();
        let page = doc.get_pages()[&n];
        let resources = resources(&mut doc);
        let content = doc.add_object(content);
        if let Ok(lopdf::Object::Dictionary(d)) = doc.get_object_mut(page) {
            d.set("Contents", content);
            d.set("Resources", resources);
        }
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// A stream of `content`, packed as PDF writers pack content.
    fn packed(content: &[u8]) -> lopdf::Stream {
        let mut stream = lopdf::Stream::new(dictionary! {}, content.to_vec());
        stream.compress().unwrap();
        stream
    }

    /// Resources of form `X1`, drawing `content`, added to `doc`.
    fn drawing_x1(doc: &mut lopdf::Document, content: &[u8]) -> lopdf::Dictionary {
        let dict = dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        };
        let form = doc.add_object(lopdf::Stream::new(dict, content.to_vec()));
        dictionary! { "XObject" => dictionary! { "X1" => form } }
    }

    #[test]
    fn a_page_nested_too_deep_is_left_out_not_a_crash() {
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        let deep = nested("[", "]", 10_000) + " TJ";
        let text = b"BT /F1 11 Tf 72 700 Td (Two.) Tj ET";
        // Page 2's font, whose character map nests as deep.
        let mapped = |doc: &mut lopdf::Document| {
            let map = doc.add_object(lopdf::Stream::new(
                dictionary! {},
                deep.clone().into_bytes(),
            ));
            let font = doc.add_object(dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "ToUnicode" => map,
            });
            dictionary! { "Font" => dictionary! { "F1" => font } }
        };
        // (what nests, the document)
        let table: &[(&str, Vec<u8>)] = &[
            ("its content", with_page(&good, 2, deep.as_bytes())),
            (
                "a form it draws",
                with_own_resources(&good, 2, packed(b"/X1 Do"), |doc| {
                    drawing_x1(doc, deep.as_bytes())
                }),
            ),
            (
                "its font's character map",
                with_own_resources(&good, 2, packed(text), mapped),
            ),
        ];
        for (what, bytes) in table {
            let got = markdown(bytes).unwrap();
            only_page_2_left_out(&got, what);
        }
    }

    #[test]
    fn a_page_too_costly_to_draw_is_left_out_quickly() {
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        // (what, page 2's content, the form X1 it may draw)
        let table: &[(&str, Vec<u8>, Vec<u8>)] = &[
            (
                "9 MB of `q Q`, packed to kilobytes",
                b"q Q\n".repeat(9 << 18),
                vec![],
            ),
            (
                "more operators than a page may have",
                b"q Q\n".repeat(MAX_PAGE_TOKENS / 2 + 1),
                vec![],
            ),
            (
                "a form of 10 kB drawn a thousand times",
                b"/X1 Do\n".repeat(1000),
                vec![b' '; 10_000],
            ),
        ];
        for (what, content, form) in table {
            let bytes = with_own_resources(&good, 2, packed(content), |doc| drawing_x1(doc, form));
            let started = std::time::Instant::now();
            let got = markdown(&bytes).unwrap();
            // Decoded, 8 MB of `q Q` took seconds and gigabytes (a debug
            // build, minutes): refused, it takes no time to speak of.
            let took = started.elapsed();
            assert!(
                took < std::time::Duration::from_secs(20),
                "{what}: {took:?}"
            );
            only_page_2_left_out(&got, what);
        }
    }

    #[test]
    fn fonts_and_colour_spaces_are_charged_each_time_the_reader_makes_them() {
        use lopdf::Object;
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        // A character map of 100 kB: the reader parses it again for each
        // content stream (a page, each drawing of a form) that sets its font.
        let entries: String = (0..2_000)
            .map(|i| format!("4 beginbfchar <{:02X}> <{:04X}> <01> <0041> <02> <0042> <03> <0043> endbfchar\n", i % 256, 0x41 + i % 26))
            .collect();
        let map = format!(
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap \
             1 begincodespacerange <00> <FF> endcodespacerange\n{entries}endcmap end end"
        );
        assert!(map.len() > 100_000);
        let resources = |doc: &mut lopdf::Document, megabytes: usize| {
            let helvetica = dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            };
            let map = doc.add_object(packed(map.as_bytes()));
            let mapped = doc.add_object(dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "ToUnicode" => map,
            });
            let form = b"BT /F2 11 Tf 72 600 Td (a) Tj ET";
            let x1 = drawing_x1(doc, form);
            let profile = doc.add_object(packed(&vec![0; megabytes << 20]));
            let tint = doc.add_object(lopdf::Stream::new(
                dictionary! {
                    "FunctionType" => 0, "Domain" => vec![0.into(), 1.into()],
                    "Range" => vec![0.into(), 1.into(), 0.into(), 1.into(), 0.into(), 1.into(), 0.into(), 1.into()],
                    "Size" => vec![Object::Integer(2)], "BitsPerSample" => 8,
                },
                vec![0; megabytes << 20],
            ));
            let mut resources = x1;
            resources.set("Font", dictionary! { "F1" => helvetica, "F2" => mapped });
            resources.set(
                "ColorSpace",
                dictionary! {
                    "CS0" => vec![Object::Name(b"ICCBased".to_vec()), profile.into()],
                    "SP" => vec![
                        Object::Name(b"Separation".to_vec()), Object::Name(b"Spot".to_vec()),
                        Object::Name(b"DeviceCMYK".to_vec()), tint.into(),
                    ],
                },
            );
            resources
        };
        let text = "BT /F1 11 Tf 72 700 Td (Two.) Tj ET\n";
        // (what, page 2's content past its text, megabytes the profile and
        // the tint function unpack to, whether the page is left out)
        let table = [
            (
                "a form setting the font drawn 10 times",
                "/X1 Do\n".repeat(10),
                1,
                false,
            ),
            (
                "a form setting the font drawn 100 times",
                "/X1 Do\n".repeat(100),
                1,
                true,
            ),
            ("the profile set 5 times", "/CS0 cs\n".repeat(5), 1, false),
            ("the profile set 10 times", "/CS0 CS\n".repeat(10), 1, true),
            ("a profile of 9 MB set once", "/CS0 cs\n".into(), 9, true),
            (
                "the separation set 10 times",
                "/SP cs\n".repeat(10),
                1,
                true,
            ),
        ];
        for (what, content, megabytes, left_out) in table {
            let content = format!("{text}{content}");
            let bytes = with_own_resources(&good, 2, packed(content.as_bytes()), |doc| {
                resources(doc, megabytes)
            });
            let got = markdown(&bytes).unwrap();
            if left_out {
                only_page_2_left_out(&got, what);
            } else {
                assert!(
                    got.unread.is_empty() && got.text.contains("Two."),
                    "{what}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn character_maps_ranging_over_too_many_codes_are_refused() {
        // (a character map's ranges, the codes they map)
        let table = [
            ("1 beginbfrange <0000> <00FF> <0041> endbfrange", 256),
            (
                "2 beginbfrange <0000> <0001> [<0041> <0042>] <0010> <001F> <0061> endbfrange",
                18,
            ),
            (
                "1 beginbfrange <00000000> <FFFFFFFF> <0000> endbfrange",
                1 << 32,
            ),
            ("1 beginbfrange <0010> <0001> <0041> endbfrange", 1),
            ("1 beginbfchar <01> <0041> endbfchar", 0),
        ];
        for (map, codes) in table {
            assert_eq!(codes_ranged(map.as_bytes()), codes, "{map}");
        }
        // Page 2's font maps four billion codes: the reader's parser made an
        // entry for each (400 bytes took more memory than there was).
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        let text = b"BT /F1 11 Tf 72 700 Td (Two.) Tj ET";
        let bytes = with_own_resources(&good, 2, packed(text), |doc| {
            let map = doc.add_object(packed(
                b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap \
                  1 begincodespacerange <00000000> <FFFFFFFF> endcodespacerange \
                  1 beginbfrange <00000000> <FFFFFFFF> <00000000> endbfrange endcmap end end",
            ));
            let font = doc.add_object(dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "ToUnicode" => map,
            });
            dictionary! { "Font" => dictionary! { "F1" => font } }
        });
        only_page_2_left_out(&markdown(&bytes).unwrap(), "four billion codes");
    }

    /// `bytes` with the content of page `n` replaced by stream `content`.
    fn with_page_stream(bytes: &[u8], n: u32, content: lopdf::Stream) -> Vec<u8> {
        let mut doc = lopdf::Document::load_mem(bytes).unwrap();
        let page = doc.get_pages()[&n];
        let c = doc.add_object(content);
        if let Ok(lopdf::Object::Dictionary(d)) = doc.get_object_mut(page) {
            d.set("Contents", c);
        }
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_page_that_unpacks_past_its_cap_is_left_out_unpacked_no_further() {
        use std::io::Write;
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        // Page 2's text, then 200 MB of spaces packed to some 200 kB: lopdf
        // would unpack all of it before a length could be checked.
        let mut packer = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        packer
            .write_all(b"BT /F1 11 Tf 72 700 Td (Two.) Tj ET\n")
            .unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..200 {
            packer.write_all(&spaces).unwrap();
        }
        let packed = packer.finish().unwrap();
        assert!(packed.len() < MAX_PAGE_BYTES / 10, "{}", packed.len());
        let stream = lopdf::Stream::new(dictionary! { "Filter" => "FlateDecode" }, packed);
        assert_eq!(stream_bytes(&stream, MAX_PAGE_BYTES), None);
        let bytes = with_page_stream(&good, 2, stream);

        let doc = load(&bytes).unwrap();
        let ids = doc.get_pages();
        assert_eq!(Drawing::new(&doc).page(ids[&2]), Err(over(PAGE)));
        let got = markdown(&bytes).unwrap();
        only_page_2_left_out(&got, "");
    }

    #[test]
    fn streams_unpack_as_lopdf_unpacks_them() {
        use std::io::Write;
        let text = b"BT /F1 11 Tf 72 700 Td (Two.) Tj ET\n".repeat(100);
        let mut packer = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        packer.write_all(&text).unwrap();
        let zlib = packer.finish().unwrap();
        // Rows of four bytes, each after its PNG filter type (2: "up").
        let rows: Vec<u8> = text
            .chunks(4)
            .flat_map(|r| [&[2][..], r].concat())
            .collect();
        let mut packer = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        packer.write_all(&rows[..rows.len() / 5 * 5]).unwrap();
        let predicted = packer.finish().unwrap();
        let a85 = |bytes: &[u8]| {
            let mut out = Vec::new();
            for group in bytes.chunks(4) {
                let mut word = [0u8; 4];
                word[..group.len()].copy_from_slice(group);
                let mut n = u32::from_be_bytes(word);
                let mut digits = [0u8; 5];
                for d in digits.iter_mut().rev() {
                    *d = (n % 85) as u8 + b'!';
                    n /= 85;
                }
                out.extend_from_slice(&digits[..group.len() + 1]);
            }
            out.extend_from_slice(b"~>");
            out
        };
        let flate = || lopdf::Object::Name(b"FlateDecode".to_vec());
        let a85_name = || lopdf::Object::Name(b"ASCII85Decode".to_vec());
        let params = dictionary! { "Predictor" => 12, "Columns" => 4 };
        // (what, its dictionary, its bytes)
        let table: Vec<(&str, lopdf::Dictionary, Vec<u8>)> = vec![
            ("plain", dictionary! {}, text.clone()),
            ("packed", dictionary! { "Filter" => flate() }, zlib.clone()),
            (
                "packed, cut short",
                dictionary! { "Filter" => flate() },
                zlib[..zlib.len() / 2].to_vec(),
            ),
            (
                "packed without its zlib header",
                dictionary! { "Filter" => flate() },
                zlib[2..].to_vec(),
            ),
            (
                "packed with a predictor",
                dictionary! { "Filter" => flate(), "DecodeParms" => params.clone() },
                predicted,
            ),
            (
                "ASCII85 of packed",
                dictionary! { "Filter" => vec![a85_name(), flate()] },
                a85(&zlib),
            ),
            (
                "a filter lopdf lacks",
                dictionary! { "Filter" => vec![flate(), "DCTDecode".into()] },
                zlib.clone(),
            ),
            (
                "no filters",
                dictionary! { "Filter" => Vec::<lopdf::Object>::new() },
                zlib,
            ),
        ];
        for (what, dict, bytes) in table {
            let stream = lopdf::Stream::new(dict, bytes);
            let want = (stream.decompressed_content()).unwrap_or_else(|_| stream.content.clone());
            assert_eq!(
                stream_bytes(&stream, 1 << 20).as_ref(),
                Some(&want),
                "{what}"
            );
            // What lopdf unpacks on the way counts too: a predictor's data
            // before it is undone, the filters before one it lacks.
            let failed = want == stream.content && stream.filters().is_ok_and(|f| !f.is_empty());
            if stream.dict.has(b"DecodeParms") || failed {
                continue;
            }
            assert_eq!(
                stream_bytes(&stream, want.len().max(stream.content.len())),
                Some(want.clone()),
                "{what}"
            );
            if want.len() > stream.content.len() {
                assert_eq!(stream_bytes(&stream, want.len() - 1), None, "{what}");
            }
        }
    }

    #[test]
    fn pages_past_the_documents_budget_are_left_out() {
        let doc = load(&written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]])).unwrap();
        let ids = doc.get_pages();
        let mut drawing = Drawing::new(&doc);
        drawing.page(ids[&1]).unwrap();
        // Room for one more page as long as the first: the second is; the
        // third ("Three.") is longer.
        drawing.left = Cost {
            bytes: MAX_DOCUMENT.bytes - drawing.left.bytes,
            tokens: MAX_DOCUMENT.tokens - drawing.left.tokens,
        };
        assert_eq!(drawing.page(ids[&2]), Ok(()));
        assert_eq!(
            drawing.page(ids[&3]),
            Err("it draws more than is left of the document's budget".into())
        );
    }
}
