//! The perpetuals a venue lists (`/info` `meta`, protocol notes D.5): each
//! asset's name, index (the asset id in actions), size decimals and
//! maximum leverage.

use serde::{Deserialize, Serialize};

/// One perpetual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// Its coin, e.g. `BTC`.
    pub name: String,
    /// Decimals a size may have.
    pub sz_decimals: u32,
    /// The highest leverage allowed.
    pub max_leverage: u32,
}

/// The listed perpetuals; an asset's id is its index here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Universe {
    /// The assets, in id order.
    pub universe: Vec<Asset>,
}

impl Universe {
    /// BTC, ETH and SOL with mainnet's size decimals and leverage (BTC and
    /// ETH as in the real `meta` sample of `../shared/data/hyperliquid`).
    pub fn standard() -> Universe {
        let asset = |name: &str, sz_decimals, max_leverage| Asset {
            name: name.into(),
            sz_decimals,
            max_leverage,
        };
        Universe {
            universe: vec![
                asset("BTC", 5, 40),
                asset("ETH", 4, 25),
                asset("SOL", 2, 20),
            ],
        }
    }

    /// A `meta` reply; delisted assets keep their index.
    pub fn from_json(value: serde_json::Value) -> Result<Universe, String> {
        let universe: Universe =
            serde_json::from_value(value).map_err(|e| format!("not a meta reply: {e}"))?;
        if let Some(bad) = universe.universe.iter().find(|a| a.max_leverage == 0) {
            return Err(format!("{}: maxLeverage must be at least 1", bad.name));
        }
        Ok(universe)
    }

    /// The asset id of `coin`.
    pub fn index(&self, coin: &str) -> Option<u32> {
        let i = self.universe.iter().position(|a| a.name == coin)?;
        u32::try_from(i).ok()
    }

    /// The asset with id `asset`.
    pub fn get(&self, asset: u32) -> Option<&Asset> {
        self.universe.get(usize::try_from(asset).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_meta_sample_reads() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/hyperliquid/http_meta_perp_sample.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let universe = Universe::from_json(serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(universe.index("ETH"), Some(1));
        assert_eq!(universe.get(0), Universe::standard().get(0));
        assert_eq!(universe.get(2).map(|a| a.sz_decimals), Some(2));
        assert!(universe.get(9).is_none());
    }
}
