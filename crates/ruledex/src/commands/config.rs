//! `ruledex config`

use anyhow::Result;

use super::Env;
use crate::cli::{ConfigArgs, ConfigCommand};
use crate::config::DEFAULTS;
use crate::exit;

pub fn run(env: &Env, args: &ConfigArgs) -> Result<u8> {
    match args.command {
        ConfigCommand::Defaults => print!("{DEFAULTS}"),
        ConfigCommand::Show => {
            println!("# from: {}", env.config.origin);
            println!("# data directory: {}", env.data_dir.display());
            print!("{}", toml::to_string_pretty(&env.config)?);
        }
    }
    Ok(exit::OK)
}
