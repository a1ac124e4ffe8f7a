//! `clever new NAME [--lang rust|python]`: a strategy project from a
//! template that builds, tests natively and backtests with the commands it
//! prints. The SDK is not on a registry yet, so the project points at the
//! local one, found in this Clever Better checkout.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The language a strategy is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
}

/// Make a strategy project.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The strategy's name: lowercase letters, digits and `-`, starting with a letter.
    name: String,
    /// The language.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// Where to make the project's folder (default: here).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

const RUST: [(&str, &str); 2] = [
    ("Cargo.toml", include_str!("rust/Cargo.toml")),
    ("src/lib.rs", include_str!("rust/lib.rs")),
];
const PYTHON: [(&str, &str); 3] = [
    ("pyproject.toml", include_str!("python/pyproject.toml")),
    ("app.py", include_str!("python/app.py")),
    ("tests/test_app.py", include_str!("python/test_app.py")),
];

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        check_name(&self.name)?;
        let root = checkout()?;
        let project = self.dir.join(&self.name);
        if project.exists() {
            bail!(
                "{} already exists; choose another name or --dir",
                project.display()
            );
        }
        let (files, sdk) = match self.lang {
            Lang::Rust => (&RUST[..], root.join("sdk")),
            Lang::Python => (&PYTHON[..], root.join("sdk-python")),
        };
        for (path, template) in files {
            let text = (template.replace("{{name}}", &self.name))
                .replace("{{sdk}}", &sdk.to_string_lossy());
            write(&project.join(path), &text)?;
        }
        write(
            &project.join(".gitignore"),
            "target/\n__pycache__/\n.venv/\n",
        )?;
        if self.lang == Lang::Rust {
            // The checkout's lock file: the versions its SDK is tested with,
            // and no registry lookups for the first build.
            let lock = root.join("Cargo.lock");
            std::fs::copy(&lock, project.join("Cargo.lock"))
                .with_context(|| format!("cannot copy {}", lock.display()))?;
        }
        print_next_steps(&self.name, self.lang, &project, &sdk);
        Ok(())
    }
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && (name.chars()).all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "`{name}` is not a strategy name: use lowercase letters, digits and `-`, starting with a letter"
        );
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The commands that take the new project from tests to a backtest; a
/// test runs exactly these.
fn print_next_steps(name: &str, lang: Lang, project: &Path, sdk: &Path) {
    let lang_name = format!("{lang:?}").to_lowercase();
    println!(
        "made {lang_name} strategy `{name}` in {} (clever-sdk: {})",
        project.display(),
        sdk.display()
    );
    println!("next:");
    println!("  cd {}", project.display());
    let wasm = match lang {
        Lang::Rust => {
            println!("  cargo test");
            format!(
                "target/wasm32-wasip2/release/{}.wasm",
                name.replace('-', "_")
            )
        }
        Lang::Python => {
            println!("  python3 -m venv .venv && .venv/bin/pip install --quiet pytest");
            println!("  .venv/bin/python -m pytest");
            format!("target/{}.wasm", name.replace('-', "_"))
        }
    };
    println!("  clever build .");
    println!("  clever gen --markets 100 --seed 1 --out target/markets");
    println!("  clever backtest --plugin {wasm} --data target/markets");
}

/// The Clever Better checkout this `clever` belongs to: `$CLEVER_HOME`, or
/// the nearest folder above the binary, or above the current directory,
/// that holds `wit/`, `sdk/` and `sdk-python/`.
pub fn checkout() -> anyhow::Result<PathBuf> {
    let is_checkout = |d: &Path| {
        d.join("wit/strategy.wit").is_file()
            && d.join("sdk/Cargo.toml").is_file()
            && d.join("sdk-python/pyproject.toml").is_file()
    };
    if let Some(home) = std::env::var_os("CLEVER_HOME") {
        let home = PathBuf::from(home);
        if is_checkout(&home) {
            return Ok(home.canonicalize()?);
        }
        bail!(
            "CLEVER_HOME={} is not a Clever Better checkout (no wit/, sdk/ and sdk-python/)",
            home.display()
        );
    }
    let starts = [std::env::current_exe().ok(), std::env::current_dir().ok()];
    for start in starts.into_iter().flatten() {
        if let Some(found) = start.ancestors().find(|d| is_checkout(d)) {
            return Ok(found.canonicalize()?);
        }
    }
    bail!(
        "cannot find the Clever Better checkout (its sdk/ and sdk-python/): set CLEVER_HOME to it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("steam-chaser-2").is_ok());
        for bad in ["", "2fast", "Lay", "a_b", "trailing-", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
