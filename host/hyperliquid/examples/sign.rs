//! Sign actions as `scripts/check-hyperliquid-signing` asks: one JSON
//! object per stdin line (`action`, `nonce`, `vault`, `expires_after`,
//! `mainnet`), the key from `$HYPERLIQUID_TEST_KEY`; one line out per line
//! in: the `connection_id` (hex) and the `signature`, or the `error`.

use std::io::{BufRead, Write};

use clever_hyperliquid::{Action, Address, PrivateKey, action_hash, sign_l1_action};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    action: Action,
    nonce: u64,
    vault: Option<Address>,
    expires_after: Option<u64>,
    mainnet: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key =
        std::env::var("HYPERLIQUID_TEST_KEY").map_err(|_| "$HYPERLIQUID_TEST_KEY is not set")?;
    let key = PrivateKey::parse(&key)?;
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let answer = match serde_json::from_str::<Ask>(&line?) {
            Ok(ask) => answer(&key, &ask),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        writeln!(out, "{answer}")?;
    }
    Ok(())
}

fn answer(key: &PrivateKey, ask: &Ask) -> serde_json::Value {
    let at = (ask.nonce, ask.vault.as_ref(), ask.expires_after);
    let signed = action_hash(&ask.action, at.0, at.1, at.2)
        .and_then(|hash| Ok((hash, sign_l1_action(key, &ask.action, at, ask.mainnet)?)));
    match signed {
        Ok((hash, signature)) => serde_json::json!({
            "connection_id": format!("0x{}", hex::encode(hash)),
            "signature": signature,
        }),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}
