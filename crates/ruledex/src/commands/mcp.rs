//! `ruledex mcp`: the catalog for AI assistants, over MCP on stdin and stdout. The assistant
//! starts it; it answers until the assistant closes stdin. Logs go to stderr, never stdout.

use anyhow::{Context, Result};

use super::Env;
use crate::exit;

pub fn run(env: Env) -> Result<u8> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let served = runtime.block_on(ruledex_mcp::stdio::run(env.config, env.data_dir));
    // A build still running, or a blocked read of stdin, must not keep the process alive once
    // the client is gone.
    runtime.shutdown_background();
    served?;
    Ok(exit::OK)
}
