//! Host-side bindings generated from `wit/strategy.wit`: the world
//! `plugin` (every strategy: 1.0 to 1.3 components alike, matched by
//! semver) and, over the same types, `book-plugin`'s additions of 1.1 (the
//! order-book imports and hooks) and `described-plugin`'s of 1.3 (the
//! parameters a strategy declares). Only this module and `imports.rs` see
//! generated types; everything else speaks clever-sdk's types.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
});

pub use clever::strategy::types as wit;

/// The 1.1 world: its 1.0 part is the module above's.
pub mod book {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "book-plugin",
        with: {
            "clever:strategy/types": super::clever::strategy::types,
            "clever:strategy/host": super::clever::strategy::host,
        },
    });

    pub use clever::strategy::book_types as wit;
    pub use exports::clever::strategy::book_hooks::{
        Guest as BookHooks, GuestIndices as BookHooksIndices,
    };
}

/// The 1.3 world: only its `parameters` export is used; its imports are
/// the modules' above.
pub mod described {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "described-plugin",
        with: {
            "clever:strategy/types": super::clever::strategy::types,
            "clever:strategy/host": super::clever::strategy::host,
            "clever:strategy/book-types": super::book::clever::strategy::book_types,
            "clever:strategy/book-host": super::book::clever::strategy::book_host,
        },
    });

    pub use exports::clever::strategy::parameters::{
        GuestIndices as ParametersIndices, Parameter, ParameterKind,
    };
}
