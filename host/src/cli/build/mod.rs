//! `clever build DIR`: a strategy project into a WebAssembly component,
//! with the component's path as the last line of output. A folder with a
//! `Cargo.toml` is a Rust crate (cargo for `wasm32-wasip2`); one with a
//! `pyproject.toml` or an `app.py` is a Python project (componentize-py).

mod python;
mod rust;

use std::path::PathBuf;

use anyhow::bail;

/// Build a strategy project (Rust or Python) into a WebAssembly component.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project's directory: a crate (Cargo.toml) or a Python project
    /// (pyproject.toml, or just app.py).
    #[arg(value_name = "DIR")]
    project: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let dir = &self.project;
        let wasm = if dir.join("Cargo.toml").is_file() {
            rust::build(dir)?
        } else if ["pyproject.toml", "app.py", "app/__init__.py"]
            .iter()
            .any(|f| dir.join(f).is_file())
        {
            python::build(dir)?
        } else {
            bail!(
                "{} holds no strategy project: expected a Cargo.toml (Rust) or a pyproject.toml \
                 or app.py (Python); `clever new NAME` makes one",
                dir.display()
            );
        };
        println!("{}", wasm.display());
        Ok(())
    }
}
