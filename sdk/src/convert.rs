//! Conversions between the WIT types and clever-sdk's types, written once
//! and expanded on both sides of the boundary: in the SDK's guest glue
//! (wit-bindgen's types) and in the host's runtime (wasmtime's bindgen
//! types). Both generators name types, fields and cases alike, so the same
//! source fits both; each side's generated types are local to it, so the
//! `From` impls are allowed there.

/// `From` both ways between a generated WIT enum and the SDK's twin.
#[doc(hidden)]
#[macro_export]
macro_rules! __wit_enum {
    ($wit:ty, $sdk:ty, $($case:ident),+) => {
        impl From<$wit> for $sdk {
            fn from(v: $wit) -> Self {
                match v { $(<$wit>::$case => <$sdk>::$case,)+ }
            }
        }
        impl From<$sdk> for $wit {
            fn from(v: $sdk) -> Self {
                match v { $(<$sdk>::$case => <$wit>::$case,)+ }
            }
        }
    };
}

/// Every conversion between the generated module of WIT `types` at the
/// given absolute path and clever-sdk's types.
#[doc(hidden)]
#[macro_export]
macro_rules! __wit_conversions {
    ($($wit:ident)::+) => {
        const _: () = {
            use $($wit)::+ as wit;
            use $crate as sdk;

            $crate::__wit_enum!(wit::Side, sdk::Side, Back, Lay);
            $crate::__wit_enum!(wit::OrderType, sdk::OrderType, Limit, LimitOnClose, MarketOnClose);
            $crate::__wit_enum!(wit::Persistence, sdk::Persistence, Lapse, Persist, MarketOnClose);
            $crate::__wit_enum!(wit::OrderStatus, sdk::OrderStatus, Pending, Executable, ExecutionComplete, Rejected);
            $crate::__wit_enum!(wit::MarketStatus, sdk::MarketStatus, Inactive, Open, Suspended, Closed);
            $crate::__wit_enum!(wit::RunnerStatus, sdk::RunnerStatus, Active, Winner, Loser, Placed, Removed, Hidden);
            $crate::__wit_enum!(wit::LogLevel, sdk::LogLevel, Trace, Debug, Info, Warn, Error);
            $crate::__wit_enum!(wit::MarketInterest, sdk::MarketInterest, EveryUpdate, InPlay, NothingMore);
            $crate::__wit_enum!(wit::RiskLimit, sdk::RiskLimit, MaxStake, MaxSelectionLiability,
                MaxMarketLiability, MaxOpenOrders, MaxOrdersPerHour, DailyLoss, KillSwitch);

            impl From<wit::RejectReason> for sdk::RejectReason {
                fn from(r: wit::RejectReason) -> Self {
                    use wit::RejectReason as W;
                    match r {
                        W::RiskLimit(l) => Self::RiskLimit(l.into()),
                        W::InvalidPrice => Self::InvalidPrice,
                        W::InvalidSize => Self::InvalidSize,
                        W::MarketNotOpen => Self::MarketNotOpen,
                        W::UnknownMarket => Self::UnknownMarket,
                        W::UnknownSelection => Self::UnknownSelection,
                        W::UnknownOrder => Self::UnknownOrder,
                        W::RateLimited => Self::RateLimited,
                        W::VenueError(code) => Self::VenueError(code),
                    }
                }
            }

            impl From<sdk::RejectReason> for wit::RejectReason {
                fn from(r: sdk::RejectReason) -> Self {
                    use sdk::RejectReason as S;
                    match r {
                        S::RiskLimit(l) => Self::RiskLimit(l.into()),
                        S::InvalidPrice => Self::InvalidPrice,
                        S::InvalidSize => Self::InvalidSize,
                        S::MarketNotOpen => Self::MarketNotOpen,
                        S::UnknownMarket => Self::UnknownMarket,
                        S::UnknownSelection => Self::UnknownSelection,
                        S::UnknownOrder => Self::UnknownOrder,
                        S::RateLimited => Self::RateLimited,
                        S::VenueError(code) => Self::VenueError(code),
                    }
                }
            }

            impl From<wit::OrderRequest> for sdk::OrderRequest {
                fn from(r: wit::OrderRequest) -> Self {
                    sdk::OrderRequest {
                        market_id: sdk::MarketId(r.market_id),
                        selection_id: sdk::SelectionId(r.selection_id),
                        side: r.side.into(),
                        order_type: r.order_type.into(),
                        price: sdk::Price(r.price),
                        size: r.size,
                        persistence: r.persistence.into(),
                        customer_ref: r.customer_ref,
                    }
                }
            }

            impl From<&sdk::OrderRequest> for wit::OrderRequest {
                fn from(r: &sdk::OrderRequest) -> Self {
                    wit::OrderRequest {
                        market_id: r.market_id.0.clone(),
                        selection_id: r.selection_id.0,
                        side: r.side.into(),
                        order_type: r.order_type.into(),
                        price: r.price.0,
                        size: r.size,
                        persistence: r.persistence.into(),
                        customer_ref: r.customer_ref.clone(),
                    }
                }
            }

            impl From<wit::Order> for sdk::Order {
                fn from(o: wit::Order) -> Self {
                    sdk::Order {
                        id: sdk::OrderId(o.id),
                        request: o.request.into(),
                        status: o.status.into(),
                        size_matched: o.size_matched,
                        average_price_matched: o.average_price_matched,
                        size_cancelled: o.size_cancelled,
                        size_lapsed: o.size_lapsed,
                        placed_at: sdk::Timestamp(o.placed_at),
                        rejection: o.rejection.map(Into::into),
                    }
                }
            }

            impl From<&sdk::Order> for wit::Order {
                fn from(o: &sdk::Order) -> Self {
                    wit::Order {
                        id: o.id.0,
                        request: (&o.request).into(),
                        status: o.status.into(),
                        size_matched: o.size_matched,
                        average_price_matched: o.average_price_matched,
                        size_cancelled: o.size_cancelled,
                        size_lapsed: o.size_lapsed,
                        placed_at: o.placed_at.0,
                        rejection: o.rejection.clone().map(Into::into),
                    }
                }
            }

            impl From<wit::RunnerPosition> for sdk::RunnerPosition {
                fn from(p: wit::RunnerPosition) -> Self {
                    sdk::RunnerPosition {
                        selection_id: sdk::SelectionId(p.selection_id),
                        back_matched: p.back_matched,
                        lay_matched: p.lay_matched,
                        if_win: p.if_win,
                        if_lose: p.if_lose,
                    }
                }
            }

            impl From<sdk::RunnerPosition> for wit::RunnerPosition {
                fn from(p: sdk::RunnerPosition) -> Self {
                    wit::RunnerPosition {
                        selection_id: p.selection_id.0,
                        back_matched: p.back_matched,
                        lay_matched: p.lay_matched,
                        if_win: p.if_win,
                        if_lose: p.if_lose,
                    }
                }
            }

            impl From<wit::SignalEvent> for sdk::Signal {
                fn from(s: wit::SignalEvent) -> Self {
                    sdk::Signal {
                        name: s.name,
                        value: s.value,
                        market_id: s.market_id.map(sdk::MarketId),
                        selection_id: s.selection_id.map(sdk::SelectionId),
                    }
                }
            }

            impl From<&sdk::Signal> for wit::SignalEvent {
                fn from(s: &sdk::Signal) -> Self {
                    wit::SignalEvent {
                        name: s.name.clone(),
                        value: s.value,
                        market_id: s.market_id.as_ref().map(|m| m.0.clone()),
                        selection_id: s.selection_id.map(|s| s.0),
                    }
                }
            }

            impl From<wit::Descriptor> for sdk::Descriptor {
                fn from(d: wit::Descriptor) -> Self {
                    let f = d.markets;
                    sdk::Descriptor {
                        name: d.name,
                        version: d.version,
                        sdk_version: d.sdk_version,
                        markets: sdk::MarketFilter {
                            venues: f.venues,
                            event_types: f.event_types,
                            market_types: f.market_types,
                            countries: f.countries,
                            window: f.window.map(|w| sdk::Window { opens: w.opens, closes: w.closes }),
                            in_play: f.in_play,
                        },
                    }
                }
            }

            impl From<sdk::Descriptor> for wit::Descriptor {
                fn from(d: sdk::Descriptor) -> Self {
                    let f = d.markets;
                    wit::Descriptor {
                        name: d.name,
                        version: d.version,
                        sdk_version: d.sdk_version,
                        markets: wit::MarketFilter {
                            venues: f.venues,
                            event_types: f.event_types,
                            market_types: f.market_types,
                            countries: f.countries,
                            window: f.window.map(|w| wit::Window { opens: w.opens, closes: w.closes }),
                            in_play: f.in_play,
                        },
                    }
                }
            }

            impl From<wit::Market> for sdk::Market {
                fn from(m: wit::Market) -> Self {
                    let levels = |v: Vec<wit::PriceSize>| {
                        let mut out = sdk::Levels::default();
                        for l in v {
                            out.push(sdk::PriceSize::new(l.price, l.size));
                        }
                        out
                    };
                    sdk::Market {
                        id: sdk::MarketId(m.id),
                        venue: m.venue,
                        event_type: m.event_type,
                        market_type: m.market_type,
                        country: m.country,
                        start_time: sdk::Timestamp(m.start_time),
                        status: m.status.into(),
                        in_play: m.in_play,
                        bet_delay: m.bet_delay,
                        number_of_winners: m.number_of_winners,
                        total_matched: m.total_matched,
                        publish_time: sdk::Timestamp::default(),
                        runners: m
                            .runners
                            .into_iter()
                            .map(|r| sdk::Runner {
                                selection_id: sdk::SelectionId(r.selection_id),
                                status: r.status.into(),
                                adjustment_factor: r.adjustment_factor,
                                last_traded: r.last_traded.map(sdk::Price),
                                traded_volume: r.traded_volume,
                                back: levels(r.back),
                                lay: levels(r.lay),
                                sp_near: r.sp_near,
                                sp_far: r.sp_far,
                                bsp: r.bsp,
                            })
                            .collect(),
                    }
                }
            }

            impl From<&sdk::Market> for wit::Market {
                fn from(m: &sdk::Market) -> Self {
                    let levels = |l: &sdk::Levels| {
                        l.as_slice()
                            .iter()
                            .map(|p| wit::PriceSize { price: p.price.0, size: p.size })
                            .collect()
                    };
                    wit::Market {
                        id: m.id.0.clone(),
                        venue: m.venue.clone(),
                        event_type: m.event_type.clone(),
                        market_type: m.market_type.clone(),
                        country: m.country.clone(),
                        start_time: m.start_time.0,
                        status: m.status.into(),
                        in_play: m.in_play,
                        bet_delay: m.bet_delay,
                        number_of_winners: m.number_of_winners,
                        total_matched: m.total_matched,
                        runners: m
                            .runners
                            .iter()
                            .map(|r| wit::Runner {
                                selection_id: r.selection_id.0,
                                status: r.status.into(),
                                adjustment_factor: r.adjustment_factor,
                                last_traded: r.last_traded.map(|p| p.0),
                                traded_volume: r.traded_volume,
                                back: levels(&r.back),
                                lay: levels(&r.lay),
                                sp_near: r.sp_near,
                                sp_far: r.sp_far,
                                bsp: r.bsp,
                            })
                            .collect(),
                    }
                }
            }
        };
    };
}

/// Every conversion between the generated module of WIT 1.1 `book-types`
/// at the given absolute path and clever-sdk's [`crate::book`] types
/// (which need the `types` conversions in scope on the same side).
#[doc(hidden)]
#[macro_export]
macro_rules! __wit_book_conversions {
    ($($wit:ident)::+) => {
        const _: () = {
            use $($wit)::+ as wit;
            use $crate::book as sdk;
            use $crate::{OrderId, Timestamp};

            $crate::__wit_enum!(wit::BookSide, sdk::BookSide, Buy, Sell);
            $crate::__wit_enum!(wit::TimeInForce, sdk::TimeInForce, Gtc, Ioc, PostOnly);

            fn levels_in(v: Vec<wit::Level>) -> Vec<sdk::Level> {
                v.into_iter().map(|l| sdk::Level { price: l.price, size: l.size }).collect()
            }
            fn levels_out(v: &[sdk::Level]) -> Vec<wit::Level> {
                v.iter().map(|l| wit::Level { price: l.price, size: l.size }).collect()
            }

            impl From<wit::Book> for sdk::Book {
                fn from(b: wit::Book) -> Self {
                    sdk::Book { instrument: b.instrument, time: Timestamp(b.time),
                        bids: levels_in(b.bids), asks: levels_in(b.asks) }
                }
            }
            impl From<&sdk::Book> for wit::Book {
                fn from(b: &sdk::Book) -> Self {
                    wit::Book { instrument: b.instrument.clone(), time: b.time.0,
                        bids: levels_out(&b.bids), asks: levels_out(&b.asks) }
                }
            }
            impl From<wit::Trade> for sdk::Trade {
                fn from(t: wit::Trade) -> Self {
                    sdk::Trade { instrument: t.instrument, time: Timestamp(t.time), price: t.price,
                        size: t.size, aggressor: t.aggressor.into() }
                }
            }
            impl From<&sdk::Trade> for wit::Trade {
                fn from(t: &sdk::Trade) -> Self {
                    wit::Trade { instrument: t.instrument.clone(), time: t.time.0, price: t.price,
                        size: t.size, aggressor: t.aggressor.into() }
                }
            }
            impl From<wit::Candle> for sdk::Candle {
                fn from(c: wit::Candle) -> Self {
                    sdk::Candle { instrument: c.instrument, interval: c.interval,
                        open_time: Timestamp(c.open_time), close_time: Timestamp(c.close_time),
                        open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume }
                }
            }
            impl From<&sdk::Candle> for wit::Candle {
                fn from(c: &sdk::Candle) -> Self {
                    wit::Candle { instrument: c.instrument.clone(), interval: c.interval.clone(),
                        open_time: c.open_time.0, close_time: c.close_time.0,
                        open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume }
                }
            }
            impl From<wit::InstrumentState> for sdk::InstrumentState {
                fn from(s: wit::InstrumentState) -> Self {
                    sdk::InstrumentState { instrument: s.instrument, time: Timestamp(s.time),
                        mark_price: s.mark_price, funding_rate: s.funding_rate }
                }
            }
            impl From<&sdk::InstrumentState> for wit::InstrumentState {
                fn from(s: &sdk::InstrumentState) -> Self {
                    wit::InstrumentState { instrument: s.instrument.clone(), time: s.time.0,
                        mark_price: s.mark_price, funding_rate: s.funding_rate }
                }
            }
            impl From<wit::BookOrderRequest> for sdk::BookOrderRequest {
                fn from(r: wit::BookOrderRequest) -> Self {
                    sdk::BookOrderRequest { instrument: r.instrument, side: r.side.into(),
                        price: r.price, size: r.size, time_in_force: r.time_in_force.into(),
                        reduce_only: r.reduce_only, stop: r.stop, client_ref: r.client_ref }
                }
            }
            impl From<&sdk::BookOrderRequest> for wit::BookOrderRequest {
                fn from(r: &sdk::BookOrderRequest) -> Self {
                    wit::BookOrderRequest { instrument: r.instrument.clone(), side: r.side.into(),
                        price: r.price, size: r.size, time_in_force: r.time_in_force.into(),
                        reduce_only: r.reduce_only, stop: r.stop, client_ref: r.client_ref.clone() }
                }
            }
            impl From<wit::BookOrder> for sdk::BookOrder {
                fn from(o: wit::BookOrder) -> Self {
                    sdk::BookOrder { id: OrderId(o.id), request: o.request.into(),
                        status: o.status.into(), size_filled: o.size_filled,
                        average_price: o.average_price, fees: o.fees,
                        placed_at: Timestamp(o.placed_at), rejection: o.rejection.map(Into::into) }
                }
            }
            impl From<&sdk::BookOrder> for wit::BookOrder {
                fn from(o: &sdk::BookOrder) -> Self {
                    wit::BookOrder { id: o.id.0, request: (&o.request).into(),
                        status: o.status.into(), size_filled: o.size_filled,
                        average_price: o.average_price, fees: o.fees, placed_at: o.placed_at.0,
                        rejection: o.rejection.clone().map(Into::into) }
                }
            }
            impl From<wit::BookPosition> for sdk::BookPosition {
                fn from(p: wit::BookPosition) -> Self {
                    sdk::BookPosition { instrument: p.instrument, size: p.size,
                        entry_price: p.entry_price, unrealised_pnl: p.unrealised_pnl,
                        realised_pnl: p.realised_pnl, leverage: p.leverage, margin: p.margin }
                }
            }
            impl From<&sdk::BookPosition> for wit::BookPosition {
                fn from(p: &sdk::BookPosition) -> Self {
                    wit::BookPosition { instrument: p.instrument.clone(), size: p.size,
                        entry_price: p.entry_price, unrealised_pnl: p.unrealised_pnl,
                        realised_pnl: p.realised_pnl, leverage: p.leverage, margin: p.margin }
                }
            }
            impl From<wit::InstrumentInfo> for sdk::InstrumentInfo {
                fn from(i: wit::InstrumentInfo) -> Self {
                    sdk::InstrumentInfo { instrument: i.instrument, venue: i.venue,
                        size_decimals: i.size_decimals,
                        price_significant_figures: i.price_significant_figures,
                        price_decimals: i.price_decimals, min_notional: i.min_notional,
                        max_leverage: i.max_leverage }
                }
            }
            impl From<&sdk::InstrumentInfo> for wit::InstrumentInfo {
                fn from(i: &sdk::InstrumentInfo) -> Self {
                    wit::InstrumentInfo { instrument: i.instrument.clone(), venue: i.venue.clone(),
                        size_decimals: i.size_decimals,
                        price_significant_figures: i.price_significant_figures,
                        price_decimals: i.price_decimals, min_notional: i.min_notional,
                        max_leverage: i.max_leverage }
                }
            }
            impl From<wit::InstrumentFilter> for sdk::InstrumentFilter {
                fn from(f: wit::InstrumentFilter) -> Self {
                    sdk::InstrumentFilter { venues: f.venues, instruments: f.instruments,
                        candle_intervals: f.candle_intervals }
                }
            }
            impl From<&sdk::InstrumentFilter> for wit::InstrumentFilter {
                fn from(f: &sdk::InstrumentFilter) -> Self {
                    wit::InstrumentFilter { venues: f.venues.clone(),
                        instruments: f.instruments.clone(),
                        candle_intervals: f.candle_intervals.clone() }
                }
            }
        };
    };
}
