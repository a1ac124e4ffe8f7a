//! # clever-hyperliquid: the Hyperliquid adapter
//!
//! Hyperliquid's perpetuals speak JSON over HTTPS and WebSocket, and every
//! trading action is signed (`../shared/docs/venue-protocols.md`, D.6 and
//! D.7). This crate has, so far, the actions in the exact wire form the
//! venue hashes ([`actions`]) and their signatures ([`signing`]): msgpack
//! of the action, keccak256 with the nonce and vault, an EIP-712 "Agent"
//! digest, secp256k1. `scripts/check-hyperliquid-signing` signs the same
//! actions with the official Python SDK and compares byte for byte.
//!
//! Owns: the wire form of actions, numbers and market data, signing and
//! recovering the signer, the private key (never printed).
//! Does not know: the engine, the store, how orders are decided.

pub mod actions;
pub mod data;
pub mod events;
pub mod feed;
pub mod generate;
pub mod meta;
pub mod rules;
pub mod signing;

pub use actions::{Action, Cloid, Limit, OrderType, OrderWire, Tif, Trigger, wire_number};
pub use meta::{Asset, Universe};
pub use signing::{
    Address, PrivateKey, Signature, SigningError, action_hash, recover_signer, sign_l1_action,
};
