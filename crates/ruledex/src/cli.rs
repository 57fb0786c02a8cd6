//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ruledex_app::config::{Config, PublicUrl};

use crate::request::Given;
use crate::request::questions::{AttackObject, Changes, Export, Search, Show, StackCoverage, Technique};

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
    #[arg(long, conflicts_with = "no_sync")]
    pub sync: bool,
    /// Never sync: serve what another process (`ruledex sync`, another server) writes into the
    /// data directory, following each new catalog. Any number of such servers can share one
    /// data directory with one process that syncs.
    #[arg(long)]
    pub no_sync: bool,
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
    #[command(flatten)]
    pub given: Given<Technique>,
    /// Every page of detections, one after another (instead of --offset/--limit)
    #[arg(long, conflicts_with_all = ["offset", "limit"])]
    pub all: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub given: Given<Show>,
    /// Print the whole native rule file instead of the query
    #[arg(long)]
    pub native: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub given: Given<Search>,
    /// Every match, page after page (instead of --offset/--limit)
    #[arg(long, conflicts_with_all = ["offset", "limit"])]
    pub all: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ChangesArgs {
    #[command(flatten)]
    pub given: Given<Changes>,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export and in which format: one detection (--detection), a technique's
    /// detections (--technique, as `technique` lists them), a search's matches (--query), or
    /// every detection the filters keep
    #[command(flatten)]
    pub given: Given<Export>,
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

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub given: Given<StackCoverage>,
    #[command(flatten)]
    pub links: LayerLinkArgs,
    /// Where to write the layer [default: standard output]
    #[arg(long, value_name = "FILE", requires = "layer")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct AttackObjectArgs {
    #[command(flatten)]
    pub given: Given<AttackObject>,
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use ruledex_core::model::{Language, Severity, SourceKind};

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn filters_parse_enums_and_comma_lists() {
        let cli = Cli::parse_from(["ruledex", "technique", "T1090", "--language", "spl,eql", "--severity", "high"]);
        let Command::Technique(args) = cli.command else { panic!("technique") };
        let request = ruledex_app::request::TechniqueRequest::from_arguments(&args.given.arguments().unwrap()).unwrap();
        let filter = request.filter();
        assert_eq!(filter.languages, vec![Language::Spl, Language::Eql]);
        assert_eq!(filter.severities, vec![Severity::High]);
        assert_eq!(filter.kinds, vec![SourceKind::Vendor], "vendor-native by default");
        let cli = Cli::parse_from(["ruledex", "technique", "T1090", "--community"]);
        let Command::Technique(args) = cli.command else { panic!("technique") };
        let request = ruledex_app::request::TechniqueRequest::from_arguments(&args.given.arguments().unwrap()).unwrap();
        assert!(request.filter().kinds.is_empty(), "--community shows both");
        let cli = Cli::parse_from(["ruledex", "technique", "T1090", "--language", "cobol"]);
        let Command::Technique(args) = cli.command else { panic!("technique") };
        assert!(args.given.arguments().is_err(), "the vocabulary checks values");
        assert!(Cli::try_parse_from(["ruledex", "technique", "T1090", "--all", "--offset", "5"]).is_err());
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
