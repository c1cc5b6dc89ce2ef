//! Whether a report folder is being written right now: every [`Sink`](super::Sink) holds a shared
//! `flock` on the folder itself for its lifetime (runs sharing a folder each hold it shared), so a
//! reader can tell a run still going from one that was killed (the kernel releases the lock of a
//! process however it ends). The folder, not `.wsspec.lock`: that file's exclusive lock serializes
//! writes, and one process cannot hold it shared and take it exclusive through another descriptor.

use std::{fs::File, path::Path};

/// Opens `dir` and takes a shared `flock` on it, held as long as the file is open.
pub(super) fn hold_live_lock(dir: &Path) -> Option<File> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let folder = File::open(dir).ok()?;
        // SAFETY: flock on a descriptor this File owns; no memory is involved.
        (unsafe { libc::flock(folder.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0).then_some(folder)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Whether a wsspec process is writing to the report folder `dir` right now: some [`Sink`](super::Sink) holds its
/// shared lock on the folder (released when that process ends, however it ends). A run recorded as
/// running in a folder nobody holds was killed or crashed. False where locks are unavailable. In the
/// process that holds a sink on `dir`, always true.
pub fn folder_in_use(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let Ok(folder) = File::open(dir) else { return false };
        // SAFETY: as in `hold_live_lock`; the lock, if taken, goes with the descriptor.
        let taken = unsafe { libc::flock(folder.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        !taken && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

