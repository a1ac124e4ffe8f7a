//! `clever inspect PATH`: load a component as the host would and show what
//! it declares.

use std::path::PathBuf;

use serde::Serialize;

use crate::runtime::{CompileSource, Runtime, RuntimeConfig, printable};

/// Load a component and show its name, version and market filter.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The component (.wasm).
    component: PathBuf,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    name: String,
    version: String,
    sdk_version: String,
    wit_version: String,
    sha256: String,
    from_cache: bool,
    event_types: Vec<String>,
    market_types: Vec<String>,
    countries: Vec<String>,
    in_play: bool,
    /// Order-book instruments it trades (WIT 1.1), with candle intervals.
    instruments: Vec<String>,
    candle_intervals: Vec<String>,
    /// The parameters `init` reads (WIT 1.3); null if it does not say.
    parameters: Option<Vec<clever_sdk::ParameterInfo>>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let runtime = Runtime::new(RuntimeConfig::default())?;
        let plugin =
            (runtime.load_file(&self.component)).map_err(|e| super::named(&self.component, e))?;
        let d = plugin.descriptor();
        let report = Report {
            name: d.name.clone(),
            version: d.version.clone(),
            sdk_version: d.sdk_version.clone(),
            wit_version: plugin.wit_version().to_owned(),
            sha256: plugin.sha256().to_owned(),
            from_cache: plugin.compile_source() == CompileSource::Cache,
            event_types: d.markets.event_types.clone(),
            market_types: d.markets.market_types.clone(),
            countries: d.markets.countries.clone(),
            in_play: d.markets.in_play,
            instruments: plugin
                .instruments()
                .map_or_else(Vec::new, |f| f.instruments.clone()),
            candle_intervals: (plugin.instruments())
                .map_or_else(Vec::new, |f| f.candle_intervals.clone()),
            parameters: plugin.parameters().map(<[_]>::to_vec),
        };
        if self.json {
            return super::output::print_json(&report);
        }
        let any = |v: &[String]| {
            if v.is_empty() {
                "any".to_owned()
            } else {
                v.join(", ")
            }
        };
        println!("{} {}", report.name, report.version);
        println!(
            "  built with   clever-sdk {}, clever:strategy@{}",
            report.sdk_version, report.wit_version
        );
        println!("  sha256       {}", report.sha256);
        println!(
            "  compiled     {}",
            if report.from_cache {
                "from cache"
            } else {
                "now (cached for next time)"
            }
        );
        println!("  event types  {}", any(&report.event_types));
        println!("  market types {}", any(&report.market_types));
        println!("  countries    {}", any(&report.countries));
        println!(
            "  in play      {}",
            if report.in_play {
                "yes"
            } else {
                "no (pre-off only)"
            }
        );
        if !report.instruments.is_empty() {
            println!("  instruments  {}", report.instruments.join(", "));
            println!("  candles      {}", any(&report.candle_intervals));
        }
        print_parameters(report.parameters.as_deref());
        Ok(())
    }
}

/// A line per parameter: name, default and kind, and what it does.
fn print_parameters(parameters: Option<&[clever_sdk::ParameterInfo]>) {
    let Some(list) = parameters else {
        println!("  parameters   not declared (names given to it are not checked)");
        return;
    };
    if list.is_empty() {
        println!("  parameters   none");
    }
    for (i, p) in list.iter().enumerate() {
        let head = if i == 0 { "  parameters" } else { "" };
        println!(
            "{head:<15}{} = {} ({}): {}",
            p.name,
            printable(&p.default),
            p.kind.in_words(),
            printable(&p.doc)
        );
    }
}
