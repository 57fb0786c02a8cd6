//! Where an export goes: one file, a directory, or an archive (`.tar.gz`, `.zip`). Nothing is
//! left half-written: files are written beside their destination and renamed into place.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

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
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
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

/// Writes the export to `path`, packed as its name says.
pub fn write(exported: &Exported, path: &Path) -> Result<(), ArchiveError> {
    match Packing::for_destination(path, exported) {
        Packing::File => write_atomically(path, &only_file(exported)?.bytes),
        Packing::TarGz => write_atomically(path, &tar_gz(exported).map_err(io(path))?),
        Packing::Zip => write_atomically(path, &zip(exported).map_err(io(path))?),
        Packing::Directory => write_directory(exported, path),
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

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    let temp = temporary_beside(path);
    let written = fs::write(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(io(path))
}

/// Writes every file into a new directory beside `path`, then renames it into place.
fn write_directory(exported: &Exported, path: &Path) -> Result<(), ArchiveError> {
    if path.exists() {
        return Err(ArchiveError::Exists(path.to_path_buf()));
    }
    let temp = temporary_beside(path);
    let written = exported.files.iter().try_for_each(|file| {
        let target = temp.join(&file.path);
        fs::create_dir_all(target.parent().unwrap_or(&temp))?;
        fs::write(target, &file.bytes)
    });
    let renamed = written.and_then(|()| fs::rename(&temp, path));
    if renamed.is_err() {
        let _ = fs::remove_dir_all(&temp);
    }
    renamed.map_err(io(path))
}

fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io { path: path.to_path_buf(), source }
}
