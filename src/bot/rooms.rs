//! Which `[rooms]` entry applies to a room, and which knowledge collections the
//! room sees: its scope, the one place every read path (answers, `!why`,
//! `!sources`, `!stats`, `!status`, `!reload`, `!gaps`, admin-room posts) takes
//! it from. Entries are keyed by room ID or alias; an alias's entry applies to
//! the room the homeserver resolves it to, never to a room that only names the
//! alias in its own state (any room, on any server, can claim any alias there).
//! An alias that can't be resolved at start is retried in the background;
//! meanwhile a room whose state claims it sees nothing, and a room without an
//! entry gets `access.default_collections`. An
//! upgraded room keeps its predecessor's entry when the predecessor's tombstone
//! names it (a room's creator can claim any predecessor; only the old room's
//! admins can tombstone it).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use matrix_sdk::ruma::{OwnedRoomId, RoomAliasId};
use matrix_sdk::{Client, Room};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{Config, RoomConfig};

/// How many upgrades back a room's `[rooms]` entry is looked for: more than
/// any room is upgraded, few enough that a chain of rooms each claiming the
/// one before costs little.
const MAX_UPGRADES: usize = 16;

/// The `[rooms]` entries by room ID, aliases resolved.
pub(crate) struct Rooms {
    by_id: RwLock<HashMap<OwnedRoomId, RoomConfig>>,
    /// Entries keyed by an alias, for when the alias resolves.
    by_alias: HashMap<String, RoomConfig>,
    /// Aliases still to resolve.
    unresolved: RwLock<Vec<String>>,
    /// What a room without an entry (or an entry without `collections`) sees.
    default: Option<Vec<String>>,
    /// How often `unresolved` is tried again.
    retry: Duration,
}

impl Rooms {
    /// Resolves the aliases among the `[rooms]` keys.
    pub async fn resolve(client: &Client, config: &Config) -> Rooms {
        let mut by_id = HashMap::new();
        let mut by_alias = HashMap::new();
        let mut unresolved = Vec::new();
        for (key, rc) in &config.rooms {
            if key.starts_with('!') {
                match OwnedRoomId::try_from(key.as_str()) {
                    Ok(id) => {
                        by_id.insert(id, rc.clone());
                    }
                    Err(err) => {
                        warn!(room = %key, error = %err, "[rooms] key is not a valid room ID")
                    }
                }
                continue;
            }
            by_alias.insert(key.clone(), rc.clone());
            match resolve_alias(client, key).await {
                Some(id) => {
                    info!(alias = %key, room = %id, "[rooms] alias resolved");
                    by_id.entry(id).or_insert_with(|| rc.clone());
                }
                None => unresolved.push(key.clone()),
            }
        }
        Rooms {
            by_id: RwLock::new(by_id),
            by_alias,
            unresolved: RwLock::new(unresolved),
            default: config.access.default_collections.scope(),
            retry: Duration::from_secs(config.access.alias_retry_secs),
        }
    }

    /// Tries the aliases that didn't resolve again (`access.alias_retry_secs`), until all
    /// have or `shutdown` is cancelled.
    pub async fn keep_resolving(&self, client: &Client, shutdown: &CancellationToken) {
        loop {
            let pending = self
                .unresolved
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if pending.is_empty() {
                return;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.retry) => {}
            }
            for alias in pending {
                let Some(id) = resolve_alias(client, &alias).await else {
                    continue;
                };
                info!(%alias, room = %id, "[rooms] alias resolved on retry");
                if let Some(rc) = self.by_alias.get(&alias) {
                    self.by_id
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(id)
                        .or_insert_with(|| rc.clone());
                }
                self.unresolved
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|a| *a != alias);
            }
        }
    }

    /// The `[rooms]` entry for `room`, if any: its own, else that of the room
    /// it was upgraded from (at most [`MAX_UPGRADES`] upgrades back).
    pub fn get(&self, room: &Room) -> Option<RoomConfig> {
        let claimed: Vec<String> = (room.canonical_alias().into_iter())
            .chain(room.alt_aliases())
            .map(|a| a.to_string())
            .collect();
        if let Some(rc) = self.entry(room.room_id(), &claimed) {
            return Some(rc);
        }
        // An upgraded room, perhaps more than once: each old room must name
        // the next as its successor, back to the one the entry is for.
        let client = room.client();
        let mut current = room.clone();
        for _ in 0..MAX_UPGRADES {
            let old = current.predecessor_room()?.room_id;
            let previous = client.get_room(&old)?;
            if previous.successor_room()?.room_id != current.room_id() {
                return None;
            }
            if let Some(rc) = self
                .by_id
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&old)
            {
                return Some(rc.clone());
            }
            current = previous;
        }
        None
    }

    /// The entry for the room `id`, whose own state names the aliases
    /// `claimed`: its entry by ID (an alias's entry is filed under the room
    /// the alias resolved to). A room's state is no proof that an alias is
    /// its: while an entry's alias is unresolved, a room claiming it sees
    /// nothing rather than what the entry (or the default) shows.
    fn entry(&self, id: &matrix_sdk::ruma::RoomId, claimed: &[String]) -> Option<RoomConfig> {
        let by_id = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        if let Some(rc) = by_id.get(id) {
            return Some(rc.clone());
        }
        let unresolved = self.unresolved.read().unwrap_or_else(|e| e.into_inner());
        claimed
            .iter()
            .any(|a| unresolved.contains(a))
            .then(|| RoomConfig {
                answer_questions: false,
                collections: Some(Vec::new()),
            })
    }

    /// The collections `room` sees (`None`: all): its entry's, else
    /// `access.default_collections`.
    pub fn collections(&self, room: &Room) -> Option<Vec<String>> {
        match self.get(room) {
            Some(RoomConfig {
                collections: Some(c),
                ..
            }) => Some(c),
            _ => self.default.clone(),
        }
    }

    /// The collections the room `id` sees when the client does not know the
    /// room yet (before the first sync): its entry's by ID, else nothing while
    /// an alias entry is unresolved (it may be this room's), else the default.
    pub fn collections_of_id(&self, id: &matrix_sdk::ruma::RoomId) -> Option<Vec<String>> {
        let by_id = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        match by_id.get(id) {
            Some(rc) => rc.collections.clone().or_else(|| self.default.clone()),
            None if !self
                .unresolved
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty() =>
            {
                Some(Vec::new())
            }
            None => self.default.clone(),
        }
    }

    /// Whether `room` answers every message ending in `?`.
    pub fn answers_questions(&self, room: &Room) -> bool {
        self.get(room).is_some_and(|r| r.answer_questions)
    }
}

/// The room an alias (`#x:server`) or ID (`!x:server`) names; `None` (logged)
/// when it can't be resolved.
pub(crate) async fn resolve_alias(client: &Client, key: &str) -> Option<OwnedRoomId> {
    if key.starts_with('!') {
        return OwnedRoomId::try_from(key).ok();
    }
    let alias = match <&RoomAliasId>::try_from(key) {
        Ok(a) => a,
        Err(err) => {
            warn!(alias = %key, error = %err, "not a valid room alias");
            return None;
        }
    };
    match client.resolve_room_alias(alias).await {
        Ok(response) => Some(response.room_id),
        Err(err) => {
            warn!(alias = %key, error = %err, "cannot resolve the room alias");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::RoomId;

    /// A room, the aliases its own state names, the collections it sees.
    type Case<'a> = (&'a RoomId, Vec<String>, Option<Vec<String>>);

    fn entry(collections: &[&str]) -> RoomConfig {
        RoomConfig {
            answer_questions: true,
            collections: Some(collections.iter().map(|c| c.to_string()).collect()),
        }
    }

    #[test]
    fn a_room_gets_an_alias_entry_only_where_the_alias_resolves() {
        let team_b = <&RoomId>::try_from("!teamb:example.org").unwrap();
        let rooms = Rooms {
            // `#team-b` resolved to its room; `#later` did not resolve yet.
            by_id: RwLock::new(HashMap::from([(team_b.to_owned(), entry(&["b"]))])),
            by_alias: HashMap::from([
                ("#team-b:example.org".to_string(), entry(&["b"])),
                ("#later:example.org".to_string(), entry(&["c"])),
            ]),
            unresolved: RwLock::new(vec!["#later:example.org".to_string()]),
            default: Some(vec!["public".to_string()]),
            retry: Duration::from_secs(60),
        };
        let other = <&RoomId>::try_from("!elsewhere:evil.example").unwrap();
        let claim =
            |aliases: &[&str]| -> Vec<String> { aliases.iter().map(|a| a.to_string()).collect() };
        let nothing = Some(Vec::<String>::new());
        // (room, the aliases its own state names, the collections it sees)
        let table: &[Case] = &[
            (team_b, claim(&[]), Some(vec!["b".into()])),
            // Another server's room naming the alias in its state: no entry.
            (other, claim(&["#team-b:example.org"]), None),
            // Claiming an alias not yet resolved: nothing until it is.
            (other, claim(&["#later:example.org"]), nothing.clone()),
            (other, claim(&[]), None),
        ];
        for (id, claimed, want) in table {
            let got = rooms
                .entry(id, claimed)
                .map(|rc| rc.collections.unwrap_or_default());
            assert_eq!(&got, want, "{id} claiming {claimed:?}");
        }
        // The admin room before the first sync: by its ID, else nothing while
        // an alias is unresolved.
        assert_eq!(rooms.collections_of_id(team_b), Some(vec!["b".to_string()]));
        assert_eq!(rooms.collections_of_id(other), nothing);
        rooms.unresolved.write().unwrap().clear();
        assert_eq!(
            rooms.collections_of_id(other),
            Some(vec!["public".to_string()])
        );
    }
}
