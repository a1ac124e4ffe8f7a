//! Abuses WASI on each update, as `abuse` says: `sleep` sleeps an hour
//! (the host must refuse to wait), `stdout` prints 1 KiB lines without end
//! (the per-call stdout budget), `clock` reads the wall clock without end
//! (every host call costs fuel), `none` does nothing.
use clever_sdk::prelude::*;

enum Abuse {
    Sleep,
    Stdout,
    Clock,
    Nothing,
}

struct WasiAbuse(Abuse);

impl Strategy for WasiAbuse {
    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let abuse = match params.get("abuse").and_then(|v| v.as_str()) {
            Some("sleep") => Abuse::Sleep,
            Some("stdout") => Abuse::Stdout,
            Some("clock") => Abuse::Clock,
            Some("none") | None => Abuse::Nothing,
            Some(other) => return Err(format!("unknown abuse `{other}`")),
        };
        Ok(WasiAbuse(abuse))
    }

    fn on_market(&mut self, _: &mut Context<'_>, _: &Market) {
        match self.0 {
            Abuse::Sleep => std::thread::sleep(std::time::Duration::from_secs(3600)),
            Abuse::Stdout => {
                let line = "x".repeat(1024);
                loop {
                    println!("{line}");
                }
            }
            Abuse::Clock => {
                let mut n = 0u128;
                loop {
                    n = n.wrapping_add(
                        std::hint::black_box(std::time::SystemTime::now())
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_nanos()),
                    );
                }
            }
            Abuse::Nothing => {}
        }
    }
}

export_strategy!(WasiAbuse);
