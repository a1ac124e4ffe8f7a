//! `--report FILE.html`: one self-contained page per backtest or sweep
//! (plotly.js is embedded, so it opens with no network): the metrics
//! table, each version's equity curve and drawdown, the Monte Carlo
//! distributions, the sweep's ranking and heat map, per-market results.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use plotly::common::Mode;
use plotly::{Bar, HeatMap, Histogram, Layout, Plot, Scatter};

use crate::analytics::{MarketPoint, Metrics, Resampled};
use crate::backtest::Report;

/// A page being put together: its sections in order.
pub struct Page {
    title: String,
    body: String,
    charts: usize,
}

impl Page {
    /// An empty page called `title`.
    pub fn new(title: &str) -> Page {
        Page {
            title: escape(title),
            body: String::new(),
            charts: 0,
        }
    }

    fn heading(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
    }

    fn chart(&mut self, title: &str, mut plot: Plot) {
        self.charts += 1;
        plot.set_layout(Layout::new().title(label(title)).height(360));
        let id = format!("chart-{}", self.charts);
        let _ = writeln!(
            self.body,
            "<div class=\"chart\">{}</div>",
            plot.to_inline_html(Some(&id))
        );
    }

    /// Write the page to `path`.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title}</title><style>{STYLE}</style>{js}</head>\
             <body><h1>{title}</h1>{body}</body></html>\n",
            title = self.title,
            js = Plot::offline_js_sources(),
            body = self.body,
        );
        std::fs::write(path, html).with_context(|| format!("writing the report {}", path.display()))
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
    table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;\
    text-align:right}th:first-child,td:first-child{text-align:left}.chart{max-width:1100px}";

/// HTML text: `&`, `<`, `>` and quotes escaped (names and parameters come
/// from plugins and users).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A trace's name: no markup (plotly writes it into a script).
fn label(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '<' | '>' | '&'))
        .collect()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The page of a backtest.
pub fn backtest(report: &Report) -> Page {
    let mut page = Page::new("Backtest report");
    let _ = writeln!(
        page.body,
        "<p>{} markets, {} updates, {:.2} s. Metrics are defined in docs/METRICS.md.</p>",
        report.markets,
        report.updates,
        report.elapsed_ms as f64 / 1000.0
    );
    let versions: Vec<Version<'_>> = (report.strategies.iter())
        .map(|s| Version {
            name: format!("{}@{}", s.name, s.version),
            points: &s.points,
            metrics: s.metrics.as_ref(),
        })
        .collect();
    page.heading("Metrics");
    metrics_table(&mut page, &versions);
    page.heading("Equity and drawdown");
    equity_charts(&mut page, &versions);
    let resampled: Vec<(String, &Resampled)> = (report.strategies.iter())
        .filter_map(|s| Some((format!("{}@{}", s.name, s.version), s.monte_carlo.as_ref()?)))
        .collect();
    if !resampled.is_empty() {
        page.heading("Monte Carlo");
        monte_carlo_charts(&mut page, &resampled);
    }
    page.heading("Per market");
    per_market_table(&mut page, report);
    page
}

/// A strategy version on a page: its name, its traded markets, its
/// metrics.
pub struct Version<'a> {
    /// `name@version`, or a parameter set.
    pub name: String,
    /// Its traded markets (none where only the metrics are shown).
    pub points: &'a [MarketPoint],
    /// Its metrics.
    pub metrics: Option<&'a Metrics>,
}

/// One row per figure (those of the text tables), one column per version.
pub fn metrics_table(page: &mut Page, versions: &[Version<'_>]) {
    page.body.push_str("<table><tr><th></th>");
    for v in versions {
        let _ = write!(page.body, "<th>{}</th>", escape(&v.name));
    }
    page.body.push_str("</tr>");
    for (figure, value) in super::metrics::ROWS {
        let _ = write!(page.body, "<tr><td>{figure}</td>");
        for v in versions {
            let cell = v.metrics.map_or_else(|| "-".into(), value);
            let _ = write!(page.body, "<td>{}</td>", escape(&cell));
        }
        page.body.push_str("</tr>");
    }
    page.body.push_str("</table>");
}

/// An equity curve and a drawdown chart, every version on each.
pub fn equity_charts(page: &mut Page, versions: &[Version<'_>]) {
    let (mut equity, mut drawdown) = (Plot::new(), Plot::new());
    for v in versions {
        let Some(bankroll) = v.metrics.map(|m| m.bankroll.money().to_f64()) else {
            continue;
        };
        let mut sorted = v.points.to_vec();
        sorted.sort_by_key(|p| p.at);
        let times: Vec<String> = sorted.iter().map(|p| iso(p.at)).collect();
        let (mut level, mut peak) = (bankroll, bankroll);
        let (mut curve, mut under) = (Vec::new(), Vec::new());
        for p in &sorted {
            level += p.profit.to_f64();
            peak = peak.max(level);
            curve.push(level);
            under.push(level - peak);
        }
        let name = label(&v.name);
        let line = |y| Scatter::new(times.clone(), y).mode(Mode::Lines).name(&name);
        equity.add_trace(line(curve));
        drawdown.add_trace(line(under));
    }
    page.chart("Equity (bankroll plus profit, by settlement time)", equity);
    page.chart("Drawdown (equity below its running peak)", drawdown);
}

fn monte_carlo_charts(page: &mut Page, resampled: &[(String, &Resampled)]) {
    let (mut finals, mut drawdowns) = (Plot::new(), Plot::new());
    for (name, r) in resampled {
        let name = label(name);
        finals.add_trace(Histogram::new(r.final_profits.clone()).name(&name));
        drawdowns.add_trace(Histogram::new(r.max_drawdowns.clone()).name(&name));
    }
    let samples = resampled.first().map_or(0, |(_, r)| r.samples);
    page.chart(&format!("Final profit over {samples} resamples"), finals);
    page.chart(
        &format!("Maximum drawdown over {samples} resamples"),
        drawdowns,
    );
}

fn per_market_table(page: &mut Page, report: &Report) {
    let mut markets: BTreeMap<&str, Vec<Option<String>>> = BTreeMap::new();
    let n = report.strategies.len();
    for (i, s) in report.strategies.iter().enumerate() {
        for (id, p) in s.market_ids.iter().zip(&s.points) {
            markets.entry(id).or_insert_with(|| vec![None; n])[i] = Some(p.profit.to_string());
        }
    }
    let _ = write!(
        page.body,
        "<details><summary>{} markets traded (profit after commission)</summary><table><tr><th>market</th>",
        markets.len()
    );
    for s in &report.strategies {
        let _ = write!(
            page.body,
            "<th>{}@{}</th>",
            escape(&s.name),
            escape(&s.version)
        );
    }
    page.body.push_str("</tr>");
    for (id, profits) in markets {
        let _ = write!(page.body, "<tr><td>{}</td>", escape(id));
        for p in profits {
            let _ = write!(page.body, "<td>{}</td>", p.unwrap_or_default());
        }
        page.body.push_str("</tr>");
    }
    page.body.push_str("</table></details>");
}

/// A sweep's parameter set on its page, best first.
pub struct SetRow<'a> {
    /// How it is shown: its rank and parameters.
    pub name: String,
    /// Its parameters.
    pub params: &'a serde_json::Map<String, serde_json::Value>,
    /// Its score by the ranking metric, if defined.
    pub score: Option<f64>,
    /// Its metrics.
    pub metrics: &'a Metrics,
}

/// The page of a sweep: its ranking, a heat map when it swept two
/// parameters, and the best sets' metrics and equity.
pub fn sweep(rank_by: &str, grids: &[String], sets: &[SetRow<'_>]) -> Page {
    let mut page = Page::new("Sweep report");
    let _ = writeln!(
        page.body,
        "<p>{} parameter sets, ranked by {}.</p>",
        sets.len(),
        escape(rank_by)
    );
    page.heading("Ranking");
    let shown: Vec<_> = sets.iter().take(50).collect();
    let names: Vec<String> = shown.iter().map(|s| label(&s.name)).collect();
    let scores: Vec<f64> = shown.iter().map(|s| s.score.unwrap_or(f64::NAN)).collect();
    let mut ranking = Plot::new();
    ranking.add_trace(Bar::new(names, scores).name(rank_by));
    page.chart(
        &format!("{rank_by} of the best {} sets", shown.len()),
        ranking,
    );
    if let [x, y] = grids {
        page.heading("Heat map");
        page.chart(&format!("{rank_by} by {x} and {y}"), heat_map(x, y, sets));
    }
    page.heading("Metrics of the best sets");
    let best: Vec<Version<'_>> = (sets.iter().take(5))
        .map(|s| Version {
            name: s.name.clone(),
            points: &[],
            metrics: Some(s.metrics),
        })
        .collect();
    metrics_table(&mut page, &best);
    page
}

fn heat_map(x: &str, y: &str, sets: &[SetRow<'_>]) -> Plot {
    let axis = |name: &str| {
        let mut values: Vec<String> = (sets.iter())
            .filter_map(|s| s.params.get(name).map(|v| label(&v.to_string())))
            .collect();
        values.sort_by(|a, b| {
            let (fa, fb) = (a.parse::<f64>(), b.parse::<f64>());
            match (fa, fb) {
                (Ok(a), Ok(b)) => a.total_cmp(&b),
                _ => a.cmp(b),
            }
        });
        values.dedup();
        values
    };
    let (xs, ys) = (axis(x), axis(y));
    let mut z = vec![vec![None::<f64>; xs.len()]; ys.len()];
    for set in sets {
        let at = |name: &str, values: &[String]| {
            let v = label(&set.params.get(name)?.to_string());
            values.iter().position(|w| *w == v)
        };
        if let (Some(i), Some(j)) = (at(x, &xs), at(y, &ys)) {
            z[j][i] = set.score;
        }
    }
    let mut plot = Plot::new();
    plot.add_trace(HeatMap::new(xs, ys, z));
    plot
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_from_names_is_escaped() {
        assert_eq!(super::escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(super::label("a</script>b"), "a/scriptb");
    }
}
