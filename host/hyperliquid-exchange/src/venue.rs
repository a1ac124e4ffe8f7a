//! The local exchange's state and rules: the books, the accounts, every
//! order's history, and what a signed action does to them (protocol notes
//! D.6 to D.10). Handlers lock it briefly; every change it makes is also
//! sent as an [`Event`] for the WebSocket subscribers.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use clever_hyperliquid::actions::{CancelByCloidWire, CancelWire, ModifyWire, OrderRef};
use clever_hyperliquid::data::{Candle, Message, Trade};
use clever_hyperliquid::rules::{self, MIN_NOTIONAL};
use clever_hyperliquid::{Action, Address, Cloid, OrderType, OrderWire, Tif, Universe};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::account::Account;
use crate::book::{CoinBook, Fill, Resting, Taker};
use crate::json::{candle_json, num, order_json};

/// Levels a side in the books the exchange shows.
pub const BOOK_DEPTH: usize = 20;
/// Candles kept per coin and interval (the venue serves the latest 5000).
const CANDLES_KEPT: usize = 5000;
const HOUR_MS: i64 = 3_600_000;

/// Fees and funding.
#[derive(Debug, Clone)]
pub struct Rates {
    /// Paid by an order that takes liquidity, of its value.
    pub taker_fee: Decimal,
    /// Paid by a resting order when it fills.
    pub maker_fee: Decimal,
    /// Funding a position pays each hour, of its value (longs pay when
    /// positive). The venue's floor is 0.01% per 8 hours.
    pub funding_hourly: Decimal,
}

impl Default for Rates {
    /// Hyperliquid's base tier: taker 0.045%, maker 0.015%; funding at
    /// the interest-only rate, 0.00125% an hour.
    fn default() -> Rates {
        Rates {
            taker_fee: Decimal::new(45, 5),
            maker_fee: Decimal::new(15, 5),
            funding_hourly: Decimal::new(125, 7),
        }
    }
}

/// Something subscribers may want to hear.
#[derive(Debug, Clone)]
pub enum Event {
    /// A coin's book changed: the `l2Book` payload.
    Book(String, Value),
    /// Trades printed: the coin, the `trades` payload.
    Trades(String, Value),
    /// A candle changed: coin, interval, the `candle` payload.
    Candle(String, String, Value),
    /// Order updates of a user: the `orderUpdates` payload.
    Orders(Address, Value),
    /// Fills of a user: the fills.
    Fills(Address, Value),
    /// A funding payment of a user: the `funding` object.
    Funding(Address, Value),
}

/// An order's history, for `orderStatus` and `openOrders`.
#[derive(Debug, Clone)]
struct OrderRecord {
    user: Address,
    asset: u32,
    order: Resting,
    tif: Tif,
    status: &'static str,
    status_time: i64,
}

/// The whole exchange.
#[derive(Debug)]
pub struct Venue {
    universe: Universe,
    rates: Rates,
    books: Vec<CoinBook>,
    accounts: HashMap<Address, Account>,
    orders: BTreeMap<u64, OrderRecord>,
    cloids: HashMap<(Address, Cloid), u64>,
    candles: BTreeMap<(String, String), Vec<Candle>>,
    next_oid: u64,
    next_tid: u64,
    data_time: i64,
    applied_at: Instant,
    speed: f64,
    funded_hour: Option<i64>,
    events: broadcast::Sender<Event>,
}

impl Venue {
    /// An exchange listing `universe`, holding `accounts` with their USDC,
    /// whose clock runs at `speed` between replayed messages.
    pub fn new(
        universe: Universe,
        accounts: &[(Address, Decimal)],
        rates: Rates,
        speed: f64,
    ) -> Venue {
        let books = universe
            .universe
            .iter()
            .map(|_| CoinBook::default())
            .collect();
        Venue {
            universe,
            rates,
            books,
            accounts: accounts
                .iter()
                .map(|(a, usdc)| (*a, Account::new(*usdc)))
                .collect(),
            orders: BTreeMap::new(),
            cloids: HashMap::new(),
            candles: BTreeMap::new(),
            next_oid: 1,
            next_tid: 1,
            data_time: 0,
            applied_at: Instant::now(),
            speed,
            funded_hour: None,
            events: broadcast::channel(4096).0,
        }
    }

    /// Hear every change from now on.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The listed assets.
    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// The exchange's time (ms): the latest replayed time, moved on by the
    /// wall time since at the replay's speed.
    pub fn now(&self) -> i64 {
        let since = self.applied_at.elapsed().as_secs_f64() * 1000.0 * self.speed;
        self.data_time + since as i64
    }

    fn send(&self, event: Event) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    fn coin(&self, asset: u32) -> &str {
        self.universe.get(asset).map_or("?", |a| a.name.as_str())
    }

    /// A coin's book as `l2Book` shows it.
    pub fn book_json(&self, coin: &str) -> Option<Value> {
        let asset = self.universe.index(coin)?;
        let book = self.books.get(asset as usize)?;
        let (bids, asks) = book.levels(BOOK_DEPTH);
        let side = |levels: Vec<clever_hyperliquid::data::Level>| {
            let levels = levels
                .iter()
                .map(|l| json!({"px": num(l.px), "sz": num(l.sz), "n": l.n.unwrap_or(1)}));
            levels.collect::<Vec<_>>()
        };
        Some(json!({"coin": coin, "time": self.now(), "levels": [side(bids), side(asks)]}))
    }

    /// Apply one replayed message.
    pub fn apply(&mut self, message: Message) {
        let time = match &message {
            Message::Book(book) => book.time,
            Message::Trades(trades) => trades.last().map_or(self.data_time, |t| t.time),
            Message::Candle(candle) => self.data_time.max(candle.open_time),
            Message::Other(_) => return,
        };
        self.data_time = self.data_time.max(time);
        self.applied_at = Instant::now();
        self.fund_if_due();
        match message {
            Message::Book(book) => self.on_book(book),
            Message::Trades(trades) => self.on_trades(trades),
            Message::Candle(candle) => self.on_candle(candle),
            Message::Other(_) => {}
        }
    }

    fn on_book(&mut self, book: clever_hyperliquid::data::L2Book) {
        let Some(asset) = self.universe.index(&book.coin) else {
            return;
        };
        let coin = book.coin.clone();
        let fills = self.books[asset as usize].on_snapshot(book);
        self.book_fills(asset, fills);
        if let Some(data) = self.book_json(&coin) {
            self.send(Event::Book(coin, data));
        }
    }

    fn on_trades(&mut self, trades: Vec<Trade>) {
        let Some(coin) = trades.first().map(|t| t.coin.clone()) else {
            return;
        };
        let Some(asset) = self.universe.index(&coin) else {
            return;
        };
        let fills = self.books[asset as usize].on_trades(&trades);
        self.book_fills(asset, fills);
        let data: Vec<Value> = trades
            .iter()
            .map(|t| {
                let side = if t.side == clever_hyperliquid::data::Aggressor::Buy {
                    "B"
                } else {
                    "A"
                };
                json!({"coin": t.coin, "side": side, "px": num(t.px), "sz": num(t.sz),
                       "hash": t.hash, "time": t.time, "tid": t.tid, "users": []})
            })
            .collect();
        self.send(Event::Trades(coin, Value::Array(data)));
    }

    fn on_candle(&mut self, candle: Candle) {
        let key = (candle.coin.clone(), candle.interval.clone());
        let data = candle_json(&candle);
        let kept = self.candles.entry(key.clone()).or_default();
        match kept.last_mut() {
            Some(last) if last.open_time == candle.open_time => *last = candle,
            _ => kept.push(candle),
        }
        if kept.len() > CANDLES_KEPT {
            kept.remove(0);
        }
        self.send(Event::Candle(key.0, key.1, data));
    }

    /// Hourly funding: at each hour the replayed clock passes, every
    /// position pays size x oracle (here the mid) x the hourly rate.
    fn fund_if_due(&mut self) {
        let hour = self.data_time.div_euclid(HOUR_MS);
        let due = self.funded_hour.is_some_and(|h| hour > h);
        self.funded_hour = Some(hour);
        if !due {
            return;
        }
        let rate = self.rates.funding_hourly;
        let time = hour * HOUR_MS;
        let mut paid = Vec::new();
        for (user, account) in &mut self.accounts {
            for (asset, book) in self.books.iter().enumerate() {
                let (Some(oracle), Ok(asset)) = (book.mid(), u32::try_from(asset)) else {
                    continue;
                };
                let szi = account.szi(asset);
                if let Some(usdc) = account.pay_funding(asset, oracle, rate) {
                    paid.push((*user, asset, szi, usdc));
                }
            }
        }
        for (user, asset, szi, usdc) in paid {
            let data = json!({"time": time, "coin": self.coin(asset), "usdc": num(-usdc),
                              "szi": num(szi), "fundingRate": num(rate)});
            self.send(Event::Funding(user, data));
        }
    }

    /// Act on a signed request's action for `user` (already verified).
    pub fn act(&mut self, user: Address, action: Action) -> Value {
        let ok = |kind: &str, data: Value| json!({"status": "ok", "response": {"type": kind, "data": data}});
        match action {
            Action::Order { orders, .. } => {
                let statuses: Vec<Value> = orders.iter().map(|o| self.place(user, o)).collect();
                ok("order", json!({"statuses": statuses}))
            }
            Action::Cancel { cancels } => {
                let statuses: Vec<Value> = cancels.iter().map(|c| self.cancel(user, c)).collect();
                ok("cancel", json!({"statuses": statuses}))
            }
            Action::CancelByCloid { cancels } => {
                let statuses: Vec<Value> = cancels
                    .iter()
                    .map(|c| self.cancel_by_cloid(user, c))
                    .collect();
                ok("cancel", json!({"statuses": statuses}))
            }
            Action::Modify { oid, order } => {
                let status = self.modify(user, &ModifyWire { oid, order });
                match status.get("error") {
                    Some(e) => json!({"status": "err", "response": e}),
                    None => json!({"status": "ok", "response": {"type": "default"}}),
                }
            }
            Action::BatchModify { modifies } => {
                let statuses: Vec<Value> = modifies.iter().map(|m| self.modify(user, m)).collect();
                ok("order", json!({"statuses": statuses}))
            }
            Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            } => match self.update_leverage(user, asset, is_cross, leverage) {
                Ok(()) => json!({"status": "ok", "response": {"type": "default"}}),
                Err(e) => json!({"status": "err", "response": e}),
            },
        }
    }

    fn update_leverage(
        &mut self,
        user: Address,
        asset: u32,
        cross: bool,
        leverage: u32,
    ) -> Result<(), String> {
        let max = (self.universe.get(asset))
            .ok_or_else(|| format!("Asset {asset} does not exist."))?
            .max_leverage;
        if leverage == 0 || leverage > max {
            return Err(format!(
                "Invalid leverage value: {leverage} (1 to {max} for asset={asset})"
            ));
        }
        let account = self.accounts.get_mut(&user).ok_or("unknown user")?;
        account.leverage.insert(asset, (leverage, cross));
        Ok(())
    }

    /// Place one order: its status in the venue's words.
    fn place(&mut self, user: Address, wire: &OrderWire) -> Value {
        match self.checked(user, wire) {
            Ok((taker, tif)) => self.execute(user, wire, taker, tif),
            Err(e) => json!({"error": format!("{e} asset={}", wire.a)}),
        }
    }

    /// An order checked against the rules, tick and lot, value, reduce
    /// only, post only and margin: what may be matched, or why not.
    fn checked(&self, user: Address, wire: &OrderWire) -> Result<(Taker, Tif), String> {
        let asset = self.universe.get(wire.a).ok_or("Asset does not exist.")?;
        let tif = match &wire.t {
            OrderType::Limit(limit) => limit.tif,
            OrderType::Trigger(_) => {
                return Err("Trigger orders are not supported by the local exchange.".into());
            }
        };
        let px: Decimal = wire
            .p
            .parse()
            .map_err(|_| format!("Invalid price {:?}.", wire.p))?;
        let sz: Decimal = wire
            .s
            .parse()
            .map_err(|_| format!("Invalid size {:?}.", wire.s))?;
        if !rules::price_ok(px, asset.sz_decimals) {
            return Err("Price must be divisible by tick size.".into());
        }
        if !rules::size_ok(sz, asset.sz_decimals) {
            return Err("Order has invalid size.".into());
        }
        if let Some(cloid) = wire.c.filter(|c| self.cloids.contains_key(&(user, *c))) {
            return Err(format!("Duplicate client order id {}.", json!(cloid)));
        }
        let account = self.accounts.get(&user).ok_or("unknown user")?;
        let held = account.szi(wire.a);
        let reducing = if (held > Decimal::ZERO) != wire.b && !held.is_zero() {
            held.abs()
        } else {
            Decimal::ZERO
        };
        let sz = if wire.r {
            if reducing.is_zero() {
                return Err("Reduce only order would increase position.".into());
            }
            sz.min(reducing)
        } else {
            sz
        };
        if px * sz < MIN_NOTIONAL {
            return Err(format!("Order must have minimum value of ${MIN_NOTIONAL}."));
        }
        let taker = Taker {
            oid: self.next_oid,
            user,
            is_buy: wire.b,
            px,
            sz,
        };
        let book = &self.books[wire.a as usize];
        if tif == Tif::Alo && book.would_cross(&taker) {
            let (bid, ask) = book.bbo();
            let show = |p: Option<Decimal>| p.map_or("-".into(), num);
            return Err(format!(
                "Post only order would have immediately matched, bbo was {}@{}.",
                show(bid),
                show(ask)
            ));
        }
        let opening = (sz - reducing).max(Decimal::ZERO);
        let (leverage, _) = account.leverage_of(wire.a, asset.max_leverage);
        let needed = px * opening / Decimal::from(leverage);
        if needed > self.free_margin(user) {
            return Err("Insufficient margin to place order.".into());
        }
        Ok((taker, tif))
    }

    /// USDC a user may still commit: account value less the margin its
    /// positions and resting orders use.
    fn free_margin(&self, user: Address) -> Decimal {
        let Some(account) = self.accounts.get(&user) else {
            return Decimal::ZERO;
        };
        let mut value = account.balance;
        let mut used = Decimal::ZERO;
        for (asset, position) in &account.positions {
            let max = self.universe.get(*asset).map_or(1, |a| a.max_leverage);
            let leverage = Decimal::from(account.leverage_of(*asset, max).0);
            let mark = self.books[*asset as usize]
                .mid()
                .unwrap_or(position.entry_px);
            value += position.szi * (mark - position.entry_px);
            used += position.szi.abs() * mark / leverage;
        }
        for record in self
            .orders
            .values()
            .filter(|r| r.user == user && r.status == "open")
        {
            let max = self
                .universe
                .get(record.asset)
                .map_or(1, |a| a.max_leverage);
            let leverage = Decimal::from(account.leverage_of(record.asset, max).0);
            used += record.order.px * record.order.sz / leverage;
        }
        value - used
    }

    /// Match a checked order, then rest, cancel or report it by its time
    /// in force.
    fn execute(&mut self, user: Address, wire: &OrderWire, taker: Taker, tif: Tif) -> Value {
        let (asset, oid, now) = (wire.a, taker.oid, self.now());
        self.next_oid += 1;
        let fills = if tif == Tif::Alo {
            Vec::new()
        } else {
            self.books[asset as usize].take(&taker)
        };
        let filled: Decimal = fills.iter().filter(|f| f.oid == oid).map(|f| f.sz).sum();
        let value: Decimal = fills
            .iter()
            .filter(|f| f.oid == oid)
            .map(|f| f.px * f.sz)
            .sum();
        let order = Resting {
            oid,
            user,
            is_buy: taker.is_buy,
            px: taker.px,
            sz: taker.sz - filled,
            orig_sz: taker.sz,
            cloid: wire.c,
            reduce_only: wire.r,
            timestamp: now,
        };
        if let Some(cloid) = wire.c {
            self.cloids.insert((user, cloid), oid);
        }
        let rests = tif != Tif::Ioc && order.sz > Decimal::ZERO;
        let status = match (rests, filled.is_zero()) {
            (true, _) => "open",
            (false, false) => "filled",
            (false, true) => "canceled",
        };
        self.record(OrderRecord {
            user,
            asset,
            order: order.clone(),
            tif,
            status,
            status_time: now,
        });
        if rests {
            self.books[asset as usize].rest(order);
        }
        self.book_fills(asset, fills);
        if let Some(data) = self.book_json(self.coin(asset)) {
            self.send(Event::Book(self.coin(asset).to_owned(), data));
        }
        let cloid = wire.c.map(|c| json!(c));
        match (rests, filled.is_zero()) {
            (true, _) => json!({"resting": with_cloid(json!({"oid": oid}), cloid)}),
            (false, false) => json!({"filled": with_cloid(
                json!({"totalSz": num(filled), "avgPx": num(value / filled), "oid": oid}), cloid)}),
            (false, true) => json!({"error": format!(
                "Order could not immediately match against any resting orders. asset={asset}")}),
        }
    }

    /// Store an order's new state and tell its owner.
    fn record(&mut self, record: OrderRecord) {
        let update = json!([{"order": order_json(self.coin(record.asset), &record.order),
                             "status": record.status, "statusTimestamp": record.status_time}]);
        let user = record.user;
        self.orders.insert(record.order.oid, record);
        self.send(Event::Orders(user, update));
    }

    /// Book matched fills on accounts, with fees, and tell their owners.
    fn book_fills(&mut self, asset: u32, fills: Vec<Fill>) {
        let (coin, now) = (self.coin(asset).to_owned(), self.now());
        let mut by_user: BTreeMap<Address, Vec<Value>> = BTreeMap::new();
        for fill in fills {
            let rate = if fill.crossed {
                self.rates.taker_fee
            } else {
                self.rates.maker_fee
            };
            let fee = (fill.px * fill.sz * rate).round_dp(6);
            let tid = self.next_tid;
            self.next_tid += 1;
            let Some(account) = self.accounts.get_mut(&fill.user) else {
                continue;
            };
            let applied = account.apply_fill(asset, (fill.is_buy, fill.px, fill.sz), fee);
            let cloid = self
                .orders
                .get(&fill.oid)
                .and_then(|r| r.order.cloid)
                .map(|c| json!(c));
            let data = with_cloid(
                json!({
                "coin": coin, "px": num(fill.px), "sz": num(fill.sz),
                "side": if fill.is_buy { "B" } else { "A" }, "time": now,
                "startPosition": num(applied.start_position), "dir": applied.dir,
                "closedPnl": num(applied.closed_pnl), "hash": format!("0x{tid:064x}"),
                "oid": fill.oid, "crossed": fill.crossed, "fee": num(fee), "tid": tid,
                "feeToken": "USDC"}),
                cloid,
            );
            account.fills.push(data.clone());
            by_user.entry(fill.user).or_default().push(data);
            if !fill.crossed {
                // A taker's record was written with its result already.
                self.settle_order(fill.oid, fill.sz, now);
            }
        }
        for (user, fills) in by_user {
            self.send(Event::Fills(user, Value::Array(fills)));
        }
    }

    /// A resting order filled by `sz`: its record follows, and a fully
    /// filled one is `filled`.
    fn settle_order(&mut self, oid: u64, sz: Decimal, now: i64) {
        let Some(record) = self.orders.get_mut(&oid) else {
            return;
        };
        if record.status != "open" {
            return;
        }
        record.order.sz -= sz;
        if record.order.sz <= Decimal::ZERO {
            let mut done = record.clone();
            done.status = "filled";
            done.status_time = now;
            self.record(done);
        }
    }

    fn cancel(&mut self, user: Address, cancel: &CancelWire) -> Value {
        self.cancel_oid(user, cancel.a, cancel.o)
    }

    fn cancel_by_cloid(&mut self, user: Address, cancel: &CancelByCloidWire) -> Value {
        match self.cloids.get(&(user, cancel.cloid)).copied() {
            Some(oid) => self.cancel_oid(user, cancel.asset, oid),
            None => {
                json!({"error": format!("Order was never placed, already canceled, or filled. asset={}", cancel.asset)})
            }
        }
    }

    fn cancel_oid(&mut self, user: Address, asset: u32, oid: u64) -> Value {
        let open = self
            .orders
            .get(&oid)
            .is_some_and(|r| r.user == user && r.asset == asset && r.status == "open");
        let removed = if open {
            self.books
                .get_mut(asset as usize)
                .and_then(|b| b.remove(oid))
        } else {
            None
        };
        match removed {
            Some(order) => {
                let record = self.orders.get(&oid).cloned();
                if let Some(mut record) = record {
                    record.order = order;
                    record.status = "canceled";
                    record.status_time = self.now();
                    self.record(record);
                }
                json!("success")
            }
            None => {
                json!({"error": format!("Order was never placed, already canceled, or filled. asset={asset}")})
            }
        }
    }

    /// Modify: cancel the resting order and place its replacement (which
    /// gets a new order id, as on the venue).
    fn modify(&mut self, user: Address, modify: &ModifyWire) -> Value {
        let oid = match &modify.oid {
            OrderRef::Oid(oid) => Some(*oid),
            OrderRef::Cloid(cloid) => self.cloids.get(&(user, *cloid)).copied(),
        };
        let asset = oid.and_then(|o| self.orders.get(&o)).map(|r| r.asset);
        match (oid, asset) {
            (Some(oid), Some(asset)) if self.cancel_oid(user, asset, oid) == json!("success") => {
                if let Some(cloid) = modify.order.c {
                    self.cloids.remove(&(user, cloid));
                }
                self.place(user, &modify.order)
            }
            _ => json!({"error": "Cannot modify canceled or filled order"}),
        }
    }

    /// Answer an `/info` request.
    pub fn info(&self, request: &Value) -> Result<Value, String> {
        crate::info::answer(self, request)
    }

    pub(crate) fn account(&self, user: &Address) -> Option<&Account> {
        self.accounts.get(user)
    }

    pub(crate) fn book(&self, asset: u32) -> Option<&CoinBook> {
        self.books.get(asset as usize)
    }

    pub(crate) fn candles(&self, coin: &str, interval: &str) -> &[Candle] {
        self.candles
            .get(&(coin.to_owned(), interval.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    pub(crate) fn rates(&self) -> &Rates {
        &self.rates
    }

    /// A user's orders: open ones only, or the one with `oid`.
    pub(crate) fn orders_of(
        &self,
        user: &Address,
    ) -> impl Iterator<Item = (u32, &Resting, Tif, &'static str, i64)> {
        (self.orders.values())
            .filter(move |r| r.user == *user)
            .map(|r| (r.asset, &r.order, r.tif, r.status, r.status_time))
    }

    pub(crate) fn order_by(
        &self,
        user: &Address,
        which: &OrderRef,
    ) -> Option<(u32, &Resting, Tif, &'static str, i64)> {
        let oid = match which {
            OrderRef::Oid(oid) => *oid,
            OrderRef::Cloid(cloid) => *self.cloids.get(&(*user, *cloid))?,
        };
        let r = self.orders.get(&oid).filter(|r| r.user == *user)?;
        Some((r.asset, &r.order, r.tif, r.status, r.status_time))
    }

    pub(crate) fn free_margin_of(&self, user: Address) -> Decimal {
        self.free_margin(user)
    }
}

fn with_cloid(mut value: Value, cloid: Option<Value>) -> Value {
    if let (Some(cloid), Some(map)) = (cloid, value.as_object_mut()) {
        map.insert("cloid".into(), cloid);
    }
    value
}

impl Venue {
    /// Use `nonce` for `user` at wall time `wall` (ms): an unknown user
    /// is refused as the venue does.
    pub fn use_nonce(&mut self, user: Address, nonce: u64, wall: i64) -> Result<(), String> {
        let account = (self.accounts.get_mut(&user))
            .ok_or_else(|| format!("User or API Wallet {user} does not exist."))?;
        account.use_nonce(nonce, wall)
    }
}
