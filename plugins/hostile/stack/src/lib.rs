//! Recurses without end. The host's Wasm stack limit must turn this into a
//! stack-overflow trap.
use clever_sdk::prelude::*;

struct Stack;

// Scalars only, so each frame lives on the Wasm stack (not Rust's shadow
// stack in linear memory) and the engine's stack limit is what stops it.
fn recurse(depth: u64) -> u64 {
    // Never true, but the compiler cannot know: keeps the recursion "conditional".
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(std::hint::black_box(depth))
}

impl Strategy for Stack {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Ok(Stack)
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, _: &Market) {
        let n = recurse(0);
        ctx.info(&format!("unreachable: {n}"));
    }
}

export_strategy!(Stack);
