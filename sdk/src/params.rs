//! [`Params`]: a strategy's parameters, handed to `init` as a JSON object;
//! [`Parameter`]: one a strategy declares (WIT 1.3), read with its default.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The parameters a strategy was started with (a JSON object).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    value: Value,
}

impl Params {
    /// Parse parameters from JSON text; empty text means `{}`.
    pub fn parse(text: &str) -> Result<Params, String> {
        if text.trim().is_empty() {
            return Ok(Params::default());
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("parameters are not JSON: {e}"))?;
        if !value.is_object() {
            return Err("parameters must be a JSON object".into());
        }
        Ok(Params { value })
    }

    /// A raw value by key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value.get(key)
    }

    /// Refuse a key `declared` does not list, or a value not of its kind,
    /// as the host does before a run (the native harness calls it, so an
    /// author's tests meet the same refusal).
    pub fn check(&self, declared: &[Parameter]) -> Result<(), String> {
        let Some(object) = self.value.as_object() else {
            return Ok(());
        };
        for (key, value) in object {
            let Some(p) = declared.iter().find(|p| p.name == key) else {
                let names: Vec<&str> = declared.iter().map(|p| p.name).collect();
                return Err(format!(
                    "`{key}` is not a parameter of this strategy (its parameters: {})",
                    names.join(", ")
                ));
            };
            let kind = p.info().kind;
            if !kind.admits(value) {
                return Err(format!(
                    "`{key}` = {value}: it is read as {}",
                    kind.in_words()
                ));
            }
        }
        Ok(())
    }

    /// A number, or `default` if absent.
    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| format!("parameter `{key}` must be a number, got {v}")),
        }
    }

    /// A whole number, or `default` if absent.
    pub fn u64_or(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| format!("parameter `{key}` must be a whole number, got {v}")),
        }
    }

    /// A string, or `default` if absent.
    pub fn str_or(&self, key: &str, default: &str) -> Result<String, String> {
        match self.get(key) {
            None => Ok(default.to_owned()),
            Some(v) => v
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("parameter `{key}` must be a string, got {v}")),
        }
    }

    /// All parameters as a typed struct.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_value(self.value.clone()).map_err(|e| format!("bad parameters: {e}"))
    }

    /// A declared number, or its default if absent.
    pub fn number(&self, p: &Parameter) -> Result<f64, String> {
        match p.default {
            DefaultValue::Number(d) => self.f64_or(p.name, d),
            _ => Err(p.not_a(ParameterKind::Number)),
        }
    }

    /// A declared whole number, or its default if absent.
    pub fn whole(&self, p: &Parameter) -> Result<u64, String> {
        match p.default {
            DefaultValue::Whole(d) => match self.get(p.name) {
                None => Ok(d),
                Some(v) => whole_of(v).ok_or_else(|| {
                    format!(
                        "parameter `{}` must be a whole number of 0 or more, got {v}",
                        p.name
                    )
                }),
            },
            _ => Err(p.not_a(ParameterKind::Whole)),
        }
    }

    /// A declared string, or its default if absent.
    pub fn text(&self, p: &Parameter) -> Result<String, String> {
        match p.default {
            DefaultValue::Text(d) => self.str_or(p.name, d),
            _ => Err(p.not_a(ParameterKind::Text)),
        }
    }

    /// A declared flag, or its default if absent.
    pub fn flag(&self, p: &Parameter) -> Result<bool, String> {
        let DefaultValue::Flag(d) = p.default else {
            return Err(p.not_a(ParameterKind::Flag));
        };
        match self.get(p.name) {
            None => Ok(d),
            Some(v) => (v.as_bool())
                .ok_or_else(|| format!("parameter `{}` must be true or false, got {v}", p.name)),
        }
    }
}

/// What a parameter's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterKind {
    /// Any number.
    Number,
    /// A whole number, 0 or more.
    Whole,
    /// A string.
    Text,
    /// `true` or `false`.
    Flag,
}

impl ParameterKind {
    /// Whether `value` is of this kind.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            ParameterKind::Number => value.is_number(),
            ParameterKind::Whole => whole_of(value).is_some(),
            ParameterKind::Text => value.is_string(),
            ParameterKind::Flag => value.is_boolean(),
        }
    }

    /// The kind in words: "a number", "true or false".
    pub fn in_words(self) -> &'static str {
        match self {
            ParameterKind::Number => "a number",
            ParameterKind::Whole => "a whole number of 0 or more",
            ParameterKind::Text => "a string",
            ParameterKind::Flag => "true or false",
        }
    }
}

/// `value` as a whole number of 0 or more: `2000` or `2000.0` (as some
/// JSON writers put it), not `2.5` or `-1`.
fn whole_of(value: &Value) -> Option<u64> {
    let whole = |f: &f64| *f >= 0.0 && f.fract() == 0.0 && *f < 18_446_744_073_709_551_616.0;
    (value.as_u64()).or_else(|| value.as_f64().filter(whole).map(|f| f as u64))
}

/// A parameter's default, which also says its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DefaultValue {
    Number(f64),
    Whole(u64),
    Text(&'static str),
    Flag(bool),
}

/// A parameter a strategy reads, declared once as a constant: listed to
/// the host by [`Strategy::parameters`](crate::Strategy::parameters), and
/// read in `init` with its default by [`Params::number`] and the like.
///
/// ```
/// use clever_sdk::{Params, Parameter};
/// const STAKE: Parameter = Parameter::number("stake", 2.0, "stake of each bet");
/// let params = Params::parse(r#"{"stake": 5}"#).unwrap();
/// assert_eq!(params.number(&STAKE), Ok(5.0));
/// assert_eq!(Params::default().number(&STAKE), Ok(2.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parameter {
    name: &'static str,
    default: DefaultValue,
    doc: &'static str,
}

impl Parameter {
    /// A number, `default` when absent.
    pub const fn number(name: &'static str, default: f64, doc: &'static str) -> Self {
        Parameter {
            name,
            default: DefaultValue::Number(default),
            doc,
        }
    }
    /// A whole number, `default` when absent.
    pub const fn whole(name: &'static str, default: u64, doc: &'static str) -> Self {
        Parameter {
            name,
            default: DefaultValue::Whole(default),
            doc,
        }
    }
    /// A string, `default` when absent.
    pub const fn text(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        Parameter {
            name,
            default: DefaultValue::Text(default),
            doc,
        }
    }
    /// A flag, `default` when absent.
    pub const fn flag(name: &'static str, default: bool, doc: &'static str) -> Self {
        Parameter {
            name,
            default: DefaultValue::Flag(default),
            doc,
        }
    }

    /// Its key.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What it is, as the host is told.
    pub fn info(&self) -> ParameterInfo {
        let (kind, default) = match self.default {
            DefaultValue::Number(d) => (ParameterKind::Number, Value::from(d)),
            DefaultValue::Whole(d) => (ParameterKind::Whole, Value::from(d)),
            DefaultValue::Text(d) => (ParameterKind::Text, Value::from(d)),
            DefaultValue::Flag(d) => (ParameterKind::Flag, Value::from(d)),
        };
        ParameterInfo {
            name: self.name.to_owned(),
            kind,
            default: default.to_string(),
            doc: self.doc.to_owned(),
        }
    }

    fn not_a(&self, kind: ParameterKind) -> String {
        format!(
            "parameter `{}` is declared as {}, not read as {}",
            self.name,
            self.info().kind.in_words(),
            kind.in_words()
        )
    }
}

/// A declared parameter as the host knows it (WIT 1.3's `parameter`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParameterInfo {
    /// Its key.
    pub name: String,
    /// What its value must be.
    pub kind: ParameterKind,
    /// Its value when absent, as JSON text.
    pub default: String,
    /// What it does.
    pub doc: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_read() {
        let p = Params::parse(r#"{"stake": 2.5, "n": 3}"#).unwrap();
        assert_eq!(p.f64_or("stake", 1.0), Ok(2.5));
        assert_eq!(p.f64_or("missing", 1.0), Ok(1.0));
        assert_eq!(p.u64_or("n", 0), Ok(3));
        assert!(p.u64_or("stake", 0).is_err());
        assert!(Params::parse("[1]").is_err());
        assert!(Params::parse("{oops").is_err());
        assert_eq!(Params::parse("").unwrap(), Params::default());
    }

    #[test]
    fn declared_parameters_are_read_with_their_defaults_and_kinds() {
        const STAKE: Parameter = Parameter::number("stake", 2.0, "stake");
        const WAIT: Parameter = Parameter::whole("wait_ms", 500, "wait");
        const COIN: Parameter = Parameter::text("coin", "ETH", "coin");
        const HEDGE: Parameter = Parameter::flag("hedge", false, "hedge");
        let p = Params::parse(r#"{"stake": 3, "wait_ms": 7, "coin": "BTC", "hedge": true}"#);
        let p = p.unwrap();
        assert_eq!(p.number(&STAKE), Ok(3.0));
        assert_eq!(p.whole(&WAIT), Ok(7));
        assert_eq!(p.text(&COIN).as_deref(), Ok("BTC"));
        assert_eq!(p.flag(&HEDGE), Ok(true));
        let none = Params::default();
        assert_eq!(none.number(&STAKE), Ok(2.0));
        assert_eq!(none.whole(&WAIT), Ok(500));
        assert_eq!(none.text(&COIN).as_deref(), Ok("ETH"));
        assert_eq!(none.flag(&HEDGE), Ok(false));
        // Read as another kind than declared: an error naming both.
        assert_eq!(
            none.number(&COIN),
            Err("parameter `coin` is declared as a string, not read as a number".into())
        );
        let bad = Params::parse(r#"{"hedge": 1}"#).unwrap();
        assert!(bad.flag(&HEDGE).unwrap_err().contains("true or false"));
        assert_eq!(
            WAIT.info(),
            ParameterInfo {
                name: "wait_ms".into(),
                kind: ParameterKind::Whole,
                default: "500".into(),
                doc: "wait".into(),
            }
        );
        assert_eq!(STAKE.info().default, "2.0");
        assert_eq!(COIN.info().default, r#""ETH""#);
        assert!(ParameterKind::Whole.admits(&Value::from(3)));
        assert!(ParameterKind::Whole.admits(&Value::from(3.0)));
        assert_eq!(
            Params::parse(r#"{"wait_ms": 7.0}"#).unwrap().whole(&WAIT),
            Ok(7)
        );
        assert!(
            Params::parse(r#"{"wait_ms": 7.5}"#)
                .unwrap()
                .whole(&WAIT)
                .is_err()
        );
        assert!(!ParameterKind::Whole.admits(&Value::from(-3)));
        assert!(!ParameterKind::Whole.admits(&Value::from(2.5)));
        assert!(ParameterKind::Number.admits(&Value::from(-2.5)));
        assert!(!ParameterKind::Text.admits(&Value::from(2)));
    }
}
