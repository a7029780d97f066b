//! What people thought of the answers: one JSON line per answer or refusal the
//! bot sent, per 👍/👎 reaction to one and per such reaction taken back (its
//! event redacted) (`feedback.jsonl` in the bot's data folder), the votes
//! those leave standing ([`Votes`]), and the "gaps" report over it — the questions most often refused or
//! voted down lately, so maintainers know what to write next. The file holds
//! who asked what, so it is readable by the bot's user only, and it is rotated
//! by size (`feedback.max_bytes`: the current file plus one older one).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::search::Answer;

/// Name of the feedback file in the bot's data folder.
pub const FILE: &str = "feedback.jsonl";

/// Default `feedback.max_bytes`: the size at which the file is rotated.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// The rotated (older) file next to `path`.
pub fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// A thumbs up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    Up,
    Down,
}

impl Vote {
    /// The vote a reaction key stands for: 👍/👎 with or without the emoji
    /// variation selector or a skin tone, or the `:+1:` / `:-1:` shortcodes
    /// some clients send as text. Any other key is no vote.
    pub fn from_key(key: &str) -> Option<Vote> {
        let base: String = key
            .trim()
            .chars()
            .filter(|c| !matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}'))
            .collect();
        match base.as_str() {
            "👍" | ":+1:" | ":thumbsup:" | "+1" => Some(Vote::Up),
            "👎" | ":-1:" | ":thumbsdown:" | "-1" => Some(Vote::Down),
            _ => None,
        }
    }
}

/// A cited passage, as recorded with an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassageRef {
    pub id: String,
    pub file: String,
    /// The cited line (none in a Word document, PDF, deck or workbook), page,
    /// slide or row.
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slide: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

/// One line of the feedback file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    /// An answer (or a refusal: `answered` false) the bot sent.
    Answer {
        /// RFC 3339 time it was sent.
        at: String,
        /// The event ID of the bot's reply: what reactions point at.
        reply: String,
        room: String,
        asker: String,
        /// The asker's message it answered (its event ID): an edit of that
        /// message is answered by editing the reply. None in files written
        /// before edits were.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        question: String,
        answered: bool,
        /// The answer sentence, when there was one.
        answer: Option<String>,
        passages: Vec<PassageRef>,
    },
    /// A 👍/👎 reaction to one of the bot's replies.
    Reaction {
        at: String,
        /// The bot's reply that was reacted to.
        reply: String,
        room: String,
        sender: String,
        vote: Vote,
        /// The reaction key as sent.
        key: String,
        /// The reaction's own event ID, which its redaction names (none in
        /// files written before withdrawals were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event: Option<String>,
    },
    /// A reaction recorded as a [`Record::Reaction`] was taken back: its
    /// event was redacted.
    Withdrawal {
        at: String,
        /// The bot's reply that was reacted to.
        reply: String,
        room: String,
        /// Who had reacted.
        sender: String,
        /// The reaction's event ID.
        event: String,
    },
}

impl Record {
    /// The room it happened in.
    pub fn room(&self) -> &str {
        match self {
            Record::Answer { room, .. }
            | Record::Reaction { room, .. }
            | Record::Withdrawal { room, .. } => room,
        }
    }

    /// The record of `answer`, sent as event `reply` in `room` to `asker`'s
    /// `message`.
    pub fn answer(reply: &str, room: &str, asker: &str, message: &str, answer: &Answer) -> Record {
        Record::Answer {
            at: now(),
            reply: reply.into(),
            room: room.into(),
            asker: asker.into(),
            message: Some(message.into()),
            question: answer.question.clone(),
            answered: answer.answered,
            answer: answer.answer.as_ref().map(|a| a.text.clone()),
            passages: answer
                .passages
                .iter()
                .map(|p| PassageRef {
                    id: p.id.clone(),
                    file: p.citation.file.clone(),
                    line: p.citation.line,
                    page: p.citation.page,
                    slide: p.citation.slide,
                    row: p.citation.row,
                })
                .collect(),
        }
    }

    /// The record of reaction `event`, a vote by `sender` on the bot's reply
    /// `reply`.
    pub fn reaction(
        reply: &str,
        room: &str,
        sender: &str,
        vote: Vote,
        key: &str,
        event: &str,
    ) -> Record {
        Record::Reaction {
            at: now(),
            reply: reply.into(),
            room: room.into(),
            sender: sender.into(),
            vote,
            key: key.into(),
            event: Some(event.into()),
        }
    }

    /// The record of reaction `event` by `sender` on `reply` taken back.
    pub fn withdrawal(reply: &str, room: &str, sender: &str, event: &str) -> Record {
        Record::Withdrawal {
            at: now(),
            reply: reply.into(),
            room: room.into(),
            sender: sender.into(),
            event: event.into(),
        }
    }
}

/// Most reactions of one person on one reply kept standing: past it, the
/// oldest is forgotten (the latest is the vote).
const MAX_STANDING: usize = 8;

/// The 👍/👎 reactions that still stand, so that each person's vote on each
/// reply is their latest reaction not taken back: one vote however many
/// reactions (👎, then 👎🏻), a change of mind (👍, then 👎), and back when
/// the later one is taken back, and none once all are.
#[derive(Debug)]
pub struct Votes {
    /// Each (reply, sender)'s standing reactions (event ID, vote), oldest
    /// first.
    standing: HashMap<(String, String), Vec<(String, Vote)>>,
    /// The (reply, sender) of each standing reaction.
    reactions: HashMap<String, (String, String)>,
    /// The (reply, sender) pairs in the order they were first seen, so that
    /// past `capacity` the oldest is forgotten.
    order: VecDeque<(String, String)>,
    capacity: usize,
    /// Reactions read from files written before their event IDs were.
    unnamed: usize,
    /// Reactions taken back, latest [`MAX_WITHDRAWN`], so that one delivered
    /// again (a sync or a fetch of history that repeats it) does not count
    /// anew.
    withdrawn: HashSet<String>,
    withdrawn_order: VecDeque<String>,
}

/// How many taken-back reactions [`Votes`] remembers: one event ID each, some
/// 60 bytes.
const MAX_WITHDRAWN: usize = 4096;

impl Votes {
    /// Votes for at most `capacity` (reply, sender) pairs, the latest.
    pub fn new(capacity: usize) -> Votes {
        Votes {
            standing: HashMap::new(),
            reactions: HashMap::new(),
            order: VecDeque::new(),
            // The pair just seen is always kept.
            capacity: capacity.max(1),
            unnamed: 0,
            withdrawn: HashSet::new(),
            withdrawn_order: VecDeque::new(),
        }
    }

    /// `sender`'s vote on `reply`: their latest standing reaction's.
    pub fn vote(&self, reply: &str, sender: &str) -> Option<Vote> {
        let pair = (reply.to_string(), sender.to_string());
        self.standing.get(&pair)?.last().map(|&(_, vote)| vote)
    }

    /// Notes reaction `event`, `sender`'s `vote` on `reply`; false when it
    /// was noted already or taken back (a sync that delivers it again).
    pub fn react(&mut self, reply: &str, sender: &str, vote: Vote, event: &str) -> bool {
        if self.reactions.contains_key(event) || self.withdrawn.contains(event) {
            return false;
        }
        let pair = (reply.to_string(), sender.to_string());
        if !self.standing.contains_key(&pair) {
            self.order.push_back(pair.clone());
            if self.order.len() > self.capacity
                && let Some(old) = self.order.pop_front()
            {
                for (event, _) in self.standing.remove(&old).unwrap_or_default() {
                    self.reactions.remove(&event);
                }
            }
        }
        let standing = self.standing.entry(pair.clone()).or_default();
        standing.push((event.to_string(), vote));
        if standing.len() > MAX_STANDING {
            let (forgotten, _) = standing.remove(0);
            self.reactions.remove(&forgotten);
        }
        self.reactions.insert(event.to_string(), pair);
        true
    }

    /// The (reply, sender) standing reaction `event` is on.
    pub fn on(&self, event: &str) -> Option<(String, String)> {
        self.reactions.get(event).cloned()
    }

    /// Takes back reaction `event`: the (reply, sender) it was on, when it
    /// stood.
    pub fn withdraw(&mut self, event: &str) -> Option<(String, String)> {
        let pair = self.reactions.remove(event)?;
        if let Some(standing) = self.standing.get_mut(&pair) {
            standing.retain(|(e, _)| e != event);
        }
        if self.withdrawn.insert(event.to_string()) {
            self.withdrawn_order.push_back(event.to_string());
            if self.withdrawn_order.len() > MAX_WITHDRAWN
                && let Some(old) = self.withdrawn_order.pop_front()
            {
                self.withdrawn.remove(&old);
            }
        }
        Some(pair)
    }

    /// Notes a record read back from the feedback file, in order.
    pub fn replay(&mut self, record: &Record) {
        match record {
            Record::Reaction {
                reply,
                sender,
                vote,
                event,
                ..
            } => {
                let event = event.clone().unwrap_or_else(|| {
                    self.unnamed += 1;
                    format!("(unnamed {})", self.unnamed)
                });
                self.react(reply, sender, *vote, &event);
            }
            Record::Withdrawal { event, .. } => {
                self.withdraw(event);
            }
            Record::Answer { .. } => {}
        }
    }

    /// Each (reply, sender)'s vote, where one stands.
    pub fn standing(&self) -> impl Iterator<Item = (&str, &str, Vote)> {
        (self.standing.iter()).filter_map(|((reply, sender), standing)| {
            let &(_, vote) = standing.last()?;
            Some((reply.as_str(), sender.as_str(), vote))
        })
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Errors reading or writing the feedback file.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("cannot open the feedback file {}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write to the feedback file {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the feedback file {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The feedback file, open for appending. One line per `write`, so concurrent
/// replies never interleave within a record.
pub struct Log {
    path: PathBuf,
    max_bytes: u64,
    /// The open file and its size.
    file: Mutex<(File, u64)>,
    /// Rotations so far (counted under `file`'s lock): an erase's copies made
    /// outside the lock are of the files still in place when it is unchanged.
    rotations: std::sync::atomic::AtomicU64,
    /// Held through an erase: one at a time (their copies share a name, and
    /// each would undo the other's).
    erasing: Mutex<()>,
}

impl Log {
    /// Opens (creating) `feedback.jsonl` in `data_dir`, rotated at `max_bytes`.
    pub fn open(data_dir: &Path, max_bytes: u64) -> Result<Log, FeedbackError> {
        let path = data_dir.join(FILE);
        let open_err = |source| FeedbackError::Open {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(open_err)?;
        let file = crate::files::open_private(&path, false).map_err(open_err)?;
        let size = file.metadata().map_err(open_err)?.len();
        // Copies an erase left when the process died.
        for file in [&path, &rotated(&path)] {
            let _ = std::fs::remove_file(file.with_extension(ERASING));
        }
        Ok(Log {
            path,
            max_bytes,
            file: Mutex::new((file, size)),
            rotations: std::sync::atomic::AtomicU64::new(0),
            erasing: Mutex::new(()),
        })
    }

    /// Appends one record, first moving a full file aside (replacing the older
    /// one moved aside before).
    pub fn append(&self, record: &Record) -> Result<(), FeedbackError> {
        let mut line = serde_json::to_string(record).expect("records serialise");
        line.push('\n');
        let write_err = |source| FeedbackError::Write {
            path: self.path.clone(),
            source,
        };
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let (file, size) = &mut *guard;
        self.reopen_if_moved(file, size).map_err(write_err)?;
        if *size > 0 && *size + line.len() as u64 > self.max_bytes {
            std::fs::rename(&self.path, rotated(&self.path)).map_err(write_err)?;
            self.rotations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            *file = crate::files::open_private(&self.path, false).map_err(write_err)?;
            *size = 0;
        }
        file.write_all(line.as_bytes()).map_err(write_err)?;
        *size += line.len() as u64;
        Ok(())
    }

    /// Opens the file at the log's path again when it is not the one open:
    /// moved aside or deleted by hand or by logrotate, or left missing by a
    /// rotation whose reopening failed. Else records would go on into a file
    /// nobody reads, or every append would fail until a restart.
    fn reopen_if_moved(&self, file: &mut File, size: &mut u64) -> std::io::Result<()> {
        if crate::files::same_file(file, &self.path) {
            return Ok(());
        }
        tracing::warn!(path = %self.path.display(), "the feedback file was moved or deleted; writing to a new one");
        *file = crate::files::open_private(&self.path, false)?;
        *size = file.metadata()?.len();
        // The files in place changed, as at a rotation (see `erase`).
        self.rotations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Where the records go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Erases the record of the bot's reply `reply` in `room`, and the votes
    /// on it, from both files (the question was deleted: its words go too).
    /// A file holding one is rewritten (a crash leaves the old or the new
    /// whole): copied while appends go on, then, under the append lock, the
    /// lines appended meanwhile are copied too and the copy swapped in — all
    /// of it under the lock when a rotation came in between. Returns how many
    /// records went.
    pub fn erase(&self, reply: &str, room: &str) -> Result<usize, FeedbackError> {
        use std::sync::atomic::Ordering;
        let err = |source| FeedbackError::Write {
            path: self.path.clone(),
            source,
        };
        let _one = self.erasing.lock().unwrap_or_else(|e| e.into_inner());
        let older = rotated(&self.path);
        let copies = || -> std::io::Result<(Option<Copy<'_>>, Option<Copy<'_>>)> {
            let copy = |path: &Path| match holds(path, reply)? {
                true => Copy::start(path, reply, room).map(Some),
                false => Ok(None),
            };
            Ok((copy(&older)?, copy(&self.path)?))
        };
        let rotations = self.rotations.load(Ordering::Relaxed);
        let first = copies();
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // Files moved by hand or logrotate meanwhile count as a rotation.
        let (file, size) = &mut *guard;
        self.reopen_if_moved(file, size).map_err(err)?;
        let (old_copy, copy) = match first {
            Ok(copies) if self.rotations.load(Ordering::Relaxed) == rotations => copies,
            // Rotated meanwhile (mid-rotation the current file is missing):
            // the copies are of the wrong files, made again under the lock,
            // the first dropped first (a copy removes its file on drop).
            other => {
                drop(other);
                copies().map_err(err)?
            }
        };
        let mut erased = 0;
        // A failure with one file leaves the other still erased.
        let old_swapped = old_copy.map(|c| {
            erased += c.erased;
            c.swap(&older)
        });
        if let Some(mut copy) = copy {
            copy.rest(&self.path).map_err(err)?;
            erased += copy.erased;
            let size = copy.written;
            if copy.swap(&self.path).map_err(err)? {
                // Appended to from now on: opened for that, so each record
                // goes to the end whatever else writes there. Erased already
                // when that fails: the next record opens it.
                match crate::files::open_private(&self.path, false) {
                    Ok(file) => *guard = (file, size),
                    Err(e) => {
                        tracing::warn!(path = %self.path.display(), error = %e, "cannot open the feedback file again after an erase; the next record tries again");
                    }
                }
            }
        }
        if let Some(Err(e)) = old_swapped {
            return Err(err(e));
        }
        Ok(erased)
    }
}

/// The extension of an erase's copy of a feedback file (beside it).
const ERASING: &str = "erasing";

/// Whether the file at `path` names `reply` anywhere (a missing one does not).
fn holds(path: &Path, reply: &str) -> std::io::Result<bool> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    for line in BufReader::new(file).split(b'\n') {
        if line?.windows(reply.len()).any(|w| w == reply.as_bytes()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A copy of a feedback file without the records of one reply, being made
/// beside it; removed unless swapped in.
struct Copy<'a> {
    tmp: PathBuf,
    out: Option<std::io::BufWriter<File>>,
    reply: &'a str,
    room: &'a str,
    /// Bytes of the file read, and written to the copy.
    read: u64,
    written: u64,
    erased: usize,
    swapped: bool,
}

impl<'a> Copy<'a> {
    /// Copies the file at `path` as it is now, leaving out the records of
    /// `reply` in `room`.
    fn start(path: &Path, reply: &'a str, room: &'a str) -> std::io::Result<Copy<'a>> {
        let tmp = path.with_extension(ERASING);
        let out = std::io::BufWriter::new(crate::files::open_private(&tmp, true)?);
        let mut copy = Copy {
            tmp,
            out: Some(out),
            reply,
            room,
            read: 0,
            written: 0,
            erased: 0,
            swapped: false,
        };
        copy.rest(path)?;
        // On disk before the lock is taken: what the swap then syncs is only
        // the lines appended meanwhile.
        if let Some(out) = &mut copy.out {
            out.flush()?;
            out.get_ref().sync_data()?;
        }
        Ok(copy)
    }

    /// Copies what the file at `path` has past what was read already.
    fn rest(&mut self, path: &Path) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(self.read))?;
        let mut lines = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = lines.read_until(b'\n', &mut line)?;
            // A line still being written (no newline yet) waits for the next
            // call, under the lock, when it is whole.
            if n == 0 || line.last() != Some(&b'\n') {
                return Ok(());
            }
            self.read += n as u64;
            if self.is_of_reply(&line) {
                self.erased += 1;
            } else if let Some(out) = &mut self.out {
                out.write_all(&line)?;
                self.written += n as u64;
            }
        }
    }

    fn is_of_reply(&self, line: &[u8]) -> bool {
        let names = |needle: &[u8]| line.windows(needle.len()).any(|w| w == needle);
        if !names(self.reply.as_bytes()) {
            return false;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => {
                let on = match &r {
                    Record::Answer { reply: on, .. }
                    | Record::Reaction { reply: on, .. }
                    | Record::Withdrawal { reply: on, .. } => on,
                };
                on == self.reply && r.room() == self.room
            }
            // A line that does not parse (a crash's fragment glued to the
            // next record) and names the reply as a record would goes too:
            // unreadable, it may still hold the question's words.
            Err(_) => names(format!("\"reply\":\"{}\"", self.reply).as_bytes()),
        }
    }

    /// Puts the copy in place of the file at `path` when it left a record
    /// out (else drops it); returns whether it did.
    fn swap(mut self, path: &Path) -> std::io::Result<bool> {
        let Some(out) = self.out.take().filter(|_| self.erased > 0) else {
            return Ok(false);
        };
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, path)?;
        self.swapped = true;
        Ok(true)
    }
}

impl Drop for Copy<'_> {
    fn drop(&mut self) {
        // Not swapped in (nothing to erase, or a failure): not left behind.
        if !self.swapped {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Reads every record of the feedback file at `path` (and of the older file
/// rotated out of it, first); a missing file has none. Lines that don't parse (a
/// crash mid-write, a newer format) are skipped and counted in the second value.
pub fn read(path: &Path) -> Result<(Vec<Record>, usize), FeedbackError> {
    read_where(path, |_| true)
}

/// [`read`], keeping only the records `keep` accepts as it goes: memory holds
/// what is kept, never the whole file.
pub fn read_where(
    path: &Path,
    mut keep: impl FnMut(&Record) -> bool,
) -> Result<(Vec<Record>, usize), FeedbackError> {
    let mut records = Vec::new();
    let mut skipped = 0;
    for path in [rotated(path), path.to_path_buf()] {
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(FeedbackError::Read { path, source }),
        };
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|source| FeedbackError::Read {
                path: path.clone(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(&line) {
                Ok(r) if keep(&r) => records.push(r),
                Ok(_) => {}
                Err(_) => skipped += 1,
            }
        }
    }
    Ok((records, skipped))
}

/// One question (up to case, spacing and end punctuation) that went unanswered
/// or was voted down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// The question as most recently asked.
    pub question: String,
    /// Times it was refused.
    pub refused: usize,
    /// 👎 on answers to it.
    pub down: usize,
    /// 👍 on answers to it (context: a question both up- and down-voted is contested).
    pub up: usize,
    /// When it was last asked (RFC 3339).
    pub last_asked: String,
}

impl Gap {
    /// Refusals plus down-votes: what the list is ordered by.
    pub fn count(&self) -> usize {
        self.refused + self.down
    }
}

/// The question text gaps are grouped by: lower case, single spaces, no
/// trailing punctuation.
pub fn normalize(question: &str) -> String {
    question
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['?', '!', '.', ' '])
        .to_lowercase()
}

/// The questions most often refused or voted down among answers sent since
/// `since`, most frequent first (then most recent), at most `limit`.
pub fn gaps(records: &[Record], since: chrono::DateTime<chrono::Utc>, limit: usize) -> Vec<Gap> {
    let recent = |at: &str| {
        chrono::DateTime::parse_from_rfc3339(at)
            .is_ok_and(|t| t.with_timezone(&chrono::Utc) >= since)
    };
    // The question each reply answered, for the reactions to find; a reply
    // edited to answer an edited question is another version of it, and a
    // vote counts for the version it was cast on.
    let mut asked: HashMap<String, (String, &str)> = HashMap::new();
    let mut version: HashMap<&str, usize> = HashMap::new();
    let mut groups: HashMap<String, Gap> = HashMap::new();
    // One vote per person and version: their latest reaction not taken back.
    let mut votes = Votes::new(usize::MAX);
    let mut unnamed = 0;
    for r in records {
        match r {
            Record::Answer {
                at,
                reply,
                room,
                question,
                answered,
                ..
            } => {
                let v = version.entry(reply).or_default();
                *v += 1;
                if !recent(at) {
                    continue;
                }
                let key = count_answer(&mut groups, question, at, *answered);
                asked.insert(format!("{reply}#{v}"), (key, room));
            }
            Record::Reaction {
                reply,
                room,
                sender,
                vote,
                event,
                ..
            } => {
                let versioned = format!("{reply}#{}", version.get(reply.as_str()).unwrap_or(&0));
                // A vote counts in the answer's own room only: a reaction
                // may name any event ID, another room's answer too.
                if asked.get(&versioned).is_some_and(|(_, at)| at == room) {
                    // Files written before reactions carried their IDs.
                    let event = event.clone().unwrap_or_else(|| {
                        unnamed += 1;
                        format!("(unnamed {unnamed})")
                    });
                    votes.react(&versioned, sender, *vote, &event);
                }
            }
            Record::Withdrawal { room, event, .. } => {
                // Taken back in the answer's own room only, as cast.
                let on = votes.on(event);
                if on.is_some_and(|(versioned, _)| {
                    asked.get(&versioned).is_some_and(|(_, at)| at == room)
                }) {
                    votes.withdraw(event);
                }
            }
        }
    }
    count_votes(&mut groups, &asked, &votes);
    let mut list: Vec<Gap> = groups.into_values().filter(|g| g.count() > 0).collect();
    list.sort_by(|a, b| {
        b.count()
            .cmp(&a.count())
            .then_with(|| b.last_asked.cmp(&a.last_asked))
    });
    list.truncate(limit);
    list
}

/// Counts each standing vote in the group of the answer (version) it was
/// cast on; `asked` holds each version's group and room.
fn count_votes(
    groups: &mut HashMap<String, Gap>,
    asked: &HashMap<String, (String, &str)>,
    votes: &Votes,
) {
    for (reply, _, vote) in votes.standing() {
        let gap = groups
            .get_mut(&asked[reply].0)
            .expect("every asked reply has a group");
        match vote {
            Vote::Up => gap.up += 1,
            Vote::Down => gap.down += 1,
        }
    }
}

/// Counts an answer to `question` sent `at` in its group (by the question's
/// [`normalize`]d text), which it returns.
fn count_answer(
    groups: &mut HashMap<String, Gap>,
    question: &str,
    at: &str,
    answered: bool,
) -> String {
    let key = normalize(question);
    let gap = groups.entry(key.clone()).or_insert_with(|| Gap {
        question: question.to_string(),
        refused: 0,
        down: 0,
        up: 0,
        last_asked: at.to_string(),
    });
    if at >= gap.last_asked.as_str() {
        gap.last_asked = at.to_string();
        gap.question = question.to_string();
    }
    if !answered {
        gap.refused += 1;
    }
    key
}

/// The cut-off for "the last `days` days".
pub fn since_days(days: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(reply: &str, question: &str, answered: bool, at: &str) -> Record {
        Record::Answer {
            at: at.into(),
            reply: reply.into(),
            room: "!r:x".into(),
            asker: "@a:x".into(),
            message: None,
            question: question.into(),
            answered,
            answer: answered.then(|| "It is so.".to_string()),
            passages: Vec::new(),
        }
    }

    /// A vote as files written before withdrawals were recorded hold it.
    fn vote(reply: &str, sender: &str, vote: Vote) -> Record {
        Record::Reaction {
            at: now(),
            reply: reply.into(),
            room: "!r:x".into(),
            sender: sender.into(),
            vote,
            key: "👍".into(),
            event: None,
        }
    }

    #[test]
    fn a_vote_is_the_latest_reaction_not_taken_back() {
        use Vote::{Down, Up};
        enum Step {
            React(&'static str, &'static str, Vote, &'static str),
            Withdraw(&'static str),
        }
        use Step::*;
        let mut votes = Votes::new(2);
        // (step, noted, then @a's and @b's vote on $1)
        let steps = [
            (React("$1", "@a", Up, "e1"), true, (Some(Up), None)),
            // A sync that delivers it again.
            (React("$1", "@a", Up, "e1"), false, (Some(Up), None)),
            // Another skin tone: one vote still.
            (React("$1", "@a", Up, "e2"), true, (Some(Up), None)),
            (React("$1", "@b", Down, "e3"), true, (Some(Up), Some(Down))),
            // A change of mind, taken back: the earlier vote stands again.
            (
                React("$1", "@a", Down, "e4"),
                true,
                (Some(Down), Some(Down)),
            ),
            (Withdraw("e4"), true, (Some(Up), Some(Down))),
            (Withdraw("e4"), false, (Some(Up), Some(Down))),
            // Delivered again once taken back: still taken back.
            (React("$1", "@a", Down, "e4"), false, (Some(Up), Some(Down))),
            (Withdraw("e1"), true, (Some(Up), Some(Down))),
            (Withdraw("e2"), true, (None, Some(Down))),
            (Withdraw("unknown"), false, (None, Some(Down))),
            // A third pair forgets the first seen ($1, @a): capacity 2.
            (
                React("$1", "@a", Down, "e5"),
                true,
                (Some(Down), Some(Down)),
            ),
            (React("$2", "@a", Up, "e6"), true, (None, Some(Down))),
            (Withdraw("e5"), false, (None, Some(Down))),
            (Withdraw("e3"), true, (None, None)),
        ];
        for (i, (step, noted, (a, b))) in steps.into_iter().enumerate() {
            let got = match step {
                React(reply, sender, vote, event) => votes.react(reply, sender, vote, event),
                Withdraw(event) => votes.withdraw(event).is_some(),
            };
            assert_eq!(got, noted, "step {i}");
            assert_eq!(
                (votes.vote("$1", "@a"), votes.vote("$1", "@b")),
                (a, b),
                "step {i}"
            );
        }
        // Each person's reactions on a reply past 8: the oldest forgotten.
        let mut votes = Votes::new(10);
        for n in 0..=MAX_STANDING {
            votes.react("$1", "@a", Up, &format!("e{n}"));
        }
        assert_eq!(votes.on("e0"), None);
        assert_eq!(votes.on("e1"), Some(("$1".to_string(), "@a".to_string())));
        // Taken-back reactions are remembered up to a bound, the latest.
        let mut votes = Votes::new(10);
        for n in 0..=MAX_WITHDRAWN {
            let e = format!("w{n}");
            votes.react("$1", "@a", Up, &e);
            votes.withdraw(&e);
        }
        assert!(
            votes.react("$1", "@a", Up, "w0"),
            "forgotten past the bound"
        );
        assert!(!votes.react("$1", "@a", Up, "w1"));
    }

    #[test]
    fn reaction_keys_with_variants_are_votes() {
        for k in ["👍", "👍\u{FE0F}", "👍🏽", ":+1:", " 👍 "] {
            assert_eq!(Vote::from_key(k), Some(Vote::Up), "{k:?}");
        }
        for k in ["👎", "👎\u{FE0F}", ":-1:", ":thumbsdown:"] {
            assert_eq!(Vote::from_key(k), Some(Vote::Down), "{k:?}");
        }
        for k in ["❤️", "👀", "", "👍👍"] {
            assert_eq!(Vote::from_key(k), None, "{k:?}");
        }
    }

    #[test]
    fn gaps_group_refusals_and_down_votes_by_question_in_the_window() {
        let recent = now();
        let old = "2020-01-01T00:00:00.000Z";
        let records = vec![
            answer("$1", "What is the capital of France?", false, &recent),
            answer("$2", "what is  the capital of france", false, &recent),
            answer("$6", "What is the capital of France", false, &recent),
            answer("$3", "When is the visit?", true, &recent),
            vote("$3", "@a:x", Vote::Up),
            vote("$3", "@a:x", Vote::Down), // changed their mind: one down-vote
            vote("$3", "@b:x", Vote::Down),
            answer("$4", "Who won?", true, &recent),
            vote("$4", "@a:x", Vote::Up),
            answer("$5", "Ancient question?", false, old),
            vote("$5", "@a:x", Vote::Down),
            // A reaction in another room naming this room's answer.
            Record::Reaction {
                at: now(),
                reply: "$3".into(),
                room: "!other:x".into(),
                sender: "@c:x".into(),
                vote: Vote::Down,
                key: "👎".into(),
                event: None,
            },
            // A down-vote taken back, in the answer's room: none stands; in
            // another room: it stands.
            Record::reaction("$4", "!r:x", "@b:x", Vote::Down, "👎", "$r1"),
            Record::withdrawal("$4", "!r:x", "@b:x", "$r1"),
            Record::reaction("$4", "!r:x", "@c:x", Vote::Down, "👎", "$r2"),
            Record::withdrawal("$4", "!other:x", "@c:x", "$r2"),
        ];
        let list = gaps(&records, since_days(30), 10);
        let got: Vec<(String, usize, usize, usize)> = list
            .iter()
            .map(|g| (normalize(&g.question), g.refused, g.down, g.up))
            .collect();
        assert_eq!(
            got,
            [
                ("what is the capital of france".to_string(), 3, 0, 0),
                ("when is the visit".to_string(), 0, 2, 0),
                ("who won".to_string(), 0, 1, 1),
            ]
        );
        assert_eq!(gaps(&records, since_days(30), 1).len(), 1);
        // A reply edited to answer an edited question: the down-vote cast on
        // the first answer counts for the first question, the one cast after
        // the edit for the second.
        let mut edited = vec![
            answer("$7", "Wen is the visit?", false, &recent),
            Record::reaction("$7", "!r:x", "@a:x", Vote::Down, "👎", "$d1"),
            answer("$7", "When is the royal visit?", true, &recent),
            Record::reaction("$7", "!r:x", "@b:x", Vote::Down, "👎", "$d2"),
        ];
        let got = |records: &[Record]| -> Vec<(String, usize, usize, usize)> {
            let list = gaps(records, since_days(30), 10);
            (list.iter())
                .map(|g| (normalize(&g.question), g.refused, g.down, g.up))
                .collect()
        };
        assert_eq!(
            got(&edited),
            [
                ("wen is the visit".to_string(), 1, 1, 0),
                ("when is the royal visit".to_string(), 0, 1, 0),
            ]
        );
        // Taken back after the edit, the first vote no longer counts.
        edited.push(Record::withdrawal("$7", "!r:x", "@a:x", "$d1"));
        let after = got(&edited);
        assert!(
            after.contains(&("wen is the visit".to_string(), 1, 0, 0)),
            "{after:?}"
        );
    }

    #[test]
    fn the_log_appends_lines_that_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(&dir.path().join("data"), DEFAULT_MAX_BYTES).unwrap();
        let a = answer("$1", "Q?", false, &now());
        log.append(&a).unwrap();
        let v = vote("$1", "@b:x", Vote::Down);
        log.append(&v).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"{\"kind\":\"answ")
            .unwrap();
        let (records, skipped) = read(log.path()).unwrap();
        assert_eq!(records, [a, v]);
        assert_eq!(skipped, 1);
        assert_eq!(read(&dir.path().join("none.jsonl")).unwrap().0, []);
    }

    #[test]
    fn a_file_moved_or_deleted_under_the_log_is_written_anew() {
        // What is done to the file while the bot runs.
        type Move = fn(&Path);
        let cases: [(&str, Move, bool); 3] = [
            ("deleted", |p| std::fs::remove_file(p).unwrap(), false),
            // As logrotate does: renamed, and an empty one made in its place
            // (which the bot writes to), or not.
            (
                "moved aside",
                |p| std::fs::rename(p, p.with_extension("old")).unwrap(),
                true,
            ),
            (
                "moved, another put in its place",
                |p| {
                    std::fs::rename(p, p.with_extension("old")).unwrap();
                    std::fs::write(p, "").unwrap();
                },
                true,
            ),
        ];
        for (what, change, kept_aside) in cases {
            let dir = tempfile::tempdir().unwrap();
            let log = Log::open(dir.path(), DEFAULT_MAX_BYTES).unwrap();
            let before = answer("$1", "Q?", false, &now());
            log.append(&before).unwrap();
            change(log.path());
            let after = answer("$2", "Q?", false, &now());
            log.append(&after).unwrap();
            assert_eq!(read(log.path()).unwrap().0, [after], "{what}");
            if kept_aside {
                let aside = std::fs::read_to_string(log.path().with_extension("old")).unwrap();
                assert!(
                    aside.contains("\"$1\"") && !aside.contains("\"$2\""),
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn a_rotation_whose_reopening_failed_does_not_stop_the_appends() {
        let dir = tempfile::tempdir().unwrap();
        let first = answer("$1", "Q?", false, &now());
        let full = serde_json::to_string(&first).unwrap().len() as u64 + 10;
        let log = Log::open(dir.path(), full).unwrap();
        log.append(&first).unwrap();
        // The state such a rotation leaves: the full file moved aside, none
        // in its place, the moved one still open.
        std::fs::rename(log.path(), rotated(log.path())).unwrap();
        let next = answer("$2", "Q?", false, &now());
        log.append(&next).unwrap();
        // (`read` reads the rotated file, then the current one.)
        assert_eq!(read(log.path()).unwrap().0, [first, next]);
        let current = std::fs::read_to_string(log.path()).unwrap();
        assert!(
            current.contains("\"$2\"") && !current.contains("\"$1\""),
            "{current}"
        );
    }

    #[test]
    fn a_deleted_questions_records_are_erased_from_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), 1500).unwrap();
        let vote_on = |reply: &str, i: usize| {
            Record::reaction(reply, "!r:x", "@b:x", Vote::Down, "👎", &format!("$v{i}"))
        };
        // The secret's answer and a vote on it end up in the rotated file,
        // another vote in the current one; `$10` holds `$1` as a prefix.
        let mut all = vec![answer("$1", "my password is hunter2?", false, &now())];
        all.push(vote_on("$1", 0));
        for i in 2..=12 {
            all.push(answer(&format!("${i}"), "Q?", true, &now()));
        }
        all.push(vote_on("$1", 1));
        all.push(vote_on("$10", 2));
        for r in &all {
            log.append(r).unwrap();
        }
        let rotated_text = std::fs::read_to_string(rotated(log.path())).unwrap();
        assert!(rotated_text.contains("hunter2"));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap();
        f.write_all(b"{\"kind\":\"answer\",\"reply\":\"$1\", cut short by a crash\n")
            .unwrap();
        drop(f);
        // Another room's reply of the same ID is not this one.
        let elsewhere = Record::withdrawal("$1", "!other:x", "@b:x", "$v9");
        log.append(&elsewhere).unwrap();
        // Three records, and the unreadable line that names the reply.
        assert_eq!(log.erase("$1", "!r:x").unwrap(), 4);
        let (back, skipped) = read(log.path()).unwrap();
        let mut kept: Vec<Record> = all
            .iter()
            .filter(|r| !matches!(r, Record::Answer { reply, .. } | Record::Reaction { reply, .. } if reply == "$1"))
            .cloned()
            .collect();
        kept.push(elsewhere);
        assert_eq!(back, kept);
        assert_eq!(skipped, 0, "the unreadable line naming the reply went too");
        for p in [log.path().to_path_buf(), rotated(log.path())] {
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(!text.contains("hunter2"), "{}", p.display());
        }
        // Appends go on to the rewritten file; nothing left to erase.
        let last = answer("$13", "Q?", true, &now());
        log.append(&last).unwrap();
        assert_eq!(read(log.path()).unwrap().0.last(), Some(&last));
        assert_eq!(log.erase("$1", "!r:x").unwrap(), 0);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no copy left behind: {names:?}");
    }

    #[test]
    fn lines_appended_while_a_copy_is_made_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), 1 << 20).unwrap();
        let (gone, kept) = (
            answer("$1", "deleted?", true, &now()),
            answer("$2", "Q?", true, &now()),
        );
        log.append(&gone).unwrap();
        log.append(&kept).unwrap();
        let mut copy = Copy::start(log.path(), "$1", "!r:x").unwrap();
        // Appended after the bulk was copied, one line still being written.
        let late = answer("$3", "late?", true, &now());
        log.append(&late).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap();
        f.write_all(b"{\"kind\":").unwrap();
        copy.rest(log.path()).unwrap();
        assert_eq!(copy.erased, 1);
        assert!(copy.swap(log.path()).unwrap(), "swapped");
        assert_eq!(read(log.path()).unwrap(), (vec![kept, late], 0));
    }

    #[test]
    fn erases_at_once_with_appends_going_on_lose_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let log = std::sync::Arc::new(Log::open(dir.path(), 1 << 20).unwrap());
        let records: Vec<Record> = (0..2_000)
            .map(|i| answer(&format!("$a{i}"), "Q?", true, &now()))
            .collect();
        for r in &records {
            log.append(r).unwrap();
        }
        let deleted: Vec<String> = (0..2_000).step_by(100).map(|i| format!("$a{i}")).collect();
        let later: Vec<Record> = (0..300)
            .map(|i| answer(&format!("$b{i}"), "Q?", true, &now()))
            .collect();
        std::thread::scope(|s| {
            for part in deleted.chunks(5) {
                let log = &log;
                s.spawn(move || {
                    for reply in part {
                        assert_eq!(log.erase(reply, "!r:x").unwrap(), 1, "{reply}");
                    }
                });
            }
            for r in &later {
                log.append(r).unwrap();
            }
        });
        let (back, skipped) = read(log.path()).unwrap();
        assert_eq!(skipped, 0);
        let reply = |r: &Record| match r {
            Record::Answer { reply, .. } => reply.clone(),
            _ => unreachable!(),
        };
        let mut want: Vec<String> = records.iter().chain(&later).map(reply).collect();
        want.retain(|r| !deleted.contains(r));
        let mut got: Vec<String> = back.iter().map(reply).collect();
        // Appends interleave with the erases; each file keeps its own order.
        want.sort();
        got.sort();
        assert_eq!(got, want);
        let names = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(names, 1, "no copy left behind, nothing rotated");
    }

    #[test]
    fn erasing_while_appends_rotate_the_file_keeps_both_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), 64 << 10).unwrap();
        let record = |i: usize| answer(&format!("$a{i}"), "Q?", true, &now());
        for i in 0..500 {
            log.append(&record(i)).unwrap();
        }
        /// Stops the appender however the test ends (a failing assert
        /// would otherwise wait for it for ever).
        struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let _stop = StopOnDrop(&stop);
            s.spawn(|| {
                let mut i = 1_000_000;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    log.append(&record(i)).unwrap();
                    i += 1;
                }
            });
            // Each erase races rotations (a file fills in some 300 appends);
            // its record may even be rotated out before it is reached.
            let mut erased = 0;
            for i in 500..700 {
                log.append(&record(i)).unwrap();
                erased += log.erase(&format!("$a{i}"), "!r:x").unwrap();
                let both = [log.path().to_path_buf(), rotated(log.path())];
                for p in both {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    assert!(
                        !text.contains(&format!("\"$a{i}\"")),
                        "{i} in {}",
                        p.display()
                    );
                }
            }
            assert!(erased > 100, "{erased} erased: the race was not run");
        });
        assert_eq!(read(log.path()).unwrap().1, 0, "every line whole");
        let names = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(names, 2, "no copy left behind");
    }

    #[test]
    fn the_log_is_private_and_rotated_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let line = serde_json::to_string(&answer("$0", "Q?", false, &now())).unwrap();
        // Room for three records per file.
        let log = Log::open(&data, 3 * (line.len() as u64 + 1)).unwrap();
        let records: Vec<Record> = (0..8)
            .map(|i| answer(&format!("${i}"), "Q?", false, &now()))
            .collect();
        for r in &records {
            log.append(r).unwrap();
        }
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(log.path()) <= 3 * (line.len() as u64 + 1));
        assert!(size(&rotated(log.path())) <= 3 * (line.len() as u64 + 1));
        // Files of 0–2, 3–5, 6–7: the current one and the one before it are
        // kept, oldest record first.
        let (back, _) = read(log.path()).unwrap();
        assert_eq!(back, records[3..]);
        let (kept, _) = read_where(log.path(), |r| r.room() == "!r:x").unwrap();
        assert_eq!(kept.len(), 5);
        assert!(read_where(log.path(), |_| false).unwrap().0.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [log.path().to_path_buf(), rotated(log.path())] {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", p.display());
            }
        }
    }
}
