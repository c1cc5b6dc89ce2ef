//! File access for report folders, which wsspec did not necessarily write: a folder handed to
//! `wsspec report` or `wsspec diff` may hold symbolic links, FIFOs, devices or huge files where
//! records should be. Reads take regular files only, never through a link, and at most a given
//! number of bytes; writes go to a fresh temporary file created exclusively (`O_EXCL`, so never
//! through a planted link) and renamed over the destination, so a crash never leaves a half-written
//! report and a link at the destination is replaced, not followed.

use std::{
    fs::{self, File},
    io::{self, Read, Write},
    path::Path,
};

/// The largest `index.json` read, in bytes (256 MiB; a run of the whole catalog writes about 100 KiB
/// per agent).
pub const MAX_INDEX_BYTES: u64 = 256 << 20;
/// The largest per-case record read, in bytes (16 MiB; wsspec writes at most a few MiB per case).
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// Reads the regular file at `path`, of at most `max` bytes. A symbolic link (even to a regular
/// file), a FIFO, a device or a folder is refused with an error of kind `InvalidData` whose message
/// says what was found; so is a file over `max` bytes, even one that grows while being read.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let refused = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let link = fs::symlink_metadata(path)?;
    if link.file_type().is_symlink() {
        return Err(refused("a symbolic link, not a regular file (report files are never read through links)".into()));
    }
    let file = open_no_follow(path).map_err(|e| if e.raw_os_error() == Some(libc_eloop()) { refused("a symbolic link".into()) } else { e })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused("not a regular file (a FIFO, a device or a folder)".into()));
    }
    if meta.len() > max {
        return Err(refused(format!("{} bytes, over the {max} bytes read from a report file", meta.len())));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(refused(format!("grew past the {max} bytes read from a report file")));
    }
    Ok(data)
}

/// Whether `error` is one of `read_regular`'s refusals (as opposed to a missing or unreadable file).
pub fn is_refusal(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::InvalidData
}

/// Replaces `path` with `data`: written to a new temporary file in the same folder (created
/// exclusively, with an unpredictable name), then renamed over `path`. A link at `path` is replaced
/// by the file, never written through. The file gets the mode any new file gets (0666 less the
/// umask), as CI artifact uploaders and web servers running as another user expect, not the
/// owner-only mode of a temporary file.
pub fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    write_atomically_open(path, data).map(drop)
}

/// [`write_atomically`], returning the written file still open (a writer short of descriptors keeps
/// the slot it took).
pub fn write_atomically_open(path: &Path, data: &[u8]) -> io::Result<File> {
    write_with_mode(path, data, 0o666, true)
}

/// Writes a new file at `path` as [`write_atomically`] does (a temporary file renamed into place,
/// never written through a link), with the permission bits `mode` less the umask: 0o600 for a
/// private key. Unless `replace`, an existing file (or link) at `path` is left alone and the error
/// is of kind `AlreadyExists`, even when it appears while the data is written.
pub fn write_new(path: &Path, data: &[u8], mode: u32, replace: bool) -> io::Result<()> {
    write_with_mode(path, data, mode, replace).map(drop)
}

fn write_with_mode(path: &Path, data: &[u8], mode: u32, replace: bool) -> io::Result<File> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // The mode `open` gives a new file; the kernel takes the umask off (tempfile's own is 0600).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(data)?;
    if replace {
        tmp.persist(path).map_err(|e| e.error)
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)
    }
}

/// Whether `name` can be a file of a report folder as written in `index.json`'s `reportfile`: one
/// plain component of `[A-Za-z0-9_.-]`, not starting with a dot, so it never leaves the folder.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn libc_eloop() -> i32 {
    libc::ELOOP
}

#[cfg(not(unix))]
fn libc_eloop() -> i32 {
    -1
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn links_fifos_devices_and_big_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let regular = dir.path().join("a.json");
        fs::write(&regular, "{}").unwrap();
        assert_eq!(read_regular(&regular, 10).unwrap(), b"{}");

        let link = dir.path().join("link.json");
        symlink(&regular, &link).unwrap();
        let fifo = dir.path().join("fifo.json");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        for (path, what) in [
            (link.as_path(), "a symbolic link"),
            (fifo.as_path(), "not a regular file"),
            (Path::new("/dev/zero"), "not a regular file"),
            (dir.path(), "not a regular file"),
        ] {
            let error = read_regular(path, 10).unwrap_err();
            assert!(is_refusal(&error) && error.to_string().starts_with(what), "{}: {error}", path.display());
        }
        let error = read_regular(&regular, 1).unwrap_err();
        assert!(is_refusal(&error) && error.to_string().contains("2 bytes, over the 1 bytes"), "{error}");
        assert!(!is_refusal(&read_regular(&dir.path().join("none"), 10).unwrap_err()));
    }

    #[test]
    fn writes_replace_links_instead_of_following_them() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("index.json");
        symlink(&victim, &path).unwrap();
        // A link planted at every name the old writer would have used as its temporary file.
        symlink(&victim, dir.path().join(format!("index.json.{}-0.tmp", std::process::id()))).unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        assert!(!fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
    }

    #[test]
    fn written_files_get_the_mode_of_any_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        write_atomically(&path, b"{}").unwrap();
        // Whatever the umask, others get what it lets through, as with any new file; never 0600.
        let umask = unsafe { libc::umask(0o022) };
        unsafe { libc::umask(umask) };
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o666 & !u32::from(umask));
    }

    #[test]
    fn new_files_keep_their_mode_and_never_replace_unless_asked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        write_new(&key, b"secret", 0o600, false).unwrap();
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let error = write_new(&key, b"other", 0o600, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&key).unwrap(), b"secret");
        write_new(&key, b"other", 0o600, true).unwrap();
        assert_eq!(fs::read(&key).unwrap(), b"other");
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn report_file_names_stay_in_the_folder() {
        assert!(is_plain_file_name("tungstenite_case_1_1_1.json"));
        for bad in ["", "../x.json", "a/b.json", ".hidden", "/etc/passwd", "a\\b", "ä.json"] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
    }
}
