//! Files and folders only their owner may read: the data directory holds the catalog, the
//! checkouts of git sources (whose remotes may need credentials) and downloads. New folders are
//! created 0700 and new files 0600 whatever the umask allows, and a tree another program wrote
//! (a git checkout) is restricted after the fact.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use walkdir::WalkDir;

/// Creates `path` and the missing folders above it, each 0700. An existing folder is left as
/// it is: its owner chose its permissions.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(path)
}

/// Opens `path` for writing, emptied, readable by its owner alone: created 0600, or made so
/// when a file of an earlier run is there.
pub fn create(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Writes `bytes` to `path` as [`create`] opens it.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create(path)?.write_all(bytes)
}

/// Takes every permission of group and others away from `path` and everything under it, as
/// for files another program (git) created. Links are left alone: changing a link's
/// permissions changes its target's, which may lie anywhere.
pub fn restrict_tree(path: &Path) -> io::Result<()> {
    for entry in WalkDir::new(path) {
        let entry = entry?;
        if entry.file_type().is_symlink() {
            continue;
        }
        let mode = entry.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_dir_all(&nested).unwrap();
        assert_eq!((mode(&dir.path().join("a")), mode(&nested)), (0o700, 0o700));
        let file = nested.join("f");
        write(&file, b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn a_file_left_readable_by_others_is_made_private_when_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"old").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        write(&file, b"new").unwrap();
        assert_eq!((mode(&file), fs::read(&file).unwrap()), (0o600, b"new".to_vec()));
    }

    #[test]
    fn a_tree_is_restricted_without_following_its_links() {
        let dir = tempfile::tempdir().unwrap();
        let (tree, outside) = (dir.path().join("tree"), dir.path().join("outside"));
        fs::create_dir_all(tree.join("sub")).unwrap();
        fs::write(tree.join("sub/rule.yml"), b"x").unwrap();
        fs::write(tree.join("script"), b"x").unwrap();
        fs::write(&outside, b"x").unwrap();
        let set = |path: &Path, mode: u32| fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        set(&tree, 0o755);
        set(&tree.join("sub"), 0o755);
        set(&tree.join("sub/rule.yml"), 0o644);
        set(&tree.join("script"), 0o775);
        set(&outside, 0o644);
        std::os::unix::fs::symlink(&outside, tree.join("link")).unwrap();
        restrict_tree(&tree).unwrap();
        let modes = ["", "sub", "sub/rule.yml", "script"].map(|p| mode(&tree.join(p)));
        assert_eq!(modes, [0o700, 0o700, 0o600, 0o700]);
        assert_eq!(mode(&outside), 0o644, "a link's target is not changed");
    }
}
