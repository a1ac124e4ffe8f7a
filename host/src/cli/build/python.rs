//! Python strategies: componentize-py (from PyPI, in a virtual environment
//! this sets up once and reuses) builds the project against the host's own
//! WIT, with the Python clever-sdk bundled in. The name and version come
//! from `pyproject.toml`; componentize-py runs the module's top level at
//! build time, so a module imported inside a function is not in the
//! component: that is checked first, with the file and line named.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The componentize-py release builds are made with (a pinned version: the
/// component's runtime and size follow it).
const COMPONENTIZE_PY: &str = "0.25.1";

/// The WIT the host speaks, written next to the build so a component is
/// always built against the contract of the binary that will run it.
const WIT: &str = include_str!("../../../../wit/strategy.wit");

/// The check for imports inside functions (run with the build's Python).
const IMPORT_CHECK: &str = include_str!("import_check.py");

/// What `pyproject.toml` says about the strategy.
#[derive(Debug)]
struct Project {
    dir: PathBuf,
    name: String,
    version: String,
    module: String,
    sdk: PathBuf,
    dependencies: Vec<String>,
}

/// Build the Python project in `dir` and return its component's path.
pub fn build(dir: &Path) -> anyhow::Result<PathBuf> {
    let project = read_project(dir)?;
    let python = venv()?;
    check_imports(&python, &project)?;
    let out_dir = project.dir.join("target");
    let work = out_dir.join("clever-build");
    std::fs::create_dir_all(work.join("wit"))
        .with_context(|| format!("cannot create {}", work.display()))?;
    std::fs::write(work.join("wit/strategy.wit"), WIT)?;
    std::fs::write(work.join("clever_entry.py"), entry_module(&project))?;
    let mut paths = vec![work.clone(), project.dir.clone(), project.sdk.join("src")];
    if let Some(deps) = install_dependencies(&python, &project, &work)? {
        paths.push(deps);
    }
    let wasm = out_dir.join(format!("{}.wasm", project.name.replace('-', "_")));
    let mut cmd = Command::new(python.with_file_name("componentize-py"));
    cmd.arg("-d")
        .arg(work.join("wit"))
        .args(["-w", "described-plugin", "componentize", "clever_entry"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // The Python traceback says what went wrong; componentize-py's own
        // Rust backtrace after it would bury it.
        .env("RUST_BACKTRACE", "0");
    for p in &paths {
        cmd.arg("-p").arg(p);
    }
    cmd.arg("-o").arg(&wasm);
    eprintln!(
        "building {}@{} with componentize-py {COMPONENTIZE_PY}",
        project.name, project.version
    );
    let status = cmd.status().context("cannot run componentize-py")?;
    if !status.success() {
        bail!("componentize-py failed ({status}); its messages are above");
    }
    Ok(wasm)
}

fn read_project(dir: &Path) -> anyhow::Result<Project> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let manifest = dir.join("pyproject.toml");
    let table: toml::Table = if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("cannot read {}", manifest.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", manifest.display()))?
    } else {
        toml::Table::new()
    };
    let project = table.get("project").and_then(|v| v.as_table());
    let clever = (table.get("tool").and_then(|t| t.get("clever"))).and_then(|v| v.as_table());
    let text = |t: Option<&toml::Table>, key: &str| {
        t.and_then(|t| t.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let named = text(project, "name");
    let name = normalise_name(named.as_deref().unwrap_or(&folder));
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        match named {
            Some(_) => bail!(
                "{}: [project] name must start with a letter",
                manifest.display()
            ),
            None => bail!(
                "{}: without a pyproject.toml the strategy is named after its folder, and \
                 `{folder}` does not start with a letter; add a pyproject.toml with [project] name",
                dir.display()
            ),
        }
    }
    let version = text(project, "version").unwrap_or_else(|| "0.1.0".into());
    semver::Version::parse(&version).map_err(|e| {
        anyhow::anyhow!(
            "{}: version `{version}` is not semver (MAJOR.MINOR.PATCH, e.g. 1.2.0): {e}; \
             the registry orders a strategy's versions by it",
            manifest.display()
        )
    })?;
    let module = text(clever, "module").unwrap_or_else(|| "app".into());
    let identifier = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !module.split('.').all(identifier) {
        bail!(
            "{}: [tool.clever] module `{module}` is not a Python module name",
            manifest.display()
        );
    }
    let path = module.replace('.', "/");
    if !dir.join(format!("{path}.py")).is_file() && !dir.join(&path).join("__init__.py").is_file() {
        bail!(
            "{}: no {module}.py (the strategy's module; name another with [tool.clever] module = \"...\")",
            dir.display()
        );
    }
    let sdk = match text(clever, "sdk") {
        Some(path) => dir.join(path),
        None => crate::cli::new::checkout()?.join("sdk-python"),
    };
    let sdk = sdk
        .canonicalize()
        .ok()
        .filter(|p| p.join("src/clever_sdk/__init__.py").is_file());
    let Some(sdk) = sdk else {
        bail!(
            "{}: [tool.clever] sdk must name the clever-sdk Python package's folder (sdk-python \
             in a Clever Better checkout)",
            manifest.display()
        );
    };
    let dependencies = (project
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array()))
    .map(|deps| {
        deps.iter()
            .filter_map(|d| d.as_str())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default();
    Ok(Project {
        dir,
        name,
        version,
        module,
        sdk,
        dependencies,
    })
}

/// PEP 503's normal form, which is also the host's: lowercase, `-` separated.
fn normalise_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase().replace(['_', '.'], "-");
    lower
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// The module componentize-py builds: the strategy's module, named and
/// versioned, and the SDK's exports.
fn entry_module(p: &Project) -> String {
    // JSON strings are valid Python string literals.
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    format!(
        "# Written by `clever build`; not to be edited.\n\
         import {module}  # noqa: F401  (registers the strategy)\n\
         from clever_sdk import guest\n\n\
         guest.exported()  # fails the build unless exactly one class is exported\n\
         guest.NAME = {name}\n\
         guest.VERSION = {version}\n\
         Hooks = guest.Hooks\n\
         BookHooks = guest.BookHooks\n\
         Parameters = guest.Parameters\n",
        module = p.module,
        name = quote(&p.name),
        version = quote(&p.version),
    )
}

/// The Python of a virtual environment holding componentize-py, made on
/// first use: `$CLEVER_PYTHON_VENV`, or one per componentize-py version in
/// the user's cache.
fn venv() -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("CLEVER_PYTHON_VENV") {
        Some(dir) => PathBuf::from(dir),
        None => clever_runtime::default_cache_dir()
            .and_then(|c| c.parent().map(Path::to_path_buf))
            .context(
                "no cache directory: set CLEVER_PYTHON_VENV to where the build's Python may live",
            )?
            .join(format!("componentize-py-{COMPONENTIZE_PY}")),
    };
    let python = dir.join("bin/python");
    let tool = dir.join("bin/componentize-py");
    let version = Command::new(&tool).arg("--version").output();
    if version.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(COMPONENTIZE_PY)) {
        return Ok(python);
    }
    let system = std::env::var("CLEVER_PYTHON").unwrap_or_else(|_| "python3".into());
    eprintln!(
        "setting up componentize-py {COMPONENTIZE_PY} in {} (once)",
        dir.display()
    );
    let made = Command::new(&system).args(["-m", "venv"]).arg(&dir).status().with_context(|| {
        format!("cannot run `{system}`: Python 3.11 or newer is needed to build Python strategies (CLEVER_PYTHON names it)")
    })?;
    if !made.success() {
        bail!("`{system} -m venv {}` failed ({made})", dir.display());
    }
    let pip = pip_install(&python)
        .arg(format!("componentize-py=={COMPONENTIZE_PY}"))
        .status()
        .context("cannot run pip")?;
    if !pip.success() {
        bail!("installing componentize-py {COMPONENTIZE_PY} from PyPI failed ({pip})");
    }
    Ok(python)
}

/// `pip install`, quietly, with the build's Python.
fn pip_install(python: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    cmd
}

/// Refuse imports inside functions, naming each: they would fail when the
/// hook runs, inside the sandbox, with the module missing.
fn check_imports(python: &Path, p: &Project) -> anyhow::Result<()> {
    let out = Command::new(python)
        .args(["-c", IMPORT_CHECK])
        .arg(&p.dir)
        .output()
        .context("cannot run the build's Python")?;
    let found = String::from_utf8_lossy(&out.stdout);
    let found = found.trim_end();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(3) => bail!(
            "imports inside functions are not bundled into the component (componentize-py \
             keeps only what the module imports when it is loaded); move them to the top of \
             the module:\n{found}"
        ),
        Some(4) => bail!("the project's Python does not parse:\n{found}"),
        _ => bail!(
            "checking the imports failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

/// Pure-Python dependencies from `[project] dependencies` (clever-sdk
/// aside: it comes from `[tool.clever] sdk`), installed for the build.
fn install_dependencies(
    python: &Path,
    p: &Project,
    work: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let deps: Vec<&String> = (p.dependencies.iter())
        .filter(|d| !normalise_name(d).starts_with("clever-sdk"))
        .collect();
    if deps.is_empty() {
        return Ok(None);
    }
    let target = work.join("deps");
    let status = pip_install(python)
        .args(["--upgrade", "--no-compile", "--target"])
        .arg(&target)
        .args(deps)
        .status()
        .context("cannot run pip")?;
    if !status.success() {
        bail!(
            "installing the project's dependencies failed ({status}); only pure-Python packages can go into a component"
        );
    }
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_as_pep_503_does() {
        assert_eq!(normalise_name("Lay_Low.InPlay"), "lay-low-inplay");
        assert_eq!(normalise_name(" my strat "), "mystrat");
    }

    #[test]
    fn the_entry_module_quotes_what_it_is_given() {
        let p = Project {
            dir: PathBuf::new(),
            name: "a\"b".into(),
            version: "1.0.0".into(),
            module: "app".into(),
            sdk: PathBuf::new(),
            dependencies: vec![],
        };
        let text = entry_module(&p);
        assert!(text.contains("guest.NAME = \"a\\\"b\""), "{text}");
        assert!(text.contains("import app "), "{text}");
    }
}
