//! The adapter's border with the engine: Hyperliquid's recorded market
//! data as the neutral [`InstrumentEvent`]s a backtest or paper host runs,
//! and its listed perpetuals as the instruments' rules. A candle is
//! delivered once, in its last recorded state, at its close: a recording
//! holds every state a candle went through, and a strategy must not see
//! a candle before it closed.

use std::collections::BTreeMap;

use clever_market::InstrumentEvent;
use clever_sdk::{Book, BookSide, Candle, InstrumentInfo, Level, Timestamp, Trade};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::data::{self, Aggressor, L2Book, Message};
use crate::meta::Universe;

fn f(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

fn book(b: &L2Book) -> Book {
    let levels = |side: &[data::Level]| {
        side.iter()
            .map(|l| Level {
                price: f(l.px),
                size: f(l.sz),
            })
            .collect()
    };
    Book {
        instrument: b.coin.clone(),
        time: Timestamp(b.time),
        bids: levels(&b.bids),
        asks: levels(&b.asks),
    }
}

fn trade(t: &data::Trade) -> Trade {
    let aggressor = match t.side {
        Aggressor::Buy => BookSide::Buy,
        Aggressor::Sell => BookSide::Sell,
    };
    Trade {
        instrument: t.coin.clone(),
        time: Timestamp(t.time),
        price: f(t.px),
        size: f(t.sz),
        aggressor,
    }
}

fn candle(c: &data::Candle) -> Candle {
    Candle {
        instrument: c.coin.clone(),
        interval: c.interval.clone(),
        open_time: Timestamp(c.open_time),
        close_time: Timestamp(c.close_time),
        open: f(c.open),
        high: f(c.high),
        low: f(c.low),
        close: f(c.close),
        volume: f(c.volume),
    }
}

/// Recorded messages as engine events, in time order (stable: messages of
/// one time keep their recorded order).
pub fn instrument_events(messages: impl IntoIterator<Item = Message>) -> Vec<InstrumentEvent> {
    let mut events = Vec::new();
    let mut candles: BTreeMap<(String, String, i64), Candle> = BTreeMap::new();
    for message in messages {
        match message {
            Message::Book(b) => events.push(InstrumentEvent::Book(book(&b))),
            Message::Trades(t) if !t.is_empty() => {
                events.push(InstrumentEvent::Trades(t.iter().map(trade).collect()));
            }
            Message::Candle(c) => {
                candles.insert(
                    (c.coin.clone(), c.interval.clone(), c.open_time),
                    candle(&c),
                );
            }
            Message::Trades(_) | Message::Other(_) => {}
        }
    }
    events.extend(candles.into_values().map(InstrumentEvent::Candle));
    events.sort_by_key(InstrumentEvent::time);
    events
}

impl Universe {
    /// The listed perpetuals' rules, as strategies and the simulated book
    /// read them.
    pub fn instrument_rules(&self) -> Vec<InstrumentInfo> {
        (self.universe.iter())
            .map(|a| InstrumentInfo::hyperliquid_perp(&a.name, a.sz_decimals, a.max_leverage))
            .collect()
    }
}

/// The live feed's messages as engine events, as they come: books and
/// trades at once; a candle once the next one of its coin and interval
/// starts (so it has closed), in its last state.
#[derive(Debug, Default)]
pub struct LiveEvents {
    forming: std::collections::HashMap<(String, String), data::Candle>,
}

impl LiveEvents {
    /// The events one message makes.
    pub fn push(&mut self, message: Message) -> Vec<InstrumentEvent> {
        match message {
            Message::Book(b) => vec![InstrumentEvent::Book(book(&b))],
            Message::Trades(t) if !t.is_empty() => {
                vec![InstrumentEvent::Trades(t.iter().map(trade).collect())]
            }
            Message::Candle(c) => {
                let key = (c.coin.clone(), c.interval.clone());
                let closed = match self.forming.get(&key) {
                    Some(previous) if previous.open_time < c.open_time => Some(candle(previous)),
                    _ => None,
                };
                if self
                    .forming
                    .get(&key)
                    .is_none_or(|p| p.open_time <= c.open_time)
                {
                    self.forming.insert(key, c);
                }
                closed.map(InstrumentEvent::Candle).into_iter().collect()
            }
            Message::Trades(_) | Message::Other(_) => Vec::new(),
        }
    }
}
