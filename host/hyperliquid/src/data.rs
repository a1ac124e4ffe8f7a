//! Hyperliquid's market data as the venue sends it (protocol notes D.4,
//! D.5): the `l2Book` book, `trades`, `candle`s and funding, from `/info`
//! replies or WebSocket messages recorded one per line. Prices and sizes
//! are exact decimals. Each record is checked (a book sorted and not
//! crossed, a candle whose high and low hold its open and close); a bad
//! one is an error naming what and where, never a panic.

use rust_decimal::Decimal;
use serde::Deserialize;

/// One price level.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Level {
    /// Price.
    pub px: Decimal,
    /// Size there.
    pub sz: Decimal,
    /// Orders there (the WebSocket sends it).
    #[serde(default)]
    pub n: Option<u32>,
}

/// An order book: bids best (highest) first, asks best (lowest) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Book {
    /// The asset, e.g. `BTC`.
    pub coin: String,
    /// The venue's time (epoch ms).
    pub time: i64,
    /// Bids.
    pub bids: Vec<Level>,
    /// Asks.
    pub asks: Vec<Level>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct L2BookWire {
    coin: String,
    levels: (Vec<Level>, Vec<Level>),
    time: i64,
}

/// Which side took liquidity in a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Aggressor {
    /// The buyer (`B`).
    #[serde(rename = "B")]
    Buy,
    /// The seller (`A`).
    #[serde(rename = "A")]
    Sell,
}

/// One trade.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Trade {
    /// The asset.
    pub coin: String,
    /// The side that took liquidity.
    pub side: Aggressor,
    /// Price.
    pub px: Decimal,
    /// Size.
    pub sz: Decimal,
    /// When (epoch ms).
    pub time: i64,
    /// The venue's trade id.
    pub tid: u64,
    /// The transaction hash.
    pub hash: String,
}

/// One candle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Candle {
    /// The asset.
    #[serde(rename = "s")]
    pub coin: String,
    /// The interval (`1m`, `1h`, ...).
    #[serde(rename = "i")]
    pub interval: String,
    /// Open time (epoch ms).
    #[serde(rename = "t")]
    pub open_time: i64,
    /// Close time (epoch ms).
    #[serde(rename = "T")]
    pub close_time: i64,
    /// Open.
    #[serde(rename = "o")]
    pub open: Decimal,
    /// High.
    #[serde(rename = "h")]
    pub high: Decimal,
    /// Low.
    #[serde(rename = "l")]
    pub low: Decimal,
    /// Close.
    #[serde(rename = "c")]
    pub close: Decimal,
    /// Volume, in the asset.
    #[serde(rename = "v")]
    pub volume: Decimal,
    /// Trades in it.
    #[serde(rename = "n")]
    pub trades: u64,
}

/// One funding payment rate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Funding {
    /// The asset.
    pub coin: String,
    /// The hourly rate.
    pub funding_rate: Decimal,
    /// The premium, when the venue says it.
    #[serde(default)]
    pub premium: Option<Decimal>,
    /// When (epoch ms).
    pub time: i64,
}

/// A recorded WebSocket message the host uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A book.
    Book(L2Book),
    /// Trades, oldest first as sent.
    Trades(Vec<Trade>),
    /// A candle (its latest state).
    Candle(Candle),
    /// Acknowledgements and pongs: nothing to the host's data.
    Other(String),
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

fn bad(what: impl Into<String>) -> DataError {
    DataError(what.into())
}

impl L2Book {
    /// A book from its JSON (an `/info` `l2Book` reply or a WebSocket
    /// `l2Book` message's data), checked.
    pub fn from_json(value: serde_json::Value) -> Result<L2Book, DataError> {
        let wire: L2BookWire =
            serde_json::from_value(value).map_err(|e| bad(format!("not a book: {e}")))?;
        let book = L2Book {
            coin: wire.coin,
            time: wire.time,
            bids: wire.levels.0,
            asks: wire.levels.1,
        };
        book.check()?;
        Ok(book)
    }

    fn check(&self) -> Result<(), DataError> {
        for (side, levels, better) in [("bid", &self.bids, true), ("ask", &self.asks, false)] {
            for (i, level) in levels.iter().enumerate() {
                if level.px <= Decimal::ZERO || level.sz <= Decimal::ZERO {
                    return Err(bad(format!(
                        "{} {side} {i}: price {} size {} must both be above 0",
                        self.coin, level.px, level.sz
                    )));
                }
                if let Some(before) = i.checked_sub(1).map(|j| &levels[j]) {
                    let sorted = if better {
                        level.px < before.px
                    } else {
                        level.px > before.px
                    };
                    if !sorted {
                        return Err(bad(format!(
                            "{} {side} {i}: price {} is out of order after {}",
                            self.coin, level.px, before.px
                        )));
                    }
                }
            }
        }
        match (self.bids.first(), self.asks.first()) {
            (Some(bid), Some(ask)) if bid.px >= ask.px => Err(bad(format!(
                "{}: crossed book, best bid {} at or above best ask {}",
                self.coin, bid.px, ask.px
            ))),
            _ => Ok(()),
        }
    }
}

impl Trade {
    fn check(&self) -> Result<(), DataError> {
        if self.px <= Decimal::ZERO || self.sz <= Decimal::ZERO {
            return Err(bad(format!(
                "{} trade {}: price {} size {} must both be above 0",
                self.coin, self.tid, self.px, self.sz
            )));
        }
        Ok(())
    }
}

impl Candle {
    /// A candle from its JSON (a WebSocket `candle` message's data, or an
    /// element of a `candleSnapshot` reply), checked.
    pub fn from_json(value: serde_json::Value) -> Result<Candle, DataError> {
        let candle: Candle =
            serde_json::from_value(value).map_err(|e| bad(format!("not a candle: {e}")))?;
        let c = &candle;
        let holds =
            c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close) && c.low > Decimal::ZERO;
        if !holds {
            return Err(bad(format!(
                "{} {} candle at {}: low {} and high {} must hold open {} and close {}",
                c.coin, c.interval, c.open_time, c.low, c.high, c.open, c.close
            )));
        }
        if c.close_time <= c.open_time || c.volume < Decimal::ZERO {
            return Err(bad(format!(
                "{} {} candle at {}: its times or volume are wrong",
                c.coin, c.interval, c.open_time
            )));
        }
        Ok(candle)
    }
}

/// Trades from their JSON (a `recentTrades` reply or a `trades` message's
/// data), each checked.
pub fn trades_from_json(value: serde_json::Value) -> Result<Vec<Trade>, DataError> {
    let trades: Vec<Trade> =
        serde_json::from_value(value).map_err(|e| bad(format!("not trades: {e}")))?;
    trades.iter().try_for_each(Trade::check)?;
    Ok(trades)
}

/// Candles of a `candleSnapshot` reply, each checked, in time order.
pub fn candles_from_json(value: serde_json::Value) -> Result<Vec<Candle>, DataError> {
    let items = match value {
        serde_json::Value::Array(items) => items,
        other => return Err(bad(format!("a candle snapshot is a list, not {other}"))),
    };
    let mut candles = items
        .into_iter()
        .map(Candle::from_json)
        .collect::<Result<Vec<_>, _>>()?;
    candles.sort_by_key(|c| c.open_time);
    Ok(candles)
}

/// One recorded WebSocket line.
pub fn read_line(line: &str) -> Result<Message, DataError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
    let channel = value["channel"]
        .as_str()
        .ok_or_else(|| bad("no channel"))?
        .to_owned();
    let data = value
        .get("data")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    match channel.as_str() {
        "l2Book" => L2Book::from_json(data).map(Message::Book),
        "trades" => trades_from_json(data).map(Message::Trades),
        "candle" => Candle::from_json(data).map(Message::Candle),
        _ => Ok(Message::Other(channel)),
    }
}

/// Every line of a recording, each read or refused with its line number;
/// blank lines are skipped.
pub fn read_recording(text: &str) -> Vec<Result<Message, (usize, DataError)>> {
    (text.lines().enumerate())
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| read_line(line).map_err(|e| (i + 1, e)))
        .collect()
}

/// The files `paths` name: a file is itself; a directory is its files
/// with one of `extensions`, sorted by name.
pub fn files_in(
    paths: &[std::path::PathBuf],
    extensions: &[&str],
) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut found: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| extensions.iter().any(|e| x == *e))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Funding rates of a `fundingHistory` reply.
pub fn funding_from_json(value: serde_json::Value) -> Result<Vec<Funding>, DataError> {
    serde_json::from_value(value).map_err(|e| bad(format!("not funding history: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/../../../shared/data/hyperliquid/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn the_real_books_read_exactly() {
        let ws = L2Book::from_json(sample("ws_book_data.json")).unwrap();
        assert_eq!(
            (ws.coin.as_str(), ws.time, ws.bids.len(), ws.asks.len()),
            ("BTC", 1_703_875_200_000, 5, 5)
        );
        assert_eq!(
            (ws.bids[0].px, ws.bids[0].sz, ws.bids[0].n),
            (d("98450.50"), d("2.5"), Some(3))
        );
        assert_eq!(ws.asks[0].px, d("98451.00"));
        let http = L2Book::from_json(sample("http_l2_book_btc.json")).unwrap();
        assert_eq!(
            (http.bids[0].px, http.asks[4].sz, http.bids[0].n),
            (d("110427.0"), d("1.27191"), None)
        );
        L2Book::from_json(sample("http_l2_book_snapshot.json")).unwrap();
    }

    #[test]
    fn a_crossed_or_unsorted_book_is_refused_by_name() {
        let mut book = sample("ws_book_data.json");
        book["levels"][1][0]["px"] = "98450.50".into();
        let e = L2Book::from_json(book).unwrap_err().to_string();
        assert!(e.contains("crossed book") && e.contains("98450.50"), "{e}");
        let mut book = sample("ws_book_data.json");
        book["levels"][0][2]["px"] = "98460".into();
        let e = L2Book::from_json(book).unwrap_err().to_string();
        assert!(e.contains("bid 2: price 98460 is out of order"), "{e}");
        let mut book = sample("ws_book_data.json");
        book["levels"][0][0]["sz"] = "0".into();
        assert!(
            L2Book::from_json(book)
                .unwrap_err()
                .to_string()
                .contains("bid 0")
        );
    }

    #[test]
    fn trades_and_funding_read_exactly() {
        let trades = trades_from_json(sample("http_recent_trades_btc.json")).unwrap();
        assert_eq!(trades.len(), 3);
        assert_eq!(
            (trades[0].side, trades[0].px, trades[0].sz, trades[0].tid),
            (Aggressor::Sell, d("104320.0"), d("0.01500"), 300_003)
        );
        assert_eq!(trades[1].side, Aggressor::Buy);
        let funding = funding_from_json(sample("http_funding_history.json")).unwrap();
        assert_eq!(
            (
                funding[1].funding_rate,
                funding[1].premium,
                funding[2].premium
            ),
            (d("-0.0000081"), Some(d("-0.00012500")), None)
        );
    }

    #[test]
    fn recorded_lines_read_by_channel_and_bad_ones_name_their_line() {
        let book = serde_json::json!({ "channel": "l2Book", "data": sample("ws_book_data.json") });
        let candle = r#"{"channel":"candle","data":{"t":1703875200000,"T":1703875259999,"s":"BTC","i":"1m","o":"98440.0","c":"98450.5","h":"98460.0","l":"98430.0","v":"12.5","n":210}}"#;
        let bad_candle = candle.replace(r#""h":"98460.0""#, r#""h":"98445.0""#);
        let text =
            format!("{book}\n{candle}\n\n{{\"channel\":\"pong\"}}\n{bad_candle}\nnot json\n");
        let read = read_recording(&text);
        assert!(matches!(&read[0], Ok(Message::Book(b)) if b.bids.len() == 5));
        assert!(
            matches!(&read[1], Ok(Message::Candle(c)) if c.close == d("98450.5") && c.trades == 210)
        );
        assert_eq!(read[2], Ok(Message::Other("pong".into())));
        let Err((line, e)) = &read[3] else {
            panic!("{:?}", read[3])
        };
        assert!(
            *line == 5 && e.to_string().contains("must hold open"),
            "{line} {e}"
        );
        assert!(matches!(&read[4], Err((6, e)) if e.to_string().starts_with("not JSON")));
        let snapshot =
            serde_json::json!([serde_json::from_str::<serde_json::Value>(candle).unwrap()["data"]]);
        assert_eq!(candles_from_json(snapshot).unwrap().len(), 1);
    }
}
