//! The host's clients of Betfair's live services: the Exchange Stream API
//! ([`stream`]) and the Betting API with login ([`betting`]).

pub mod betting;
pub mod stream;
