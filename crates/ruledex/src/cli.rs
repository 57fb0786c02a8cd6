//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ruledex_app::config::{Config, PublicUrl};
use ruledex_app::coverage::Stack;
use ruledex_core::attack::Domain;
use ruledex_core::model::{Language, RuleType, Severity, SourceKind, Status};
use ruledex_core::query::Filter;

/// ruledex: vendor-native security detections, cross-linked to MITRE ATT&CK.
#[derive(Debug, Parser)]
#[command(name = "ruledex", version, about, max_term_width = 100)]
pub struct Cli {
    /// Configuration file [default: ./ruledex.toml if present, else the official upstreams]
    #[arg(long, global = true, env = "RULEDEX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the catalog and fetched sources live [default: the user's data directory]
    #[arg(long, global = true, env = "RULEDEX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// More log output (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every configured source and build the catalog
    Sync(SyncArgs),
    /// Serve the web catalog and the JSON API (builds the catalog first if there is none)
    Serve(ServeArgs),
    /// Answer AI assistants over MCP on stdin/stdout (builds the catalog first if there is none)
    Mcp,
    /// Detections for an ATT&CK technique, grouped by vendor
    Technique(TechniqueArgs),
    /// One detection, with its full rule
    Show(ShowArgs),
    /// Full-text search over titles, descriptions, queries and tags
    Search(SearchArgs),
    /// Per source: files seen, detections, failures, ATT&CK coverage
    Stats(JsonArg),
    /// What syncs changed: detections added, changed, deprecated and removed upstream
    Changes(ChangesArgs),
    /// Detections in a platform's import format (a Splunk app, Kibana NDJSON, an ARM template...)
    Export(ExportArgs),
    /// What the sources you run cover of ATT&CK, and where the gaps' content exists
    Coverage(CoverageArgs),
    /// An ATT&CK group (APT29, "Cozy Bear", G0016): the techniques it uses and their detections
    Group(AttackObjectArgs),
    /// An ATT&CK campaign (C0024): the techniques it used and their detections
    Campaign(AttackObjectArgs),
    /// ATT&CK software, malware or tool (S0154): the techniques it uses and their detections
    Software(AttackObjectArgs),
    /// Print the built-in configuration or the one in effect
    Config(ConfigArgs),
}

impl Command {
    /// Whether the command was asked for JSON (errors then come as JSON too).
    pub fn json(&self) -> bool {
        match self {
            Command::Sync(args) => args.output.json,
            Command::Technique(args) => args.output.json,
            Command::Show(args) => args.output.json,
            Command::Search(args) => args.output.json,
            Command::Stats(args) => args.json,
            Command::Changes(args) => args.output.json,
            Command::Coverage(args) => args.output.json,
            Command::Group(args) | Command::Campaign(args) | Command::Software(args) => args.output.json,
            Command::Serve(_) | Command::Mcp | Command::Config(_) | Command::Export(_) => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub output: JsonArg,
    /// Exit with status 3 when any rule file could not be read (for CI)
    #[arg(long)]
    pub strict: bool,
    /// Read every source and parse every file again, even those unchanged upstream
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080", env = "RULEDEX_ADDR")]
    pub addr: std::net::SocketAddr,
    /// Sync in the background at start even when a catalog exists
    #[arg(long)]
    pub sync: bool,
    /// Also answer MCP at /mcp, for AI assistants (read-only tools; also `[serve] mcp = true`)
    #[arg(long)]
    pub mcp: bool,
    /// A Host name /mcp answers besides loopback ones, e.g. the name a team reaches the server
    /// by (repeatable; also `[serve] mcp_hosts`)
    #[arg(long = "mcp-host", value_name = "HOST")]
    pub mcp_hosts: Vec<String>,
    /// The http(s) address people reach the server at (`https://ruledex.example.org`): Navigator
    /// layers downloaded from it link there (also `[serve] public_url`; without it they have no links)
    #[arg(long, env = "RULEDEX_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<PublicUrl>,
}

#[derive(Debug, Args)]
pub struct TechniqueArgs {
    /// Technique ID (T1090, t1090.003, T1090/003) or name ("Proxy: Multi-hop Proxy")
    pub technique: String,
    /// Only detections tagged with this technique itself, not its sub-techniques
    #[arg(long)]
    pub exact: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// SOURCE/ID, as listed by `technique` and `search` (the vendor's own ID or the rule's
    /// file name also work)
    pub address: String,
    /// Print the whole native rule file instead of the query
    #[arg(long)]
    pub native: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words, "quoted phrases", AND/OR/NOT, prefix*, title:word
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Results per page (at most 200; --all for every match)
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Every match, however many
    #[arg(long, conflicts_with_all = ["limit", "offset"])]
    pub all: bool,
    /// Results to skip
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Only changes since a date (2026-11-01, 2026-11-01T08:00:00Z) or after a sync number
    #[arg(long, value_name = "DATE|SYNC")]
    pub since: Option<String>,
    /// Only detections listed under this technique or its sub-techniques (ID or name)
    #[arg(long)]
    pub technique: Option<String>,
    /// Only this source (by configured name)
    #[arg(long)]
    pub source: Option<String>,
    /// Changes at most, newest first
    #[arg(long, default_value_t = 200)]
    pub limit: usize,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// splunk-app, kibana-ndjson, yaral, sentinel-arm, sentinel-yaml, sigma, panther, navigator (an
    /// ATT&CK Navigator layer), json or csv
    #[arg(long)]
    pub format: String,
    /// One detection, by address (SOURCE/ID)
    #[arg(long, conflicts_with_all = ["technique", "query"])]
    pub detection: Option<String>,
    /// A technique's detections (with its sub-techniques' unless --exact), as `technique` lists them
    #[arg(long, conflicts_with = "query")]
    pub technique: Option<String>,
    /// Only detections tagged with the technique itself
    #[arg(long, requires = "technique")]
    pub exact: bool,
    /// Every detection a search finds
    #[arg(long)]
    pub query: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub links: LayerLinkArgs,
    /// Where to write: a file; a directory, FILE.tar.gz or FILE.zip for formats of several
    /// files [default: standard output, for an export of one file]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Where a Navigator layer's links lead.
#[derive(Debug, Args)]
pub struct LayerLinkArgs {
    /// Where ruledex is served, for the links of a Navigator layer [default: the config's `[serve]
    /// public_url`, else http://127.0.0.1:8080]
    #[arg(long, env = "RULEDEX_BASE_URL", value_name = "URL")]
    pub base_url: Option<PublicUrl>,
}

impl LayerLinkArgs {
    /// The flag, else the address the configured server is reached at, else a local `serve`.
    pub fn base_url(&self, config: &Config) -> String {
        let url = self.base_url.as_ref().or(config.serve.public_url.as_ref());
        url.map_or_else(|| "http://127.0.0.1:8080".to_string(), |url| url.as_str().to_string())
    }
}

/// The sources a user runs, for coverage answers.
#[derive(Debug, Args, Default)]
pub struct StackArgs {
    /// The sources you run, by configured name (splunk,sentinel)
    #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
    pub have: Vec<String>,
    /// Count community content (Sigma, community KQL) as yours
    #[arg(long)]
    pub community: bool,
    /// Also count detections listed only through ruledex's mapping of vendor labels (Sublime's),
    /// which are otherwise counted apart
    #[arg(long)]
    pub inferred: bool,
}

impl StackArgs {
    pub fn to_stack(&self) -> Stack {
        Stack { have: self.have.clone(), community: self.community, inferred: self.inferred }
    }
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Only these tactics (TA0011, "Command and Control", command-and-control)
    #[arg(long, value_delimiter = ',')]
    pub tactic: Vec<String>,
    /// The ATT&CK matrix: enterprise, mobile or ics
    #[arg(long, default_value = "enterprise", value_parser = parse_domain)]
    pub domain: Domain,
    /// Write an ATT&CK Navigator layer instead: every technique in its status's colour
    #[arg(long, conflicts_with = "json")]
    pub layer: bool,
    #[command(flatten)]
    pub links: LayerLinkArgs,
    /// Where to write the layer [default: standard output]
    #[arg(long, value_name = "FILE", requires = "layer")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: JsonArg,
}

fn parse_domain(text: &str) -> Result<Domain, String> {
    [Domain::Enterprise, Domain::Mobile, Domain::Ics]
        .into_iter()
        .find(|d| d.label().eq_ignore_ascii_case(text) || d.attack_name() == text)
        .ok_or_else(|| format!("{text:?} is not an ATT&CK matrix (expected enterprise, mobile or ics)"))
}

#[derive(Debug, Args)]
pub struct AttackObjectArgs {
    /// ATT&CK ID (G0016), name or alias ("Cozy Bear"), in any letter case
    pub name: String,
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the built-in configuration (the official upstream repositories)
    Defaults,
    /// Print the configuration in effect, with paths resolved
    Show,
}

/// Filters shared by `technique` and `search`. Each may be repeated or comma-separated.
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Only these sources (by configured name)
    #[arg(long, value_delimiter = ',')]
    pub source: Vec<String>,
    /// Only these vendors ("Google SecOps", Splunk, Elastic)
    #[arg(long, value_delimiter = ',')]
    pub vendor: Vec<String>,
    /// Only vendor-native or community content
    #[arg(long, value_delimiter = ',', conflicts_with = "community")]
    pub kind: Vec<SourceKind>,
    /// Include community content (Sigma, community KQL), which `technique` leaves out unless
    /// asked for by `--kind`, `--source` or `--vendor`
    #[arg(long)]
    pub community: bool,
    /// Only these query languages (yara-l, spl, eql, kql, esql, lucene, machine_learning, ...)
    #[arg(long, value_delimiter = ',')]
    pub language: Vec<Language>,
    /// Only these severities (informational, low, medium, high, critical)
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<Severity>,
    /// Only these rule types (alert, hunt, anomaly, ttp, building_block, threshold, endpoint, ...)
    #[arg(long = "type", value_delimiter = ',')]
    pub rule_type: Vec<RuleType>,
    /// Only these statuses (production, experimental, deprecated)
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<Status>,
    /// Only detections needing one of these data sources or integrations
    #[arg(long, value_delimiter = ',')]
    pub data_source: Vec<String>,
    /// Include deprecated detections (hidden by default)
    #[arg(long)]
    pub deprecated: bool,
}

impl FilterArgs {
    /// The filter these flags ask for. With `vendor_by_default`, community content is left out
    /// unless `--community`, `--kind`, `--source` or `--vendor` asks for it.
    pub fn to_filter(&self, vendor_by_default: bool) -> Filter {
        let filter = Filter {
            sources: self.source.clone(),
            vendors: self.vendor.clone(),
            kinds: self.kind.clone(),
            languages: self.language.clone(),
            rule_types: self.rule_type.clone(),
            severities: self.severity.clone(),
            // Asking for deprecated rules by status implies showing them.
            include_deprecated: self.deprecated || self.status.contains(&Status::Deprecated),
            statuses: self.status.clone(),
            data_sources: self.data_source.clone(),
        };
        if vendor_by_default { filter.vendor_native_unless_asked(self.community) } else { filter }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn filters_parse_enums_and_comma_lists() {
        let cli = Cli::parse_from(["ruledex", "technique", "T1090", "--language", "spl,eql", "--severity", "high"]);
        let Command::Technique(args) = cli.command else { panic!("technique") };
        let filter = args.filter.to_filter(true);
        assert_eq!(filter.languages, vec![Language::Spl, Language::Eql]);
        assert_eq!(filter.severities, vec![Severity::High]);
        assert_eq!(filter.kinds, vec![SourceKind::Vendor], "vendor-native by default");
        let cli = Cli::parse_from(["ruledex", "technique", "T1090", "--community"]);
        let Command::Technique(args) = cli.command else { panic!("technique") };
        assert!(args.filter.to_filter(true).kinds.is_empty(), "--community shows both");
        assert!(Cli::try_parse_from(["ruledex", "technique", "T1090", "--community", "--kind", "vendor"]).is_err());
        assert!(Cli::try_parse_from(["ruledex", "technique", "T1090", "--language", "cobol"]).is_err());
    }

    #[test]
    fn public_urls_are_checked_when_parsed() {
        let cli = Cli::parse_from(["ruledex", "serve", "--public-url", "https://ruledex.example.org/"]);
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert_eq!(args.public_url.map(String::from).as_deref(), Some("https://ruledex.example.org"));
        for bad in ["javascript:alert(1)", "https://u:p@example.org", "https://example.org/?q"] {
            assert!(Cli::try_parse_from(["ruledex", "serve", "--public-url", bad]).is_err(), "{bad}");
            assert!(Cli::try_parse_from(["ruledex", "export", "--format", "navigator", "--base-url", bad]).is_err());
        }
    }
}
