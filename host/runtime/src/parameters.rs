//! WIT 1.3's declared parameters: asked of a plugin once, in a throwaway
//! instance, checked for sense, and used to check the parameters a run is
//! given before it starts. A plugin that declares none (every 1.0 to 1.2
//! component, and 1.3 ones that do not say) leaves every name unchecked.

use std::collections::BTreeSet;
use std::sync::Arc;

use clever_sdk::{ParameterInfo, ParameterKind};
use serde_json::{Map, Value};

use super::RuntimeError;
use super::bindings::described;
use super::fault::Hook;
use super::instance::{HookError, PluginInstance, ask};
use super::plugin::LoadedPlugin;
use super::services::HostServices;

/// The most parameters a plugin may declare, and the longest name: more
/// is a plugin describing something else.
const MAX_PARAMETERS: usize = 256;
const MAX_NAME: usize = 64;
/// The longest default (JSON text) and doc a parameter may have.
const MAX_TEXT: usize = 1_000;

impl PluginInstance {
    /// Call `parameters` on a throwaway instance: what a 1.3 plugin
    /// declares; `None` if it has no such export or does not say (an empty
    /// list is a plugin that reads none).
    pub(crate) fn parameters(
        plugin: &LoadedPlugin,
        services: Box<dyn HostServices>,
    ) -> Result<Option<Vec<ParameterInfo>>, HookError> {
        let Some(indices) = &plugin.parameters_export else {
            return Ok(None);
        };
        let declared = ask(plugin, services, Hook::Parameters, |store, instance| {
            indices.load(&mut *store, instance)?.call_parameters(store)
        })?;
        Ok(declared.map(|list| list.into_iter().map(info).collect()))
    }
}

fn info(p: described::Parameter) -> ParameterInfo {
    ParameterInfo {
        name: p.name,
        kind: match p.kind {
            described::ParameterKind::Number => ParameterKind::Number,
            described::ParameterKind::Whole => ParameterKind::Whole,
            described::ParameterKind::Text => ParameterKind::Text,
            described::ParameterKind::Flag => ParameterKind::Flag,
        },
        default: p.default_value,
        doc: p.doc,
    }
}

/// `declared` if it makes sense: names of 1 to 64 characters, each once,
/// each default JSON of its parameter's kind.
pub(crate) fn checked(declared: Vec<ParameterInfo>) -> Result<Vec<ParameterInfo>, RuntimeError> {
    let bad = |why: String| Err(RuntimeError::BadDescriptor(why));
    if declared.len() > MAX_PARAMETERS {
        return bad(format!(
            "{} parameters declared (at most {MAX_PARAMETERS})",
            declared.len()
        ));
    }
    let mut names = BTreeSet::new();
    for p in &declared {
        let shown: String = p.name.chars().take(MAX_NAME).collect();
        let name_ok = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
        if p.name.is_empty() || p.name.len() > MAX_NAME || !p.name.chars().all(name_ok) {
            return bad(format!(
                "parameter name `{}` must be 1 to {MAX_NAME} of a-z, A-Z, 0-9, _, - and .",
                printable(&shown)
            ));
        }
        if p.default.len() > MAX_TEXT || p.doc.len() > MAX_TEXT {
            return bad(format!(
                "parameter `{shown}`: its default and doc may be {MAX_TEXT} bytes each"
            ));
        }
        if !names.insert(p.name.as_str()) {
            return bad(format!("parameter `{shown}` is declared twice"));
        }
        let default = serde_json::from_str::<Value>(&p.default).ok();
        if !default.is_some_and(|d| p.kind.admits(&d)) {
            return bad(format!(
                "parameter `{shown}`'s default is not {}",
                p.kind.in_words()
            ));
        }
    }
    Ok(declared)
}

/// Check `params` (one JSON object given to every plugin of a run)
/// against what `plugins` declare: each key must be a parameter of at
/// least one of them, and its value of the kind each that reads it wants.
/// A plugin that declares nothing may read any key, so beside one a key
/// no plugin declares passes; a declared key's kind is checked always.
pub fn check_params(
    plugins: &[Arc<LoadedPlugin>],
    params: &Map<String, Value>,
) -> Result<(), String> {
    let declared: Vec<(&LoadedPlugin, &[ParameterInfo])> = (plugins.iter())
        .filter_map(|p| p.parameters().map(|list| (p.as_ref(), list)))
        .collect();
    // A plugin that declares nothing may read any key: only a key no
    // plugin could read is unknown, but a declared one is always checked.
    let all_declared = declared.len() == plugins.len();
    for (key, value) in params {
        let readers: Vec<_> = (declared.iter())
            .filter_map(|(plugin, list)| {
                let p = list.iter().find(|p| &p.name == key)?;
                Some((plugin, p))
            })
            .collect();
        if readers.is_empty() && all_declared {
            return Err(unknown(key, &declared));
        }
        for (plugin, p) in readers {
            if !p.kind.admits(value) {
                return Err(format!(
                    "`{key}` = {value}: {} reads it as {}",
                    tag(plugin),
                    p.kind.in_words()
                ));
            }
        }
    }
    Ok(())
}

/// Why `key` is no plugin's, with each plugin's parameters and the
/// nearest name if one is near.
fn unknown(key: &str, declared: &[(&LoadedPlugin, &[ParameterInfo])]) -> String {
    let names = |list: &[ParameterInfo]| match list {
        [] => "none".to_owned(),
        list => (list.iter().map(|p| p.name.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut said = match declared {
        [(plugin, list)] => format!(
            "`{key}` is not a parameter of {} (its parameters: {})",
            tag(plugin),
            names(list)
        ),
        _ => {
            let each: Vec<String> = (declared.iter())
                .map(|(plugin, list)| format!("{} ({})", tag(plugin), names(list)))
                .collect();
            format!("`{key}` is a parameter of none of {}", each.join(", "))
        }
    };
    // Jaro-Winkler weighs a shared start, as a misspelt or shortened name
    // keeps one: `belwo` for `below`, `cancel_after` for `cancel_after_ms`.
    let nearest = (declared.iter())
        .flat_map(|(_, list)| list.iter())
        .map(|p| (strsim::jaro_winkler(key, &p.name), &p.name))
        .filter(|(likeness, _)| *likeness >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, name)) = nearest {
        said.push_str(&format!("; did you mean `{name}`?"));
    }
    said
}

/// `text` from a plugin, as it may be printed on one line of a terminal or
/// a log: control characters (newlines, escapes) written as escapes, so a
/// plugin can neither forge a line nor drive the terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let escaped = |c: char| match c.is_control() {
        true => c.escape_default().to_string(),
        false => c.to_string(),
    };
    text.chars().map(escaped).collect::<String>().into()
}

fn tag(plugin: &LoadedPlugin) -> String {
    let d = plugin.descriptor();
    format!("{}@{}", d.name, d.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, kind: ParameterKind, default: &str) -> ParameterInfo {
        ParameterInfo {
            name: name.into(),
            kind,
            default: default.into(),
            doc: String::new(),
        }
    }

    #[test]
    fn plugin_text_is_printed_on_one_line() {
        assert_eq!(printable("back 12 @ 2.5"), "back 12 @ 2.5");
        assert_eq!(
            printable("a\nWARN forged\u{1b}[2J"),
            "a\\nWARN forged\\u{1b}[2J"
        );
    }

    #[test]
    fn a_declaration_that_makes_no_sense_is_refused() {
        let fine = vec![
            p("stake", ParameterKind::Number, "2.0"),
            p("wait", ParameterKind::Whole, "3"),
            p("coin", ParameterKind::Text, "\"ETH\""),
            p("hedge", ParameterKind::Flag, "false"),
        ];
        assert_eq!(checked(fine.clone()).unwrap(), fine);
        let refused = |list: Vec<ParameterInfo>| checked(list).unwrap_err().to_string();
        let twice = vec![fine[0].clone(), fine[0].clone()];
        assert!(refused(twice).contains("`stake` is declared twice"));
        let one_to_64 = "must be 1 to 64 of a-z";
        assert!(refused(vec![p("", ParameterKind::Number, "1")]).contains(one_to_64));
        let long = "x".repeat(65);
        assert!(refused(vec![p(&long, ParameterKind::Number, "1")]).contains(one_to_64));
        let odd = refused(vec![p("a\nb", ParameterKind::Number, "1")]);
        assert!(odd.contains("`a\\nb` must be 1 to 64"), "{odd}");
        let mut wordy = p("w", ParameterKind::Number, "1");
        wordy.doc = "x".repeat(1_001);
        assert!(refused(vec![wordy]).contains("1000 bytes each"));
        let wrong = p("wait", ParameterKind::Whole, "2.5");
        assert!(refused(vec![wrong]).contains("`wait`'s default is not a whole number"));
        let not_json = p("coin", ParameterKind::Text, "ETH");
        assert!(refused(vec![not_json]).contains("`coin`'s default is not a string"));
        let many = (0..=MAX_PARAMETERS)
            .map(|i| p(&format!("p{i}"), ParameterKind::Number, "1"))
            .collect();
        assert!(refused(many).contains("257 parameters declared"));
    }
}
