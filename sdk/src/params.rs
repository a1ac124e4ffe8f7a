//! [`Params`]: a strategy's parameters, handed to `init` as a JSON object.

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
}
