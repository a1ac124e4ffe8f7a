//! A stage for plugins side by side: the engine with the simulated
//! exchange and default risk over one stream file, each plugin with its own
//! parameters, timing every event. Shared by the hostile tests and the
//! `hostile` benchmark (which includes this file).

use std::path::Path;
use std::time::{Duration, Instant};

use clever_host::betfair::BetfairFileSource;
use clever_host::engine::{Desk, Engine, MarketSource, SimClock, StrategyOutcome};
use clever_host::risk::{RiskBook, RiskLimits};
use clever_host::runtime::Runtime;
use clever_host::sim::{SimConfig, SimVenue};
use clever_sdk::Timestamp;

/// What a run on the stage gave.
pub struct Staged {
    /// Each plugin's outcome, in the order given.
    pub outcomes: Vec<StrategyOutcome>,
    /// The longest time the loop spent on one event (the bench reports it;
    /// tests assert no timing).
    #[allow(dead_code)]
    pub longest_event: Duration,
    /// Events handled.
    pub events: u64,
}

/// Run `plugins` (component path, parameters) over `file`.
pub fn stage(runtime: &Runtime, plugins: &[(&str, &str)], file: &Path) -> Staged {
    let mut engine = Engine::new(SimClock::default());
    for (path, params) in plugins {
        let plugin = runtime
            .load_file(Path::new(path))
            .unwrap_or_else(|e| panic!("load {path}: {e}"));
        let desk = Desk::new(
            RiskBook::new(RiskLimits::default()),
            Box::new(SimVenue::new(SimConfig::default())),
        );
        let instance = runtime
            .instantiate(&plugin, params, Timestamp(0), Box::new(desk))
            .unwrap_or_else(|e| panic!("start {path}: {e}"));
        engine.add_strategy(instance);
    }
    let mut source = BetfairFileSource::open(file).expect("open the stream file");
    let mut longest_event = Duration::ZERO;
    let mut events = 0;
    loop {
        let start = Instant::now();
        if let Some((at, book)) = source.upcoming() {
            engine.before_update(at, book);
        }
        let Some(next) = source.next_update() else {
            break;
        };
        let Ok(book) = next else { continue };
        engine.on_update(book);
        longest_event = longest_event.max(start.elapsed());
        events += 1;
    }
    let start = Instant::now();
    engine.finish(&source);
    longest_event = longest_event.max(start.elapsed());
    Staged {
        outcomes: engine.outcomes(),
        longest_event,
        events,
    }
}
