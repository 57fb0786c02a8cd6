//! `ruledex config`

use anyhow::Result;

use super::Env;
use crate::cli::{ConfigArgs, ConfigCommand};
use crate::exit;
use crate::output::outln;
use ruledex_app::config::DEFAULTS;

pub fn run(env: &Env, args: &ConfigArgs) -> Result<u8> {
    match args.command {
        ConfigCommand::Defaults => outln!("{}", DEFAULTS.trim_end())?,
        ConfigCommand::Show => {
            outln!("# from: {}", env.config.origin)?;
            outln!("# data directory: {}", env.data_dir.display())?;
            outln!("{}", toml::to_string_pretty(&env.config)?.trim_end())?;
        }
    }
    Ok(exit::OK)
}
