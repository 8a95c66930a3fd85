//! Inbound attachments as files: `{attachments_dir}/{message_id}/{attachment_id}`. The
//! database keeps only their metadata and relative path. Files are written (and synced)
//! before the transaction that records them commits; a message id is derived from the
//! network event's id, so a redelivered event rewrites the same files rather than leaving
//! others behind. Directories no stored message owns (a crash between the files and the
//! commit, a failed removal) are swept by the janitor once they are old enough.

use std::{
    io,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

/// The attachments directory.
#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

/// Is `name` shaped like a message id this service makes (`m` + 16 hex digits)? Only such
/// directories are ever removed by a sweep.
pub fn is_message_id(name: &str) -> bool {
    name.len() == 17
        && name.starts_with('m')
        && name[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Files {
    /// Files under `root` (created on the first write).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The directory of a message's attachments.
    pub fn message_dir(&self, message_id: &str) -> PathBuf {
        self.root.join(message_id)
    }

    /// The relative path recorded for an attachment.
    pub fn relative(message_id: &str, attachment_id: &str) -> String {
        format!("{message_id}/{attachment_id}")
    }

    fn resolve(&self, relative: &str) -> io::Result<PathBuf> {
        let path = Path::new(relative);
        // Only paths this module made: two plain components.
        if path.components().count() != 2
            || !path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not an attachment path: {relative}"),
            ));
        }
        Ok(self.root.join(path))
    }

    /// Writes a message's attachments, each synced to disk, then the directory itself.
    pub async fn write(&self, message_id: &str, parts: Vec<(String, Vec<u8>)>) -> io::Result<()> {
        let dir = self.message_dir(message_id);
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            std::fs::create_dir_all(&dir)?;
            for (attachment_id, data) in parts {
                let mut file = std::fs::File::create(dir.join(attachment_id))?;
                file.write_all(&data)?;
                file.sync_all()?;
            }
            // The directory entries too, so a crash after commit cannot lose the names.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })
        .await
        .map_err(io::Error::other)?
    }

    /// The bytes of an attachment.
    pub async fn read(&self, relative: &str) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.resolve(relative)?).await
    }

    /// Removes one attachment file (already gone is fine).
    pub async fn remove(&self, relative: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.resolve(relative)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes a message's directory with its files (already gone is fine).
    pub async fn remove_message(&self, message_id: &str) -> io::Result<()> {
        if !is_message_id(message_id) {
            return Ok(());
        }
        match tokio::fs::remove_dir_all(self.message_dir(message_id)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes the directories of messages, logging (not failing on) what could not go: the
    /// rows are already deleted, and the sweep retries later.
    pub async fn remove_messages(&self, ids: &[String]) {
        for id in ids {
            if let Err(e) = self.remove_message(id).await {
                tracing::warn!(error = %e, message = %id, "attachment files not removed; the sweep retries");
            }
        }
    }

    /// Message directories last modified more than `age` ago (candidates for the orphan
    /// sweep; the caller keeps those a stored message owns).
    pub async fn older_than(&self, age: Duration) -> io::Result<Vec<String>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let cutoff = SystemTime::now() - age;
            let entries = match std::fs::read_dir(&root) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let mut old = Vec::new();
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().to_string();
                let modified = entry.metadata().and_then(|m| m.modified());
                if is_message_id(&name) && modified.is_ok_and(|m| m < cutoff) {
                    old.push(name);
                }
            }
            Ok(old)
        })
        .await
        .map_err(io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_written_read_and_removed_under_their_message() {
        let root = std::env::temp_dir().join(parlay_kit::ids::new_id("parlay-msg-files-"));
        let files = Files::new(root.clone());
        let id = "m0123456789abcdef";
        assert!(is_message_id(id));
        assert!(!is_message_id("m0123456789abcdeg"));
        assert!(!is_message_id("../etc"));
        files
            .write(
                id,
                vec![("a1".into(), b"one".to_vec()), ("a2".into(), vec![])],
            )
            .await
            .unwrap();
        assert_eq!(
            files.read(&Files::relative(id, "a1")).await.unwrap(),
            b"one"
        );
        assert!(files.read("../a1").await.is_err());
        assert!(files.read("/etc/passwd").await.is_err());
        files.remove(&Files::relative(id, "a1")).await.unwrap();
        files.remove(&Files::relative(id, "a1")).await.unwrap();
        assert!(files.read(&Files::relative(id, "a1")).await.is_err());
        assert_eq!(files.older_than(Duration::ZERO).await.unwrap().len(), 1);
        assert!(
            files
                .older_than(Duration::from_secs(3600))
                .await
                .unwrap()
                .is_empty()
        );
        files.remove_message(id).await.unwrap();
        assert!(!files.message_dir(id).exists());
        files.remove_message(id).await.unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert!(files.older_than(Duration::ZERO).await.unwrap().is_empty());
    }
}
