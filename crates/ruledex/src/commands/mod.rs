//! One module per command. Each checks its arguments with the request vocabulary, asks the
//! query service, and prints the answer.

mod attack_object;
mod changes;
mod config;
mod coverage;
mod export;
mod mcp;
mod search;
mod serve;
mod show;
mod stats;
mod sync;
mod technique;

use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::Result;
use ruledex_app::{Catalog, CatalogOptions, LiveCatalog};
use ruledex_core::ids::ObjectKind;

use crate::cli::{Cli, Command};
use ruledex_app::config::Config;

/// What every command needs: the configuration and the data directory.
pub struct Env {
    pub config: Config,
    pub data_dir: PathBuf,
}

impl Env {
    fn new(cli: &Cli) -> Result<Env> {
        let config = Config::discover(cli.config.as_deref())?;
        let data_dir = config.data_dir(cli.data_dir.as_deref())?;
        Ok(Env { config, data_dir })
    }

    /// The catalog's lifecycle in the data directory, not opened yet.
    pub fn live_catalog(&self) -> Arc<LiveCatalog> {
        LiveCatalog::new(&self.data_dir, CatalogOptions::default())
    }

    /// The catalog the commands read: one generation, opened once.
    pub fn open_catalog(&self) -> Result<Arc<Catalog>> {
        Ok(self.live_catalog().open()?)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// The pages of a listing after its first, each read as the one before is printed: from
/// `offset`, while `more` follow, `fetch(offset)` giving a page's items and how many follow it.
pub fn following_pages<T>(
    mut offset: usize,
    mut more: usize,
    mut fetch: impl FnMut(usize) -> Result<(Vec<T>, usize)>,
) -> impl Iterator<Item = Result<Vec<T>>> {
    std::iter::from_fn(move || {
        if more == 0 {
            return None;
        }
        Some(fetch(offset).map(|(items, after)| {
            (offset, more) = (offset + items.len(), if items.is_empty() { 0 } else { after });
            items
        }))
    })
}

/// Runs the command; returns the exit status.
pub fn run(cli: Cli) -> Result<u8> {
    let env = Env::new(&cli)?;
    match cli.command {
        Command::Sync(args) => sync::run(&env, &args),
        Command::Serve(args) => serve::run(env, &args),
        Command::Mcp => mcp::run(env),
        Command::Technique(args) => technique::run(&env, &args),
        Command::Show(args) => show::run(&env, &args),
        Command::Search(args) => search::run(&env, &args),
        Command::Stats(args) => stats::run(&env, &args),
        Command::Changes(args) => changes::run(&env, &args),
        Command::Export(args) => export::run(&env, &args),
        Command::Coverage(args) => coverage::run(&env, &args),
        Command::Group(args) => attack_object::run(&env, ObjectKind::Group, &args),
        Command::Campaign(args) => attack_object::run(&env, ObjectKind::Campaign, &args),
        Command::Software(args) => attack_object::run(&env, ObjectKind::Software, &args),
        Command::Config(args) => config::run(&env, &args),
    }
}
