//! Signing L1 actions as the venue checks them (protocol notes D.7):
//!
//! 1. `connectionId` = keccak256(msgpack(action) ‖ nonce as 8 bytes
//!    big-endian ‖ 0x00, or 0x01 and the vault's 20 bytes ‖ only with an
//!    expiry: 0x00 and it as 8 bytes big-endian);
//! 2. the EIP-712 digest of `Agent(string source, bytes32 connectionId)`,
//!    source `a` on mainnet and `b` on testnet, in the domain `Exchange`,
//!    version `1`, chain id 1337, verifying contract the zero address;
//! 3. a secp256k1 signature of that digest (RFC 6979, low s), `v` 27 or 28.
//!
//! The venue checks a signature by recovering the signer's address from
//! it ([`recover_signer`]); a wrong one names another address.

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::{RecoveryId, Signature as Ecdsa, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

use super::actions::Action;

/// Why signing or checking failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The action could not be encoded.
    #[error("encoding the action: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// The key or signature is not a valid one.
    #[error("{0}")]
    Invalid(String),
}

/// keccak256 of `data`.
pub fn keccak(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// An account's address: the last 20 bytes of keccak256 of its public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    fn of(key: &VerifyingKey) -> Address {
        let point = key.to_encoded_point(false);
        let hash = keccak(&point.as_bytes()[1..]);
        let mut address = [0; 20];
        address.copy_from_slice(&hash[12..]);
        Address(address)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl FromStr for Address {
    type Err = SigningError;

    fn from_str(text: &str) -> Result<Address, SigningError> {
        let bad =
            || SigningError::Invalid(format!("{text:?} is not an address (0x and 40 hex digits)"));
        let digits = text.strip_prefix("0x").ok_or_else(bad)?;
        let bytes = hex::decode(digits).map_err(|_| bad())?;
        bytes.try_into().map(Address).map_err(|_| bad())
    }
}

/// A private key. It is never printed: its `Debug` shows its address only.
pub struct PrivateKey(SigningKey);

impl PrivateKey {
    /// A key from 64 hex digits (with or without `0x`, surrounding space
    /// ignored). The error never repeats the text.
    pub fn parse(text: &str) -> Result<PrivateKey, SigningError> {
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let bad = || SigningError::Invalid("the private key is not 64 hex digits".into());
        let bytes = hex::decode(digits).map_err(|_| bad())?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        SigningKey::from_bytes(&bytes.into())
            .map(PrivateKey)
            .map_err(|_| {
                SigningError::Invalid("the private key is not a valid secp256k1 key".into())
            })
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        Address::of(self.0.verifying_key())
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(address {})", self.address())
    }
}

/// A signature as the venue takes it: `r` and `s` as hex numbers (no
/// leading zeros, as the official SDK writes them), `v` 27 or 28.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// r, big-endian.
    pub r: [u8; 32],
    /// s, big-endian.
    pub s: [u8; 32],
    /// 27 + the recovery id.
    pub v: u8,
}

#[derive(Serialize, Deserialize)]
struct SignatureJson {
    r: String,
    s: String,
    v: u8,
}

/// A 256-bit number as `0x` and its hex digits without leading zeros.
fn hex_number(bytes: &[u8; 32]) -> String {
    let digits = hex::encode(bytes);
    let trimmed = digits.trim_start_matches('0');
    format!("0x{}", if trimmed.is_empty() { "0" } else { trimmed })
}

fn from_hex_number(text: &str) -> Result<[u8; 32], String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("{text:?}: not 0x hex"))?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(format!("{text:?}: not a 256-bit hex number"));
    }
    let padded = format!("{digits:0>64}");
    let bytes = hex::decode(padded).map_err(|_| format!("{text:?}: not hex"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{text:?}: not 32 bytes"))
}

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = SignatureJson {
            r: hex_number(&self.r),
            s: hex_number(&self.s),
            v: self.v,
        };
        json.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = SignatureJson::deserialize(d)?;
        let number = |t: &str| from_hex_number(t).map_err(serde::de::Error::custom);
        Ok(Signature {
            r: number(&json.r)?,
            s: number(&json.s)?,
            v: json.v,
        })
    }
}

/// The `connectionId` of `action` (step 1 of the module's doc).
pub fn action_hash(
    action: &Action,
    nonce: u64,
    vault: Option<&Address>,
    expires_after: Option<u64>,
) -> Result<[u8; 32], SigningError> {
    let mut data = rmp_serde::to_vec_named(action)?;
    data.extend(nonce.to_be_bytes());
    match vault {
        None => data.push(0),
        Some(address) => {
            data.push(1);
            data.extend(address.0);
        }
    }
    if let Some(at) = expires_after {
        data.push(0);
        data.extend(at.to_be_bytes());
    }
    Ok(keccak(&data))
}

/// The EIP-712 digest of the phantom agent for `connection_id`.
fn agent_digest(connection_id: &[u8; 32], mainnet: bool) -> [u8; 32] {
    let domain_type = keccak(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
    );
    let mut chain_id = [0; 32];
    chain_id[24..].copy_from_slice(&1337u64.to_be_bytes());
    let zero_address = [0; 32];
    let domain = [
        domain_type,
        keccak(b"Exchange"),
        keccak(b"1"),
        chain_id,
        zero_address,
    ]
    .concat();
    let agent_type = keccak(b"Agent(string source,bytes32 connectionId)");
    let source: &[u8] = if mainnet { b"a" } else { b"b" };
    let agent = [agent_type, keccak(source), *connection_id].concat();
    let digest = [&[0x19, 0x01][..], &keccak(&domain), &keccak(&agent)].concat();
    keccak(&digest)
}

/// Sign `action` at `nonce` (for `vault`, expiring after `expires_after`
/// if given) on mainnet or testnet.
pub fn sign_l1_action(
    key: &PrivateKey,
    action: &Action,
    (nonce, vault, expires_after): (u64, Option<&Address>, Option<u64>),
    mainnet: bool,
) -> Result<Signature, SigningError> {
    let digest = agent_digest(&action_hash(action, nonce, vault, expires_after)?, mainnet);
    let (signature, recovery) = (key.0)
        .sign_prehash_recoverable(&digest)
        .map_err(|e| SigningError::Invalid(format!("signing: {e}")))?;
    let (r, s) = signature.split_bytes();
    Ok(Signature {
        r: r.into(),
        s: s.into(),
        v: 27 + recovery.to_byte(),
    })
}

/// The address that signed `action` with `signature`, as the venue
/// recovers it.
pub fn recover_signer(
    action: &Action,
    (nonce, vault, expires_after): (u64, Option<&Address>, Option<u64>),
    mainnet: bool,
    signature: &Signature,
) -> Result<Address, SigningError> {
    let digest = agent_digest(&action_hash(action, nonce, vault, expires_after)?, mainnet);
    let bad = |what: &str| SigningError::Invalid(format!("the signature's {what} is not valid"));
    let ecdsa = Ecdsa::from_scalars(signature.r, signature.s).map_err(|_| bad("r or s"))?;
    let recovery = signature
        .v
        .checked_sub(27)
        .and_then(RecoveryId::from_byte)
        .ok_or_else(|| bad("v"))?;
    let key = VerifyingKey::recover_from_prehash(&digest, &ecdsa, recovery)
        .map_err(|_| bad("r, s and v"))?;
    Ok(Address::of(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::{Limit, OrderType, OrderWire, Tif};

    fn order(asset: u32, (p, s): (&str, &str), tif: Tif) -> Action {
        Action::Order {
            orders: vec![OrderWire {
                a: asset,
                b: true,
                p: p.into(),
                s: s.into(),
                r: false,
                t: OrderType::Limit(Limit { tif }),
                c: None,
            }],
            grouping: "na".into(),
        }
    }

    /// The official Python SDK's test vectors (protocol notes D.7).
    #[test]
    fn the_official_sdks_vectors() {
        let hash = action_hash(
            &order(4, ("1670.1", "0.0147"), Tif::Ioc),
            1_677_777_606_040,
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            hex::encode(hash),
            "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
        );
        let key =
            PrivateKey::parse("0x0123456789012345678901234567890123456789012345678901234567890123")
                .unwrap();
        let action = order(1, ("100", "100"), Tif::Gtc);
        let signed = |mainnet| {
            serde_json::to_value(sign_l1_action(&key, &action, (0, None, None), mainnet).unwrap())
                .unwrap()
        };
        assert_eq!(
            signed(true),
            serde_json::json!({
                "r": "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
                "s": "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
                "v": 28
            })
        );
        assert_eq!(
            signed(false),
            serde_json::json!({
                "r": "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
                "s": "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
                "v": 27
            })
        );
    }

    #[test]
    fn the_signer_is_recovered_and_a_changed_action_names_someone_else() {
        let key =
            PrivateKey::parse("0123456789012345678901234567890123456789012345678901234567890123\n")
                .unwrap();
        let action = order(1, ("100", "100"), Tif::Gtc);
        let at = (7, None, Some(9));
        let signature = sign_l1_action(&key, &action, at, true).unwrap();
        assert_eq!(
            recover_signer(&action, at, true, &signature).unwrap(),
            key.address()
        );
        let other = order(1, ("101", "100"), Tif::Gtc);
        assert_ne!(
            recover_signer(&other, at, true, &signature).unwrap(),
            key.address()
        );
        assert_ne!(
            recover_signer(&action, (8, None, Some(9)), true, &signature).unwrap(),
            key.address()
        );
        let text = format!("{key:?}");
        assert!(
            text.contains(&key.address().to_string()) && !text.contains("0123456789"),
            "{text}"
        );
        let bad = PrivateKey::parse("0x12").unwrap_err().to_string();
        assert!(
            !bad.contains("12") || bad.contains("64 hex digits"),
            "{bad}"
        );
    }
}
