//! Questions the bot has taken on but not yet answered, on disk
//! (`data_dir/questions.jsonl`), so none is lost when the process dies: a
//! question is written (and synced to disk) before the sync position holding it
//! is saved, and marked done once its reply is delivered. At start the
//! questions still open are handled again; their replies carry transaction IDs
//! derived from the question, so a reply that was in fact sent just before the
//! crash is deduplicated by the homeserver rather than doubled. Encrypted
//! messages still waiting for their room key are kept the same way. A
//! question's done line names the reply that answered it, so an edit of the
//! question after a restart still finds the reply to edit.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tracing::warn;

/// The journal's file name in `data_dir`.
pub const FILE: &str = "questions.jsonl";

/// Done questions remembered across a compaction, so a question the last
/// sync delivers again after a restart is recognised as answered.
const KEEP_DONE: usize = 1000;

/// Replies to answered questions remembered across restarts (some 200 bytes
/// each), so an edit of one of them is answered by editing its reply: as many
/// as the running bot remembers.
const KEEP_REPLIES: usize = 10_000;

/// Bytes appended after which the running bot compacts the file: each question
/// appends its whole event (up to 64 KB), so a busy or abusive room would
/// otherwise grow the file by gigabytes a day, and a restart would read them all.
const COMPACT_AFTER: u64 = 8 << 20;

/// A question (or an encrypted message that may be one) taken on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Open {
    pub room: String,
    /// The event as received (still encrypted when `encrypted`).
    pub event: serde_json::Value,
    pub encrypted: bool,
}

/// The bot's reply to a question it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub room: String,
    /// The reply's event ID.
    pub event: String,
    /// Who asked.
    pub asker: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Open {
        q: String,
        open: Open,
    },
    Done {
        done: String,
        /// Absent for questions given up on, edits, and lines written before
        /// replies were kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<Reply>,
    },
    /// A question deleted by its asker: done, its reply forgotten, and the
    /// bot's events about it (`retract`, in `room`) to be redacted.
    Deleted {
        deleted: String,
        room: String,
        retract: Vec<String>,
    },
    /// One of the bot's events about a deleted question, redacted.
    Retracted {
        retracted: String,
    },
    /// Redacting one of them was begun at a start for the `times`th time.
    Tried {
        tried: String,
        times: u32,
    },
    /// The bot edited its reply to `edited` (in `room`) with event `edit`:
    /// redacted too if the question is deleted.
    Edited {
        edited: String,
        room: String,
        edit: String,
    },
}

/// The bot's edit of its reply to a question: (question, room, edit).
pub type EditSent = (String, String, String);

/// One of the bot's events to redact: (deleted question, room, event).
pub type Retraction = (String, String, String);

/// The open questions, in memory and on disk.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// Oldest first; few (the questions being answered, and encrypted ones
    /// waiting for their key), so looked through rather than indexed.
    open: Mutex<Vec<(String, Open)>>,
    /// Questions answered lately (bounded), oldest first.
    done: Mutex<super::Recent<String>>,
    /// The replies to the latest [`KEEP_REPLIES`] questions answered with one,
    /// oldest first.
    replies: Mutex<VecDeque<(String, Reply)>>,
    /// Bytes appended since the file was last compacted.
    appended: AtomicU64,
    /// The bot's events about deleted questions still to be redacted.
    retractions: Mutex<Vec<Retraction>>,
    /// The bot's edits of its replies to the latest questions answered,
    /// oldest first.
    edits: Mutex<VecDeque<EditSent>>,
    /// How many starts have tried each pending retraction.
    tries: Mutex<HashMap<String, u32>>,
    /// While a compaction writes its copy: the lines appended meanwhile, added
    /// to the copy before it is swapped in (the copy is written without the
    /// file's lock, so answers are not held up).
    tail: Mutex<Option<Vec<String>>>,
    /// Held through a compaction: one at a time.
    compacting: Mutex<()>,
}

impl Journal {
    /// Opens the journal in `data_dir`, compacting it to what is still open
    /// (and the latest done questions); returns it with the open questions,
    /// oldest first.
    pub fn open(data_dir: &Path) -> std::io::Result<(Journal, Vec<(String, Open)>)> {
        let path = data_dir.join(FILE);
        let mut read = Reading::default();
        match File::open(&path) {
            Ok(f) => {
                for line in BufReader::new(f).lines() {
                    // A line cut short by a crash is the only damage possible.
                    match serde_json::from_str::<Line>(&line?) {
                        Ok(line) => read.line(line),
                        Err(_) => warn!(file = %path.display(), "skipping an unreadable line"),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let Reading {
            open,
            done_order,
            replies,
            retractions,
            edits,
            mut tries,
            ..
        } = read;
        tries.retain(|e, _| retractions.iter().any(|(_, _, r)| r == e));
        let keep = done_order.len().saturating_sub(KEEP_DONE);
        let kept = Kept {
            done: &done_order[keep..],
            replies: &replies,
            retractions: &retractions,
            tries: &tries,
            edits: &edits,
            open: &open,
        };
        let file = compact(&path, &kept, &[])?;
        let mut done = super::Recent::new(KEEP_DONE * 10);
        for id in done_order {
            done.insert(id);
        }
        let journal = Journal {
            path,
            file: Mutex::new(file),
            open: Mutex::new(open.clone()),
            done: Mutex::new(done),
            replies: Mutex::new(replies),
            appended: AtomicU64::new(0),
            retractions: Mutex::new(retractions),
            edits: Mutex::new(edits),
            tries: Mutex::new(tries),
            tail: Mutex::new(None),
            compacting: Mutex::new(()),
        };
        Ok((journal, open))
    }

    /// Records `event_id` as taken on, durably (synced to disk) before the
    /// caller moves on. `false` when it was answered already or is open (a
    /// sync delivering it again).
    pub fn take(&self, event_id: &str, open: Open) -> bool {
        if self.is_done(event_id)
            || self
                .open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|(q, _)| q == event_id)
        {
            return false;
        }
        let text = line(&Line::Open {
            q: event_id.to_string(),
            open: open.clone(),
        });
        // Open before its line is appended: the compaction after it
        // rewrites the file from what is open, and must not leave it out.
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((event_id.to_string(), open));
        self.append(&text, true);
        self.compact_if_due();
        true
    }

    /// Marks `event_id` done: answered, or given up on for good.
    pub fn done(&self, event_id: &str) {
        self.finish(event_id, None);
    }

    /// Marks `event_id` done, answered by `reply`.
    pub fn answered(&self, event_id: &str, reply: Reply) {
        self.finish(event_id, Some(reply));
    }

    /// The replies to the latest questions answered (before a restart too),
    /// oldest first.
    pub fn replies(&self) -> Vec<(String, Reply)> {
        let replies = self.replies.lock().unwrap_or_else(|e| e.into_inner());
        replies.iter().cloned().collect()
    }

    /// Marks `question` in `room` deleted by its asker, durably: it is done
    /// (not answered after a restart), its reply forgotten, and `retract`
    /// (the bot's events about it) kept until [`Journal::retracted`].
    pub fn deleted(&self, question: &str, room: &str, retract: Vec<String>) {
        (self.open.lock().unwrap_or_else(|e| e.into_inner())).retain(|(q, _)| q != question);
        (self.done.lock().unwrap_or_else(|e| e.into_inner())).insert(question.to_string());
        (self.replies.lock().unwrap_or_else(|e| e.into_inner())).retain(|(q, _)| q != question);
        (self.edits.lock().unwrap_or_else(|e| e.into_inner())).retain(|(q, _, _)| q != question);
        {
            let mut pending = self.retractions.lock().unwrap_or_else(|e| e.into_inner());
            for event in &retract {
                if !pending.iter().any(|(_, _, e)| e == event) {
                    pending.push((question.to_string(), room.to_string(), event.clone()));
                }
            }
        }
        let deleted = Line::Deleted {
            deleted: question.to_string(),
            room: room.to_string(),
            retract,
        };
        self.append(&line(&deleted), true);
    }

    /// Notes that the bot's `event` about a deleted question was redacted.
    pub fn retracted(&self, event: &str) {
        (self.retractions.lock().unwrap_or_else(|e| e.into_inner())).retain(|(_, _, e)| e != event);
        (self.tries.lock().unwrap_or_else(|e| e.into_inner())).remove(event);
        let retracted = Line::Retracted {
            retracted: event.to_string(),
        };
        self.append(&line(&retracted), false);
    }

    /// Notes that a start begins redacting `event` (about a deleted
    /// question) again; returns how many starts have, this one included.
    pub fn tried(&self, event: &str) -> u32 {
        let times = {
            let mut tries = self.tries.lock().unwrap_or_else(|e| e.into_inner());
            let times = tries.entry(event.to_string()).or_default();
            *times += 1;
            *times
        };
        let tried = Line::Tried {
            tried: event.to_string(),
            times,
        };
        self.append(&line(&tried), false);
        times
    }

    /// Notes `edit`, the bot's edit of its reply to `question` in `room`.
    pub fn edited(&self, question: &str, room: &str, edit: &str) {
        let sent = (question.to_string(), room.to_string(), edit.to_string());
        keep_edit(
            &mut self.edits.lock().unwrap_or_else(|e| e.into_inner()),
            sent,
        );
        let edited = Line::Edited {
            edited: question.to_string(),
            room: room.to_string(),
            edit: edit.to_string(),
        };
        self.append(&line(&edited), false);
    }

    /// The bot's edits of its replies to the latest questions answered
    /// (before a restart too), oldest first.
    pub fn edits(&self) -> Vec<EditSent> {
        (self.edits.lock().unwrap_or_else(|e| e.into_inner()))
            .iter()
            .cloned()
            .collect()
    }

    /// The bot's events about deleted questions still to be redacted.
    pub fn retractions(&self) -> Vec<Retraction> {
        (self.retractions.lock().unwrap_or_else(|e| e.into_inner())).clone()
    }

    fn finish(&self, event_id: &str, reply: Option<Reply>) {
        let was_open = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            let at = open.iter().position(|(q, _)| q == event_id);
            at.map(|i| open.remove(i)).is_some()
        };
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event_id.to_string());
        if let Some(reply) = &reply {
            let mut replies = self.replies.lock().unwrap_or_else(|e| e.into_inner());
            keep_reply(&mut replies, event_id.to_string(), reply.clone());
        }
        if was_open || reply.is_some() {
            // Not synced: lost, the question is handled again and the
            // homeserver deduplicates the reply.
            self.append(
                &line(&Line::Done {
                    done: event_id.to_string(),
                    reply,
                }),
                false,
            );
        }
    }

    /// Whether `event_id` was answered (lately).
    pub fn is_done(&self, event_id: &str) -> bool {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&event_id.to_string())
    }

    /// Whether `event_id` is open (taken on, not yet answered).
    pub fn is_open(&self, event_id: &str) -> bool {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.iter().any(|(q, _)| q == event_id)
    }

    /// Open question `event_id`, as taken on.
    pub fn open_entry(&self, event_id: &str) -> Option<Open> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (_, o) = open.iter().find(|(q, _)| q == event_id)?;
        Some(o.clone())
    }

    /// The open entries that relate to `event_id` (edits of it).
    pub fn open_relating_to(&self, event_id: &str) -> Vec<String> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        (open.iter())
            .filter(|(_, o)| o.event["content"]["m.relates_to"]["event_id"] == event_id)
            .map(|(q, _)| q.clone())
            .collect()
    }

    /// How many questions are open.
    pub fn open_count(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn append(&self, text: &str, sync: bool) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let written =
            writeln!(file, "{text}").and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        if let Err(err) = written {
            warn!(file = %self.path.display(), error = %err, "writing the question journal failed; a crash now could lose this question");
        }
        if let Some(tail) = self.tail.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            tail.push(text.to_string());
        }
        let size = text.len() as u64 + 1;
        self.appended.fetch_add(size, Ordering::Relaxed);
    }

    /// Compacts the file once [`COMPACT_AFTER`] bytes were appended. Called
    /// where a question is taken on, which no other lock is held around.
    fn compact_if_due(&self) {
        if self.appended.load(Ordering::Relaxed) > COMPACT_AFTER {
            let _one = self.compacting.lock().unwrap_or_else(|e| e.into_inner());
            // Another take may have compacted it meanwhile.
            if self.appended.load(Ordering::Relaxed) > COMPACT_AFTER {
                self.compact_one();
            }
        }
    }

    /// Compacts the file now (a question was deleted: the text of questions
    /// answered goes from the disk, and only their IDs stay).
    /// Returns whether it went well (else the old file stays, whole).
    pub fn compact_now(&self) -> bool {
        let _one = self.compacting.lock().unwrap_or_else(|e| e.into_inner());
        self.compact_one()
    }

    /// Compacts the file (`compacting` held): the copy is written from what
    /// the journal holds, without the file's lock — a question is done under
    /// the bot's replies' lock, and the handlers waiting on that would wait
    /// for the copy too — then, under the lock, the lines appended meanwhile
    /// are added to it and it is swapped in. A crash leaves the old file or
    /// the new one, whole.
    fn compact_one(&self) -> bool {
        let kept = {
            // Under the file's lock: every line appended from now on goes to
            // the tail too.
            let _file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            *self.tail.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
            self.snapshot()
        };
        let copy = write_compacted(&self.path, &kept.view());
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let tail = (self.tail.lock().unwrap_or_else(|e| e.into_inner()))
            .take()
            .unwrap_or_default();
        match copy.and_then(|copy| swap_compacted(&self.path, copy, &tail)) {
            Ok(new) => {
                *file = new;
                let tail_bytes = tail.iter().map(|l| l.len() as u64 + 1).sum();
                self.appended.store(tail_bytes, Ordering::Relaxed);
                true
            }
            // The old file is whole and still appended to; tried again
            // once half as much more was appended (not at every question:
            // a full disk would have each one rewrite megabytes).
            Err(err) => {
                let _ = std::fs::remove_file(self.path.with_extension("jsonl.tmp"));
                warn!(file = %self.path.display(), error = %err, "compacting the question journal failed");
                (self.appended).store(COMPACT_AFTER / 2, Ordering::Relaxed);
                false
            }
        }
    }

    /// What the journal holds now, as a compaction writes it.
    fn snapshot(&self) -> Snapshot {
        let done: Vec<String> = {
            let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            done.newest(KEEP_DONE).cloned().collect()
        };
        Snapshot {
            done,
            replies: (self.replies.lock().unwrap_or_else(|e| e.into_inner())).clone(),
            edits: (self.edits.lock().unwrap_or_else(|e| e.into_inner())).clone(),
            retractions: self.retractions(),
            tries: (self.tries.lock().unwrap_or_else(|e| e.into_inner())).clone(),
            open: self.open.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

/// A copy of what the journal holds, for a compaction.
struct Snapshot {
    done: Vec<String>,
    replies: VecDeque<(String, Reply)>,
    edits: VecDeque<EditSent>,
    retractions: Vec<Retraction>,
    tries: HashMap<String, u32>,
    open: Vec<(String, Open)>,
}

impl Snapshot {
    fn view(&self) -> Kept<'_> {
        Kept {
            done: &self.done,
            replies: &self.replies,
            retractions: &self.retractions,
            tries: &self.tries,
            edits: &self.edits,
            open: &self.open,
        }
    }
}

/// What the journal's lines say, read in order.
#[derive(Default)]
struct Reading {
    open: Vec<(String, Open)>,
    /// Questions done, oldest first.
    done_order: Vec<String>,
    replies: VecDeque<(String, Reply)>,
    replied: std::collections::HashSet<String>,
    retractions: Vec<Retraction>,
    tries: HashMap<String, u32>,
    edits: VecDeque<EditSent>,
    edits_seen: std::collections::HashSet<String>,
}

impl Reading {
    fn line(&mut self, line: Line) {
        match line {
            Line::Open { q, open } => {
                self.open.retain(|(id, _)| *id != q);
                self.open.push((q, open));
            }
            Line::Done { done: id, reply } => {
                self.open.retain(|(q, _)| *q != id);
                // Once each: a compaction between noting a reply and
                // appending its line writes that line twice (an edit's too).
                if let Some(reply) = reply
                    && self.replied.insert(id.clone())
                {
                    keep_reply(&mut self.replies, id.clone(), reply);
                }
                self.done_order.push(id);
            }
            Line::Deleted {
                deleted,
                room,
                retract,
            } => {
                self.open.retain(|(q, _)| *q != deleted);
                self.replies.retain(|(q, _)| *q != deleted);
                self.edits.retain(|(q, _, _)| *q != deleted);
                // Once each: a compaction between noting a deletion and
                // appending its line writes that line twice.
                for event in retract {
                    if !self.retractions.iter().any(|(_, _, e)| *e == event) {
                        self.retractions
                            .push((deleted.clone(), room.clone(), event));
                    }
                }
                self.done_order.push(deleted);
            }
            Line::Retracted { retracted } => {
                self.retractions.retain(|(_, _, e)| *e != retracted);
                self.tries.remove(&retracted);
            }
            Line::Tried { tried, times } => {
                self.tries.insert(tried, times);
            }
            Line::Edited { edited, room, edit } => {
                if self.edits_seen.insert(edit.clone()) {
                    keep_edit(&mut self.edits, (edited, room, edit));
                }
            }
        }
    }
}

/// Keeps `reply` as the answer to `question`, forgetting the oldest past
/// [`KEEP_REPLIES`].
fn keep_reply(replies: &mut VecDeque<(String, Reply)>, question: String, reply: Reply) {
    replies.push_back((question, reply));
    if replies.len() > KEEP_REPLIES {
        replies.pop_front();
    }
}

/// Keeps `sent`, forgetting the oldest past [`KEEP_REPLIES`].
fn keep_edit(edits: &mut VecDeque<EditSent>, sent: EditSent) {
    edits.push_back(sent);
    if edits.len() > KEEP_REPLIES {
        edits.pop_front();
    }
}

/// What a compaction keeps: the latest questions done (with their
/// `replies`, and the questions of `replies` that are older), the pending
/// retractions, the bot's edits, and the open questions.
struct Kept<'a> {
    done: &'a [String],
    replies: &'a VecDeque<(String, Reply)>,
    retractions: &'a [Retraction],
    tries: &'a HashMap<String, u32>,
    edits: &'a VecDeque<EditSent>,
    open: &'a [(String, Open)],
}

/// Writes `kept` as a new journal file at `path`, synced, swapped in for the
/// old one (a crash leaves one or the other whole); returns it open for
/// appending.
/// Rewrites the file at `path` to what `kept` says, then `tail` (lines
/// appended since `kept` was taken); returns it open for appending.
fn compact(path: &Path, kept: &Kept<'_>, tail: &[String]) -> std::io::Result<File> {
    let copy = write_compacted(path, kept)?;
    swap_compacted(path, copy, tail)
}

/// Adds `tail` to `copy` (written by [`write_compacted`] beside `path`),
/// syncs it and puts it in place of the file at `path`; returns it, open at
/// its end, to append to.
fn swap_compacted(path: &Path, copy: File, tail: &[String]) -> std::io::Result<File> {
    let mut out = std::io::BufWriter::new(copy);
    for text in tail {
        writeln!(out, "{text}")?;
    }
    let file = out.into_inner()?;
    file.sync_all()?;
    std::fs::rename(path.with_extension("jsonl.tmp"), path)?;
    // Appended to from where the copy ends: nothing can fail after the
    // rename and leave appends going to the old file, gone from view.
    Ok(file)
}

/// Writes what `kept` says to a copy beside `path`, synced; returns it open.
fn write_compacted(path: &Path, kept: &Kept<'_>) -> std::io::Result<File> {
    let Kept {
        done,
        replies,
        retractions,
        tries,
        edits,
        open,
    } = *kept;
    let tmp = path.with_extension("jsonl.tmp");
    let reply_of: HashMap<&str, &Reply> = replies.iter().map(|(q, r)| (q.as_str(), r)).collect();
    let newest: std::collections::HashSet<&str> = done.iter().map(String::as_str).collect();
    // Oldest first, so the next start sees the same order.
    let older = replies
        .iter()
        .map(|(q, _)| q)
        .filter(|q| !newest.contains(q.as_str()));
    {
        let mut out = std::io::BufWriter::new(crate::files::open_private(&tmp, true)?);
        let mut written = std::collections::HashSet::new();
        for id in older.chain(done).filter(|id| written.insert(id.as_str())) {
            let reply = reply_of.get(id.as_str()).map(|r| (*r).clone());
            let done = id.clone();
            writeln!(out, "{}", line(&Line::Done { done, reply }))?;
        }
        for (edited, room, edit) in edits {
            let (edited, room, edit) = (edited.clone(), room.clone(), edit.clone());
            writeln!(out, "{}", line(&Line::Edited { edited, room, edit }))?;
        }
        for (question, room, event) in retractions.iter() {
            let deleted = Line::Deleted {
                deleted: question.clone(),
                room: room.clone(),
                retract: vec![event.clone()],
            };
            writeln!(out, "{}", line(&deleted))?;
            if let Some(&times) = tries.get(event) {
                let tried = event.clone();
                writeln!(out, "{}", line(&Line::Tried { tried, times }))?;
            }
        }
        for (q, o) in open {
            writeln!(
                out,
                "{}",
                line(&Line::Open {
                    q: q.clone(),
                    open: o.clone()
                })
            )?;
        }
        let file = out.into_inner()?;
        file.sync_all()?;
        Ok(file)
    }
}

fn line(l: &Line) -> String {
    serde_json::to_string(l).expect("journal lines serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(room: &str) -> Open {
        Open {
            room: room.into(),
            event: serde_json::json!({"event_id": "$x", "type": "m.room.message"}),
            encrypted: false,
        }
    }

    #[test]
    fn open_questions_survive_a_restart_and_done_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let (j, pending) = Journal::open(dir.path()).unwrap();
        assert!(pending.is_empty());
        assert!(j.take("$a", open("!r")));
        assert!(j.take("$b", open("!r")));
        assert!(j.take("$c", open("!s")));
        j.done("$b");
        // A line cut short by a crash mid-write.
        drop(j);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap();
        f.write_all(b"{\"q\":\"$d\",\"op").unwrap();
        drop(f);
        let (j, pending) = Journal::open(dir.path()).unwrap();
        let ids: Vec<&str> = pending.iter().map(|(q, _)| q.as_str()).collect();
        assert_eq!(ids, ["$a", "$c"]);
        assert_eq!(pending[1].1, open("!s"));
        // Answered before the restart, or open already: not taken on again.
        assert!(!j.take("$b", open("!r")));
        assert!(!j.take("$a", open("!r")));
        assert!(j.is_done("$b"));
        j.done("$a");
        j.done("$c");
        assert_eq!(j.open_count(), 0);
        drop(j);
        let (_, pending) = Journal::open(dir.path()).unwrap();
        assert!(pending.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn replies_to_answered_questions_survive_restarts_and_compactions() {
        let dir = tempfile::tempdir().unwrap();
        let reply = |i: usize| Reply {
            room: "!r:x".into(),
            event: format!("$reply{i}"),
            asker: "@a:x".into(),
        };
        // A journal written before replies were kept still reads.
        std::fs::write(dir.path().join(FILE), "{\"done\":\"$old\"}\n").unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert!(j.is_done("$old") && j.replies().is_empty());
        assert!(j.take("$q0", open("!r:x")));
        j.answered("$q0", reply(0));
        j.done("$given-up");
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(j.replies(), [("$q0".to_string(), reply(0))]);
        assert!(j.is_done("$q0") && !j.take("$q0", open("!r:x")));
        // Many more answered than done lines are kept, and compacted often:
        // the latest replies are all kept, oldest first, the oldest forgotten.
        let big = Open {
            room: "!r:x".into(),
            event: serde_json::json!({"body": "x".repeat(30_000)}),
            encrypted: false,
        };
        let n = KEEP_REPLIES + 500;
        for i in 1..=n {
            let id = format!("$q{i}");
            assert!(j.take(
                &id,
                if i % 20 == 0 {
                    big.clone()
                } else {
                    open("!r:x")
                }
            ));
            j.answered(&id, reply(i));
        }
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        let kept = j.replies();
        assert_eq!(kept.len(), KEEP_REPLIES);
        assert_eq!(
            kept[0],
            (
                format!("$q{}", n - KEEP_REPLIES + 1),
                reply(n - KEEP_REPLIES + 1)
            )
        );
        assert_eq!(kept.last().unwrap(), &(format!("$q{n}"), reply(n)));
        // Some 16 MB were appended: compacted on the way.
        let len = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
        assert!(len < COMPACT_AFTER, "{len} bytes");
    }

    #[test]
    fn compacting_now_leaves_only_the_ids_of_questions_answered() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        let asked = |body: &str| Open {
            room: "!r:x".into(),
            event: serde_json::json!({"body": body}),
            encrypted: false,
        };
        assert!(j.take("$deleted", asked("my password is hunter2")));
        assert!(j.take("$open", asked("still being answered")));
        let reply = Reply {
            room: "!r:x".into(),
            event: "$reply".into(),
            asker: "@a:x".into(),
        };
        j.answered("$deleted", reply.clone());
        let text = || std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text().contains("hunter2"));
        j.compact_now();
        assert!(!text().contains("hunter2") && text().contains("still being answered"));
        assert!(j.take("$next", asked("after")), "appends go on");
        drop(j);
        let (j, open) = Journal::open(dir.path()).unwrap();
        assert_eq!(open.len(), 2);
        assert_eq!(j.replies(), [("$deleted".to_string(), reply)]);
    }

    #[test]
    fn what_is_journaled_during_a_compaction_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        let j = std::sync::Arc::new(j);
        // A question every step, each second one answered, while compactions
        // run back to back.
        let writer = {
            let j = j.clone();
            std::thread::spawn(move || {
                for i in 0..3_000 {
                    let id = format!("$q{i}");
                    assert!(j.take(&id, open("!r:x")));
                    if i % 2 == 0 {
                        j.answered(
                            &id,
                            Reply {
                                room: "!r:x".into(),
                                event: format!("$r{i}"),
                                asker: "@a:x".into(),
                            },
                        );
                    }
                }
            })
        };
        let mut compactions = 0;
        while !writer.is_finished() {
            assert!(j.compact_now());
            compactions += 1;
        }
        writer.join().unwrap();
        assert!(compactions > 1, "{compactions}");
        let j = std::sync::Arc::into_inner(j).unwrap();
        drop(j);
        let (j, open) = Journal::open(dir.path()).unwrap();
        let want: Vec<String> = (0..3_000)
            .filter(|i| i % 2 == 1)
            .map(|i| format!("$q{i}"))
            .collect();
        let open: Vec<String> = open.into_iter().map(|(q, _)| q).collect();
        let missing = want.iter().find(|q| !open.contains(q));
        assert!(
            open == want,
            "open: the unanswered, each once, in order; {} of {}, first missing {missing:?}",
            open.len(),
            want.len()
        );
        assert_eq!(j.replies().len(), 1_500);
        assert!(j.is_done("$q2998") && !j.is_done("$q2999"));
    }

    #[test]
    fn a_deleted_question_stays_deleted_until_its_replies_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        let reply = |e: &str| Reply {
            room: "!r:x".into(),
            event: e.into(),
            asker: "@a:x".into(),
        };
        // Answered, then deleted; another deleted while being answered.
        assert!(j.take("$q1", open("!r:x")));
        j.answered("$q1", reply("$r1"));
        assert!(j.take("$q2", open("!r:x")));
        assert!(j.take("$edit-of-q2", open("!r:x")));
        j.edited("$q1", "!r:x", "$edit1");
        j.edited("$q3", "!r:x", "$edit3");
        j.deleted("$q1", "!r:x", vec!["$r1".into(), "$edit1".into()]);
        j.deleted("$q2", "!r:x", Vec::new());
        j.done("$edit-of-q2");
        j.retracted("$edit1");
        // Noted again (as a compaction's snapshot and its tail both can):
        // still one redaction each, now and after a restart.
        j.deleted("$q1", "!r:x", vec!["$r1".into()]);
        let pending = |j: &Journal| {
            j.retractions()
                .into_iter()
                .map(|(_, _, e)| e)
                .collect::<Vec<_>>()
        };
        assert_eq!(pending(&j), ["$r1"]);
        drop(j);
        // After a restart: nothing open, no reply to edit, one redaction left.
        let (j, open) = Journal::open(dir.path()).unwrap();
        assert!(open.is_empty(), "{open:?}");
        assert!(j.replies().is_empty() && j.is_done("$q1") && j.is_done("$q2"));
        assert_eq!(
            j.retractions(),
            [("$q1".into(), "!r:x".into(), "$r1".into())]
        );
        let edit3 = ("$q3".into(), "!r:x".into(), "$edit3".into());
        assert_eq!(
            j.edits(),
            std::slice::from_ref(&edit3),
            "a deleted question's edits go"
        );
        // Through a compaction and a restart still.
        j.compact_now();
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(pending(&j), ["$r1"]);
        assert_eq!(j.edits(), [edit3]);
        // Each start that tries it again is counted, through restarts and
        // compactions.
        assert_eq!(j.tried("$r1"), 1);
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(j.tried("$r1"), 2);
        j.compact_now();
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(j.tried("$r1"), 3);
        j.retracted("$r1");
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert!(j.retractions().is_empty());
    }

    #[test]
    fn a_long_run_of_questions_keeps_the_file_small_and_loses_none() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        // A question near the event size limit, as one user could send all day.
        let big = |room: &str| Open {
            room: room.into(),
            event: serde_json::json!({"type": "m.room.message", "body": "x".repeat(30_000)}),
            encrypted: false,
        };
        assert!(j.take("$waiting", open("!w")));
        let (mut largest, mut last_len, mut compacted) = (0, 0, 0);
        for i in 0..2_000 {
            let id = format!("${i}");
            assert!(j.take(&id, big("!r")));
            let len = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
            if len < last_len {
                // Compacted by this very question's line: it is still open.
                let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
                assert!(text.contains(&format!("\"q\":\"{id}\"")), "{id} lost");
                compacted += 1;
            }
            j.done(&id);
            last_len = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
            largest = largest.max(len).max(last_len);
        }
        assert!(compacted > 0);
        assert!(j.take("$last", open("!r")));
        // 60 MB were appended; the file never held much more than the bound.
        assert!(largest < COMPACT_AFTER + 100_000, "{largest} bytes");
        assert!(j.is_done("$1999") && !j.take("$1999", open("!r")));
        drop(j);
        let (j, pending) = Journal::open(dir.path()).unwrap();
        let ids: Vec<&str> = pending.iter().map(|(q, _)| q.as_str()).collect();
        assert_eq!(
            ids,
            ["$waiting", "$last"],
            "open questions kept, oldest first"
        );
        assert!(
            j.is_done("$1999") && j.is_done("$1000"),
            "the latest answered remembered"
        );
    }
}
