//! The wall-clock backstop: a thread per engine advances wasmtime's epoch
//! every [`TICK`]; a call armed with [`ticks`] of them is interrupted at
//! its next loop or function entry once they have passed. Only paper and
//! live hosts arm it (`RuntimeConfig::deadline`); backtests run on fuel
//! alone so their results never depend on the machine's speed.

use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances: the deadline's resolution.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// Advance `engine`'s epoch every [`TICK`] until the engine is dropped.
pub(crate) fn start_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("clever-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
}

/// Epoch ticks for a deadline of `ms` milliseconds: one more than the
/// deadline, since the tick in progress may be nearly over.
pub(crate) fn ticks(ms: u64) -> u64 {
    ms.div_ceil(TICK.as_millis() as u64).saturating_add(1)
}
