//! Who may do what: which invites are accepted (globs over user IDs from
//! `access.allowed_inviters`) and who is an admin (`access.admins`).

use globset::GlobSet;

use crate::config::AccessConfig;

/// Compiled access rules.
#[derive(Debug, Clone)]
pub struct Access {
    inviters: GlobSet,
    admins: Vec<String>,
}

impl Access {
    /// Compiles the globs; a bad one names its key.
    pub fn new(cfg: &AccessConfig) -> anyhow::Result<Access> {
        Ok(Access {
            inviters: cfg.inviters()?,
            admins: cfg.admins.clone(),
        })
    }

    /// Whether an invite from `user_id` is accepted.
    pub fn may_invite(&self, user_id: &str) -> bool {
        self.inviters.is_match(user_id)
    }

    /// Whether `user_id` may run admin commands.
    pub fn is_admin(&self, user_id: &str) -> bool {
        self.admins.iter().any(|a| a == user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_globs() {
        let access = Access::new(&AccessConfig {
            allowed_inviters: vec!["@*:example.org".into(), "@alice:other.net".into()],
            admins: vec!["@root:example.org".into()],
            admin_room: String::new(),
            ..Default::default()
        })
        .unwrap();
        for (user, ok) in [
            ("@bob:example.org", true),
            ("@alice:other.net", true),
            ("@mallory:other.net", false),
            ("@bob:example.org.evil", false),
            ("@bob:evil.example.org", false),
        ] {
            assert_eq!(access.may_invite(user), ok, "{user}");
        }
        assert!(access.is_admin("@root:example.org"));
        assert!(!access.is_admin("@bob:example.org"));
    }

    #[test]
    fn no_globs_rejects_everyone() {
        let access = Access::new(&AccessConfig::default()).unwrap();
        assert!(!access.may_invite("@a:b"));
    }
}
