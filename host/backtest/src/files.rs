//! Which files a `--data` path means: a file is itself; a directory is the
//! stream files directly in it, by name.

use std::path::{Path, PathBuf};

/// Extensions that are never stream files (notes, catalogues, results).
const NOT_STREAMS: &[&str] = &["md", "txt", "json", "csv", "toml", "html"];

/// Every stream file under `paths`, each directory's sorted by name.
pub fn data_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("--data {}: {e}", path.display()))?;
        if meta.is_dir() {
            files.extend(directory(path)?);
        } else {
            files.push(path.clone());
        }
    }
    anyhow::ensure!(!files.is_empty(), "--data: no stream files found");
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
        let files = data_files(&[dir.path().to_owned()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a", "b.bz2"]);
        let missing = data_files(&[dir.path().join("nope")]).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }
}
