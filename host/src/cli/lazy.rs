//! [`Lazy`]: a subcommand whose arguments clap is told of only when that
//! subcommand is the one being parsed.
//!
//! clap's derive builds every subcommand's arguments before it parses
//! any: two dozen subcommands, hundreds of arguments, their code paged in
//! from the binary, at every start of `clever`, on the thread that a
//! backtest then runs on (docs/BENCHMARKS.md, twenty-first sitting).
//! `clap::Command::defer` postpones that work until clap enters the
//! subcommand (to parse it, or to show its help); the list of subcommands
//! and their one-line descriptions stay eager, so `clever --help` is
//! unchanged.

use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};

/// The arguments (or nested subcommands) `T` of one subcommand, declared
/// when clap enters it.
#[derive(Debug)]
pub(super) struct Lazy<T>(pub(super) T);

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Lazy<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }

    fn augment_args(cmd: Command) -> Command {
        cmd.defer(|cmd| keeping_about(cmd, T::augment_args))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(|cmd| keeping_about(cmd, T::augment_args_for_update))
    }
}

impl<T: Subcommand> Subcommand for Lazy<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        cmd.defer(|cmd| keeping_about(cmd, T::augment_subcommands))
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        cmd.defer(|cmd| keeping_about(cmd, T::augment_subcommands_for_update))
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

/// Run `augment` on `cmd`, keeping `cmd`'s description. Run eagerly, the
/// derive set the arguments' own description and then the variant's over
/// it; run late, `augment` comes last, so the variant's is put back.
fn keeping_about(cmd: Command, augment: fn(Command) -> Command) -> Command {
    let (about, long_about) = (cmd.get_about().cloned(), cmd.get_long_about().cloned());
    let cmd = augment(cmd);
    let Some(about) = about else {
        return cmd;
    };
    let cmd = cmd.about(about);
    match long_about {
        Some(long_about) => cmd.long_about(long_about),
        None => cmd.long_about(None::<&str>),
    }
}

#[cfg(test)]
mod tests {
    use clap::{Parser, Subcommand};

    use super::Lazy;

    /// A command line like `clever`'s: a subcommand whose arguments have a
    /// description of their own, which the variant's replaces.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Debug, Subcommand)]
    enum Command {
        /// What the variant says.
        Go(Lazy<Box<GoArgs>>),
        /// What the nested list says.
        #[command(subcommand)]
        Nested(Lazy<Inner>),
    }

    /// What the arguments' own type says.
    #[derive(Debug, clap::Args)]
    struct GoArgs {
        /// How far.
        #[arg(long)]
        far: u32,
    }

    /// What the inner enum says.
    #[derive(Debug, Subcommand)]
    enum Inner {
        /// The inner leaf.
        Leaf {
            #[arg(long)]
            name: String,
        },
    }

    fn help(args: &[&str]) -> String {
        match Cli::try_parse_from(args) {
            Err(e) => e.render().to_string(),
            Ok(cli) => panic!("parsed: {cli:?}"),
        }
    }

    #[test]
    fn arguments_declared_late_parse_as_before() {
        let cli = Cli::try_parse_from(["clever", "go", "--far", "7"]).unwrap();
        let Command::Go(Lazy(args)) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(args.far, 7);
        let cli = Cli::try_parse_from(["clever", "nested", "leaf", "--name", "x"]).unwrap();
        let Command::Nested(Lazy(Inner::Leaf { name })) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(name, "x");
        let bad = help(&["clever", "go", "--far", "seven"]);
        assert!(bad.contains("invalid value 'seven'"), "{bad}");
    }

    #[test]
    fn a_subcommand_keeps_its_variants_description() {
        let go = help(&["clever", "go", "--help"]);
        assert!(go.starts_with("What the variant says\n"), "{go}");
        assert!(go.contains("--far <FAR>  How far"), "{go}");
        let nested = help(&["clever", "nested", "--help"]);
        assert!(
            nested.starts_with("What the nested list says\n"),
            "{nested}"
        );
        assert!(nested.contains("leaf  The inner leaf"), "{nested}");
        let top = help(&["clever", "--help"]);
        assert!(top.contains("go      What the variant says"), "{top}");
    }
}
