//! The host's clients of Betfair's live services: the Exchange Stream API
//! ([`stream`]), the Betting API with login ([`betting`]), and recording
//! streamed data in Betfair's own format ([`record`]).

pub mod betting;
pub mod record;
pub mod stream;
