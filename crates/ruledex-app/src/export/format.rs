//! What ruledex exports to: a platform's import format, catalog rows, or a Navigator layer. The
//! request vocabulary names them (the `format` parameter's values).

use std::fmt;
use std::str::FromStr;

use ruledex_core::export::PlatformFormat;

/// What ruledex exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// A platform's own import format.
    Platform(PlatformFormat),
    /// `{"detections": [...]}`, each detection as `show --json` prints it.
    Json,
    /// One row per detection: the catalog's summary fields.
    Csv,
    /// An ATT&CK Navigator layer: each technique scored by its detections in the selection.
    Navigator,
}

impl ExportFormat {
    pub fn all() -> Vec<ExportFormat> {
        let platforms = PlatformFormat::ALL.iter().map(|f| ExportFormat::Platform(*f));
        platforms.chain([ExportFormat::Navigator, ExportFormat::Json, ExportFormat::Csv]).collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Platform(format) => format.as_str(),
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Navigator => "navigator",
        }
    }

    /// Whether the format holds several files (a directory or an archive) or exactly one.
    pub fn multi_file(self) -> bool {
        match self {
            ExportFormat::Platform(format) => format.writer().multi_file(),
            ExportFormat::Json | ExportFormat::Csv | ExportFormat::Navigator => false,
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExportFormat::all().into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            let known: Vec<&str> = ExportFormat::all().iter().map(|f| f.as_str()).collect();
            format!("unknown export format {s:?} (expected one of: {})", known.join(", "))
        })
    }
}
