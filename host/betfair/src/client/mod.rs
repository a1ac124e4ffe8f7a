//! The host's clients of Betfair's live services: the Exchange Stream API
//! ([`stream`]).

pub mod stream;
