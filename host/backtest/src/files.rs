//! Which files a `--data` path means: a file is itself; a directory is the
//! stream files directly in it, by name.

use std::path::{Path, PathBuf};

/// Extensions that are never stream files (notes, catalogues, results).
const NOT_STREAMS: &[&str] = &["md", "txt", "json", "csv", "toml", "html"];

/// Every stream file under `paths`, each directory's sorted by name.
/// Errors name `flag`, the option (or argument) the paths were given as.
pub fn data_files(flag: &str, paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))?;
        if meta.is_dir() {
            files.extend(directory(path)?);
        } else {
            files.push(path.clone());
        }
    }
    let given: Vec<_> = paths.iter().map(|p| p.display().to_string()).collect();
    anyhow::ensure!(
        !files.is_empty(),
        "{flag} {}: no stream files found (subdirectories, hidden files and files \
         ending .{} are not read)",
        given.join(" "),
        NOT_STREAMS.join(", .")
    );
    Ok(files)
}

fn directory(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
            .path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let skipped = path
            .extension()
            .is_some_and(|e| NOT_STREAMS.contains(&e.to_string_lossy().to_lowercase().as_str()));
        if path.is_file() && !hidden && !skipped {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_means_its_stream_files_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.bz2", "a", "SOURCES.md", ".hidden", "x.json"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let files = data_files("--data", &[dir.path().to_owned()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a", "b.bz2"]);
        let missing = data_files("--replay", &[dir.path().join("nope")]).unwrap_err();
        let missing = missing.to_string();
        assert!(
            missing.starts_with("--replay ") && missing.contains("nope"),
            "{missing}"
        );
        let notes = dir.path().join("notes");
        std::fs::create_dir(&notes).unwrap();
        std::fs::write(notes.join("SOURCES.md"), "").unwrap();
        let empty = data_files("--data", std::slice::from_ref(&notes))
            .unwrap_err()
            .to_string();
        let wanted = format!("--data {}: no stream files found (", notes.display());
        assert!(empty.starts_with(&wanted), "{empty}");
    }
}
