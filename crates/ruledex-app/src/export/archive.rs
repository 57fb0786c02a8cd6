//! Where an export goes: one file, a directory, or an archive (`.tar.gz`, `.zip`). Nothing is
//! left half-written: files are written beside their destination, under names no one else can
//! have made (created exclusively, never through a link), and renamed into place; an error, or
//! the process being told to stop ([`remove_unfinished`]), removes them. A FIFO or a character
//! device (`/dev/null`, a terminal) is written to as it is; a symbolic link, and anything else
//! that is not a regular file, is never replaced.

use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::Exported;

/// How an export is packed, from the destination's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// The export's one file, as it is.
    File,
    /// A directory holding the files.
    Directory,
    TarGz,
    Zip,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{format} writes {files} files: give --out a directory, or a name ending in .tar.gz or .zip")]
    SeveralFiles { format: String, files: usize },
    #[error("{0} already exists; remove it or choose another --out")]
    Exists(PathBuf),
    #[error("{0} is a symbolic link, which ruledex never replaces or writes through; give the path it points to")]
    Link(PathBuf),
    #[error("{path} is {what}, not a file ruledex replaces; choose another --out")]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("{0} is a FIFO or a device, which cannot hold a directory; give a name ending in .tar.gz or .zip")]
    StreamForDirectory(PathBuf),
    #[error("cannot write {path}: there is no folder {folder}; create it, or choose another --out")]
    MissingFolder { path: PathBuf, folder: PathBuf },
    /// The error is said in the message, not kept as a source too: an error's chain would say
    /// it twice.
    #[error("cannot write {path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
}

/// What writing an export did to its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Nothing was there.
    Created,
    /// A regular file was there, and the export replaced it.
    Replaced,
    /// A FIFO or a character device was there, and the export was written to it.
    Streamed,
}

impl Packing {
    /// `.tar.gz`/`.tgz` and `.zip` are archives; otherwise one file for a single-file export and
    /// a directory for the others.
    pub fn for_destination(path: &Path, exported: &Exported) -> Packing {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Packing::TarGz
        } else if name.ends_with(".zip") {
            Packing::Zip
        } else if exported.format.multi_file() {
            Packing::Directory
        } else {
            Packing::File
        }
    }
}

/// Writes the export to `path`, packed as its name says, and says what was there before. A FIFO
/// or a device takes the export's one file, whatever the format.
pub fn write(exported: &Exported, path: &Path) -> Result<Written, ArchiveError> {
    let destination = destination(path)?;
    // Everything is written beside its destination first, so its folder must be there.
    let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = folder.filter(|folder| !folder.is_dir()) {
        return Err(ArchiveError::MissingFolder { path: path.to_path_buf(), folder: folder.to_path_buf() });
    }
    let bytes = match Packing::for_destination(path, exported) {
        Packing::File => only_file(exported)?.bytes.clone(),
        Packing::Directory if matches!(destination, Destination::Stream) => match only_file(exported) {
            Ok(file) => file.bytes.clone(),
            Err(_) => return Err(ArchiveError::StreamForDirectory(path.to_path_buf())),
        },
        Packing::Directory => return write_directory(exported, path, destination).map(|()| Written::Created),
        Packing::TarGz => tar_gz(exported).map_err(io(path))?,
        Packing::Zip => zip(exported).map_err(io(path))?,
    };
    match destination {
        Destination::Missing => write_atomically(path, &bytes, false).map(|()| Written::Created),
        Destination::Regular => write_atomically(path, &bytes, true).map(|()| Written::Replaced),
        Destination::Stream => stream(path, &bytes).map(|()| Written::Streamed),
        Destination::Directory => Err(ArchiveError::NotAFile { path: path.to_path_buf(), what: "a directory" }),
    }
}

/// The export's only file, or an error when it has several.
pub fn only_file(exported: &Exported) -> Result<&ruledex_core::export::ExportFile, ArchiveError> {
    match exported.files.as_slice() {
        [file] => Ok(file),
        files => Err(ArchiveError::SeveralFiles { format: exported.format.to_string(), files: files.len() }),
    }
}

/// The files in a gzipped tar archive, paths as the export names them.
pub fn tar_gz(exported: &Exported) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for file in &exported.files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        archive.append_data(&mut header, &file.path, file.bytes.as_slice())?;
    }
    archive.into_inner()?.finish()
}

/// The files in a zip archive, paths as the export names them.
pub fn zip(exported: &Exported) -> std::io::Result<Vec<u8>> {
    let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for file in &exported.files {
        archive.start_file(file.path.as_str(), options).map_err(std::io::Error::other)?;
        archive.write_all(&file.bytes)?;
    }
    Ok(archive.finish().map_err(std::io::Error::other)?.into_inner())
}

/// What is at an export's destination.
enum Destination {
    Missing,
    Regular,
    Directory,
    /// A FIFO or a character device, itself or behind a link.
    Stream,
}

/// Looks at `path` without following a link, then at what a link points to: only a FIFO or a
/// device is written through one (`/dev/stdout` is a link).
fn destination(path: &Path) -> Result<Destination, ArchiveError> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Destination::Missing),
        Err(e) => return Err(io(path)(e)),
    };
    let file_type = metadata.file_type();
    if file_type.is_symlink() {
        return match fs::metadata(path) {
            Ok(target) if is_stream(&target.file_type()) => Ok(Destination::Stream),
            _ => Err(ArchiveError::Link(path.to_path_buf())),
        };
    }
    if file_type.is_file() {
        Ok(Destination::Regular)
    } else if file_type.is_dir() {
        Ok(Destination::Directory)
    } else if is_stream(&file_type) {
        Ok(Destination::Stream)
    } else {
        Err(ArchiveError::NotAFile { path: path.to_path_buf(), what: special_kind(&file_type) })
    }
}

fn is_stream(file_type: &fs::FileType) -> bool {
    file_type.is_fifo() || file_type.is_char_device()
}

fn special_kind(file_type: &fs::FileType) -> &'static str {
    if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "neither a regular file nor a directory"
    }
}

/// Writes to a FIFO or a device as it is: opened for writing, never created or truncated.
fn stream(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    let mut file = fs::OpenOptions::new().write(true).open(path).map_err(io(path))?;
    file.write_all(bytes).and_then(|()| file.flush()).map_err(io(path))
}

/// Writes a new file beside `path` and renames it into place: over the regular file there when
/// `replace`, and only if nothing is there otherwise.
fn write_atomically(path: &Path, bytes: &[u8], replace: bool) -> Result<(), ArchiveError> {
    let (mut temp, listed) = Unfinished::file(path).map_err(io(path))?;
    temp.write_all(bytes).map_err(io(path))?;
    let persisted = if replace { temp.persist(path) } else { temp.persist_noclobber(path) };
    drop(listed);
    persisted.map(drop).map_err(|e| io(path)(e.error))
}

/// Writes every file into a new directory beside `path`, then renames it into place.
fn write_directory(exported: &Exported, path: &Path, destination: Destination) -> Result<(), ArchiveError> {
    match destination {
        Destination::Missing => {}
        Destination::Stream => return Err(ArchiveError::StreamForDirectory(path.to_path_buf())),
        Destination::Regular | Destination::Directory => return Err(ArchiveError::Exists(path.to_path_buf())),
    }
    let (temp, listed) = Unfinished::directory(path).map_err(io(path))?;
    exported.files.iter().try_for_each(|file| write_inside(temp.path(), &file.path, &file.bytes)).map_err(io(path))?;
    // From here the folder is renamed into place, or removed by hand when that fails.
    let kept = temp.keep();
    let renamed = fs::rename(&kept, path);
    if renamed.is_err() {
        let _ = fs::remove_dir_all(&kept);
    }
    drop(listed);
    renamed.map_err(io(path))
}

/// Writes `bytes` at the relative `file` inside `root`, creating the folders between. Folders are
/// created one level at a time, never `root` itself: once [`remove_unfinished`] has removed it,
/// nothing is written any more.
fn write_inside(root: &Path, file: &str, bytes: &[u8]) -> std::io::Result<()> {
    if STOPPING.load(Ordering::SeqCst) {
        return Err(std::io::Error::other("the export was interrupted"));
    }
    let target = root.join(file);
    let folders: Vec<&Path> = target.ancestors().skip(1).take_while(|a| *a != root).collect();
    for folder in folders.into_iter().rev() {
        match fs::create_dir(folder) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    fs::File::create_new(target)?.write_all(bytes)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ArchiveError + '_ {
    move |error| ArchiveError::Io { path: path.to_path_buf(), error }
}

/// Temporary files and folders of the exports being written, for [`remove_unfinished`].
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn unfinished() -> MutexGuard<'static, Vec<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Set once the process is stopping: exports write nothing more.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Removes what the exports being written left beside their destinations, and stops them from
/// writing more: for a process told to stop (SIGINT, SIGTERM), which exits without running
/// destructors. An export writing at that moment may add a file while its folder is removed, so
/// removing is tried again until nothing listed is left (for a second at most).
pub fn remove_unfinished() {
    STOPPING.store(true, Ordering::SeqCst);
    for _ in 0..100 {
        let listed = unfinished().clone();
        let left: Vec<&PathBuf> = listed.iter().filter(|path| fs::symlink_metadata(path).is_ok()).collect();
        if left.is_empty() {
            return;
        }
        for path in left {
            let _ = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A temporary file or folder beside an export's destination, listed for [`remove_unfinished`]
/// while it lives.
struct Unfinished(PathBuf);

impl Unfinished {
    fn file(path: &Path) -> std::io::Result<(tempfile::NamedTempFile, Unfinished)> {
        let (name, folder) = beside(path);
        let file =
            tempfile::Builder::new().prefix(&name).suffix(".partial").permissions(mode(0o666)).tempfile_in(folder)?;
        let listed = Unfinished::list(file.path());
        Ok((file, listed))
    }

    fn directory(path: &Path) -> std::io::Result<(tempfile::TempDir, Unfinished)> {
        let (name, folder) = beside(path);
        let dir =
            tempfile::Builder::new().prefix(&name).suffix(".partial").permissions(mode(0o777)).tempdir_in(folder)?;
        let listed = Unfinished::list(dir.path());
        Ok((dir, listed))
    }

    fn list(path: &Path) -> Unfinished {
        unfinished().push(path.to_path_buf());
        Unfinished(path.to_path_buf())
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        unfinished().retain(|p| *p != self.0);
    }
}

/// The start of a temporary name beside `path` (`.NAME.`, then a random part the `tempfile`
/// crate creates exclusively, never through a link someone planted), and the folder.
fn beside(path: &Path) -> (String, &Path) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    (format!(".{name}."), folder)
}

/// The permissions new files and folders get (less the umask), as `fs::write` and
/// `fs::create_dir` give them.
fn mode(mode: u32) -> fs::Permissions {
    fs::Permissions::from_mode(mode)
}
