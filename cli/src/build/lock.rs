//! One writer per atlas folder: `build` and `merge` hold `.build.lock` (the holder's process
//! id and host inside) while they write, so a second build into the same folder refuses with a
//! clear error instead of removing the first one's temporary folders. A lock left by a process
//! that is gone (a killed build) is taken over, with a message.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The lock's file name in an atlas folder (a dot-file: never an atlas path).
pub const LOCK_FILE: &str = ".build.lock";

/// A held lock; released (the file removed) when dropped.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
    holder: Holder,
}

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    pid: u32,
    host: String,
}

impl Holder {
    fn me() -> Self {
        Self { pid: std::process::id(), host: host_name() }
    }

    fn text(&self) -> String {
        format!("{}\n{}\n", self.pid, self.host)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        let host = lines.next().unwrap_or_default().trim().to_owned();
        Some(Self { pid, host })
    }

    /// Whether the holder is known to be gone: a process of this host that no longer runs.
    fn is_gone(&self) -> bool {
        self.host == host_name() && !process_runs(self.pid)
    }
}

impl FolderLock {
    /// Takes the lock of the atlas folder `root` (created if needed) for `what` (`build`,
    /// `merge`), or fails naming the process that holds it.
    pub fn acquire(root: &Path, what: &str) -> Result<Self> {
        fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        let path = root.join(LOCK_FILE);
        let me = Holder::me();
        // Twice at most: once more after taking over a stale lock (another process may have
        // taken it over first, and then holds it).
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(me.text().as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    return Ok(Self { path, holder: me });
                }
                Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(error).with_context(|| format!("cannot create {}", path.display()));
                }
            }
            let text = fs::read_to_string(&path).unwrap_or_default();
            match Holder::parse(&text) {
                Some(holder) if holder.is_gone() => {
                    eprintln!(
                        "{}: taking over the lock of process {}, which is no longer running",
                        root.display(),
                        holder.pid
                    );
                    fs::remove_file(&path)
                        .or_else(|e| if e.kind() == ErrorKind::NotFound { Ok(()) } else { Err(e) })
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                }
                Some(holder) => bail!(
                    "{} is locked by another build or merge (process {} on {}); wait for it to \
                     finish before running {what} into the same folder (if that process is gone, \
                     remove {})",
                    root.display(),
                    holder.pid,
                    if holder.host.is_empty() { "an unknown host" } else { &holder.host },
                    path.display()
                ),
                None => bail!(
                    "{} holds a lock file that cannot be read; if no build or merge is running \
                     into it, remove {}",
                    root.display(),
                    path.display()
                ),
            }
        }
        bail!("{}: another process took the lock first", root.display())
    }
}

/// The process that holds the lock of `root`, if one that may still run does: a folder to
/// read only after it finishes (`merge` checks its shards).
pub fn live_holder(root: &Path) -> Option<u32> {
    let text = fs::read_to_string(root.join(LOCK_FILE)).ok()?;
    let holder = Holder::parse(&text)?;
    (!holder.is_gone()).then_some(holder.pid)
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Only our own lock: never one another process has since taken over.
        let ours = fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| Holder::parse(&text))
            .is_some_and(|holder| holder == self.holder);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// This machine's name (empty where it cannot be read).
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Whether process `pid` runs on this machine. Where that cannot be told (no `/proc`), it is
/// assumed to run: a lock is never taken from a live build.
fn process_runs(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    match fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        // A zombie (state Z) has exited; only its parent has not reaped it yet.
        Ok(stat) => !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("microscope-lock-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_held_lock_refuses_a_second_holder_and_is_released_on_drop() {
        let root = scratch("held");
        let lock = FolderLock::acquire(&root, "build").unwrap();
        let text = fs::read_to_string(root.join(LOCK_FILE)).unwrap();
        assert!(text.starts_with(&format!("{}\n", std::process::id())), "{text}");
        let error = FolderLock::acquire(&root, "merge").unwrap_err().to_string();
        assert!(error.contains("locked by another build") && error.contains("merge"), "{error}");
        drop(lock);
        assert!(!root.join(LOCK_FILE).exists());
        let again = FolderLock::acquire(&root, "build").unwrap();
        drop(again);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_lock_of_a_dead_process_is_taken_over_and_garbage_is_refused() {
        let root = scratch("stale");
        fs::create_dir_all(&root).unwrap();
        // A process that has exited and been reaped: its pid runs nothing (until reused,
        // which the kernel avoids for a long while).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        fs::write(root.join(LOCK_FILE), format!("{dead}\n{}\n", host_name())).unwrap();
        let lock = FolderLock::acquire(&root, "build").unwrap();
        assert_eq!(lock.holder, Holder::me());
        drop(lock);
        // A lock of another host is never taken over: its process cannot be checked.
        fs::write(root.join(LOCK_FILE), format!("{dead}\nsome-other-host\n")).unwrap();
        let error = FolderLock::acquire(&root, "build").unwrap_err().to_string();
        assert!(error.contains("some-other-host"), "{error}");
        fs::write(root.join(LOCK_FILE), "not a pid").unwrap();
        let error = FolderLock::acquire(&root, "build").unwrap_err().to_string();
        assert!(error.contains("cannot be read"), "{error}");
        fs::remove_dir_all(root).unwrap();
    }
}
