//! Allocates a mebibyte at a time, forever (touching one byte of each, so
//! it costs memory, not fuel). The host's memory limit must stop it with a
//! trap, not take the host down.
use clever_sdk::prelude::*;

struct Alloc {
    hoard: Vec<Vec<u8>>,
}

impl Strategy for Alloc {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Ok(Alloc { hoard: Vec::new() })
    }

    fn on_market(&mut self, _: &mut Context<'_>, _: &Market) {
        loop {
            let mut block = Vec::with_capacity(1 << 20);
            block.push(1u8);
            self.hoard.push(std::hint::black_box(block));
        }
    }
}

export_strategy!(Alloc);
